"""The state of a conversation: which tasks the bot's messages were about, and what a person
wrote that is waiting for them to say which task they meant."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import utcnow
from models.enums import Channel, enum_type


class BotMessage(SQLModel, table=True):
    """A message the bot sent about a task, so a reply to it or a button under it finds the task.
    A message about several tasks numbers them: one row per line, `line` counting from 1
    (0 for a message about a single task)."""

    __tablename__ = "bot_message"
    __table_args__ = (
        sa.UniqueConstraint("channel", "chat_id", "message_id", "line"),
        sa.Index("ix_bot_message_chat_sent", "channel", "chat_id", "sent_at"),
    )

    id: int = Field(default=None, primary_key=True)  # None until flushed: see models.base
    channel: Channel = Field(sa_type=enum_type(Channel))
    chat_id: str = Field(max_length=64)
    message_id: str = Field(max_length=64)
    line: int = 0
    task_id: int = Field(foreign_key="task.id", ondelete="CASCADE", index=True)
    expects: str | None = Field(default=None, max_length=20)  # "blocked": the reply is a reason
    sent_at: datetime = Field(default_factory=utcnow)


class PendingReport(SQLModel, table=True):
    """Words a person sent without saying which task they are about: kept while the bot asks
    back, so one tap on a task applies them."""

    __tablename__ = "pending_report"

    id: int = Field(default=None, primary_key=True)  # None until flushed: see models.base
    member_id: int = Field(foreign_key="member.id", ondelete="CASCADE", index=True)
    text: str = Field(sa_type=sa.Text)
    intent: str | None = Field(default=None, max_length=20)  # the command's: done, percent, blocked
    files: list | None = Field(default=None, sa_type=sa.JSON)  # evidence waiting for its task
    created_at: datetime = Field(default_factory=utcnow)
    resolved_at: datetime | None = None


class ChatChoice(SQLModel, table=True):
    """On a channel without buttons, the buttons of the latest message the bot sent to a chat
    become numbered choices: a person answers "2" for the second. Replaced by each message sent
    there, and short-lived."""

    __tablename__ = "chat_choice"
    __table_args__ = (sa.UniqueConstraint("channel", "chat_id", "number"),)

    id: int = Field(default=None, primary_key=True)  # None until flushed: see models.base
    channel: Channel = Field(sa_type=enum_type(Channel))
    chat_id: str = Field(max_length=64)
    number: int
    label: str = Field(max_length=200)
    payload: str = Field(max_length=200)
    offered_at: datetime = Field(default_factory=utcnow)


class ReceivedMessage(SQLModel, table=True):
    """A message a channel delivered, by its id, for channels that may deliver one twice (a
    webhook retried): the second is dropped. Kept for a day."""

    __tablename__ = "received_message"
    __table_args__ = (sa.UniqueConstraint("channel", "message_id"),)

    id: int = Field(default=None, primary_key=True)  # None until flushed: see models.base
    channel: Channel = Field(sa_type=enum_type(Channel))
    message_id: str = Field(max_length=128)
    received_at: datetime = Field(default_factory=utcnow, index=True)
