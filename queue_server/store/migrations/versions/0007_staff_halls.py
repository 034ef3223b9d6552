"""staff accounts belong to halls: staff_halls(user_id, hall) and users.all_halls

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 10:00:00

Existing accounts keep what they could do before: an administrator may act in every hall
(all_halls); a clerk or manager belongs to every hall the database already has rows for (in a
township's one-hall database, that one hall). When the database has no hall yet, nothing tells
which hall they belong to, so they too get all_halls; an administrator can narrow any of them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every table that names a hall: a hall the database has served appears in at least one of them.
HALLS = (
    "SELECT hall FROM hall_state UNION SELECT hall FROM windows UNION SELECT hall FROM tickets"
    " UNION SELECT hall FROM events UNION SELECT hall FROM devices"
)


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("all_halls", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "staff_halls",
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("hall", sa.String(length=48), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "hall"),
    )
    conn = op.get_bind()
    halls = [row[0] for row in conn.execute(sa.text(HALLS))]
    users = sa.table("users", sa.column("id", sa.Integer), sa.column("role", sa.String), sa.column("all_halls"))
    staff_halls = sa.table("staff_halls", sa.column("user_id", sa.Integer), sa.column("hall", sa.String))
    conn.execute(sa.update(users).where(users.c.role == "admin").values(all_halls=True))
    scoped = [row[0] for row in conn.execute(sa.select(users.c.id).where(users.c.role != "admin"))]
    if not halls:
        conn.execute(sa.update(users).values(all_halls=True))
    elif scoped:
        conn.execute(sa.insert(staff_halls), [{"user_id": u, "hall": h} for u in scoped for h in halls])


def downgrade() -> None:
    op.drop_table("staff_halls")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("all_halls")
