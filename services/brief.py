"""A leader's brief: what is new since their previous brief. The planner (services/reminders.py)
plans one only when something is new; the sweep composes it again from the database
(handlers/brief.py), so the same database gives the same brief.

A brief covers the window [since, until): `until` is its outbox row's due_at, `since` the due_at
of the leader's previous brief row (sent, or skipped because nothing was new), else the brief
time of the school day before (Saturday's for a Monday brief, skipping holidays), or a week
before for a weekly brief. Times are read in the school's zone; a day's event
happens at its start (00:00). What is new in the window:

- a task newly overdue: open, in the leader's scope or their own, whose first overdue day (the
  day after its due date) began in the window while the task existed (a task imported already
  overdue is not news: it is counted apart, "arrived overdue");
- a new blocker: a "blocked" report made in the window on a task of the scope (or their own)
  that is still blocked;
- a unit newly silent: in the scope, with open tasks, whose 14 days without a report (from its
  latest report, else from the arrival of its first task) ran out in the window;
- the leader's own task coming due: one of its reminder days (7 and 1 days before, the due day,
  or the task's own rule) began in the window.

A task that arrives (plan import) after one of its reminder days has that event when it arrives.
A task is listed once, as blocked, else overdue, else coming due.

Scope: the principal sees every unit; a vice principal the units of their Oversight rows, every
unit when they have none. Their own tasks: open tasks with no active assignee whose unit they head
(unit head), or whose unit has no active head and is in their scope (in everyone's, when no
leader's scope covers it), which the planner no longer reminds them of one by one."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, func, select

from models import (
    BriefFrequency,
    Holiday,
    Member,
    Membership,
    Oversight,
    ProgressUpdate,
    Reminder,
    ReminderKind,
    Role,
    School,
    Task,
    TaskAssignee,
    TaskStatus,
    Unit,
)
from services.permissions import LEADERS
from services.plan_text import next_due
from services.progress import is_report
from services.recurrence import recurrence_of
from services.school_calendar import SchoolCalendar
from services.school_settings import follow_up
from services.tasks import current_tasks

SILENT_DAYS = 14  # a unit with open tasks and no report for this long is silent
PERIOD = {BriefFrequency.DAILY: timedelta(days=1), BriefFrequency.WEEKLY: timedelta(days=7)}


class Why(StrEnum):
    BLOCKED = "blocked"
    OVERDUE = "overdue"
    DUE = "due"


@dataclass(frozen=True)
class BriefItem:
    why: Why
    task: Task
    unit: str
    due: date | None  # None: a blocked task that is never due (ongoing, on request)
    note: str | None = None  # the blocker's words
    who: str | None = None  # who reported the blocker


@dataclass(frozen=True)
class Brief:
    since: datetime
    until: datetime
    items: tuple[BriefItem, ...]  # what is new, blocked first, then overdue, then coming due
    silent_units: tuple[str, ...]  # names of the units newly silent
    arrived_overdue: int  # tasks that arrived in the window already overdue (a plan import)
    other_overdue: int  # the other overdue tasks of the scope (or their own) not among the items

    @property
    def is_empty(self) -> bool:
        return not self.items and not self.silent_units and not self.arrived_overdue


def brief_key(member_id: int, day: date) -> str:
    return f"brief:{member_id}:{day.isoformat()}"


def leader_scopes(session: Session, school: School) -> dict[int, frozenset[int] | None]:
    """Each active leader's scope: the unit ids their brief covers, None for every unit."""
    rows = session.exec(
        select(Member.id, Membership.role)
        .join(Membership, col(Membership.member_id) == col(Member.id))
        .where(Member.school_id == school.id, Member.active, col(Membership.role).in_(LEADERS))
        .order_by(col(Member.id))
    ).all()
    principals = {member for member, role in rows if role == Role.PRINCIPAL}
    overseen: dict[int, set[int]] = {}
    for member, unit in session.exec(
        select(Oversight.member_id, Oversight.unit_id).where(
            col(Oversight.member_id).in_({member for member, _ in rows})
        )
    ).all():
        overseen.setdefault(member, set()).add(unit)
    return {
        member: None
        if member in principals or member not in overseen
        else frozenset(overseen[member])
        for member, _ in rows
    }


