# mypy: allow-subclassing-any
"""A Kivy label that breaks Chinese lines by the rules of printed Chinese (避头尾), as the receipts do.

Kivy wraps text that has no spaces wherever the width runs out, so a line may start with "，" or hold
a lone "；". This label breaks its `source` text itself with `printer.layout.wrap.wrap` (the rule the
printed notices follow: no closing punctuation at a line start, no opening one at a line end, Latin
words whole), measured with the label's own font, and shows the result as `text`: Kivy then finds
every line already fitting and breaks nothing more. Import only after `prepare_kivy()`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from kivy.clock import Clock
from kivy.core.text import Label as CoreLabel
from kivy.properties import StringProperty
from kivy.uix.label import Label

from printer.layout.wrap import wrap

SLACK_PX = 2.0  # Kivy measures a line again when it lays it out: never let rounding re-break it


@lru_cache(maxsize=64)
def _measurer(font_name: str, font_size: float, bold: bool) -> CoreLabel:
    return CoreLabel(font_name=font_name, font_size=font_size, bold=bold)


def break_lines(text: str, width: float, font_name: str, font_size: float, bold: bool = False) -> str:
    """`text` with a newline at every line break the rules choose for this width and font."""
    core = _measurer(font_name, float(font_size), bool(bold))
    measure = lru_cache(maxsize=4096)(lambda piece: float(core.get_extents(piece)[0]))
    limit = max(1.0, width - SLACK_PX)
    return "\n".join(wrap(text, limit, limit, measure))


class WrappedLabel(Label):
    """Set `source`, not `text`: `text` is `source` broken into lines for the label's width and font."""

    source = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        self._rewrap = Clock.create_trigger(self._wrap, -1)
        super().__init__(**kwargs)
        self.bind(source=self._rewrap, width=self._rewrap, font_size=self._rewrap, font_name=self._rewrap,
                  bold=self._rewrap)  # fmt: skip
        self._wrap()

    def _wrap(self, *_args: Any) -> None:
        if not self.source or self.width <= 1:
            self.text = self.source
            return
        self.text = break_lines(self.source, self.width, self.font_name, self.font_size, self.bold)
