"""SQLModel tables. Importing this package registers every table on `SQLModel.metadata`."""

from models.conversation import BotMessage, PendingReport
from models.enums import (
    BriefFrequency,
    Channel,
    DeliveryFailure,
    Direction,
    ReminderKind,
    ReminderStatus,
    Role,
    TaskStatus,
    UpdateSource,
)
from models.outbox import BotAccount, DigestLog, Instance, Reminder, Snooze
from models.plan import Attachment, Kpi, KpiValue, ProgressUpdate, Task, TaskAssignee, TaskSupport
from models.school import (
    ChatIdentity,
    Holiday,
    Invitation,
    JoinAttempt,
    Member,
    Membership,
    Oversight,
    School,
    Unit,
    UnitChat,
)

__all__ = [
    "Attachment",
    "BotAccount",
    "BotMessage",
    "BriefFrequency",
    "Channel",
    "ChatIdentity",
    "DeliveryFailure",
    "DigestLog",
    "Direction",
    "Holiday",
    "Instance",
    "Invitation",
    "JoinAttempt",
    "Kpi",
    "KpiValue",
    "Member",
    "Membership",
    "Oversight",
    "PendingReport",
    "ProgressUpdate",
    "Reminder",
    "ReminderKind",
    "ReminderStatus",
    "Role",
    "School",
    "Snooze",
    "Task",
    "TaskAssignee",
    "TaskStatus",
    "TaskSupport",
    "Unit",
    "UnitChat",
    "UpdateSource",
]
