"""The weekly digest for the school's leaders: the plan as it stood at the end of a period, what
happened in the period, and what needs a decision. Numbers only; handlers/reports.py renders
them, services/digest_files.py writes the workbook and the chart from the same numbers.

The period is half-open, [start, end): an update recorded at `end` or later belongs to the next
period. `digest_period` starts a period where the school's last recorded digest ended, so an
update that arrives after a digest is counted in the next one (and in on-demand reports).

Everything is as of `end`: task states are replayed from their history (services/history.py),
KPI values are those recorded before `end`, reports undone later still count. So the digest of
a past week reads as it did then; a late update shows in the week it was recorded.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from models import (
    DeliveryFailure,
    DigestLog,
    Direction,
    Kpi,
    KpiValue,
    Member,
    Membership,
    ProgressUpdate,
    Role,
    School,
    Task,
    TaskAssignee,
    TaskStatus,
    Unit,
)
from models.enums import ROLE_RANK
from services import outbox
from services.brief import SILENT_DAYS
from services.history import TaskState, reported_by, states_at
from services.kpi_forecast import Outlook, forecast
from services.permissions import LEADERS
from services.plan_text import next_due
from services.school_settings import follow_up
from services.weeks import Week, week_of

DUE_SOON_DAYS = 14
SILENT_AFTER = timedelta(days=SILENT_DAYS)  # a unit with open tasks and no report for this long
URGENT = 5  # tasks in the digest's "to follow up" list


@dataclass(frozen=True)
class TaskItem:
    task_id: int
    code: str
    title: str
    unit_id: int
    unit: str
    assignee: str | None  # the names of its assignees, if any
    due: date | None  # None: never due (ongoing, on request)
    proposed: bool  # the due date is a proposal, not the plan's
    status: TaskStatus
    progress: int
    done_at: datetime | None
    last_report: datetime | None
    overdue: bool

    @property
    def due_on(self) -> date:
        """The due date of a task that has one (overdue, urgent ones do)."""
        if self.due is None:
            raise ValueError(f"task {self.code} is never due")
        return self.due


@dataclass(frozen=True)
class Totals:
    tasks: int
    done: int
    progress: float  # average progress of all tasks, in %
    overdue: int
    updates: int  # reports in the period


@dataclass(frozen=True)
class UnitRow:
    unit_id: int
    code: str
    name: str
    heads: tuple[str, ...]  # the names of its active heads
    tasks: int
    done: int
    overdue: int
    last_report: datetime | None  # the unit's latest report before the period's end, ever
    progress: float  # average progress of the unit's tasks, in %


@dataclass(frozen=True)
class Blocker:
    """A task blocked by a report of this period, still blocked at its end."""

    task: TaskItem
    who: str | None
    since: datetime
    note: str | None


@dataclass(frozen=True)
class SilentUnit:
    """A unit with open tasks and no report for two weeks or more: since its last report, or
    since its tasks were given (`last_report` None)."""

    unit: UnitRow
    last_report: datetime | None
    quiet_since: datetime


@dataclass(frozen=True)
class LongOverdue:
    """A unit's tasks overdue by more than the school's escalation threshold."""

    unit: UnitRow
    count: int
    oldest: TaskItem


@dataclass(frozen=True)
class KpiItem:
    kpi_id: int
    key: str
    name: str
    measure: str | None
    direction: Direction
    target: float
    target_max: float | None  # a range's upper bound
    target_year: int
    target_text: str | None
    value: float | None  # the latest value recorded before the period's end
    numerator: int | None
    denominator: int | None
    recorded_at: datetime | None
    projected: float | None  # at the target date
    target_date: date
    outlook: Outlook


@dataclass(frozen=True)
class Unreached:
    """What the bot could not say this period: who has no chat with it yet, who blocked it
    (their reminders wait until they join or write), and how many messages ran out of time in
    an outage or were refused."""

    no_chat: tuple[str, ...]
    blocked: tuple[str, ...]
    expired: int
    refused: int

    def __bool__(self) -> bool:
        return bool(self.no_chat or self.blocked or self.expired or self.refused)


@dataclass(frozen=True)
class Digest:
    school_id: int
    school_name: str
    timezone: str
    week: Week  # the ISO week of the period's last moment
    start: datetime
    end: datetime
    today: date  # the day of the period's last moment, in the school's zone
    totals: Totals
    units: tuple[UnitRow, ...]
    tasks: tuple[TaskItem, ...]  # every task, in plan order
    overdue: tuple[TaskItem, ...]  # oldest due date first
    due_soon: tuple[TaskItem, ...]  # due today or in the next 14 days, nearest first
    urgent: tuple[TaskItem, ...]  # the five to follow up first
    blockers: tuple[Blocker, ...]
    silent_units: tuple[SilentUnit, ...]
    long_overdue: tuple[LongOverdue, ...]
    long_overdue_days: int
    kpis: tuple[KpiItem, ...]
    unreached: Unreached

    @property
    def kpis_at_risk(self) -> tuple[KpiItem, ...]:
        return tuple(item for item in self.kpis if item.outlook == Outlook.AT_RISK)

    @property
    def decisions(self) -> int:
        return (
            len(self.blockers)
            + len(self.kpis_at_risk)
            + len(self.silent_units)
            + len(self.long_overdue)
        )


def last_moment_day(end: datetime, tz: ZoneInfo) -> date:
    """The day of the period's last moment: a period ending at Monday 00:00 is the week before."""
    return (end - timedelta(microseconds=1)).astimezone(tz).date()


