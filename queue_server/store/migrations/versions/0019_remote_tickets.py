"""远程取号: an appointment row of kind "remote" is a place in today's queue taken from the phone

`kind` is "slot" (a booked slot, 办事预约) or "remote" (远程取号: its slot runs from the moment it was taken to
the time to arrive). `requester` is the SHA-256 of the phone page's random device id, so the no-show limit can
count one phone's missed remote tickets without knowing who it is.
`estimate_s`: the wait estimated when it was taken (its turn expected then).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 12:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | Sequence[str] | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("appointments") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=16), nullable=False, server_default="slot"))
        batch.add_column(sa.Column("requester", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("estimate_s", sa.Integer(), nullable=True))
    op.create_index("ix_appointments_requester", "appointments", ["hall", "requester", "day"])
    op.create_index("ix_appointments_hall_day", "appointments", ["hall", "day", "kind", "category"])


def downgrade() -> None:
    op.drop_index("ix_appointments_hall_day", table_name="appointments")
    op.drop_index("ix_appointments_requester", table_name="appointments")
    with op.batch_alter_table("appointments") as batch:
        batch.drop_column("estimate_s")
        batch.drop_column("requester")
        batch.drop_column("kind")
