"""A print job as the kiosk, the manager and the journal see it (the bytes are kept beside it)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class JobState(StrEnum):
    QUEUED = "queued"
    PRINTING = "printing"
    DONE = "done"
    FAILED = "failed"


class Phase(StrEnum):
    """How far a job got at the printer: this decides what a retry (or a restart) may send again."""

    NEW = "new"
    """Nothing of it is known to have reached the printer: send it whole (after a resync if need be)."""
    SENDING = "sending"
    """Its body is being sent. Its cut is held back until the printer has answered a status query sent
    after the body, so a printer that lost the connection here holds at most an uncut part: sent again whole."""
    FINISHING = "finishing"
    """The printer confirmed the whole body; only the cut is (re)sent, so the body is never printed twice."""


@dataclass(frozen=True)
class Job:
    """A print job and how it stands."""

    id: int
    title: str
    size: int
    state: JobState
    submitted_at: float
    attempts: int = 0
    last_error: str | None = None
    finished_at: float | None = None
    expires_at: float | None = None
    confirmed: bool = False
    """Done and acknowledged by the printer's status reply sent after the whole job."""
    phase: Phase = Phase.NEW
    uncertain: bool = False
    """Failed after bytes went out with no way to tell how much was printed (never sent again on its own)."""