def period_reports(
    session: Session, school_id: int, start: datetime, end: datetime
) -> list[tuple[ProgressUpdate, Task, Member | None]]:
    """Reports on the school's tasks in [start, end) that counted at `end`, oldest first, with
    their task and author (None for an update without one)."""
    query = (
        select(ProgressUpdate, Task, Member)
        .join(Task, col(Task.id) == col(ProgressUpdate.task_id))
        .join(Member, col(Member.id) == col(ProgressUpdate.member_id), isouter=True)
        .where(
            Task.school_id == school_id,
            reported_by(end),
            ProgressUpdate.created_at >= start,
            ProgressUpdate.created_at < end,
        )
        .order_by(col(ProgressUpdate.created_at), col(ProgressUpdate.id))
    )
    return [(update, task, member) for update, task, member in session.exec(query).all()]


def compile_digest(session: Session, school: School, *, start: datetime, end: datetime) -> Digest:
    tz = ZoneInfo(school.timezone)
    today = last_moment_day(end, tz)
    states = states_at(session, school, end)
    tasks = [
        task
        for task in session.exec(
            select(Task).where(Task.school_id == school.id).order_by(col(Task.id))
        ).all()
        if task.id in states
    ]
    units = session.exec(
        select(Unit).where(Unit.school_id == school.id).order_by(col(Unit.id))
    ).all()
    names = dict(
        session.exec(select(Member.id, Member.name).where(Member.school_id == school.id)).all()
    )
    assigned = _assignees(session, school, end)
    unit_names = {unit.id: unit.name for unit in units}

    def item(task: Task, state: TaskState) -> TaskItem:
        due = task.deadline or state.occurrence or next_due(task, today)
        return TaskItem(
            task_id=task.id,
            code=task.code,
            title=task.title,
            unit_id=task.unit_id,
            unit=unit_names[task.unit_id],
            assignee=", ".join(names[m] for m in assigned.get(task.id, ())) or None,
            due=due,
            proposed=task.date_proposed,
            status=state.status,
            progress=state.progress,
            done_at=state.done_at,
            last_report=state.last_report,
            overdue=state.status != TaskStatus.DONE and due is not None and due < today,
        )

    items = [item(task, states[task.id]) for task in tasks]
    open_items = [entry for entry in items if entry.status != TaskStatus.DONE]
    overdue = sorted((e for e in open_items if e.overdue), key=lambda e: (e.due, e.task_id))
    horizon = today + timedelta(days=DUE_SOON_DAYS)
    due_soon = sorted(
        (e for e in open_items if e.due and today <= e.due <= horizon),
        key=lambda e: (e.due, e.task_id),
    )
    rows = _unit_rows(session, units, items)
    row_of = {row.unit_id: row for row in rows}
    created = {task.id: task.created_at for task in tasks}
    threshold = follow_up(school.settings).policy.escalate_after_days
    reports = period_reports(session, school.id, start, end)

    return Digest(
        school_id=school.id,
        school_name=school.name,
        timezone=school.timezone,
        week=week_of(today),
        start=start,
        end=end,
        today=today,
        totals=Totals(
            tasks=len(items),
            done=len(items) - len(open_items),
            progress=sum(e.progress for e in items) / len(items) if items else 0.0,
            overdue=len(overdue),
            updates=len(reports),
        ),
        units=tuple(rows),
        tasks=tuple(items),
        overdue=tuple(overdue),
        due_soon=tuple(due_soon),
        urgent=_urgent(open_items, today, threshold),
        blockers=_blockers(items, states, names, start),
        silent_units=_silent_units(rows, open_items, created, end),
        long_overdue=_long_overdue(overdue, row_of, today, threshold),
        long_overdue_days=threshold,
        kpis=_kpis(session, school, end, today),
        unreached=_unreached(session, school, start, end),
    )


