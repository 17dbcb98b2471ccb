"""briefs and kpi warnings

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27

Leaders get one brief of what is new instead of an escalation per task: how often
(member.brief) and which units a vice principal oversees (oversight); the planner's latest run per
school (school.followed_up_at), so "missed while paused" is said only after real downtime; a KPI's
target in the plan's own words (kpi.target_text); the occurrence a recurring task's update was
about (progress_update.occurrence), so a past week can be replayed. Pending escalations are
cancelled: the brief covers them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = (
    "'before_7d', 'before_1d', 'due_day', 'overdue', 'escalation', 'checkin', 'digest', 'assigned'"
)
BRIEF = sa.Enum(
    "daily",
    "weekly",
    "off",
    name="brieffrequency_enum",
    native_enum=False,
    create_constraint=True,
    length=6,
)


def upgrade() -> None:
    op.create_table(
        "oversight",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_oversight_member_id_member"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["unit.id"], name=op.f("fk_oversight_unit_id_unit"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("member_id", "unit_id", name=op.f("pk_oversight")),
    )
    with op.batch_alter_table("kpi", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("target_text", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True)
        )

    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.add_column(sa.Column("brief", BRIEF, nullable=False, server_default="daily"))
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.alter_column("brief", existing_type=BRIEF, server_default=None)

    with op.batch_alter_table("progress_update", schema=None) as batch_op:
        batch_op.add_column(sa.Column("occurrence", sa.Date(), nullable=True))

    with op.batch_alter_table("school", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("followed_up_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )

    with op.batch_alter_table("reminder", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_reminder_reminderkind_enum"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_reminder_reminderkind_enum"),
            sa.text(f"kind IN ({KINDS}, 'brief', 'kpi_risk')"),
        )
    op.execute(
        "UPDATE reminder SET status = 'cancelled', last_error = 'replaced by the brief' "
        "WHERE kind = 'escalation' AND status IN ('pending', 'sending')"
    )


def downgrade() -> None:
    op.execute("DELETE FROM reminder WHERE kind IN ('brief', 'kpi_risk')")
    with op.batch_alter_table("reminder", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_reminder_reminderkind_enum"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_reminder_reminderkind_enum"), sa.text(f"kind IN ({KINDS})")
        )

    with op.batch_alter_table("school", schema=None) as batch_op:
        batch_op.drop_column("followed_up_at")

    with op.batch_alter_table("progress_update", schema=None) as batch_op:
        batch_op.drop_column("occurrence")

    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.drop_column("brief")

    with op.batch_alter_table("kpi", schema=None) as batch_op:
        batch_op.drop_column("target_text")

    op.drop_table("oversight")
