"""channels without buttons

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-27

For Zalo (no buttons, no reply-to, webhooks that may deliver twice): `chat_choice` holds the
numbered choices of the latest message to a chat, `received_message` the ids of messages
already handled, `member.preferred_channel` where a person linked on several channels wants
reminders and the digest (/kenh).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def channel(name: str = "channel_enum") -> sa.Enum:
    return sa.Enum(
        "telegram", "zalo", "console", name=name, native_enum=False, create_constraint=True
    )


def upgrade() -> None:
    op.create_table(
        "chat_choice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", channel(), nullable=False),
        sa.Column("chat_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("label", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("payload", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("offered_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_choice")),
        sa.UniqueConstraint(
            "channel", "chat_id", "number", name=op.f("uq_chat_choice_channel_chat_id_number")
        ),
    )
    op.create_table(
        "received_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", channel(), nullable=False),
        sa.Column("message_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("received_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_received_message")),
        sa.UniqueConstraint(
            "channel", "message_id", name=op.f("uq_received_message_channel_message_id")
        ),
    )
    op.create_index(op.f("ix_received_message_received_at"), "received_message", ["received_at"])
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.add_column(sa.Column("preferred_channel", channel(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.drop_column("preferred_channel")
    op.drop_index(op.f("ix_received_message_received_at"), table_name="received_message")
    op.drop_table("received_message")
    op.drop_table("chat_choice")