def _unreached(session: Session, school: School, start: datetime, end: datetime) -> Unreached:
    failed = outbox.failures(session, start, end, school.id)

    def names(cause: DeliveryFailure) -> tuple[str, ...]:
        return tuple(
            dict.fromkeys(row.member for row in failed if row.cause == cause and row.member)
        )

    return Unreached(
        no_chat=names(DeliveryFailure.NO_CHAT),
        blocked=names(DeliveryFailure.UNREACHABLE),
        expired=sum(row.cause == DeliveryFailure.EXPIRED for row in failed),
        refused=sum(row.cause == DeliveryFailure.REFUSED for row in failed),
    )


def _unit_rows(session: Session, units: Sequence[Unit], items: list[TaskItem]) -> list[UnitRow]:
    """One row per unit with tasks. Its heads: the unit's active heads, else its highest-ranked
    leaders (the principal, for the leadership's own unit)."""
    members = session.exec(
        select(Membership.unit_id, Membership.role, Member.name)
        .join(Member, col(Member.id) == col(Membership.member_id))
        .where(
            col(Membership.unit_id).in_([unit.id for unit in units]),
            col(Membership.role).in_([Role.UNIT_HEAD, *LEADERS]),
            Member.active,
        )
        .order_by(col(Membership.unit_id), col(Member.id))
    ).all()
    heads: dict[int, tuple[str, ...]] = {}
    for unit in units:
        mine = [(Role(role), name) for unit_id, role, name in members if unit_id == unit.id]
        unit_heads = tuple(name for role, name in mine if role == Role.UNIT_HEAD)
        if unit_heads or not mine:
            heads[unit.id] = unit_heads
            continue
        first = min(ROLE_RANK[role] for role, _ in mine)
        heads[unit.id] = tuple(name for role, name in mine if ROLE_RANK[role] == first)
    rows = []
    for unit in units:
        unit_items = [entry for entry in items if entry.unit_id == unit.id]
        if not unit_items:
            continue
        reports = [entry.last_report for entry in unit_items if entry.last_report]
        rows.append(
            UnitRow(
                unit_id=unit.id,
                code=unit.code,
                name=unit.name,
                heads=heads.get(unit.id, ()),
                tasks=len(unit_items),
                done=sum(entry.status == TaskStatus.DONE for entry in unit_items),
                overdue=sum(entry.overdue for entry in unit_items),
                last_report=max(reports) if reports else None,
                progress=sum(entry.progress for entry in unit_items) / len(unit_items),
            )
        )
    return rows


def _urgent(open_items: list[TaskItem], today: date, threshold: int) -> tuple[TaskItem, ...]:
    """The tasks to follow up first: overdue by at most `threshold` days or due within the
    next 14, nearest to today first (overdue before due on the same distance); then, if there
    are fewer than five, the longer overdue, most recently due first. Longer overdue tasks are
    the decision block's."""

    def distance(entry: TaskItem) -> int:
        return (entry.due_on - today).days

    open_items = [e for e in open_items if e.due is not None]
    near = [e for e in open_items if -threshold <= distance(e) <= DUE_SOON_DAYS]
    near.sort(key=lambda e: (abs(distance(e)), distance(e) >= 0, e.task_id))
    older = [e for e in open_items if distance(e) < -threshold]
    older.sort(key=lambda e: (-distance(e), e.task_id))
    return tuple((near + older)[:URGENT])


def _blockers(
    items: list[TaskItem], states: dict[int, TaskState], names: dict[int, str], start: datetime
) -> tuple[Blocker, ...]:
    found = []
    for entry in items:
        update = states[entry.task_id].blocked_by
        if update is not None and update.created_at >= start:
            who = names.get(update.member_id) if update.member_id else None
            found.append(Blocker(entry, who, update.created_at, update.note))
    return tuple(sorted(found, key=lambda blocker: (blocker.since, blocker.task.task_id)))


def _silent_units(
    rows: list[UnitRow], open_items: list[TaskItem], created: dict[int, datetime], end: datetime
) -> tuple[SilentUnit, ...]:
    found = []
    for row in rows:
        mine = [entry for entry in open_items if entry.unit_id == row.unit_id]
        if not mine:
            continue
        quiet_since = row.last_report or min(created[entry.task_id] for entry in mine)
        if end - quiet_since >= SILENT_AFTER:
            found.append(SilentUnit(row, row.last_report, quiet_since))
    return tuple(found)


