"""SQLModel tables. Importing this package registers every table on `SQLModel.metadata`."""

from models.enums import (
    Channel,
    Direction,
    ReminderKind,
    ReminderStatus,
    Role,
    TaskStatus,
    UpdateSource,
)
from models.outbox import DigestLog, Reminder
from models.plan import Attachment, Kpi, KpiValue, ProgressUpdate, Task
from models.school import ChatIdentity, Invitation, Member, Membership, School, Unit

__all__ = [
    "Attachment",
    "Channel",
    "ChatIdentity",
    "DigestLog",
    "Direction",
    "Invitation",
    "Kpi",
    "KpiValue",
    "Member",
    "Membership",
    "ProgressUpdate",
    "Reminder",
    "ReminderKind",
    "ReminderStatus",
    "Role",
    "School",
    "Task",
    "TaskStatus",
    "Unit",
    "UpdateSource",
]
