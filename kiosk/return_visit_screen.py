# mypy: allow-subclassing-any
"""The 补办 / 补交材料 screen in Kivy (its layout in return_visit.kv; what it says in kiosk/return_visit.py).

A USB QR scanner is a keyboard: while this screen is shown, the characters the window receives go into the
code (anything that is not one of the codes' symbols is dropped) and Enter submits it, as 取号 would.
`CodeScreen` (the nine boxes, the keypad, the scanner) is shared with 办件查询 (kiosk/case_lookup_screen.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.factory import Factory
from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.screenmanager import Screen

from kiosk.kivy_shell import fill
from kiosk.return_visit import ReturnVisitView

KV_FILE = Path(__file__).resolve().parent / "return_visit.kv"
NAME = "return_visit"
ENTER_KEYS = frozenset({13, 271})  # Return, keypad Enter
BACKSPACE = 8


class CodeScreen(Screen):
    """A screen that types a case code: nine boxes (`ids.slots`), a keypad (`ids.keypad`), 退格 / 清空 / submit."""

    title = StringProperty("")
    body = StringProperty("")
    status = StringProperty("")
    delete = StringProperty("")
    clear = StringProperty("")
    submit = StringProperty("")
    ready = BooleanProperty(False)
    submit_action = "submit_return_visit"  # the view-model's method that Enter (and the submit button) calls
    shown: tuple[str, ...] = ()  # the view's fields copied onto the screen's properties
    _keys: tuple[str, ...] = ()

    def show(self, view: Any) -> None:
        for name in ("title", "body", "status", "delete", "clear", "submit", "ready", *self.shown):
            setattr(self, name, getattr(view, name))
        fill(self.ids.slots, view.slots, Factory.CodeSlot, _set_slot)
        if view.keys != self._keys:
            self._keys = view.keys
            fill(self.ids.keypad, view.keys, Factory.ReturnKey, _set_key)

    # A scanner (or any keyboard) types here while the screen is shown.
    def on_enter(self, *_args: Any) -> None:
        from kivy.core.window import Window

        Window.bind(on_textinput=self._typed, on_key_down=self._key_down)

    def on_leave(self, *_args: Any) -> None:
        from kivy.core.window import Window

        Window.unbind(on_textinput=self._typed, on_key_down=self._key_down)

    def _typed(self, _window: Any, typed: str) -> bool:
        app = App.get_running_app()
        for symbol in typed:
            app.tap("return_key", symbol)
        return True

    def _key_down(self, _window: Any, key: int, *_args: Any) -> bool:
        app = App.get_running_app()
        if key in ENTER_KEYS:
            app.tap(self.submit_action)
            return True
        if key == BACKSPACE:
            app.tap("return_delete")
            return True
        return False


class ReturnVisitScreen(CodeScreen):
    problem_title = StringProperty("")
    problem_body = StringProperty("")
    shown = ("problem_title", "problem_body")

    def show(self, view: ReturnVisitView) -> None:
        super().show(view)


def _set_slot(widget: Any, symbol: str) -> None:
    widget.text = symbol


def _set_key(widget: Any, symbol: str) -> None:
    widget.symbol = widget.text = symbol


def load_rules() -> None:
    """The rules of return_visit.kv (the code's boxes, keys and actions too), once."""
    if str(KV_FILE) not in Builder.files:
        Builder.load_file(str(KV_FILE))


def install(root: Any) -> ReturnVisitScreen:
    """Load the screen's rules (once) and add it to the kiosk's screen manager."""
    load_rules()
    screen = ReturnVisitScreen(name=NAME)
    root.ids.manager.add_widget(screen)
    return screen