def _long_overdue(
    overdue: list[TaskItem], rows: dict[int, UnitRow], today: date, threshold: int
) -> tuple[LongOverdue, ...]:
    by_unit: dict[int, list[TaskItem]] = {}
    for entry in overdue:  # oldest due date first
        if (today - entry.due_on).days > threshold:
            by_unit.setdefault(entry.unit_id, []).append(entry)
    return tuple(
        LongOverdue(rows[unit_id], len(entries), entries[0])
        for unit_id, entries in sorted(by_unit.items(), key=lambda pair: pair[0])
    )


def _assignees(session: Session, school: School, end: datetime) -> dict[int, list[int]]:
    """Task id -> the member ids of its assignees at `end`."""
    rows = session.exec(
        select(TaskAssignee.task_id, TaskAssignee.member_id)
        .join(Task, col(Task.id) == col(TaskAssignee.task_id))
        .where(Task.school_id == school.id, TaskAssignee.assigned_at < end)
        .order_by(col(TaskAssignee.assigned_at), col(TaskAssignee.member_id))
    ).all()
    result: dict[int, list[int]] = {}
    for task_id, member_id in rows:
        result.setdefault(task_id, []).append(member_id)
    return result


def _kpis(session: Session, school: School, end: datetime, today: date) -> tuple[KpiItem, ...]:
    kpis = session.exec(
        select(Kpi).where(Kpi.school_id == school.id).order_by(col(Kpi.target_year), col(Kpi.id))
    ).all()
    values = session.exec(
        select(KpiValue)
        .join(Kpi, col(Kpi.id) == col(KpiValue.kpi_id))
        .where(Kpi.school_id == school.id, KpiValue.recorded_at < end)
        .order_by(col(KpiValue.recorded_at), col(KpiValue.id))
    ).all()
    series: dict[int, list[KpiValue]] = {}
    for value in values:
        series.setdefault(value.kpi_id, []).append(value)
    items = []
    for kpi in kpis:
        outlook = forecast(kpi, series.get(kpi.id, []), today)
        latest = outlook.latest
        items.append(
            KpiItem(
                kpi_id=kpi.id,
                key=kpi.key,
                name=kpi.name,
                measure=kpi.measure,
                direction=Direction(kpi.direction),
                target=kpi.target,
                target_max=kpi.target_max,
                target_year=kpi.target_year,
                target_text=kpi.target_text,
                value=latest.value if latest else None,
                numerator=latest.numerator if latest else None,
                denominator=latest.denominator if latest else None,
                recorded_at=latest.recorded_at if latest else None,
                projected=outlook.projected,
                target_date=outlook.target_date,
                outlook=outlook.outlook,
            )
        )
    return tuple(items)


def digest_period(session: Session, school: School, now: datetime) -> tuple[datetime, datetime]:
    """From where the school's latest recorded digest ended (else Monday 00:00 of this week in
    the school's zone) to `now`."""
    last = session.exec(
        select(DigestLog)
        .where(DigestLog.school_id == school.id)
        .order_by(col(DigestLog.period_end).desc(), col(DigestLog.id).desc())
    ).first()
    if last is not None:
        return min(last.period_end, now), now
    tz = ZoneInfo(school.timezone)
    return week_of(now.astimezone(tz).date()).starts(tz), now


def week_period(
    session: Session, school: School, week: Week, now: datetime
) -> tuple[datetime, datetime] | None:
    """The period of `week`: the one its recorded digest covered, else Monday 00:00 to the next
    Monday (or to `now`, for the week under way); None for a week that has not begun."""
    recorded = session.exec(
        select(DigestLog).where(DigestLog.school_id == school.id, DigestLog.week == week.label)
    ).first()
    if recorded is not None:
        return recorded.period_start, recorded.period_end
    tz = ZoneInfo(school.timezone)
    if week.starts(tz) > now:
        return None
    return week.starts(tz), min(now, week.ends(tz))


def record_digest(
    session: Session, school: School, week: str, start: datetime, end: datetime
) -> DigestLog:
    """The digest of `week` was sent: the next one starts at `end`. Once per school and week:
    if it was recorded already (by this or another instance), that row is returned unchanged.

    Several leaders receive the same week's digest: compile it for the returned row's period
    (`period_start`, `period_end`), not for a fresh `digest_period`, so they all read the same
    numbers however late their copy is sent."""
    query = select(DigestLog).where(DigestLog.school_id == school.id, DigestLog.week == week)
    existing = session.exec(query).first()
    if existing is not None:
        return existing
    log = DigestLog(school_id=school.id, week=week, period_start=start, period_end=end)
    try:
        with session.begin_nested():
            session.add(log)
    except IntegrityError:
        return session.exec(query).one()
    return log
