"""shared tasks

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05

A task the plan gives to several units ("các Tổ chuyên môn … hoàn thành kế hoạch của Tổ") is one
row per owning unit, each with its own progress, under the same code: the code is unique per
school and unit. `task_support` lists the units that coordinate (phối hợp) on a task.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_constraint("uq_task_school_id_code", type_="unique")
        batch_op.create_unique_constraint(
            "uq_task_school_id_code_unit_id", ["school_id", "code", "unit_id"]
        )
    op.create_table(
        "task_support",
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"], ["task.id"], name=op.f("fk_task_support_task_id_task"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["unit.id"], name=op.f("fk_task_support_unit_id_unit"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("task_id", "unit_id", name=op.f("pk_task_support")),
    )
    op.create_index(op.f("ix_task_support_unit_id"), "task_support", ["unit_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_task_support_unit_id"), table_name="task_support")
    op.drop_table("task_support")
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_constraint("uq_task_school_id_code_unit_id", type_="unique")
        batch_op.create_unique_constraint("uq_task_school_id_code", ["school_id", "code"])
