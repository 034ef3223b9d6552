"""What travels on the link: a batch of events after a seq, and the county's answer (shared by both sides).

A newer township may send fields this county does not know: they are ignored (extra="ignore"), never an error.
Every bound is checked here, so a hostile or broken batch is refused before anything is read or written.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from config.documents import MAX_BYTES, MAX_VERSION

MAX_SEQ = 2**63 - 1
MAX_INT32 = 2**31 - 1
MAX_EVENTS = 5_000  # per batch (a township's batch_size is at most this)
MAX_TEXT = 65_536  # characters of one event's payload or public message
MAX_BODY = 16 * 1024 * 1024  # bytes of one request
TOKEN_PREFIX = "bml_"

Seq = Annotated[int, Field(ge=0, le=MAX_SEQ)]


class ShippedEvent(BaseModel):
    """One event of the hall's log, exactly as the township stored it (payload and public as stored text)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    seq: Annotated[int, Field(ge=1, le=MAX_SEQ)]
    type: Annotated[str, Field(min_length=1, max_length=32)]
    at: Annotated[int, Field(ge=0, le=MAX_SEQ)]
    actor: Annotated[str, Field(max_length=64)] | None = None
    window: Annotated[int, Field(ge=-MAX_INT32, le=MAX_INT32)] | None = None
    post: Annotated[str, Field(max_length=1)] | None = None
    ticket_id: Annotated[int, Field(ge=-MAX_INT32, le=MAX_INT32)] | None = None
    payload: Annotated[str, Field(max_length=MAX_TEXT)]
    public: Annotated[str, Field(max_length=MAX_TEXT)]

    @field_validator("payload", "public")
    @classmethod
    def _json_object(cls, value: str) -> str:
        # The county's reports read fields out of these texts: each must be a JSON object, as the township wrote it.
        try:
            parsed = json.loads(value)
        except ValueError:
            raise ValueError("must be the text of a JSON object") from None
        if not isinstance(parsed, dict):
            raise ValueError("must be the text of a JSON object")
        return value

    def row(self, hall: str) -> dict[str, object]:
        """The event as a row of the `events` table."""
        return {"hall": hall, **self.model_dump()}


Version = Annotated[int, Field(ge=1, le=MAX_VERSION)]
Digest = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
DocumentKind = Literal["catalogue", "calendar"]


class DocumentReport(BaseModel):
    """What a township did with one kind of the county's documents: runs, has staged, refused (link down)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    kind: DocumentKind
    running: Version | None = None  # the version the hall serves now (None: none of the county's yet)
    running_sha256: Digest | None = None
    staged: Version | None = None  # checked, served from the next day start
    staged_on: dt.date | None = None
    refused: Version | None = None  # failed the hall's checks: never served
    refusal: Annotated[str, Field(max_length=4000)] | None = None
    error: Annotated[str, Field(max_length=1000)] | None = None  # the last fetch failed (the county's answer, or none)


class Batch(BaseModel):
    """Events `after`+1, `after`+2, … of one hall, in seq order; an empty batch asks how far the county is."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    after: Seq
    events: list[ShippedEvent] = Field(default_factory=list, max_length=MAX_EVENTS)
    waiting: Seq = Field(0, description="events the township still has to send after this batch")
    version: Annotated[str, Field(max_length=40)] = ""
    documents: list[DocumentReport] | None = Field(None, max_length=2, description="the county's documents here")


class Ack(BaseModel):
    """The county's answer: it holds the hall's events 1..last_seq (the truth the township resumes from)."""

    model_config = ConfigDict(extra="ignore")

    hall: str
    last_seq: Seq
    received: int = 0  # events of this batch new to the county


class DocumentInfo(BaseModel):
    """The county's newest version of one kind of document: a township fetches it when it runs an older one."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    version: Version
    sha256: Digest  # of the body as served: the township refuses a body with another digest
    size: Annotated[int, Field(ge=1, le=MAX_BYTES)]
    published_at: dt.datetime


class DocumentIndex(BaseModel):
    """`GET /api/v1/link/halls/{hall}/documents`: the newest version of each kind (None: never published)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    catalogue: DocumentInfo | None = None
    calendar: DocumentInfo | None = None
