"""the education office

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30

A person of the education office (Phòng GD&ĐT) in a school's people file: `member.office`, in no
unit; they get the weekly roll-up of their schools, a reminder of kind `rollup`.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = (
    "'before_7d', 'before_1d', 'due_day', 'overdue', 'escalation', 'checkin', 'digest', "
    "'assigned', 'brief', 'kpi_risk', 'reply'"
)


def upgrade() -> None:
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("office", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.alter_column("office", existing_type=sa.Boolean(), server_default=None)
    with op.batch_alter_table("reminder", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_reminder_reminderkind_enum"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_reminder_reminderkind_enum"), sa.text(f"kind IN ({KINDS}, 'rollup')")
        )


def downgrade() -> None:
    op.execute("DELETE FROM reminder WHERE kind = 'rollup'")
    with op.batch_alter_table("reminder", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_reminder_reminderkind_enum"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_reminder_reminderkind_enum"), sa.text(f"kind IN ({KINDS})")
        )
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.drop_column("office")
