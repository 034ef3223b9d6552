"""Hearing what other server processes commit: PostgreSQL LISTEN/NOTIFY, or polling an SQLite file.

Each process publishes every event of a hall to its own subscribers. Its own events it knows; those
another process committed reach it here: a notification (or a poll) names the hall and its newest seq,
and the store catches the hall up from the log and publishes what it missed, in order. A change of
accounts or devices anywhere makes every process drop its cached logins and device tokens. After a lost
connection the listener reconnects by itself and catches every hall up, since notifications sent
meanwhile are gone.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from queue_server.store.tables import events, generations
from queue_server.store.writer import ACCOUNTS_CHANNEL, CONFIG_CHANNEL, EVENTS_CHANNEL

if TYPE_CHECKING:
    from queue_server.store.writer import Store

log = logging.getLogger(__name__)

POLL_S = 0.25  # SQLite: how often the file is looked at (a change reaches every process well within a second)
RETRY_S = (0.5, 1.0, 2.0, 5.0)  # PostgreSQL: waits between reconnection attempts
_GENERATIONS = select(generations.c.name, generations.c.value)


class Listener:
    """A daemon thread that tells the store about other processes' commits."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.origin = store.origin
        self._stop = threading.Event()
        self._generations: dict[str, int] = {}
        target = self._listen if store.backend.features.has_notify else self._poll
        self._thread = threading.Thread(target=target, name="bianmin-listener", daemon=True)
        self.connected = threading.Event()  # set while listening (tests wait for it)

    def start(self, wait_s: float = 5.0) -> None:
        """Start listening; return once it listens (or after `wait_s`: it goes on trying by itself)."""
        if not self.store.backend.features.has_notify:
            self._generations = self._read_generations()  # before any request: a change after this is seen
        self._thread.start()
        self.connected.wait(wait_s)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _catch_up_all(self) -> None:
        for hall in self.store.config.halls:
            self.store.request_sync(hall.id)
        self.store.accounts_changed()

    def _heard(self, channel: str, payload: str) -> None:
        if channel == EVENTS_CHANNEL:
            hall, _, rest = payload.partition(":")
            seq, _, origin = rest.partition(":")
            if origin == self.origin or not seq.isdigit():
                return  # our own commit, or not a notification of ours
            if int(seq) > self.store.published_seq(hall) and self.store.config.has_hall(hall):
                self.store.request_sync(hall)
        elif channel == ACCOUNTS_CHANNEL and payload != self.origin:
            self.store.accounts_changed()
        elif channel == CONFIG_CHANNEL and payload != self.origin:
            self.store.config_changed()

    # -- PostgreSQL -----------------------------------------------------------------------------

    def _listen(self) -> None:
        import psycopg

        conninfo = make_url(self.store.engine.url).set(drivername="postgresql").render_as_string(hide_password=False)
        attempt = 0
        while not self._stop.is_set():
            try:
                with psycopg.connect(conninfo, autocommit=True, connect_timeout=3) as conn:
                    conn.execute(f"LISTEN {EVENTS_CHANNEL}")
                    conn.execute(f"LISTEN {ACCOUNTS_CHANNEL}")
                    conn.execute(f"LISTEN {CONFIG_CHANNEL}")
                    self.connected.set()
                    if attempt:
                        log.info("listening for other processes' commits again")
                    attempt = 0
                    self._catch_up_all()  # what was committed while nobody listened
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=0.5):
                            self._heard(note.channel, note.payload)
            except Exception as error:  # the database went away: try again, and catch up when it is back
                self.connected.clear()
                if attempt == 0:
                    log.warning("lost the database notifications (%s); reconnecting", type(error).__name__)
                self._stop.wait(RETRY_S[min(attempt, len(RETRY_S) - 1)])
                attempt += 1

    # -- SQLite ---------------------------------------------------------------------------------

    def _read_generations(self) -> dict[str, int]:
        with self.store.reader.connect() as conn:
            return {name: value for name, value in conn.execute(_GENERATIONS)}

    def _poll(self) -> None:
        seen = self._generations
        halls = [hall.id for hall in self.store.config.halls]
        self.connected.set()
        while not self._stop.wait(POLL_S):
            try:
                with self.store.reader.connect() as conn:  # one index seek per hall: max(seq) of its log
                    newest = {
                        h: conn.execute(select(func.max(events.c.seq)).where(events.c.hall == h)).scalar() or 0
                        for h in halls
                    }
                    generations_now = {name: value for name, value in conn.execute(_GENERATIONS)}
            except Exception as error:
                log.warning("could not look for other processes' commits: %s", error)
                continue
            for hall, seq in newest.items():
                if seq > self.store.published_seq(hall):
                    self.store.request_sync(hall)
            if generations_now.get("accounts") != seen.get("accounts"):
                self.store.accounts_changed()
            if generations_now.get("config") != seen.get("config"):
                self.store.config_changed()
            seen = generations_now
