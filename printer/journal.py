"""The spooler's journal: every job and its bytes in a small SQLite file, so a restart loses none and repeats none.

A job is written here when it is queued, and again before each attempt sends a byte (its phase says how far
it got), so after a crash or a restart the spooler knows which jobs wait, which were being sent, and
whether the printer may be left inside a cut-off job. `synchronous=FULL`: a job the kiosk was told is
queued is on disk.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from printer.spool_jobs import Job, JobState, Phase

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    data BLOB NOT NULL,
    state TEXT NOT NULL,
    phase TEXT NOT NULL,
    submitted_at REAL NOT NULL,
    attempts INTEGER NOT NULL,
    last_error TEXT,
    finished_at REAL,
    expires_at REAL,
    confirmed INTEGER NOT NULL,
    uncertain INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS printer (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class JournalError(Exception):
    """The journal file cannot be opened or is not a spool journal."""


@dataclass(frozen=True)
class Journaled:
    """What a journal holds: its jobs (oldest first) with their bytes, and whether the printer needs a resync."""

    jobs: list[tuple[Job, bytes]]
    dirty: bool


class SpoolJournal:
    """One printer's journal file. Thread-safe (one connection, one lock); every write is committed at once."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(SCHEMA)
        except (OSError, sqlite3.Error) as error:
            raise JournalError(f"cannot open the print journal {self.path}: {error}") from error

    def load(self) -> Journaled:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, title, data, state, phase, submitted_at, attempts, last_error, finished_at, expires_at,"
                " confirmed, uncertain FROM jobs ORDER BY id"
            ).fetchall()
            dirty = self._db.execute("SELECT value FROM printer WHERE key = 'dirty'").fetchone()
        jobs = []
        for row in rows:
            job_id, title, data, state, phase, submitted, attempts, error, finished, expires, confirmed, unsure = row
            job = Job(
                job_id, title, len(data), JobState(state), submitted, attempts, error, finished, expires,
                bool(confirmed), Phase(phase), bool(unsure),
            )  # fmt: skip
            jobs.append((job, bytes(data)))
        return Journaled(jobs, dirty is not None and dirty[0] == "1")

    def add(self, job: Job, data: bytes) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO jobs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (job.id, job.title, data, *self._fields(job)),
            )

    def update(self, job: Job) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE jobs SET state = ?, phase = ?, submitted_at = ?, attempts = ?, last_error = ?,"
                " finished_at = ?, expires_at = ?, confirmed = ?, uncertain = ? WHERE id = ?",
                (*self._fields(job), job.id),
            )

    def forget(self, job_ids: list[int]) -> None:
        """Drop finished jobs that left the spooler's history."""
        if job_ids:
            with self._lock:
                self._db.executemany("DELETE FROM jobs WHERE id = ?", [(job_id,) for job_id in job_ids])

    def set_dirty(self, dirty: bool) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO printer VALUES ('dirty', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                ("1" if dirty else "0",),
            )

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @staticmethod
    def _fields(job: Job) -> tuple[object, ...]:
        return (
            job.state.value, job.phase.value, job.submitted_at, job.attempts, job.last_error, job.finished_at,
            job.expires_at, int(job.confirmed), int(job.uncertain),
        )  # fmt: skip
