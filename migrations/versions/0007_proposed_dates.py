"""proposed dates

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27

A task's deadline or recurrence may be the encoder's proposal rather than the plan's own words
(task.date_proposed): shown as "hạn đề xuất" until the school confirms it with an import.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("date_proposed", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.alter_column("date_proposed", existing_type=sa.Boolean(), server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_column("date_proposed")
