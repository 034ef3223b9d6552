"""The Kivy shell of the display board: loads the .kv layout and copies each view's strings onto it.

Import this only after `display_board.kivy_setup.prepare_kivy()`. Behaviour lives in the
controller and the view-model; this module only draws.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label
from kivy.uix.stencilview import StencilView

from display_board.controller import BoardController, BoardOptions, View
from display_board.viewmodel import CallRow, HallBoardView, QueueRow, WindowBoardView, WindowRow
from display_board.voice import Player
from kiosk.kivy_shell import fill, hex_colour, register_cjk_font, run_beside
from kiosk.kivy_text import break_lines

log = logging.getLogger(__name__)

KV_DIR = Path(__file__).resolve().parent  # the .kv files sit beside this module (package data "*.kv")
DESIGN_HEIGHT = 1080.0  # sizes in the .kv files are pixels of a 1920×1080 screen, scaled by app.u
PAGE_S = 6.0  # seconds each line of the notice stays on the board
TICKER_MARGIN = 20.0  # design pixels left and right of the notice's line

# Colours of the boards (RGBA): a dark blue ground, amber numbers, as hall boards usually are.
PALETTE: dict[str, tuple[float, float, float, float]] = {
    "background": (0.03, 0.11, 0.22, 1),
    "panel": (0.06, 0.19, 0.35, 1),
    "chip": (0.09, 0.25, 0.45, 1),
    "row": (0.16, 0.32, 0.52, 1),
    "text": (1, 1, 1, 1),
    "dim": (0.62, 0.76, 0.9, 1),
    "number": (1, 0.8, 0.2, 1),
    "notice": (0.95, 0.95, 0.85, 1),
    "ok": (0.4, 0.85, 0.45, 1),
    "warn": (1, 0.45, 0.35, 1),
}
# The colour of a window's number and status by its tone (see viewmodel.window_status).
TONES: dict[str, tuple[float, float, float, float]] = {
    "called": (1, 0.8, 0.2, 1),
    "serving": (0.4, 0.85, 0.45, 1),
    "idle": (0.62, 0.76, 0.9, 1),
    "paused": (1, 0.55, 0.3, 1),
    "closed": (0.42, 0.5, 0.58, 1),
}


# -- widgets the .kv files lay out -------------------------------------------------------------


class WindowRowWidget(BoxLayout):  # type: ignore[misc]  # Kivy has no type hints
    number = StringProperty("")
    name = StringProperty("")
    current = StringProperty("")
    status = StringProperty("")
    tone = StringProperty("idle")


class QueueTile(BoxLayout):  # type: ignore[misc]  # Kivy has no type hints
    prefix = StringProperty("")
    name = StringProperty("")
    waiting = StringProperty("")
    wait = StringProperty("")
    colour = ListProperty([0.3, 0.3, 0.3, 1])


class CallChip(BoxLayout):  # type: ignore[misc]  # Kivy has no type hints
    number = StringProperty("")
    window = StringProperty("")


class NoticeTicker(StencilView):  # type: ignore[misc]  # Kivy has no type hints
    """The hall's notice, a line at a time: broken into lines that fit (by the rules of printed Chinese),
    each shown for PAGE_S seconds, then the next.

    It used to scroll at 30 frames a second. Kivy redraws the whole board for every frame; on a hall PC
    without a GPU (Mesa's llvmpipe) a 1920×1080 frame costs 50–300 ms, so the board was always drawing and a
    call waited behind the ticker's frame and then its own (169–1,199 ms, bench/kivy_board_frame.py). A page
    turn is one frame every few seconds; the rest of the time the board is idle and a call is drawn at once.
    """

    text = StringProperty("")
    page = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        self.pages: list[str] = []
        self._index = 0
        super().__init__(**kwargs)
        self._repage = Clock.create_trigger(self._paginate, -1)
        self.bind(text=self._repage, width=self._repage)
        self._event = Clock.schedule_interval(self._turn, PAGE_S)

    def _paginate(self, *_args: Any) -> None:
        label: Label | None = self.ids.get("line")
        if label is None or self.width <= 1 or not self.text:
            self.pages, self.page = [self.text] if self.text else [], self.text
            return
        app = App.get_running_app()
        margin = 2 * TICKER_MARGIN * (app.u if app else 1.0)
        self.pages = break_lines(self.text, self.width - margin, label.font_name, label.font_size).split("\n")
        self._index = 0
        self.page = self.pages[0]

    def _turn(self, _dt: float) -> None:
        if len(self.pages) > 1:
            self._index = (self._index + 1) % len(self.pages)
            self.page = self.pages[self._index]


class Board(BoxLayout):  # type: ignore[misc]  # Kivy has no type hints
    """Common to both boards: the fields of the view that are plain strings or flags."""

    online = BooleanProperty(False)
    status_text = StringProperty("")
    date_text = StringProperty("")
    time_text = StringProperty("")

    def show(self, view: View) -> None:
        for item in dataclasses.fields(view):
            value = getattr(view, item.name)
            if isinstance(value, str | bool) and self.property(item.name, quiet=True) is not None:
                setattr(self, item.name, value)


class HallBoard(Board):
    title = StringProperty("")
    subtitle = StringProperty("")
    latest_number = StringProperty("")
    latest_window = StringProperty("")
    latest_window_name = StringProperty("")
    latest_prompt = StringProperty("")
    latest_recall = StringProperty("")
    notice = StringProperty("")

    def show(self, view: View) -> None:
        assert isinstance(view, HallBoardView)
        super().show(view)
        fill(self.ids.windows, view.windows, WindowRowWidget, _set_window_row)
        fill(self.ids.queues, view.queues, QueueTile, _set_queue_tile)
        fill(self.ids.recent, view.recent, CallChip, _set_call_chip)


class WindowBoard(Board):
    title = StringProperty("")
    name = StringProperty("")
    categories = StringProperty("")
    clerk = StringProperty("")
    post = StringProperty("")
    current_number = StringProperty("")
    current_status = StringProperty("")
    tone = StringProperty("idle")
    waiting = StringProperty("")
    waiting_text = StringProperty("")
    hall_name = StringProperty("")

    def show(self, view: View) -> None:
        assert isinstance(view, WindowBoardView)
        super().show(view)


def _set_window_row(widget: WindowRowWidget, row: WindowRow) -> None:
    widget.number, widget.name, widget.current = row.number, row.name, row.current
    widget.status, widget.tone = row.status, row.tone


def _set_queue_tile(widget: QueueTile, row: QueueRow) -> None:
    widget.prefix, widget.name, widget.waiting, widget.wait = row.prefix, row.name, row.waiting, row.wait
    widget.colour = hex_colour(row.colour)


def _set_call_chip(widget: CallChip, row: CallRow) -> None:
    widget.number, widget.window = row.number, row.window


# -- the app -------------------------------------------------------------------------------------


class BoardApp(App):  # type: ignore[misc]  # Kivy has no type hints
    u = NumericProperty(1.0)  # scale of the design pixels to this window

    def __init__(self, window_board: bool, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.window_board = window_board
        self.title = "便民 叫号显示屏"
        self.board: Board | None = None
        self._pending: View | None = None

    def build(self) -> Board:
        from kivy.core.window import Window  # importing it opens the window: only now

        register_cjk_font()
        Builder.load_file(str(KV_DIR / "common.kv"))
        Builder.load_file(str(KV_DIR / ("window.kv" if self.window_board else "hall.kv")))
        Window.clearcolor = (0.03, 0.11, 0.22, 1)
        Window.bind(size=self._on_size)
        self._on_size(Window, Window.size)
        self.board = WindowBoard() if self.window_board else HallBoard()
        if self._pending is not None:
            self.board.show(self._pending)
        return self.board

    def _on_size(self, _window: Any, size: tuple[int, int]) -> None:
        self.u = max(size[1], 1) / DESIGN_HEIGHT

    def show(self, view: View) -> None:
        """Draw a view (called on the Kivy thread, by the controller)."""
        if self.board is None:
            self._pending = view
        else:
            self.board.show(view)


async def run_board(options: BoardOptions, player: Player | None) -> None:
    """Run the board window and its controller in one asyncio loop until the window closes."""
    app = BoardApp(window_board=options.window is not None)
    controller = BoardController(options, app.show, player)
    await run_beside(app, controller.run(), "board-controller")
