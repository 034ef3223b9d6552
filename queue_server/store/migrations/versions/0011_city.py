"""city rollup: users.city (a city manager's city), link_county_tokens (a county's relay token at its city),
report_months (each closed month's totals per hall: a city's year reads twelve rows a hall), report_days.totals
(each stored day's totals too: a report by hall reads them, not the day's cells)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 01:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("city", sa.String(length=48), nullable=True))
    op.create_table(
        "link_county_tokens",
        sa.Column("county", sa.String(length=48), primary_key=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False, unique=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
    )

    op.create_table(
        "report_months",
        sa.Column("hall", sa.String(length=48), primary_key=True),
        sa.Column("month", sa.Date(), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("first_ticket", sa.Integer(), nullable=True),
        sa.Column("last_ticket", sa.Integer(), nullable=True),
        sa.Column("totals", sa.Text(), nullable=False),
        sa.Column("tickets", sa.Text(), nullable=False),
        sa.Column("others", sa.Text(), nullable=False),
        sa.Column("filled_at", sa.BigInteger(), nullable=False),
    )

    with op.batch_alter_table("report_days") as batch:
        batch.add_column(sa.Column("totals", sa.Text(), nullable=True))  # NULL in rows stored before: from figures


def downgrade() -> None:
    with op.batch_alter_table("report_days") as batch:
        batch.drop_column("totals")
    op.drop_table("report_months")
    op.drop_table("link_county_tokens")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("city")
