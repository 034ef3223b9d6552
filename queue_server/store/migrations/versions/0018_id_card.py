"""tickets by ID card: tickets.id_hash (the kiosk's HMAC of the ID number, never the number) and id_card_keys

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
    op.create_table(
        "id_card_keys",
        sa.Column("hall", sa.String(length=48), primary_key=True),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("id_card_keys")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("id_hash")