def brief_since(session: Session, member: Member, before: datetime) -> datetime:
    """Where a brief due at `before` starts: the leader's previous brief, else where the one
    before it would have been due: the brief time of the school day before (not "since Sunday"
    on a Monday), a week back for a weekly brief."""
    previous = session.exec(
        select(Reminder.due_at)
        .where(
            Reminder.recipient_id == member.id,
            Reminder.kind == ReminderKind.BRIEF,
            col(Reminder.due_at) < before,
        )
        .order_by(col(Reminder.due_at).desc(), col(Reminder.id).desc())
    ).first()
    if previous is not None:
        return previous
    if member.brief == BriefFrequency.WEEKLY:
        return before - PERIOD[BriefFrequency.WEEKLY]
    return _brief_time_before(session, session.get_one(School, member.school_id), before)


def _brief_time_before(session: Session, school: School, moment: datetime) -> datetime:
    """The school's brief time on its last school day (a working day, not a holiday) before
    `moment`'s day; a day before `moment` when there is none within a month."""
    tz = ZoneInfo(school.timezone)
    month = [moment.astimezone(tz).date() - timedelta(days=n) for n in range(1, 32)]
    holidays = session.exec(
        select(col(Holiday.day)).where(
            Holiday.school_id == school.id, col(Holiday.day).between(month[-1], month[0])
        )
    ).all()
    rules = follow_up(school.settings)
    calendar = SchoolCalendar(tz, rules.working_days, rules.quiet_hours, frozenset(holidays))
    day = next((day for day in month if calendar.is_school_day(day)), None)
    since = calendar.next_open(calendar.at(day, rules.policy.at)) if day else moment
    return since if since < moment else moment - PERIOD[BriefFrequency.DAILY]


def compile_brief(
    session: Session, school: School, member: Member, since: datetime, until: datetime
) -> Brief:
    tz = ZoneInfo(school.timezone)
    today = until.astimezone(tz).date()
    scopes = leader_scopes(session, school)
    scope = scopes.get(member.id)
    units = {
        unit.id: unit
        for unit in session.exec(
            select(Unit).where(Unit.school_id == school.id).order_by(col(Unit.id))
        )
    }
    tasks = current_tasks(session, school.id)
    open_tasks = [task for task in tasks if task.status != TaskStatus.DONE]
    own = _own_tasks(session, open_tasks, member.id, scopes)
    in_scope = [t for t in open_tasks if scope is None or t.unit_id in scope or t.id in own]
    due = {task.id: next_due(task, today) for task in in_scope}

    def new(moment: datetime, task: Task | None = None) -> bool:
        """The moment came in the window; for a task's moment, or with the task arriving in
        the window after it (a task imported a few days before its deadline)."""
        arrived = max(moment, task.created_at) if task is not None else moment
        return since <= arrived < until and moment < until

    def start(day: date) -> datetime:
        return datetime.combine(day, time(0), tz)

    blocked = [task for task in in_scope if task.status == TaskStatus.BLOCKED]
    blockers = _blockers(session, blocked, since, until)
    dated = {task_id: day for task_id, day in due.items() if day is not None}
    overdue = [t for t in in_scope if t.id in dated and dated[t.id] < today]

    def newly_overdue(task: Task) -> bool:
        moment = start(dated[task.id] + timedelta(days=1))
        return task.created_at <= moment and new(moment)

    rules = follow_up(school.settings)
    policy = rules.policy
    items = [
        BriefItem(Why.BLOCKED, task, units[task.unit_id].name, due[task.id], note, who)
        for task, note, who in blockers
    ]
    listed = {item.task.id for item in items}
    items += [
        BriefItem(Why.OVERDUE, task, units[task.unit_id].name, dated[task.id])
        for task in sorted(overdue, key=lambda t: (dated[t.id], t.code))
        if task.id not in listed and newly_overdue(task)
    ]
    listed = {item.task.id for item in items}
    coming = [
        task
        for task in in_scope
        if task.id in own and task.id not in listed and task.id in dated
        and dated[task.id] >= today
        and any(new(start(dated[task.id] - timedelta(days=lead)), task)
                for lead in policy.merged(task.reminders).leads(
                    recurrence_of(task.recurrence, rules.school_year)))
    ]  # fmt: skip
    items += [
        BriefItem(Why.DUE, task, units[task.unit_id].name, dated[task.id])
        for task in sorted(coming, key=lambda t: (dated[t.id], t.code))
    ]
    listed = {item.task.id for item in items}
    arrived = {t.id for t in overdue if t.id not in listed and since <= t.created_at < until}
    scoped_units = [unit for unit in units.values() if scope is None or unit.id in scope]
    return Brief(
        since=since,
        until=until,
        items=tuple(items),
        silent_units=tuple(
            unit.name for unit in _newly_silent(session, scoped_units, tasks, since, until)
        ),
        arrived_overdue=sum(task.id in arrived for task in overdue),
        other_overdue=sum(task.id not in listed | arrived for task in overdue),
    )


