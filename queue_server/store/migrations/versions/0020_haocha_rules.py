"""好差评 to the national rules: the case code, callbacks, the re-rating, the review, default ratings; staff numbers

`ratings` gains the case code of the visit (`case_code`), where the rating came from (`source`: citizen, or
`default` for a 默认好评 given by the system), the callbacks after the rectification (`callbacks`, JSON, with the
citizen's `rerating` of the fix), and the review of a 差评 (申诉复核: `review_state`, `review` JSON) whose upheld
outcome takes it out of the figures (`excluded`). The stored reason codes become the national indicators
(docs/haocha.md): attitude → attitude, slow and wait → efficiency, notice and rules → level, environment and
other → overall. `users.staff_no` is the clerk's staff number (工号) the window's evaluator pad shows.

Revision ID: 0020
Revises: 0015
Create Date: 2026-12-07 11:10:00

"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The reason codes before 0020 → the national indicators (services/ratings.py INDICATORS).
LEGACY_REASONS = {
    "attitude": "attitude",
    "slow": "efficiency",
    "wait": "efficiency",
    "notice": "level",
    "rules": "level",
    "environment": "overall",
    "other": "overall",
}
#: Back again on downgrade (the first old code of each indicator).
NEW_TO_OLD = {"attitude": "attitude", "efficiency": "slow", "level": "rules", "overall": "other"}

_ratings = sa.table("ratings", sa.column("id", sa.Integer), sa.column("reasons", sa.Text))


def _map(mapping: dict[str, str]) -> None:
    conn = op.get_bind()
    for row in conn.execute(sa.select(_ratings.c.id, _ratings.c.reasons).where(_ratings.c.reasons != "[]")).all():
        mapped: list[str] = []
        for code in json.loads(row.reasons):
            new = mapping.get(code, code)
            if new not in mapped:
                mapped.append(new)
        conn.execute(sa.update(_ratings).where(_ratings.c.id == row.id).values(reasons=json.dumps(mapped)))


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("staff_no", sa.String(length=16), nullable=True))
    with op.batch_alter_table("ratings") as batch:
        batch.add_column(sa.Column("case_code", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("source", sa.String(length=16), nullable=False, server_default="citizen"))
        batch.add_column(sa.Column("callbacks", sa.Text(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("rerating", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("review_state", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("review", sa.Text(), nullable=True))
        batch.add_column(sa.Column("excluded", sa.Boolean(), nullable=False, server_default=sa.false()))
    _map(LEGACY_REASONS)


def downgrade() -> None:
    _map(NEW_TO_OLD)
    with op.batch_alter_table("ratings") as batch:
        for column in ("excluded", "review", "review_state", "rerating", "callbacks", "source", "case_code"):
            batch.drop_column(column)
    with op.batch_alter_table("users") as batch:
        batch.drop_column("staff_no")
