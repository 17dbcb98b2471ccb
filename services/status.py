"""What `dondoc status` and /healthz report: whether the database answers and its schema is the
newest, which `dondoc run` processes are alive, how far behind the scheduler is, what the outbox
holds, and which reminders could not be delivered lately and to whom."""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import ColumnElement, func
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from messages import t
from models import DeliveryFailure, Reminder, ReminderStatus, School
from models.db import MIGRATIONS_DIR, session_scope
from services import instances, outbox

UNDELIVERED_DAYS = 7


@cache
def _revisions() -> tuple[str, ...]:
    """Every revision this code knows, the newest first."""
    scripts = ScriptDirectory(str(MIGRATIONS_DIR)).walk_revisions()
    return tuple(script.revision for script in scripts)


def head_revision() -> str:
    return _revisions()[0]


def schema_advice(url: str, revision: str | None) -> str | None:
    """What to do when the schema is not the newest: None when it is."""
    head = head_revision()
    if revision == head:
        return None
    if revision is None:
        return t("db.empty", url=url)
    key = "db.behind" if revision in _revisions() else "db.ahead"
    return t(key, url=url, revision=revision, head=head)


def schema_revision(engine: Engine) -> str | None:
    """The database's schema revision; None for a database without dondoc's tables. Raises
    SQLAlchemy's OperationalError when the database cannot be reached."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def seconds(delta: timedelta | None) -> float | None:
    return None if delta is None else round(delta.total_seconds(), 1)


def _age(now: datetime, moment: datetime | None) -> timedelta | None:
    return None if moment is None else max(timedelta(0), now - moment)


@dataclass(frozen=True)
class Running:
    name: str
    role: str
    started_at: datetime
    heartbeat_age: timedelta


@dataclass(frozen=True)
class Planned:
    """The reminder planner's latest run for a school (None: never)."""

    school: str
    age: timedelta | None


@dataclass(frozen=True)
class Waiting:
    due: int  # pending and due now
    later: int  # pending, due later
    sending: int  # claimed by a sweep
    oldest_due: timedelta | None  # how long the oldest due, unsent row has been due

    def as_json(self) -> dict[str, object]:
        return {
            "due": self.due,
            "later": self.later,
            "sending": self.sending,
            "oldest_due_seconds": seconds(self.oldest_due),
        }


@dataclass(frozen=True)
class Undelivered:
    """Rows that failed for one cause; for no_chat and unreachable, who they were for, per school:
    (name, rows)."""

    cause: DeliveryFailure
    count: int
    who: dict[str, list[tuple[str, int]]] = field(default_factory=dict)


@dataclass(frozen=True)
class Status:
    url: str  # password hidden
    dialect: str
    error: str | None = None  # why the database could not be reached
    revision: str | None = None
    head: str = field(default_factory=head_revision)
    instances: list[Running] = field(default_factory=list)
    planner: list[Planned] = field(default_factory=list)
    waiting: Waiting | None = None
    undelivered: list[Undelivered] = field(default_factory=list)

    @property
    def reachable(self) -> bool:
        return self.error is None

    @property
    def current(self) -> bool:
        return self.revision == self.head

    @property
    def healthy(self) -> bool:
        return self.reachable and self.current

    def as_json(self) -> dict[str, object]:
        return {
            "healthy": self.healthy,
            "database": {
                "url": self.url,
                "dialect": self.dialect,
                "reachable": self.reachable,
                "error": self.error,
                "revision": self.revision,
                "head": self.head,
            },
            "instances": [
                {
                    "name": item.name,
                    "role": item.role,
                    "started_at": item.started_at.isoformat(),
                    "heartbeat_age_seconds": seconds(item.heartbeat_age),
                }
                for item in self.instances
            ],
            "planner": [
                {"school": item.school, "last_run_age_seconds": seconds(item.age)}
                for item in self.planner
            ],
            "outbox": self.waiting.as_json() if self.waiting else None,
            f"undelivered_{UNDELIVERED_DAYS}d": {
                item.cause.value: {
                    "count": item.count,
                    "who": {
                        school: [{"name": name, "count": rows} for name, rows in people]
                        for school, people in item.who.items()
                    },
                }
                for item in self.undelivered
            },
        }


def read_status(engine: Engine, now: datetime, dead_after: timedelta) -> Status:
    url = engine.url.render_as_string(hide_password=True)
    base = Status(url=url, dialect=engine.dialect.name)
    try:
        revision = schema_revision(engine)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        return Status(url=url, dialect=base.dialect, error=reason)
    if revision != base.head:  # the tables may not be what this code reads
        return Status(url=url, dialect=base.dialect, revision=revision)
    with session_scope(engine) as session:
        running = [
            Running(item.name, item.role, item.started_at, now - item.heartbeat_at)
            for item in instances.alive(session, now, dead_after)
        ]
        return Status(
            url=url,
            dialect=base.dialect,
            revision=revision,
            instances=running,
            planner=planner_runs(session, now),
            waiting=waiting(session, now),
            undelivered=undelivered(session, now),
        )


def planner_runs(session: Session, now: datetime) -> list[Planned]:
    rows = session.exec(select(School.name, School.followed_up_at).order_by(col(School.name)))
    return [Planned(name, _age(now, moment)) for name, moment in rows]


def waiting(session: Session, now: datetime) -> Waiting:
    pending = col(Reminder.status) == ReminderStatus.PENDING
    due = col(Reminder.due_at) <= now

    def count(*where: ColumnElement[bool]) -> int:
        return session.exec(select(func.count()).select_from(Reminder).where(*where)).one()

    oldest = session.exec(
        select(func.min(Reminder.due_at)).where(
            col(Reminder.status).in_([ReminderStatus.PENDING, ReminderStatus.SENDING]), due
        )
    ).one()
    return Waiting(
        due=count(pending, due),
        later=count(pending, ~due),
        sending=count(col(Reminder.status) == ReminderStatus.SENDING),
        oldest_due=_age(now, oldest),
    )


def undelivered(session: Session, now: datetime, days: int = UNDELIVERED_DAYS) -> list[Undelivered]:
    """Rows that ended failed in the last `days` days, by cause."""
    rows = outbox.failures(session, now - timedelta(days=days))
    counts = Counter(row.cause for row in rows)
    people: dict[DeliveryFailure, dict[str, Counter[str]]]
    people = defaultdict(lambda: defaultdict(Counter))
    for row in rows:
        if row.cause in (DeliveryFailure.NO_CHAT, DeliveryFailure.UNREACHABLE):
            who = row.member or (t("status.group", unit=row.unit) if row.unit else "?")
            people[row.cause][row.school or "?"][who] += 1
    return [
        Undelivered(
            cause,
            counts[cause],
            {
                school: sorted(names.items(), key=lambda item: (-item[1], item[0]))
                for school, names in sorted(people[cause].items())
            },
        )
        for cause in DeliveryFailure
        if counts[cause]
    ]
