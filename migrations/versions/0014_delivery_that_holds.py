"""delivery that holds

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-27

Reminders outlive outages and stay fenced across instances: `claim_version` (with `claimed_by`,
the fencing token of a claim), `stale_at` (retries go on until then, not for a count of
attempts), `failure` (why a row failed: no chat yet, unreachable, refused, expired), `payload`
(an answer to a person kept for later when it could not be sent: kind `reply`; it may belong to
no school yet, so `school_id` may be empty). `instance` holds each running process's heartbeat.
Rows failed for want of a chat get their cause.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = (
    "'before_7d', 'before_1d', 'due_day', 'overdue', 'escalation', 'checkin', 'digest', "
    "'assigned', 'brief', 'kpi_risk'"
)
FAILURE = sa.Enum(
    "no_chat",
    "unreachable",
    "refused",
    "expired",
    name="deliveryfailure_enum",
    native_enum=False,
    create_constraint=True,
)


def upgrade() -> None:
    op.create_table(
        "instance",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("started_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("heartbeat_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("stopped_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_instance")),
    )
    with op.batch_alter_table("reminder", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("claim_version", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("stale_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(sa.Column("failure", FAILURE, nullable=True))
        batch_op.add_column(sa.Column("payload", sa.Text(), nullable=True))
        batch_op.alter_column("school_id", existing_type=sa.Integer(), nullable=True)
        batch_op.drop_constraint(op.f("ck_reminder_reminderkind_enum"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_reminder_reminderkind_enum"), sa.text(f"kind IN ({KINDS}, 'reply')")
        )
    with op.batch_alter_table("reminder", schema=None) as batch_op:
        batch_op.alter_column("claim_version", existing_type=sa.Integer(), server_default=None)
    op.execute(
        "UPDATE reminder SET failure = 'no_chat' "
        "WHERE status = 'failed' AND last_error = 'no reachable chat'"
    )


def downgrade() -> None:
    op.execute("DELETE FROM reminder WHERE kind = 'reply'")
    with op.batch_alter_table("reminder", schema=None) as batch_op:
        batch_op.alter_column("school_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_constraint(op.f("ck_reminder_reminderkind_enum"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_reminder_reminderkind_enum"), sa.text(f"kind IN ({KINDS})")
        )
        batch_op.drop_column("payload")
        batch_op.drop_column("failure")
        batch_op.drop_column("stale_at")
        batch_op.drop_column("claim_version")
    op.drop_table("instance")
