"""deadline text

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27

A deadline the plan gives as a month, a quarter or a year ("tháng 3/2026", "quý II/2026",
"năm 2026") is due on the period's last day (task.deadline) and shown as written
(task.deadline_text); NULL for a deadline given as a date.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("deadline_text", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_column("deadline_text")
