"""complaints (投诉举报): filed on the public page /q/{hall}, answered by the hall's managers

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 02:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "complaints",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("hall", sa.String(length=48), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False, unique=True),
        sa.Column("category", sa.String(length=24), nullable=False),
        sa.Column("window", sa.Integer(), nullable=True),
        sa.Column("case_code", sa.String(length=24), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("contact", sa.String(length=32), nullable=True),
        sa.Column("contact_masked", sa.String(length=32), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("filed_at", sa.BigInteger(), nullable=False),
        sa.Column("handling_at", sa.BigInteger(), nullable=True),
        sa.Column("handled_by", sa.String(length=48), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_at", sa.BigInteger(), nullable=True),
        sa.Column("answered_by", sa.String(length=48), nullable=True),
        sa.Column("answered_on", sa.Date(), nullable=True),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_complaints_hall_day", "complaints", ["hall", "day"])
    op.create_index("ix_complaints_hall_state", "complaints", ["hall", "state", "due_on"])
    # Only the complaint events (the query names the same list): the figures read them without the rest of the log.
    where = sa.text("type IN ('complaint.filed', 'complaint.handling', 'complaint.answered')")
    op.create_index("ix_events_complaints", "events", ["hall", "at"], sqlite_where=where, postgresql_where=where)


def downgrade() -> None:
    op.drop_index("ix_events_complaints", table_name="events")
    op.drop_index("ix_complaints_hall_state", table_name="complaints")
    op.drop_index("ix_complaints_hall_day", table_name="complaints")
    op.drop_table("complaints")
