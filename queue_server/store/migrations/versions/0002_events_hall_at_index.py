"""index events by hall and time, for reports and the audit search

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 02:00:00

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """A month's report reads the events of a time range; without this it scans the whole log."""
    op.create_index("ix_events_hall_at", "events", ["hall", "at"])


def downgrade() -> None:
    op.drop_index("ix_events_hall_at", table_name="events")
