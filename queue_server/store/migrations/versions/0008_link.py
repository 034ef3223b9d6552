"""link up: link_state (a township's acknowledged seq), link_tokens and link_peers (a county's townships)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08 10:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "link_state",
        sa.Column("hall", sa.String(length=48), nullable=False),
        sa.Column("acked_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_contact", sa.BigInteger(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("error_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("hall"),
    )
    op.create_table(
        "link_tokens",
        sa.Column("hall", sa.String(length=48), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("hall"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_table(
        "link_peers",
        sa.Column("hall", sa.String(length=48), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_contact", sa.BigInteger(), nullable=False),
        sa.Column("waiting", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("last_refusal", sa.Text(), nullable=True),
        sa.Column("refused_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("hall"),
    )


def downgrade() -> None:
    op.drop_table("link_peers")
    op.drop_table("link_tokens")
    op.drop_table("link_state")
