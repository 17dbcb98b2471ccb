"""The weekly digest for the school's leaders: what the plan looks like now and what happened in
the period since the last digest. Numbers only; handlers/reports.py renders them.

The period is half-open, [start, end): an update recorded at `end` or later belongs to the next
period. `digest_period` starts a period where the school's last recorded digest ended, so an
update that arrives after a digest is counted in the next one (and in on-demand reports).

Task states (status, progress, overdue) are the tasks as they are at `now`; what happened in the
period (updates, notes, evidence, who reported) is read from the history between start and end.
An update counts as a report when it is not undone and not made by the bot itself
(`UpdateSource.SYSTEM`, e.g. a recurring task moving on to its next occurrence).
"""

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from models import (
    Attachment,
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
from services.kpis import KpiStatus, status_of
from services.plan_text import next_due
from services.progress import is_report
from services.reminders import week_start

DUE_SOON_DAYS = 14
MAX_NOTES = 10


class DigestKpiStatus(StrEnum):
    MET = "met"  # đạt
    NOT_MET = "not_met"  # chưa đạt
    AT_RISK = "at_risk"  # có nguy cơ
    NO_DATA = "no_data"  # chưa có số liệu


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
    open: int
    done: int
    overdue: int
    last_report: datetime | None  # the unit's latest report before the period's end, ever
    progress: float  # average progress of the unit's tasks, in %


@dataclass(frozen=True)
class TaskItem:
    task_id: int
    code: str
    title: str
    unit: str
    assignee: str | None  # the names of its assignees, if any
    due: date
    status: TaskStatus
    progress: int


@dataclass(frozen=True)
class SilentUnit:
    unit_id: int
    code: str
    name: str


@dataclass(frozen=True)
class SilentPerson:
    """Someone who did not report: the head of a silent unit (`units`), and/or the assignee of
    open tasks they did not report on in the period (`tasks`, codes)."""

    member_id: int
    name: str
    units: tuple[str, ...]
    tasks: tuple[str, ...]


@dataclass(frozen=True)
class KpiItem:
    kpi_id: int
    key: str
    name: str
    measure: str | None
    direction: Direction
    target: float
    target_year: int
    value: float | None  # the latest value recorded by the period's end
    numerator: int | None
    denominator: int | None
    recorded_at: datetime | None
    status: DigestKpiStatus


@dataclass(frozen=True)
class NoteItem:
    update_id: int
    task_code: str
    task_title: str
    who: str | None
    at: datetime
    status: TaskStatus | None  # None: the note came with evidence
    percent: int | None
    note: str


@dataclass(frozen=True)
class EvidenceItem:
    task_id: int
    code: str
    title: str
    count: int


@dataclass(frozen=True)
class Digest:
    school_id: int
    school_name: str
    timezone: str
    week: str  # ISO week of the period's end in the school's zone, e.g. "2026-W49"
    start: datetime
    end: datetime
    now: datetime
    today: date  # `now` in the school's zone
    totals: Totals
    units: tuple[UnitRow, ...]
    overdue: tuple[TaskItem, ...]  # oldest due date first
    due_soon: tuple[TaskItem, ...]  # due today or in the next 14 days, nearest first
    silent_units: tuple[SilentUnit, ...]
    silent_people: tuple[SilentPerson, ...]
    kpis: tuple[KpiItem, ...]
    notes: tuple[NoteItem, ...]  # at most 10: blocked ones first, then newest
    notes_total: int
    evidence: tuple[EvidenceItem, ...]
    evidence_total: int


def week_label(moment: datetime, tz: ZoneInfo) -> str:
    year, week, _ = moment.astimezone(tz).isocalendar()
    return f"{year}-W{week:02d}"


def kpi_status(kpi: Kpi, value: KpiValue | None, today: date) -> DigestKpiStatus:
    """A KPI against its target, with time taken into account.

    - no value recorded yet: `no_data`;
    - the latest value meets the target: `met` (đạt);
    - not met while the target year is this year or next year: `at_risk` (có nguy cơ) — there
      is still time to reach it, but not much;
    - not met and the target year is already past (the deadline was missed) or more than a year
      away (too early to call it a risk): `not_met` (chưa đạt).
    """
    plain = status_of(kpi, value)
    if plain == KpiStatus.NO_DATA:
        return DigestKpiStatus.NO_DATA
    if plain == KpiStatus.MET:
        return DigestKpiStatus.MET
    if today.year <= kpi.target_year <= today.year + 1:
        return DigestKpiStatus.AT_RISK
    return DigestKpiStatus.NOT_MET


def period_reports(
    session: Session, school_id: int, start: datetime, end: datetime
) -> list[tuple[ProgressUpdate, Task, Member | None]]:
    """Reports (not undone, not by the bot) on the school's tasks in [start, end), oldest first,
    with their task and author (None for an update without one)."""
    query = (
        select(ProgressUpdate, Task, Member)
        .join(Task, col(Task.id) == col(ProgressUpdate.task_id))
        .join(Member, col(Member.id) == col(ProgressUpdate.member_id), isouter=True)
        .where(
            Task.school_id == school_id,
            is_report(),
            ProgressUpdate.created_at >= start,
            ProgressUpdate.created_at < end,
        )
        .order_by(col(ProgressUpdate.created_at), col(ProgressUpdate.id))
    )
    return [tuple(row) for row in session.exec(query).all()]


def last_reports(session: Session, school_id: int, end: datetime) -> dict[int, datetime]:
    """Task id -> the time of its latest report before `end`."""
    rows = session.exec(
        select(ProgressUpdate.task_id, func.max(ProgressUpdate.created_at))
        .join(Task, col(Task.id) == col(ProgressUpdate.task_id))
        .where(Task.school_id == school_id, is_report(), ProgressUpdate.created_at < end)
        .group_by(ProgressUpdate.task_id)
    ).all()
    return dict(rows)


def compile_digest(
    session: Session, school: School, *, start: datetime, end: datetime, now: datetime
) -> Digest:
    tz = ZoneInfo(school.timezone)
    today = now.astimezone(tz).date()
    units = session.exec(select(Unit).where(Unit.school_id == school.id).order_by(Unit.id)).all()
    unit_by_id = {unit.id: unit for unit in units}
    tasks = session.exec(select(Task).where(Task.school_id == school.id).order_by(Task.id)).all()
    members = session.exec(
        select(Member.id, Member.name, Member.active).where(Member.school_id == school.id)
    ).all()
    names = {member_id: name for member_id, name, _ in members}
    active = {member_id for member_id, _, is_active in members if is_active}
    due = {task.id: next_due(task, today) for task in tasks}
    assigned = _assignees(session, school)

    def item(task: Task) -> TaskItem:
        return TaskItem(
            task_id=task.id,
            code=task.code,
            title=task.title,
            unit=unit_by_id[task.unit_id].name,
            assignee=", ".join(names[m] for m in assigned.get(task.id, ())) or None,
            due=due[task.id],
            status=TaskStatus(task.status),
            progress=task.progress,
        )

    def by_due(task: Task) -> tuple[date, int]:
        return due[task.id], task.id

    open_tasks = [task for task in tasks if task.status != TaskStatus.DONE]
    overdue = sorted((task for task in open_tasks if due[task.id] < today), key=by_due)
    horizon = today + timedelta(days=DUE_SOON_DAYS)
    due_soon = sorted((task for task in open_tasks if today <= due[task.id] <= horizon), key=by_due)

    reports = period_reports(session, school.id, start, end)
    last = last_reports(session, school.id, end)
    reported_units = {task.unit_id for _, task, _ in reports}
    reported_pairs = {(update.member_id, task.id) for update, task, _ in reports}

    unit_rows = []
    for unit in units:
        mine = [task for task in tasks if task.unit_id == unit.id]
        if not mine:
            continue
        times = [last[task.id] for task in mine if task.id in last]
        unit_rows.append(
            UnitRow(
                unit_id=unit.id,
                code=unit.code,
                name=unit.name,
                open=sum(task.status != TaskStatus.DONE for task in mine),
                done=sum(task.status == TaskStatus.DONE for task in mine),
                overdue=sum(task.unit_id == unit.id for task in overdue),
                last_report=max(times) if times else None,
                progress=sum(task.progress for task in mine) / len(mine),
            )
        )

    silent_units = [
        unit
        for unit in units
        if unit.id not in reported_units and any(task.unit_id == unit.id for task in open_tasks)
    ]
    silent_people = _silent_people(
        session, silent_units, open_tasks, reported_pairs, names, active, assigned
    )

    noted = [(update, task, who) for update, task, who in reports if (update.note or "").strip()]
    noted.sort(key=lambda row: (row[0].created_at, row[0].id), reverse=True)
    noted.sort(key=lambda row: row[0].status != TaskStatus.BLOCKED)  # stable: newest stay first
    notes = tuple(
        NoteItem(
            update_id=update.id,
            task_code=task.code,
            task_title=task.title,
            who=who.name if who else None,
            at=update.created_at,
            status=TaskStatus(update.status) if update.status else None,
            percent=update.percent,
            note=update.note.strip(),
        )
        for update, task, who in noted[:MAX_NOTES]
    )

    evidence_counts = Counter(
        session.exec(
            select(Attachment.task_id)
            .join(Task, col(Task.id) == col(Attachment.task_id))
            .where(
                Task.school_id == school.id,
                Attachment.created_at >= start,
                Attachment.created_at < end,
            )
        ).all()
    )
    evidence = tuple(
        EvidenceItem(task.id, task.code, task.title, evidence_counts[task.id])
        for task in tasks
        if evidence_counts[task.id]
    )

    return Digest(
        school_id=school.id,
        school_name=school.name,
        timezone=school.timezone,
        week=week_label(end, tz),
        start=start,
        end=end,
        now=now,
        today=today,
        totals=Totals(
            tasks=len(tasks),
            done=len(tasks) - len(open_tasks),
            progress=sum(task.progress for task in tasks) / len(tasks) if tasks else 0.0,
            overdue=len(overdue),
            updates=len(reports),
        ),
        units=tuple(unit_rows),
        overdue=tuple(item(task) for task in overdue),
        due_soon=tuple(item(task) for task in due_soon),
        silent_units=tuple(SilentUnit(unit.id, unit.code, unit.name) for unit in silent_units),
        silent_people=silent_people,
        kpis=_kpis(session, school, end, today),
        notes=notes,
        notes_total=len(noted),
        evidence=evidence,
        evidence_total=sum(evidence_counts.values()),
    )


def _silent_people(
    session: Session,
    silent_units: list[Unit],
    open_tasks: list[Task],
    reported_pairs: set[tuple[int | None, int]],
    names: dict[int, str],
    active: set[int],
    assigned: dict[int, list[int]],
) -> tuple[SilentPerson, ...]:
    """The active unit heads of units with no report, and the active assignees of open tasks
    they did not report on in the period; each person once, in the order of their member id.
    (The principal and vice principals are not listed for their own unit: they read this.)"""
    units_of: dict[int, list[str]] = {}
    tasks_of: dict[int, list[str]] = {}
    if silent_units:
        heads = session.exec(
            select(Membership.member_id, Membership.unit_id)
            .where(
                col(Membership.unit_id).in_([unit.id for unit in silent_units]),
                Membership.role == Role.UNIT_HEAD,
            )
            .order_by(Membership.member_id)
        ).all()
        unit_names = {unit.id: unit.name for unit in silent_units}
        for unit in silent_units:
            for member_id, unit_id in heads:
                if unit_id == unit.id and member_id in active:
                    units_of.setdefault(member_id, []).append(unit_names[unit_id])
    for task in open_tasks:
        for member in assigned.get(task.id, ()):
            if member in active and (member, task.id) not in reported_pairs:
                tasks_of.setdefault(member, []).append(task.code)
    people = sorted(set(units_of) | set(tasks_of))
    return tuple(
        SilentPerson(
            member_id=member,
            name=names[member],
            units=tuple(units_of.get(member, ())),
            tasks=tuple(tasks_of.get(member, ())),
        )
        for member in people
    )


def _assignees(session: Session, school: School) -> dict[int, list[int]]:
    """Task id -> the member ids of its assignees."""
    rows = session.exec(
        select(TaskAssignee.task_id, TaskAssignee.member_id)
        .join(Task, col(Task.id) == col(TaskAssignee.task_id))
        .where(Task.school_id == school.id)
        .order_by(col(TaskAssignee.assigned_at), col(TaskAssignee.member_id))
    ).all()
    result: dict[int, list[int]] = {}
    for task_id, member_id in rows:
        result.setdefault(task_id, []).append(member_id)
    return result


def _kpis(session: Session, school: School, end: datetime, today: date) -> tuple[KpiItem, ...]:
    kpis = session.exec(
        select(Kpi).where(Kpi.school_id == school.id).order_by(Kpi.target_year, Kpi.id)
    ).all()
    values = session.exec(
        select(KpiValue)
        .join(Kpi, col(Kpi.id) == col(KpiValue.kpi_id))
        .where(Kpi.school_id == school.id, KpiValue.recorded_at <= end)
        .order_by(col(KpiValue.recorded_at), col(KpiValue.id))
    ).all()
    latest = {value.kpi_id: value for value in values}
    items = []
    for kpi in kpis:
        value = latest.get(kpi.id)
        items.append(
            KpiItem(
                kpi_id=kpi.id,
                key=kpi.key,
                name=kpi.name,
                measure=kpi.measure,
                direction=Direction(kpi.direction),
                target=kpi.target,
                target_year=kpi.target_year,
                value=value.value if value else None,
                numerator=value.numerator if value else None,
                denominator=value.denominator if value else None,
                recorded_at=value.recorded_at if value else None,
                status=kpi_status(kpi, value, today),
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
    monday = week_start(now.astimezone(tz).date())
    return datetime.combine(monday, time(0), tz), now


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
