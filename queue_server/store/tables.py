"""The database tables (SQLAlchemy Core), portable between SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)

metadata = MetaData()

# Times are stored as integer microseconds since the Unix epoch (UTC): exact, portable, cheap to compare.

# The hall's current service day. Its last event seq and each category's last number of the day are not
# stored twice: they are the largest seq in `events` and the largest `seq` of the day in `tickets`.
hall_state = Table(
    "hall_state",
    metadata,
    Column("hall", String(48), primary_key=True),
    Column("service_day", Date, nullable=True),
)

tickets = Table(
    "tickets",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("hall", String(48), nullable=False),
    Column("day", Date, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("number", String(8), nullable=False),
    Column("category", String(48), nullable=False),
    Column("item_id", String(48), nullable=True),
    Column("priority", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("queue_key", BigInteger, nullable=False),
    Column("target_window", Integer, nullable=True),
    Column("window", Integer, nullable=True),
    Column("track_token", String(64), nullable=False, unique=True),
    Column("device", String(48), nullable=True),
    Column("issued_at", BigInteger, nullable=False),
    Column("called_at", BigInteger, nullable=True),
    Column("started_at", BigInteger, nullable=True),
    Column("finished_at", BigInteger, nullable=True),
    Column("recalls", Integer, nullable=False, default=0),
    Column("recalled_at", BigInteger, nullable=True),  # the last recall (the automatic no-show counts from it)
    Column("served_by", String(48), nullable=True),
    Column("served_post", String(1), nullable=True),
    Column("case_class", String(16), nullable=True),
    Column("finish_details", Text, nullable=True),
    Column("ahead_at_issue", Integer, nullable=True),
    Column("estimate_at_issue", Integer, nullable=True),
    # The issuing request: a retry with the same device and Idempotency-Key on the same service day gets
    # this ticket back; one with another body (by its hash) is refused.
    Column("idem_key", String(128), nullable=True),
    Column("body_hash", String(64), nullable=True),
    # A ticket by ID card: the kiosk's HMAC-SHA256 of the ID number (hex; never the number): one open per category.
    Column("id_hash", String(64), nullable=True),
    UniqueConstraint("hall", "day", "number", name="uq_ticket_number"),
    UniqueConstraint("hall", "day", "device", "idem_key", name="uq_ticket_request"),
)
Index("ix_tickets_hall_day_state", tickets.c.hall, tickets.c.day, tickets.c.state)

events = Table(
    "events",
    metadata,
    Column("hall", String(48), primary_key=True),
    Column("seq", BigInteger, primary_key=True),
    Column("type", String(32), nullable=False),
    Column("at", BigInteger, nullable=False),
    Column("actor", String(64), nullable=True),
    Column("window", Integer, nullable=True),
    Column("post", String(1), nullable=True),
    Column("ticket_id", Integer, nullable=True),
    Column("payload", Text, nullable=False),
    Column("public", Text, nullable=False),
)
Index("ix_events_hall_at", events.c.hall, events.c.at)  # reports and the audit search read time ranges
#: The case events (case.*) alone, for the case figures (reports/cases.py): a partial index, so the far more
#: numerous ticket events cost nothing more to write. A query must repeat CASE_EVENT_RANGE to use it.
CASE_EVENT_RANGE = "type >= 'case.' AND type < 'case/'"
Index("ix_events_cases", events.c.hall, events.c.at, sqlite_where=text(CASE_EVENT_RANGE),
      postgresql_where=text(CASE_EVENT_RANGE))  # fmt: skip

windows = Table(
    "windows",
    metadata,
    Column("hall", String(48), primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("state", String(16), nullable=False),
    Column("clerk", String(48), nullable=True),
    Column("post", String(1), nullable=True),
    Column("current_ticket", Integer, nullable=True),
    Column("paused_reason", String(200), nullable=True),
    Column("priority_streak", Integer, nullable=False),
    Column("since", BigInteger, nullable=True),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(48), nullable=False, unique=True),
    Column("display_name", String(64), nullable=False),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("failed_logins", Integer, nullable=False),  # unused since 0014: see login_throttle
    Column("locked_until", BigInteger, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    # True: the account may act in every hall of the database (an administrator of a county center);
    # False: only in the halls listed for it in `staff_halls`.
    Column("all_halls", Boolean, nullable=False, default=False),
    # A county manager's county (its role sees that county's dashboard and nothing else); None for the others.
    Column("county", String(48), nullable=True),
    # A city manager's city (its role sees that city's rollup and nothing else); None for the others.
    Column("city", String(48), nullable=True),
    # A village agent's point (config Hall.agent_points; its role sees the point's cases only); None for the others.
    Column("point", String(48), nullable=True),
    # The clerk's staff number (工号), shown on the window's evaluator pad (migration 0020); None: not set.
    Column("staff_no", String(16), nullable=True),
)

# The halls a staff account belongs to (a clerk or manager has one unless given more).
staff_halls = Table(
    "staff_halls",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id"), primary_key=True),
    Column("hall", String(48), primary_key=True),
)

sessions = Table(
    "sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
)

devices = Table(
    "devices",
    metadata,
    Column("hall", String(48), primary_key=True),
    Column("device", String(48), primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", BigInteger, nullable=False),
    Column("revoked", Boolean, nullable=False),
)

# 好差评: one rating per finished ticket; a bad one is followed up (open → contacted → rectified).
ratings = Table(
    "ratings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("hall", String(48), nullable=False),
    Column("ticket_id", Integer, nullable=False, unique=True),  # one rating per ticket, whatever the race
    Column("day", Date, nullable=False),  # the ticket's service day
    Column("number", String(8), nullable=False),
    Column("category", String(48), nullable=False),
    Column("item_id", String(48), nullable=True),
    Column("window", Integer, nullable=True),
    Column("served_by", String(48), nullable=True),
    Column("level", String(24), nullable=False),
    Column("score", Integer, nullable=False),  # 5 非常满意 … 1 非常不满意
    Column("reasons", Text, nullable=False),  # JSON list of reason codes
    Column("comment", Text, nullable=False),
    Column("contact_phone", String(32), nullable=True),  # given by the citizen for the follow-up; never public
    Column("rated_at", BigInteger, nullable=False),
    Column("follow_up", String(16), nullable=True),  # None for a good rating
    Column("due_on", Date, nullable=True),
    Column("follow_up_notes", Text, nullable=False),  # JSON list of {state, note, by, at}
    Column("updated_at", BigInteger, nullable=False),
    # Migration 0020 (services/ratings.py, docs/haocha.md): the visit's case, and the 差评's life after it.
    Column("case_code", String(16), nullable=True),  # the case the finished visit opened (or returned to)
    Column("source", String(16), nullable=False, server_default="citizen"),  # citizen | default (默认好评)
    Column("callbacks", Text, nullable=False, server_default="[]"),  # JSON list of {by, at, said, rerating}
    Column("rerating", String(16), nullable=True),  # the citizen's rating of the fix: satisfied | dissatisfied
    Column("review_state", String(16), nullable=True),  # 申诉复核: requested | upheld | rejected
    Column("review", Text, nullable=True),  # JSON {reason, by, at, decided_by, decided_at, note}
    Column("excluded", Boolean, nullable=False, server_default=false()),  # upheld review: out of every figure
)
Index("ix_ratings_hall_day", ratings.c.hall, ratings.c.day)

# 办事预约: a booked slot, checked in at the kiosk for a ticket of priority "appointment".
appointments = Table(
    "appointments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("hall", String(48), nullable=False),
    Column("code", String(16), nullable=False, unique=True),
    Column("day", Date, nullable=False),
    Column("slot_start", String(5), nullable=False),  # HH:MM in the hall's time zone
    Column("slot_end", String(5), nullable=False),
    Column("category", String(48), nullable=False),
    Column("item_id", String(48), nullable=True),
    Column("state", String(16), nullable=False),  # booked | cancelled | checked_in | missed
    Column("booked_at", BigInteger, nullable=False),
    Column("changed_at", BigInteger, nullable=False),
    Column("ticket_id", Integer, nullable=True),
    Column("device", String(48), nullable=True),
    # "slot" (办事预约) or "remote" (远程取号: its slot runs from when it was taken to the time to arrive)
    Column("kind", String(16), nullable=False, server_default="slot"),
    Column("requester", String(64), nullable=True),  # remote: SHA-256 of the phone's random device id
    Column("estimate_s", Integer, nullable=True),  # remote: the wait estimated when it was taken
)
Index("ix_appointments_requester", appointments.c.hall, appointments.c.requester, appointments.c.day)
Index("ix_appointments_hall_day", appointments.c.hall, appointments.c.day, appointments.c.kind, appointments.c.category)
Index(
    "ix_appointments_slot", appointments.c.hall, appointments.c.day, appointments.c.slot_start, appointments.c.category
)

# A case (办件): what a citizen came for, from 受理 to 办结 (queue_server/services/cases.py). Its history is in
# the hall's event log (case.* events); this row is its current state for the desk, the wall and the lookup.
cases = Table(
    "cases",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("hall", String(48), nullable=False),
    Column("code", String(16), nullable=False),  # public, random (domain/cases.py CODE_ALPHABET)
    Column("origin", String(16), nullable=False),  # window (a ticket's finish) | agent (a village agent point)
    Column("ticket_id", Integer, nullable=True),  # the visit that opened it (None: an agent's case)
    Column("number", String(8), nullable=True),  # that ticket's number, for the desk
    Column("item_id", String(48), nullable=True),
    Column("category", String(48), nullable=False),
    Column("case_class", String(16), nullable=False),  # 六件管理 (domain/tickets.py CaseClass)
    Column("state", String(16), nullable=False),  # domain/cases.py CaseState
    Column("opened_day", Date, nullable=False),
    Column("opened_at", BigInteger, nullable=False),
    Column("due_on", Date, nullable=True),  # None: no clock runs (a 补办件 waiting for its materials)
    Column("window", Integer, nullable=True),  # the window handling it now
    Column("clerk", String(48), nullable=True),  # the clerk handling it now
    Column("department", String(200), nullable=True),  # the department of the current 联办 leg
    Column("accepted_window", Integer, nullable=True),  # who accepted it (the reports group by these)
    Column("accepted_by", String(48), nullable=True),
    Column("contact_phone", String(32), nullable=True),  # full, for notifying the citizen; the API shows it masked
    Column("details", Text, nullable=False),  # JSON: missing materials, reason, agent, legs, extensions, visits
    Column("last_ticket_id", Integer, nullable=True),  # the latest 补办 return visit's ticket
    Column("result", String(16), nullable=True),  # 领取方式 of a completed case (domain/cases.py Pickup)
    Column("closed_day", Date, nullable=True),
    Column("closed_at", BigInteger, nullable=True),
    Column("updated_at", BigInteger, nullable=False),
    Column("point", String(48), nullable=True),  # the village agent point that took it (代理件), else None
    UniqueConstraint("hall", "code", name="uq_case_code"),
)
Index("ix_cases_hall_state_due", cases.c.hall, cases.c.state, cases.c.due_on)
Index("ix_cases_ticket", cases.c.hall, cases.c.last_ticket_id)
# 投诉举报: a complaint filed on the public page /q/{hall}, answered by the hall's managers (migration 0013).
# Storage minimisation: the contact is kept in full only until the complaint is answered (the manager may need
# to call back), then only its mask; neither the text, the answer nor the contact is ever in the event log.
complaints = Table(
    "complaints",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("hall", String(48), nullable=False),
    Column("code", String(16), nullable=False, unique=True),  # the complainant's key to the answer
    Column("category", String(24), nullable=False),
    Column("window", Integer, nullable=True),
    Column("case_code", String(24), nullable=True),  # the case it is about, as typed (checked once cases exist)
    Column("text", Text, nullable=False),
    Column("contact", String(32), nullable=True),  # in full while not answered; None after
    Column("contact_masked", String(32), nullable=True),  # 139****1234, kept
    Column("state", String(16), nullable=False),  # open | handling | answered
    Column("day", Date, nullable=False),  # the hall's local day it was filed
    Column("due_on", Date, nullable=False),
    Column("filed_at", BigInteger, nullable=False),
    Column("handling_at", BigInteger, nullable=True),
    Column("handled_by", String(48), nullable=True),
    Column("answer", Text, nullable=True),
    Column("answered_at", BigInteger, nullable=True),
    Column("answered_by", String(48), nullable=True),
    Column("answered_on", Date, nullable=True),
    Column("updated_at", BigInteger, nullable=False),
)
Index("ix_complaints_hall_day", complaints.c.hall, complaints.c.day)
Index("ix_complaints_hall_state", complaints.c.hall, complaints.c.state, complaints.c.due_on)
#: The complaint events of a hall's log, for the complaint figures (a year of a busy hall is millions of events, a
#: few thousand of them complaints). Partial: the other events never enter it, so issuing pays nothing for it.
COMPLAINT_EVENTS = ("complaint.filed", "complaint.handling", "complaint.answered")
Index(
    "ix_events_complaints",
    events.c.hall,
    events.c.at,
    sqlite_where=events.c.type.in_(COMPLAINT_EVENTS),
    postgresql_where=events.c.type.in_(COMPLAINT_EVENTS),
)
Index("ix_cases_hall_point", cases.c.hall, cases.c.point, cases.c.opened_at)  # an agent's list of the point's cases

# Citizens who asked for a reminder on their phone (快到您了, the call): the number is kept for the service day
# only (deleted at day close, never in events or logs). `reminded`/`called`: sent once, claimed under the hall lock.
notify_requests = Table(
    "notify_requests",
    metadata,
    Column("ticket_id", Integer, primary_key=True),
    Column("hall", String(48), nullable=False),
    Column("day", Date, nullable=False),
    Column("phone", String(32), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("reminded", Boolean, nullable=False, default=False),
    Column("called", Boolean, nullable=False, default=False),
)
Index("ix_notify_requests_hall", notify_requests.c.hall, notify_requests.c.day)


# Counters other server processes watch: "accounts" is bumped by every transaction that changes accounts,
# sessions or devices, so each process drops its cached logins and device tokens; "config" when an
# administrator reloads the configuration, so each process reloads its own (PostgreSQL also NOTIFYs).
generations = Table(
    "generations",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

# Failed logins by client address (migration 0014): one row per (address, "u:" + the username as typed,
# normalised) and one per address for every username ("*"). Each counts failures and may hold a lock, so a
# password guesser elsewhere locks only its own address out, never the clerk at her own PC. The users table's
# failed_logins and locked_until are no longer used.
login_throttle = Table(
    "login_throttle",
    metadata,
    Column("source", String(64), primary_key=True),
    Column("subject", String(64), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("locked_until", BigInteger, nullable=True),
    Column("last_at", BigInteger, nullable=False),  # the last failure: rows idle a day are deleted
)
Index("ix_login_throttle_last_at", login_throttle.c.last_at)

# Changes of staff accounts and devices, and login lockouts (migration 0014): who did what to whom, when, from
# where. Not in the halls' event logs: an account may belong to every hall or to none, and these changes run in
# the accounts' transaction, which locks no hall (a login flood must not contend with ticket issuing).
staff_audit = Table(
    "staff_audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", BigInteger, nullable=False),
    Column("actor", String(64), nullable=True),  # the administrator's username, "cli:<user>", None: the server
    Column("action", String(32), nullable=False),  # staff.added, staff.changed, staff.password_reset, ...
    Column("subject", String(64), nullable=True),  # the account's username or the device's id
    Column("halls", Text, nullable=True),  # the halls it concerns as ",a,b,"; None: every hall
    Column("source", String(64), nullable=True),  # the client address of the request
    Column("details", Text, nullable=False),  # JSON: what changed (never a password or a token)
)
Index("ix_staff_audit_at", staff_audit.c.at)
