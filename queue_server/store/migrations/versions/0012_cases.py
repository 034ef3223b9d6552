"""the case ledger (办件): cases, each with its public code, state, due date, handler and details

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 02:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("hall", sa.String(length=48), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("number", sa.String(length=8), nullable=True),
        sa.Column("item_id", sa.String(length=48), nullable=True),
        sa.Column("category", sa.String(length=48), nullable=False),
        sa.Column("case_class", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("opened_day", sa.Date(), nullable=False),
        sa.Column("opened_at", sa.BigInteger(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("window", sa.Integer(), nullable=True),
        sa.Column("clerk", sa.String(length=48), nullable=True),
        sa.Column("department", sa.String(length=200), nullable=True),
        sa.Column("accepted_window", sa.Integer(), nullable=True),
        sa.Column("accepted_by", sa.String(length=48), nullable=True),
        sa.Column("contact_phone", sa.String(length=32), nullable=True),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("last_ticket_id", sa.Integer(), nullable=True),
        sa.Column("result", sa.String(length=16), nullable=True),
        sa.Column("closed_day", sa.Date(), nullable=True),
        sa.Column("closed_at", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("hall", "code", name="uq_case_code"),
    )
    op.create_index("ix_cases_hall_state_due", "cases", ["hall", "state", "due_on"])
    op.create_index("ix_cases_ticket", "cases", ["hall", "last_ticket_id"])
    where = sa.text("type >= 'case.' AND type < 'case/'")  # store/tables.py CASE_EVENT_RANGE
    op.create_index("ix_events_cases", "events", ["hall", "at"], sqlite_where=where, postgresql_where=where)


def downgrade() -> None:
    op.drop_index("ix_events_cases", table_name="events")
    op.drop_index("ix_cases_ticket", table_name="cases")
    op.drop_index("ix_cases_hall_state_due", table_name="cases")
    op.drop_table("cases")
