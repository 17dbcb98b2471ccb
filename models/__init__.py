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
from models.outbox import BotAccount, BotMessage, DigestLog, Reminder, Snooze
from models.plan import Attachment, Kpi, KpiValue, ProgressUpdate, Task
from models.school import (
    ChatIdentity,
    Holiday,
    Invitation,
    JoinAttempt,
    Member,
    Membership,
    School,
    Unit,
    UnitChat,
)

__all__ = [
    "Attachment",
    "BotAccount",
    "BotMessage",
    "Channel",
    "ChatIdentity",
    "DigestLog",
    "Direction",
    "Holiday",
    "Invitation",
    "JoinAttempt",
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
    "Snooze",
    "Task",
    "TaskStatus",
    "Unit",
    "UnitChat",
    "UpdateSource",
]