def _own_tasks(
    session: Session,
    open_tasks: list[Task],
    member_id: int,
    scopes: dict[int, frozenset[int] | None],
) -> set[int]:
    """The open tasks the leader follows in person: no active assignee, and given to a leader's
    role they hold, or a unit they head, or a unit without an active head that is in their scope
    (or in nobody's)."""
    assigned = set(
        session.exec(
            select(TaskAssignee.task_id)
            .join(Member, col(Member.id) == col(TaskAssignee.member_id))
            .where(col(TaskAssignee.task_id).in_([task.id for task in open_tasks]), Member.active)
        ).all()
    )
    heads: dict[int, set[int]] = {}
    for unit, head in session.exec(
        select(Membership.unit_id, Membership.member_id)
        .join(Member, col(Member.id) == col(Membership.member_id))
        .where(
            col(Membership.unit_id).in_({task.unit_id for task in open_tasks}),
            Membership.role == Role.UNIT_HEAD,
            Member.active,
        )
    ).all():
        heads.setdefault(unit, set()).add(head)

    def covers(member: int, unit: int) -> bool:
        scope = scopes.get(member)
        return member in scopes and (scope is None or unit in scope)

    held = set(session.exec(select(Membership.role).where(Membership.member_id == member_id)))
    own = set()
    for task in open_tasks:
        if task.id in assigned:
            continue
        if task.owner_role in LEADERS:  # "Hiệu trưởng phụ trách chung": theirs alone
            mine = task.owner_role in held
        elif task.unit_id in heads:
            mine = member_id in heads[task.unit_id]
        else:
            mine = covers(member_id, task.unit_id) or not any(
                covers(leader, task.unit_id) for leader in scopes
            )
        if mine:
            own.add(task.id)
    return own


def _blockers(
    session: Session, blocked: list[Task], since: datetime, until: datetime
) -> list[tuple[Task, str | None, str | None]]:
    """Blocked tasks reported blocked in the window, with the latest such report's words and
    author, in the order the reports came."""
    by_id = {task.id: task for task in blocked}
    rows = session.exec(
        select(ProgressUpdate, Member.name)
        .join(Member, col(Member.id) == col(ProgressUpdate.member_id), isouter=True)
        .where(
            col(ProgressUpdate.task_id).in_(list(by_id)),
            ProgressUpdate.status == TaskStatus.BLOCKED,
            is_report(),
            ProgressUpdate.created_at >= since,
            ProgressUpdate.created_at < until,
        )
        .order_by(col(ProgressUpdate.created_at).desc(), col(ProgressUpdate.id).desc())
    ).all()
    latest: dict[int, tuple[ProgressUpdate, str | None]] = {}
    for update, name in rows:
        latest.setdefault(update.task_id, (update, name))
    ordered = sorted(latest.values(), key=lambda row: (row[0].created_at, row[0].id))
    return [(by_id[update.task_id], update.note, name) for update, name in ordered]


def _newly_silent(
    session: Session, units: list[Unit], tasks: list[Task], since: datetime, until: datetime
) -> list[Unit]:
    """Units with open tasks whose SILENT_DAYS without a report ran out in the window."""
    last = dict(
        session.exec(
            select(Task.unit_id, func.max(ProgressUpdate.created_at))
            .join(Task, col(Task.id) == col(ProgressUpdate.task_id))
            .where(
                col(Task.id).in_([task.id for task in tasks]),
                is_report(),
                ProgressUpdate.created_at < until,
            )
            .group_by(col(Task.unit_id))
        ).all()
    )
    silent = []
    for unit in units:
        mine = [task for task in tasks if task.unit_id == unit.id]
        if not any(task.status != TaskStatus.DONE for task in mine):
            continue
        quiet_from = last.get(unit.id) or min(task.created_at for task in mine)
        if since <= quiet_from + timedelta(days=SILENT_DAYS) < until:
            silent.append(unit)
    return silent
