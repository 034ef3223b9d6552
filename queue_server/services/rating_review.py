"""A 差评 after the rating: the callback (回访) with the citizen's re-rating of the fix, and the review (申诉复核).

- Callback: once the follow-up is `rectified`, a staff member of the hall calls the citizen back and records what
  they said and whether they are satisfied with the fix (满意 / 不满意). Satisfied closes the follow-up; not
  satisfied opens it again, due in the locality's working days from today. The citizen's words stay in the
  ratings row (for the managers); the event says who called and the re-rating.
- Review: a member of the hall's staff (the rated clerk appealing, or a manager who believes the 差评 mistaken or
  malicious) asks for it with a reason; a manager or administrator decides it, neither the rated clerk nor the
  one who asked (国办发〔2019〕51号: 申诉复核 by someone other than the rated party). Upheld: the rating is out of
  every figure (`excluded`, the `rating.review_upheld` event the reports read) and its follow-up closed;
  rejected: it stays as it was. Each step is an event of the hall's log: the audit trail.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import update

from queue_server.errors import Conflict, Forbidden
from queue_server.protocol import RatingMessage
from queue_server.services.accounts import Staff
from queue_server.services.ratings import MAX_NOTE, RatingRecord, bad_rating_row, clean_text, record_by_id, rectify_due
from queue_server.store.tables import ratings
from queue_server.store.writer import Tx

MAX_CALLBACKS = 20


def _words(value: str, what: str) -> str:
    text = clean_text(value, MAX_NOTE)
    if not text:
        raise ValueError(what)
    return text


class CallbackRequest(BaseModel):
    """Body of POST .../ratings/{id}/callback: what the citizen said on the phone, and their rating of the fix."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    said: Annotated[str, Field(min_length=1, max_length=MAX_NOTE * 2)]
    rerating: Literal["satisfied", "dissatisfied"]

    @field_validator("said")
    @classmethod
    def _said(cls, value: str) -> str:
        return _words(value, "say what the citizen said (请填写回访情况)")


class ReviewRequest(BaseModel):
    """Body of POST .../ratings/{id}/review: why the 差评 is believed mistaken or malicious."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reason: Annotated[str, Field(min_length=1, max_length=MAX_NOTE * 2)]

    @field_validator("reason")
    @classmethod
    def _reason(cls, value: str) -> str:
        return _words(value, "say why the rating should be reviewed (请填写申诉理由)")


class ReviewDecision(BaseModel):
    """Body of POST .../ratings/{id}/review/decision."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    outcome: Literal["upheld", "rejected"]
    note: Annotated[str, Field(min_length=1, max_length=MAX_NOTE * 2)]

    @field_validator("note")
    @classmethod
    def _note(cls, value: str) -> str:
        return _words(value, "say why (请填写复核意见)")


def _message(tx: Tx, event: Literal["called_back", "reviewed"]) -> Callable[[int], RatingMessage]:
    return lambda seq: RatingMessage(seq=seq, at=tx.now, event=event, level=None)


def call_back(tx: Tx, rating_id: int, staff: Staff, request: CallbackRequest) -> RatingRecord:
    """Record the callback of a rectified 差评 and the citizen's rating of the fix."""
    row = bad_rating_row(tx, rating_id)
    if row.follow_up != "rectified":
        raise Conflict("the citizen is called back once the rating is rectified (整改完成后才能回访)")
    callbacks = json.loads(row.callbacks)
    if len(callbacks) >= MAX_CALLBACKS:
        raise Conflict(f"at most {MAX_CALLBACKS} callbacks to one rating (回访次数过多)")
    callbacks.append({"by": staff.username, "at": tx.now_us, "said": request.said, "rerating": request.rerating})
    assert tx.rt.day is not None
    satisfied = request.rerating == "satisfied"
    due = row.due_on if satisfied else rectify_due(tx, tx.rt.day)
    tx.conn.execute(
        update(ratings)
        .where(ratings.c.id == rating_id)
        .values(callbacks=json.dumps(callbacks, ensure_ascii=False), rerating=request.rerating,
                follow_up="closed" if satisfied else "open", due_on=due, updated_at=tx.now_us)
    )  # fmt: skip
    tx.emit(
        "rating.called_back",
        {"rating_id": rating_id, "number": row.number, "rerating": request.rerating,
         "to": "closed" if satisfied else "open", "due_on": due.isoformat() if due else None},
        _message(tx, "called_back"),
        actor=staff.username,
        ticket_id=row.ticket_id,
    )  # fmt: skip
    return record_by_id(tx, rating_id)


def request_review(tx: Tx, rating_id: int, staff: Staff, request: ReviewRequest) -> RatingRecord:
    """Ask for the review of a 差评 (once)."""
    row = bad_rating_row(tx, rating_id)
    if not staff.supervises and staff.username != row.served_by:
        raise Forbidden("a clerk asks for the review of their own 差评 only; a manager of any (只能对本人的差评申诉)")
    if row.review_state is not None:
        raise Conflict("this rating has already been put to review: one review per rating (该差评已申请过复核)")
    review = {"reason": request.reason, "by": staff.username, "at": tx.now_us}
    tx.conn.execute(
        update(ratings)
        .where(ratings.c.id == rating_id)
        .values(review_state="requested", review=json.dumps(review, ensure_ascii=False), updated_at=tx.now_us)
    )
    tx.emit(
        "rating.review_requested",
        {"rating_id": rating_id, "number": row.number, "reason": request.reason, "rated_clerk": row.served_by},
        _message(tx, "reviewed"),
        actor=staff.username,
        window=row.window,
        ticket_id=row.ticket_id,
    )
    return record_by_id(tx, rating_id)


def decide_review(tx: Tx, rating_id: int, staff: Staff, decision: ReviewDecision) -> RatingRecord:
    """Decide a requested review: upheld takes the rating out of the figures, rejected leaves it."""
    row = bad_rating_row(tx, rating_id)
    if row.review_state != "requested":
        raise Conflict("no review of this rating waits for a decision (该差评没有待复核的申请)")
    review = json.loads(row.review)
    if staff.username == row.served_by:
        raise Forbidden("the rated clerk cannot decide the review of their own rating (被评价人不能复核本人的差评)")
    if staff.username == review["by"]:
        raise Forbidden("the one who asked for the review cannot decide it (申诉人不能复核本人的申请)")
    upheld = decision.outcome == "upheld"
    review.update(decided_by=staff.username, decided_at=tx.now_us, note=decision.note)
    values: dict[str, object] = {
        "review_state": decision.outcome, "review": json.dumps(review, ensure_ascii=False), "updated_at": tx.now_us,
    }  # fmt: skip
    if upheld:
        values.update(excluded=True, follow_up="closed")
    tx.conn.execute(update(ratings).where(ratings.c.id == rating_id).values(**values))
    tx.emit(
        "rating.review_upheld" if upheld else "rating.review_rejected",
        {"rating_id": rating_id, "number": row.number, "note": decision.note, "requested_by": review["by"],
         "rated_clerk": row.served_by},
        _message(tx, "reviewed"),
        actor=staff.username,
        window=row.window,
        ticket_id=row.ticket_id,
    )  # fmt: skip
    return record_by_id(tx, rating_id)
