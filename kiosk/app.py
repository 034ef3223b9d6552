# mypy: allow-subclassing-any
"""The Kivy shell of the kiosk: loads kiosk.kv, copies each view's strings onto it, forwards taps.

Import this only after `kiosk.kivy_setup.prepare_kivy()`. Behaviour lives in the view-model and the
controller (no Kivy there); this module only draws and passes taps on.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.core.image import Image as CoreImage
from kivy.core.text import Label as CoreLabel
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.label import Label
from kivy.uix.screenmanager import NoTransition, Screen

from kiosk import case_lookup_screen, return_visit_screen
from kiosk.controller import KioskController, KioskOptions
from kiosk.kivy_shell import fill, hex_colour, register_cjk_font, run_beside
from kiosk.kivy_text import WrappedLabel  # noqa: F401  (kiosk.kv lays it out, as Para)
from kiosk.theme import PALETTE
from kiosk.viewmodel import KioskViewModel
from kiosk.views import (
    CategoryView,
    CheckinView,
    Fact,
    HomeView,
    ItemView,
    KioskView,
    MessageView,
    Row,
    TicketView,
    Tile,
)
from printer.layout import qr

log = logging.getLogger(__name__)

KV_FILE = Path(__file__).resolve().parent / "kiosk.kv"
DESIGN_SHORT_SIDE = 1080.0  # sizes in kiosk.kv are pixels of a screen whose short side is 1080 (portrait or landscape)


def qr_texture(url: str) -> Any:
    """A texture of the tracking QR code, drawn crisp (one texel per module, no smoothing)."""
    picture = qr.image(url, 1).convert("RGB")
    data = io.BytesIO()
    picture.save(data, format="png")
    data.seek(0)
    texture = CoreImage(data, ext="png").texture
    texture.mag_filter = "nearest"
    texture.min_filter = "nearest"
    return texture


# -- widgets kiosk.kv lays out --------------------------------------------------------------------


class FitLabel(Label):
    """Wraps within its box, at the largest font size (at most max_font) at which all of its text fits."""

    max_font = NumericProperty(40.0)
    min_font = NumericProperty(16.0)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._refit = Clock.create_trigger(self._fit, -1)
        self.bind(size=self._refit, text=self._refit, max_font=self._refit, bold=self._refit)

    def _fit(self, *_args: Any) -> None:
        if not self.text or self.width <= 1 or self.height <= 1:
            return
        size = float(self.max_font)
        while size > self.min_font:
            core = CoreLabel(
                text=self.text, font_size=size, font_name=self.font_name, bold=self.bold,
                text_size=(self.width, None), halign=self.halign, line_height=self.line_height,
            )  # fmt: skip
            _width, height = core.render()  # lays the text out without drawing it
            # Latin words must not be split ("Constructio-n"); runs of hanzi may break anywhere.
            latin = [word for word in self.text.split() if word.isascii()]
            if height <= self.height and all(core.get_extents(word)[0] <= self.width for word in latin):
                break
            size = max(float(self.min_font), size * 0.92)
        self.font_size = size


class KButton(ButtonBehavior, Label):
    tone = StringProperty("primary")  # a key of PALETTE (and of PALETTE[tone + "_down"], when pressed)


class CategoryTile(ButtonBehavior, BoxLayout):
    code = StringProperty("")
    prefix = StringProperty("")
    name = StringProperty("")
    waiting = StringProperty("")
    wait = StringProperty("")
    colour = ListProperty([0.3, 0.3, 0.3, 1])
    action = StringProperty("open_category")


class ItemRow(ButtonBehavior, BoxLayout):
    item_id = StringProperty("")
    text = StringProperty("")


class FactBlock(BoxLayout):
    heading = StringProperty("")
    body = StringProperty("")


class HomeScreen(Screen):
    prompt = StringProperty("")
    green = StringProperty("")
    green_hint = StringProperty("")
    checkin = StringProperty("")
    checkin_hint = StringProperty("")
    guide = StringProperty("")
    guide_hint = StringProperty("")
    return_visit = StringProperty("")
    return_visit_hint = StringProperty("")
    case_lookup = StringProperty("")
    case_lookup_hint = StringProperty("")
    _tiles: tuple[Tile, ...] = ()

    def show(self, view: HomeView) -> None:
        for name in ("prompt", "green", "green_hint", "checkin", "checkin_hint", "guide", "guide_hint", "return_visit",
                     "return_visit_hint", "case_lookup", "case_lookup_hint"):  # fmt: skip
            setattr(self, name, getattr(view, name))
        if view.tiles != self._tiles:
            self._tiles = view.tiles
            fill(self.ids.tiles, view.tiles, CategoryTile, set_tile)


class CategoryScreen(Screen):
    title = StringProperty("")
    colour = ListProperty([0.3, 0.3, 0.3, 1])
    queue = StringProperty("")
    take = StringProperty("")
    choose = StringProperty("")
    _items: tuple[Row, ...] = ()

    def show(self, view: CategoryView) -> None:
        self.title, self.queue, self.take, self.choose = view.title, view.queue, view.take, view.choose
        self.colour = hex_colour(view.colour)
        if view.items != self._items:
            self._items = view.items
            fill(self.ids.rows, view.items, ItemRow, set_row)
            self.ids.scroll.scroll_y = 1


class ItemScreen(Screen):
    title = StringProperty("")
    category = StringProperty("")
    take = StringProperty("")
    notice = StringProperty("")
    notice_status = StringProperty("")
    notice_tone = StringProperty("")
    case_lookup = StringProperty("")
    _facts: tuple[Fact, ...] = ()

    def show(self, view: ItemView) -> None:
        self.title, self.category, self.take, self.notice = view.title, view.category, view.take, view.notice
        self.case_lookup = view.case_lookup
        self.notice_status, self.notice_tone = view.notice_status, view.notice_tone
        if view.facts != self._facts:
            self._facts = view.facts
            fill(self.ids.facts, view.facts, FactBlock, set_fact)
            self.ids.scroll.scroll_y = 1


class TicketScreen(Screen):
    heading = StringProperty("")
    number = StringProperty("")
    badge = StringProperty("")
    what = StringProperty("")
    windows = StringProperty("")
    ahead = StringProperty("")
    wait = StringProperty("")
    qr_hint = StringProperty("")
    print_status = StringProperty("")
    print_tone = StringProperty("")
    done = StringProperty("")
    _qr_url = ""

    def show(self, view: TicketView) -> None:
        for name in ("heading", "number", "badge", "what", "windows", "ahead", "wait", "qr_hint", "print_status",
                     "print_tone", "done"):  # fmt: skip
            setattr(self, name, getattr(view, name))
        if view.qr_url != self._qr_url:
            self._qr_url = view.qr_url
            self.ids.qr.texture = qr_texture(view.qr_url) if view.qr_url else None


class MessageScreen(Screen):
    title = StringProperty("")
    body = StringProperty("")
    tone = StringProperty("info")
    retry = StringProperty("")
    navigation = BooleanProperty(True)  # 返回 / 首页 (not while starting)
    has_tiles = BooleanProperty(False)
    _tiles: tuple[Tile, ...] = ()
    _action = ""

    def show(self, view: MessageView, screen: str) -> None:
        self.title, self.body, self.tone, self.retry = view.title, view.body, view.tone, view.retry
        self.navigation = screen != "starting"
        action = "take_green" if screen == "green" else "open_category"
        if view.tiles != self._tiles or action != self._action:
            self._tiles, self._action = view.tiles, action
            self.has_tiles = bool(view.tiles)
            fill(self.ids.tiles, view.tiles, CategoryTile, lambda widget, tile: set_tile(widget, tile, action))


class CodeKey(KButton):
    """A key of the 预约签到 keypad: one symbol of the booking code."""

    symbol = StringProperty("")


class CheckinScreen(Screen):
    title = StringProperty("")
    body = StringProperty("")
    slots = ListProperty([""] * 8)
    status = StringProperty("")
    delete = StringProperty("")
    clear = StringProperty("")
    submit = StringProperty("")
    ready = BooleanProperty(False)
    _keys: tuple[str, ...] = ()

    def show(self, view: CheckinView) -> None:
        for name in ("title", "body", "status", "delete", "clear", "submit", "ready"):
            setattr(self, name, getattr(view, name))
        self.slots = list(view.slots)
        if view.keys != self._keys:
            self._keys = view.keys
            fill(self.ids.keypad, view.keys, CodeKey, set_key)


class Veil(Label):
    """Covers the screen while a ticket is being taken, and swallows every touch meanwhile."""

    active = BooleanProperty(False)

    def on_touch_down(self, touch: Any) -> bool:
        return True if self.active else bool(super().on_touch_down(touch))

    def on_touch_up(self, touch: Any) -> bool:
        return True if self.active else bool(super().on_touch_up(touch))


class KioskRoot(FloatLayout):
    hall_name = StringProperty("")
    date_text = StringProperty("")
    time_text = StringProperty("")
    lang_button = StringProperty("")
    back = StringProperty("")
    home_button = StringProperty("")
    banner = StringProperty("")
    busy = BooleanProperty(False)
    busy_text = StringProperty("")

    def show(self, view: KioskView) -> None:
        for name in ("hall_name", "date_text", "time_text", "lang_button", "back", "home_button", "banner", "busy",
                     "busy_text"):  # fmt: skip
            setattr(self, name, getattr(view, name))
        app = App.get_running_app()
        if app is not None:
            app.back_text, app.home_text = view.back, view.home_button
        screens = self.ids
        if view.home is not None:
            screens.home.show(view.home)
            target = "home"
        elif view.category is not None:
            screens.category.show(view.category)
            target = "category"
        elif view.item is not None:
            screens.item.show(view.item)
            target = "item"
        elif view.ticket is not None:
            screens.ticket.show(view.ticket)
            target = "ticket"
        elif view.checkin is not None:
            screens.checkin.show(view.checkin)
            target = "checkin"
        elif view.return_visit is not None:  # 补办 (kiosk/return_visit_screen.py)
            screens.manager.get_screen(return_visit_screen.NAME).show(view.return_visit)
            target = return_visit_screen.NAME
        elif view.case_lookup is not None:  # 办件查询 · 投诉 (kiosk/case_lookup_screen.py)
            screens.manager.get_screen(case_lookup_screen.NAME).show(view.case_lookup)
            target = case_lookup_screen.NAME
        else:
            assert view.message is not None
            screens.message.show(view.message, view.screen)
            target = "message"
        manager = screens.manager
        if manager.current != target:
            manager.current = target


def set_tile(widget: CategoryTile, tile: Tile, action: str = "open_category") -> None:
    widget.code, widget.prefix, widget.name = tile.code, tile.prefix, tile.name
    widget.waiting, widget.wait, widget.action = tile.waiting, tile.wait, action
    widget.colour = hex_colour(tile.colour)


def set_key(widget: CodeKey, symbol: str) -> None:
    widget.symbol = widget.text = symbol


def set_row(widget: ItemRow, row: Row) -> None:
    widget.item_id, widget.text = row.id, row.name


def set_fact(widget: FactBlock, fact: Fact) -> None:
    widget.heading, widget.body = fact.heading, "\n".join(fact.lines)


# -- the app -------------------------------------------------------------------------------------


class KioskApp(App):
    kv_file = str(KV_FILE)  # loaded by App.load_kv before build()
    u = NumericProperty(1.0)  # design pixels → this window's pixels
    landscape = BooleanProperty(False)
    screen = ObjectProperty(None, allownone=True)  # the KioskRoot, once built
    back_text = StringProperty("")  # the navigation bar of every screen
    home_text = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.title = "便民 自助取号机"
        self.vm: KioskViewModel | None = None
        self._pending: KioskView | None = None
        self._stopped = False
        self._tasks: set[asyncio.Task[None]] = set()

    def build(self) -> KioskRoot:
        from kivy.core.window import Window  # importing it opens the window: only now

        register_cjk_font()
        Window.clearcolor = PALETTE["background"]
        Window.bind(size=self._on_size)
        Window.bind(on_touch_down=self._on_any_touch)
        self._on_size(Window, Window.size)
        root = KioskRoot()
        return_visit_screen.install(root)
        case_lookup_screen.install(root)
        root.ids.manager.transition = NoTransition()  # a transition would only delay the number
        self.screen = root
        if self._pending is not None:
            root.show(self._pending)
        return root

    def _on_size(self, _window: Any, size: tuple[int, int]) -> None:
        width, height = size
        self.u = max(min(width, height), 1) / DESIGN_SHORT_SIDE
        self.landscape = width > height

    def _on_any_touch(self, *_args: Any) -> bool:
        if self.vm is not None:
            self.vm.touch()
        return False  # the touch goes on to the widgets

    def on_stop(self) -> None:
        self.screen = None  # the window is gone: later views (the controller winding down) are not drawn
        self._stopped = True

    def show(self, view: KioskView) -> None:
        """Draw a view (on the Kivy thread: the view-model runs in Kivy's asyncio loop)."""
        if self._stopped:
            return
        if self.screen is None:
            self._pending = view
        else:
            self.screen.show(view)

    def post(self, callback: Callable[[], None]) -> None:
        """Run callback on the Kivy thread, from any thread (the printer's workers)."""
        Clock.schedule_once(lambda _dt: callback(), 0)

    def tap(self, action: str, *args: Any) -> None:
        """A button of kiosk.kv: call the view-model; a coroutine (取号) runs as a task of the loop."""
        if self.vm is None:
            return
        result = getattr(self.vm, action)(*args)
        if isinstance(result, Coroutine):
            task: asyncio.Task[None] = asyncio.ensure_future(result)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)


async def run_kiosk(options: KioskOptions) -> None:
    """Run the kiosk window and its controller in one asyncio loop until the window closes."""
    app = KioskApp()
    controller = KioskController(options, app.show, app.post)
    app.vm = controller.vm
    await run_beside(app, controller.run(), "kiosk-controller")
