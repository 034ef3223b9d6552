"""the automatic no-show's clock (tickets.recalled_at) and the phone reminders' requests (notify_requests)

`recalled_at` is the time of a called ticket's last recall: the automatic no-show (queue.no_show_after_s)
counts from it. `notify_requests` holds, for the service day only, the phone number a citizen gave for a
reminder (deleted at day close; never in events).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 03:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("recalled_at", sa.BigInteger(), nullable=True))
    op.create_table(
        "notify_requests",
        sa.Column("ticket_id", sa.Integer(), primary_key=True),
        sa.Column("hall", sa.String(length=48), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("reminded", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("called", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_index("ix_notify_requests_hall", "notify_requests", ["hall", "day"])


def downgrade() -> None:
    op.drop_index("ix_notify_requests_hall", table_name="notify_requests")
    op.drop_table("notify_requests")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("recalled_at")
