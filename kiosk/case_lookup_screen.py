# mypy: allow-subclassing-any
"""The 办件查询 · 投诉 screen in Kivy (its layout in case_lookup.kv; what it says in kiosk/case_lookup.py).

The code is typed as on the 补办 screen (`CodeScreen`: the same boxes, keypad and scanner); beside it, the case the
public lookup gave (or why none), and the QR code of the hall's public supervision page for the phone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kivy.lang import Builder
from kivy.properties import ObjectProperty, StringProperty

from kiosk import return_visit_screen
from kiosk.case_lookup import CaseLookupView
from kiosk.return_visit_screen import CodeScreen

KV_FILE = Path(__file__).resolve().parent / "case_lookup.kv"
NAME = "case_lookup"


class CaseLookupScreen(CodeScreen):
    panel_title = StringProperty("")
    panel_body = StringProperty("")
    panel_tone = StringProperty("info")
    qr_hint = StringProperty("")
    qr_texture = ObjectProperty(None, allownone=True)
    submit_action = "submit_case_lookup"
    shown = ("panel_title", "panel_body", "panel_tone", "qr_hint")
    _qr_url = ""

    def show(self, view: CaseLookupView) -> None:
        from kiosk.app import qr_texture  # the ticket's QR drawing (kiosk.app imports this module)

        super().show(view)
        if view.qr_url != self._qr_url:
            self._qr_url = view.qr_url
            self.qr_texture = qr_texture(view.qr_url) if view.qr_url else None


def install(root: Any) -> CaseLookupScreen:
    """Load the screen's rules (once, after the 补办 screen's, whose pieces it uses) and add it to the kiosk."""
    return_visit_screen.load_rules()
    if str(KV_FILE) not in Builder.files:
        Builder.load_file(str(KV_FILE))
    screen = CaseLookupScreen(name=NAME)
    root.ids.manager.add_widget(screen)
    return screen
