from enum import StrEnum

import sqlalchemy as sa


class Role(StrEnum):
    PRINCIPAL = "principal"
    VICE_PRINCIPAL = "vice_principal"
    UNIT_HEAD = "unit_head"
    STAFF = "staff"


ROLE_RANK = {Role.PRINCIPAL: 0, Role.VICE_PRINCIPAL: 1, Role.UNIT_HEAD: 2, Role.STAFF: 3}


class Channel(StrEnum):
    TELEGRAM = "telegram"
    ZALO = "zalo"
    CONSOLE = "console"


class TaskStatus(StrEnum):
    TODO = "todo"
    IN_PROGRESS = "in_progress"
    BLOCKED = "blocked"
    DONE = "done"


class UpdateSource(StrEnum):
    COMMAND = "command"
    REPLY = "reply"
    BUTTON = "button"
    EVIDENCE = "evidence"
    IMPORT = "import"
    SYSTEM = "system"  # e.g. a recurring task moving on to its next occurrence


class Direction(StrEnum):
    AT_MOST = "<="
    AT_LEAST = ">="
    BELOW = "<"
    ABOVE = ">"
    EQUAL = "="
    YES_NO = "yes_no"
    BETWEEN = "between"  # from target to target_max, both included


class ReminderKind(StrEnum):
    BEFORE_7D = "before_7d"
    BEFORE_1D = "before_1d"
    DUE_DAY = "due_day"
    OVERDUE = "overdue"
    ESCALATION = "escalation"
    CHECKIN = "checkin"
    DIGEST = "digest"
    ASSIGNED = "assigned"  # a person was given a task
    BRIEF = "brief"  # a leader's daily brief: what is new since the last one
    KPI_RISK = "kpi_risk"  # a KPI's projection no longer reaches its target
    REPLY = "reply"  # an answer to a person that could not be sent at once: kept, sent later
    ROLLUP = "rollup"  # the education office's weekly roll-up of its schools


class BriefFrequency(StrEnum):
    """How often a leader wants the brief of what is new (/tomtat)."""

    DAILY = "daily"
    WEEKLY = "weekly"
    OFF = "off"


class ReminderStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


class DeliveryFailure(StrEnum):
    """Why a reminder row ended `failed`."""

    NO_CHAT = "no_chat"  # the person has no chat with the bot yet: sent when they join
    UNREACHABLE = "unreachable"  # they blocked the bot: sent when they write again
    REFUSED = "refused"  # the channel refused this message for good (e.g. a bad request)
    EXPIRED = "expired"  # could not be sent before it was stale (an outage outlasted it)


def enum_type(enum: type[StrEnum], name: str | None = None) -> sa.Enum:
    """Store an enum as its value in a VARCHAR with a CHECK, the same on SQLite and PostgreSQL.

    The CHECK is named after `name`; give one when a table has two columns of the same enum.
    """
    return sa.Enum(
        enum,
        native_enum=False,
        create_constraint=True,
        length=max(len(member.value) for member in enum),
        values_callable=lambda members: [member.value for member in members],
        name=name or f"{enum.__name__.lower()}_enum",
    )
