"""A clock the tests set by hand."""

from __future__ import annotations

import datetime as dt
import threading

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


class FakeClock:
    """Callable like the store's clock; starts on a working Monday morning in the hall's time zone."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self._now = start or dt.datetime(2026, 3, 16, 9, 0, tzinfo=SHANGHAI)
        self._lock = threading.Lock()

    def __call__(self) -> dt.datetime:
        with self._lock:
            return self._now.astimezone(dt.UTC)

    def advance(self, **delta: float) -> None:
        with self._lock:
            self._now += dt.timedelta(**delta)

    def set(self, moment: dt.datetime) -> None:
        with self._lock:
            self._now = moment
