"""PostgreSQL: a hall transaction's lock and newest seq in one round trip, and events notified by a trigger

`bianmin_lock_halls(keys, halls, timeout_ms, origin)` sets the lock timeout, takes the halls' advisory locks
in the order given, names the process for the notifications, and returns each hall's newest seq read after
the locks (a VOLATILE function: its query takes a snapshot of its own). The trigger `events_notify` sends
`bianmin_events` "hall:seq:origin" for every event a server appends (delivered at commit, or never); events
written with no origin (a copy, a restore, a township's shipped log) notify nobody, as before.
SQLite: nothing (one write transaction at a time, other processes poll).

Revision ID: 0016
Revises: 0013
Create Date: 2026-12-07 02:30:00

"""

from collections.abc import Sequence

from alembic import op

from queue_server.store.backends import backend_for

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LOCK_HALLS = """
CREATE OR REPLACE FUNCTION bianmin_lock_halls(keys bigint[], halls text[], timeout_ms text, origin text)
RETURNS bigint[] LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    k bigint;
BEGIN
    PERFORM set_config('lock_timeout', timeout_ms, true);
    PERFORM set_config('bianmin.origin', origin, true);
    FOREACH k IN ARRAY keys LOOP
        PERFORM pg_advisory_xact_lock(k);
    END LOOP;
    RETURN ARRAY(
        SELECT coalesce((SELECT max(e.seq) FROM events e WHERE e.hall = h.hall), 0)
        FROM unnest(halls) WITH ORDINALITY AS h(hall, n) ORDER BY h.n
    );
END
$$
"""

NOTIFY = """
CREATE OR REPLACE FUNCTION bianmin_event_notify() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    origin text := current_setting('bianmin.origin', true);
BEGIN
    IF origin IS NOT NULL AND origin <> '' THEN
        PERFORM pg_notify('bianmin_events', NEW.hall || ':' || NEW.seq || ':' || origin);
    END IF;
    RETURN NULL;
END
$$
"""


def _postgresql() -> bool:
    return backend_for(op.get_bind()).features.notifies_events


def upgrade() -> None:
    if not _postgresql():
        return
    op.execute(LOCK_HALLS)
    op.execute(NOTIFY)
    op.execute(
        "CREATE TRIGGER events_notify AFTER INSERT ON events FOR EACH ROW EXECUTE FUNCTION bianmin_event_notify()"
    )


def downgrade() -> None:
    if not _postgresql():
        return
    op.execute("DROP TRIGGER IF EXISTS events_notify ON events")
    op.execute("DROP FUNCTION IF EXISTS bianmin_event_notify()")
    op.execute("DROP FUNCTION IF EXISTS bianmin_lock_halls(bigint[], text[], text, text)")
