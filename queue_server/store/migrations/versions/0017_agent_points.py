"""village agent points: users.point (an agent's point; NULL for every other account) and cases.point

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 02:30:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("point", sa.String(length=48), nullable=True))
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("point", sa.String(length=48), nullable=True))
    op.create_index("ix_cases_hall_point", "cases", ["hall", "point", "opened_at"])


def downgrade() -> None:
    op.drop_index("ix_cases_hall_point", table_name="cases")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("point")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("point")
