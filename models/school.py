"""Who is who: schools (tenants), their units, members and how members reach the bot."""

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import utcnow
from models.enums import BriefFrequency, Channel, Role, enum_type


class School(SQLModel, table=True):
    id: int = Field(default=None, primary_key=True)  # None until flushed: see models.base
    code: str = Field(max_length=40, unique=True)
    name: str = Field(max_length=200)
    timezone: str = Field(default="Asia/Ho_Chi_Minh", max_length=64)
    plan_title: str | None = Field(default=None, max_length=500)
    settings: dict = Field(default_factory=dict, sa_type=sa.JSON)  # reminders, calendar, digest
    followed_up_at: datetime | None = None  # the reminder planner's latest run for the school
    created_at: datetime = Field(default_factory=utcnow)


class Holiday(SQLModel, table=True):
    """A school holiday (Tết, public holidays): not a working day, so no reminders."""

    __table_args__ = (sa.UniqueConstraint("school_id", "day"),)

    id: int = Field(default=None, primary_key=True)  # None until flushed: see models.base
    school_id: int = Field(foreign_key="school.id", ondelete="CASCADE")
    day: date
    name: str = Field(max_length=200)


class Unit(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("school_id", "code"),)

    id: int = Field(default=None, primary_key=True)  # None until flushed: see models.base
    school_id: int = Field(foreign_key="school.id", ondelete="CASCADE", index=True)
    code: str = Field(max_length=40)
    name: str = Field(max_length=200)
    description: str | None = Field(default=None, sa_type=sa.Text)
    archived_at: datetime | None = None  # left out of a re-imported plan (--prune); kept as history


class Member(SQLModel, table=True):
    __table_args__ = (sa.Index("ix_member_school_phone", "school_id", "phone"),)

    id: int = Field(default=None, primary_key=True)  # None until flushed: see models.base
    school_id: int = Field(foreign_key="school.id", ondelete="CASCADE", index=True)
    name: str = Field(max_length=200)
    phone: str | None = Field(default=None, max_length=20)
    salutation: str | None = Field(default=None, max_length=10)  # "thầy" or "cô" (xưng hô)
    locale: str = Field(default="vi", max_length=5)
    # where reminders and the digest go when several chat accounts are linked (/kenh); None:
    # the one linked last
    preferred_channel: Channel | None = Field(default=None, sa_type=enum_type(Channel))
    active: bool = True
    # of the education office (Phòng GD&ĐT), not the school's staff: in no unit, with no task,
    # reminder, check-in or brief; gets the roll-up of the schools listing them (services/rollup)
    office: bool = False
    brief: BriefFrequency = Field(
        default=BriefFrequency.DAILY, sa_type=enum_type(BriefFrequency)
    )  # a leader's brief of what is new
    created_at: datetime = Field(default_factory=utcnow)


class Membership(SQLModel, table=True):
    """A member's place in one unit; a member may belong to several units with different roles."""

    member_id: int = Field(foreign_key="member.id", ondelete="CASCADE", primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", ondelete="CASCADE", primary_key=True, index=True)
    role: Role = Field(default=Role.STAFF, sa_type=enum_type(Role))


class Oversight(SQLModel, table=True):
    """A unit a vice principal oversees: their brief covers it. A leader with none oversees all."""

    member_id: int = Field(foreign_key="member.id", ondelete="CASCADE", primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", ondelete="CASCADE", primary_key=True)


class ChatIdentity(SQLModel, table=True):
    """A chat account linked to a member. One account may be linked to one member per school
    (the same person working in several schools); `selected_at` says which school it acts in:
    the latest chosen (by joining or /truong), else the latest linked."""

    __table_args__ = (sa.UniqueConstraint("channel", "external_user_id", "member_id"),)

    id: int = Field(default=None, primary_key=True)  # None until flushed: see models.base
    member_id: int = Field(foreign_key="member.id", ondelete="CASCADE", index=True)
    channel: Channel = Field(sa_type=enum_type(Channel))
    external_user_id: str = Field(max_length=64)
    chat_id: str = Field(max_length=64)
    username: str | None = Field(default=None, max_length=64)
    linked_at: datetime = Field(default_factory=utcnow)
    selected_at: datetime | None = None
    unreachable_at: datetime | None = None


class Invitation(SQLModel, table=True):
    """A single-use joining code; only its SHA-256 is stored."""

    id: int = Field(default=None, primary_key=True)  # None until flushed: see models.base
    member_id: int = Field(foreign_key="member.id", ondelete="CASCADE", index=True)
    code_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None
    revoked_at: datetime | None = None


class UnitChat(SQLModel, table=True):
    """A group chat linked to a unit: commands work there, replies are attributed to the sender."""

    __tablename__ = "unit_chat"
    __table_args__ = (sa.UniqueConstraint("channel", "chat_id"),)

    id: int = Field(default=None, primary_key=True)  # None until flushed: see models.base
    unit_id: int = Field(foreign_key="unit.id", ondelete="CASCADE", index=True)
    channel: Channel = Field(sa_type=enum_type(Channel))
    chat_id: str = Field(max_length=64)
    title: str | None = Field(default=None, max_length=200)
    linked_by_id: int | None = Field(default=None, foreign_key="member.id", ondelete="SET NULL")
    linked_at: datetime = Field(default_factory=utcnow)


class JoinAttempt(SQLModel, table=True):
    """Every joining code tried, so repeated wrong codes from one account can be slowed down."""

    __tablename__ = "join_attempt"
    __table_args__ = (
        sa.Index("ix_join_attempt_account", "channel", "external_user_id", "attempted_at"),
    )

    id: int = Field(default=None, primary_key=True)  # None until flushed: see models.base
    channel: Channel = Field(sa_type=enum_type(Channel))
    external_user_id: str = Field(max_length=64)
    attempted_at: datetime = Field(default_factory=utcnow)
    succeeded: bool = False
