"""idempotency keys move into the tickets they issued; counters and last seq are derived, not stored

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 02:15:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("idem_key", sa.String(length=128), nullable=True))
        batch.add_column(sa.Column("body_hash", sa.String(length=64), nullable=True))
    op.execute(
        "UPDATE tickets SET "
        "idem_key = (SELECT i.key FROM idempotency i WHERE i.ticket_id = tickets.id), "
        "body_hash = (SELECT i.body_hash FROM idempotency i WHERE i.ticket_id = tickets.id)"
    )
    with op.batch_alter_table("tickets") as batch:
        batch.create_unique_constraint("uq_ticket_request", ["hall", "day", "device", "idem_key"])
    op.drop_table("idempotency")
    op.drop_table("day_counters")
    with op.batch_alter_table("hall_state") as batch:
        batch.drop_column("last_seq")


def downgrade() -> None:
    with op.batch_alter_table("hall_state") as batch:
        batch.add_column(sa.Column("last_seq", sa.BigInteger(), nullable=False, server_default="0"))
    op.execute(
        "UPDATE hall_state SET last_seq = (SELECT COALESCE(MAX(seq), 0) FROM events WHERE hall = hall_state.hall)"
    )
    op.create_table(
        "day_counters",
        sa.Column("hall", sa.String(length=48), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("category", sa.String(length=48), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("hall", "day", "category"),
    )
    op.execute(
        "INSERT INTO day_counters (hall, day, category, last_seq) "
        "SELECT hall, day, category, MAX(seq) FROM tickets GROUP BY hall, day, category"
    )
    op.create_table(
        "idempotency",
        sa.Column("hall", sa.String(length=48), nullable=False),
        sa.Column("device", sa.String(length=48), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("body_hash", sa.String(length=64), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("hall", "device", "key"),
    )
    op.execute(
        "INSERT INTO idempotency (hall, device, key, body_hash, ticket_id, created_at) "
        "SELECT hall, device, idem_key, body_hash, id, issued_at FROM tickets WHERE idem_key IS NOT NULL"
    )
    with op.batch_alter_table("tickets") as batch:
        batch.drop_constraint("uq_ticket_request", type_="unique")
        batch.drop_column("body_hash")
        batch.drop_column("idem_key")
