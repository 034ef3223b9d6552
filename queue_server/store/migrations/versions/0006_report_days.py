"""report_days: each closed service day's report figures, folded once from its events

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 21:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """A cache of the event log (see queue_server/reports/days.py): dropping its rows loses nothing."""
    op.create_table(
        "report_days",
        sa.Column("hall", sa.String(length=48), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("first_ticket", sa.Integer(), nullable=True),
        sa.Column("last_ticket", sa.Integer(), nullable=True),
        sa.Column("figures", sa.Text(), nullable=False),
        sa.Column("tickets", sa.Text(), nullable=False),
        sa.Column("others", sa.Text(), nullable=False),
        sa.Column("filled_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("hall", "day"),
    )


def downgrade() -> None:
    op.drop_table("report_days")
