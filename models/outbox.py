"""What the bot owes people: reminder rows (the outbox), snoozes, digests, its own account."""

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import utcnow
from models.enums import Channel, DeliveryFailure, ReminderKind, ReminderStatus, enum_type


class Reminder(SQLModel, table=True):
    """One message the bot owes someone: a task reminder, a leader's brief, a KPI warning, a
    weekly check-in, the digest (escalations are older rows' kind), or an answer that could not
    be sent at once (`payload` holds it, `channel` and `chat_id` say where). `dedupe_key` is
    unique: (task, recipient, kind, occurrence) for task reminders, (recipient, day) for briefs,
    (KPI, value, recipient) for KPI warnings, (unit, recipient, week) for check-ins, (school,
    recipient, week) for digests, (person, week) for the education office's roll-up.

    A sweep claims a row (`sending`, `claimed_by`, `claim_version` + 1) and records a send only
    under that same claim: `claimed_by` and `claim_version` are the fencing token. `attempts`
    counts failed sends, not claims; retries go on until `stale_at`."""

    __table_args__ = (sa.Index("ix_reminder_status_due", "status", "due_at"),)

    id: int = Field(default=None, primary_key=True)  # None until flushed: see models.base
    school_id: int | None = Field(
        default=None, foreign_key="school.id", ondelete="CASCADE", index=True
    )  # none: a kept answer to someone the bot does not know yet
    dedupe_key: str = Field(max_length=120, unique=True)
    task_id: int | None = Field(default=None, foreign_key="task.id", ondelete="CASCADE", index=True)
    unit_id: int | None = Field(default=None, foreign_key="unit.id", ondelete="CASCADE")
    recipient_id: int | None = Field(
        default=None, foreign_key="member.id", ondelete="CASCADE", index=True
    )
    unit_chat_id: int | None = Field(default=None, foreign_key="unit_chat.id", ondelete="CASCADE")
    kind: ReminderKind = Field(sa_type=enum_type(ReminderKind))
    occurrence: date
    due_at: datetime
    status: ReminderStatus = Field(
        default=ReminderStatus.PENDING, sa_type=enum_type(ReminderStatus)
    )
    attempts: int = 0
    claim_version: int = 0
    stale_at: datetime | None = None
    failure: DeliveryFailure | None = Field(default=None, sa_type=enum_type(DeliveryFailure))
    payload: str | None = Field(default=None, sa_type=sa.Text)
    claimed_at: datetime | None = None
    claimed_by: str | None = Field(default=None, max_length=100)
    sent_at: datetime | None = None
    channel: Channel | None = Field(default=None, sa_type=enum_type(Channel))
    chat_id: str | None = Field(default=None, max_length=64)
    message_id: str | None = Field(default=None, max_length=64)
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow)


class DigestLog(SQLModel, table=True):
    """The period each weekly digest covered: the next one starts where this one ended, so an
    update that arrives after a digest is counted in the next."""

    __tablename__ = "digest_log"
    __table_args__ = (sa.UniqueConstraint("school_id", "week"),)

    id: int = Field(default=None, primary_key=True)  # None until flushed: see models.base
    school_id: int = Field(foreign_key="school.id", ondelete="CASCADE")
    week: str = Field(max_length=10)
    period_start: datetime
    period_end: datetime
    created_at: datetime = Field(default_factory=utcnow)


class Snooze(SQLModel, table=True):
    """ "Nhắc lại sau": no reminder about this task for this member before `until`."""

    __table_args__ = (sa.UniqueConstraint("member_id", "task_id"),)

    id: int = Field(default=None, primary_key=True)  # None until flushed: see models.base
    member_id: int = Field(foreign_key="member.id", ondelete="CASCADE")
    task_id: int = Field(foreign_key="task.id", ondelete="CASCADE", index=True)
    until: datetime
    created_at: datetime = Field(default_factory=utcnow)


class BotAccount(SQLModel, table=True):
    """The bot's own account per channel, learned at start-up (e.g. Telegram's username)."""

    __tablename__ = "bot_account"

    channel: Channel = Field(sa_type=enum_type(Channel), primary_key=True)
    username: str = Field(max_length=64)
    updated_at: datetime = Field(default_factory=utcnow)


class Instance(SQLModel, table=True):
    """A running `dondoc run` process: what it does (`role`) and its heartbeat. Rows claimed by
    an instance whose heartbeat stopped are claimed again at once, without waiting for the
    lease."""

    name: str = Field(primary_key=True, max_length=100)
    role: str = Field(max_length=10)
    started_at: datetime = Field(default_factory=utcnow)
    heartbeat_at: datetime = Field(default_factory=utcnow)
    stopped_at: datetime | None = None
