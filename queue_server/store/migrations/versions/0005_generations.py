"""generations: counters other processes watch (accounts or devices changed: drop caches; configuration reloaded)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 21:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    table = op.create_table(
        "generations",
        sa.Column("name", sa.String(length=32), primary_key=True),
        sa.Column("value", sa.BigInteger(), nullable=False),
    )
    op.bulk_insert(table, [{"name": "accounts", "value": 0}, {"name": "config", "value": 0}])


def downgrade() -> None:
    op.drop_table("generations")
