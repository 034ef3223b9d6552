"""tickets by ID card: tickets.id_hash (the kiosk's HMAC of the ID number, never the number)
(the hall's key is a file outside the database, docs/id-card.md)

Revision ID: 0018
Revises: 0020
Create Date: 2026-12-07 11:50:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | Sequence[str] | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("id_hash", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("id_hash")
