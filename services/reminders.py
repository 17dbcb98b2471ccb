"""The reminder planner: from tasks, the school calendar and the follow-up rules, the outbox rows
that are due by now. Idempotent: a row's dedupe key makes it exist once, whoever plans it.

Only the latest due reminder of a task is planned, so after downtime a task gets one reminder,
not every one it missed. A row is due at its moment when that moment came after the planner's
previous run for the school (`School.followed_up_at`): if it is long past, the bot was down and
the reminder says so. A moment that had already passed then (a school's first run, a task just
imported) was never missed: its row is due now.

Leaders get no task reminders as a unit's head or for a unit without one: their brief
(services/brief.py) tells them what is new, at most once a day. As a task's assignee they are
reminded like anyone.

People of the education office (`Member.office`) are in no unit: no task reminder, check-in or
brief; once a week, at the digest time of the school their roll-up is addressed from, one
roll-up per person however many schools list them (services/rollup.py)."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, or_, select

from messages import t
from models import (
    BriefFrequency,
    Holiday,
    Member,
    Membership,
    ProgressUpdate,
    Reminder,
    ReminderKind,
    ReminderStatus,
    Role,
    School,
    Snooze,
    Task,
    TaskStatus,
    UnitChat,
    UpdateSource,
)
from services.assignments import assignees, role_holders
from services.brief import brief_key, brief_since, compile_brief
from services.permissions import LEADERS
from services.progress import is_report, record_progress
from services.recurrence import parse_recurrence, recurrence_of
from services.rollup import rollup_key, rollups_from
from services.school_calendar import SchoolCalendar
from services.school_settings import FollowUp, ReminderPolicy, SchoolYear, follow_up
from services.tasks import current, current_tasks


@dataclass(frozen=True)
class CalendarDefaults:
    """The deployment's defaults (QUIET_HOURS, WORKING_DAYS), which a school may override."""

    quiet_hours: str = "21:00-06:30"
    working_days: str = "mon-sat"


@dataclass(frozen=True)
class Due:
    key: str
    kind: ReminderKind
    occurrence: date
    due_at: datetime
    task_id: int | None = None
    unit_id: int | None = None
    recipient_id: int | None = None
    unit_chat_id: int | None = None
    nothing_new: bool = False  # a brief with nothing to say: recorded as skipped, not sent


@dataclass(frozen=True)
class Timing:
    """When a row planned now is due, given the planner's previous run for the school."""

    now: datetime
    previous_run: datetime | None

    def due_at(self, moment: datetime) -> datetime:
        """The moment itself if it is still ahead or came since the previous run; else now."""
        if moment > self.now or (self.previous_run is not None and moment > self.previous_run):
            return moment
        return self.now


def task_key(task_id: int, recipient: str, lead: str, occurrence: date) -> str:
    return f"task:{task_id}:{recipient}:{lead}:{occurrence.isoformat()}"


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def school_rules(
    session: Session, school: School, defaults: CalendarDefaults
) -> tuple[FollowUp, SchoolCalendar]:
    rules = follow_up(
        school.settings, quiet_hours=defaults.quiet_hours, working_days=defaults.working_days
    )
    holidays = session.exec(select(col(Holiday.day)).where(Holiday.school_id == school.id)).all()
    calendar = SchoolCalendar(
        ZoneInfo(school.timezone), rules.working_days, rules.quiet_hours, frozenset(holidays)
    )
    return rules, calendar


def plan_school(
    session: Session, school: School, now: datetime, defaults: CalendarDefaults
) -> list[Reminder]:
    """Add the outbox rows due by `now` that do not exist yet; return the new ones to send."""
    rules, calendar = school_rules(session, school, defaults)
    today = now.astimezone(calendar.tz).date()
    leaders = _leaders(session, school)
    timing = Timing(now, school.followed_up_at)
    wanted: list[Due] = []
    for task in _tasks_to_follow(session, school, today, now, rules.school_year):
        wanted += _task_reminders(session, task, rules, calendar, now, leaders)
    wanted += _checkins(session, school, rules, calendar, now)
    digest_at = _weekly_moment(calendar, today, rules.digest)
    if digest_at <= now:
        week = week_start(today)
        wanted += [
            Due(f"digest:{school.id}:{leader}:{week}", ReminderKind.DIGEST, week, digest_at,
                recipient_id=leader)
            for leader in leaders
        ]  # fmt: skip
        wanted += [
            Due(rollup_key(person, week), ReminderKind.ROLLUP, week, digest_at,
                recipient_id=member)
            for person, member in rollups_from(session, school)
        ]  # fmt: skip
    wanted += _briefs(session, school, rules, calendar, timing, leaders)
    created = _insert_new(session, school, wanted, timing)
    school.followed_up_at = max(now, school.followed_up_at or now)
    session.add(school)
    return created


def _leaders(session: Session, school: School) -> list[int]:
    rows = session.exec(
        select(Member.id)
        .join(Membership, col(Membership.member_id) == col(Member.id))
        .where(Member.school_id == school.id, Member.active, col(Membership.role).in_(LEADERS))
        .order_by(col(Member.id))
    ).all()
    return list(dict.fromkeys(rows))


def _tasks_to_follow(
    session: Session, school: School, today: date, now: datetime, school_year: SchoolYear | None
) -> list[Task]:
    """Open tasks, after moving recurring tasks that are done and past to their next occurrence
    (on the school's calendar); archived tasks are not followed up."""
    tasks = current_tasks(session, school.id)
    for task in tasks:
        if task.recurrence is None:
            continue
        rule = parse_recurrence(task.recurrence, school_year)
        if task.occurrence is None:
            task.occurrence = rule.next_on_or_after(today)
        elif task.status == TaskStatus.DONE and task.occurrence < today:
            task.occurrence = rule.next_on_or_after(today)
            if task.occurrence is not None:  # None: the file made the rule undated (ongoing)
                note = t("update.next_occurrence", date=task.occurrence.strftime("%d/%m/%Y"))
                record_progress(
                    session, task, None, source=UpdateSource.SYSTEM, now=now,
                    status=TaskStatus.TODO, percent=0, note=note,
                )  # fmt: skip
        session.add(task)
    return [task for task in tasks if task.status != TaskStatus.DONE]


def _recipients(session: Session, task: Task, leaders: list[int]) -> list[int]:
    """The active assignees; else those holding the role the plan gives the task to; else the
    unit's heads; leaders among them follow the task through their brief instead, as all of
    them do a task of a unit with no head."""
    assigned = [member.id for member in assignees(session, task) if member.active]
    if assigned:
        return assigned
    if task.owner_role is not None:
        leading = set(leaders)
        return [member.id for member in role_holders(session, task) if member.id not in leading]
    heads = session.exec(
        select(Member.id)
        .join(Membership, col(Membership.member_id) == col(Member.id))
        .where(Membership.unit_id == task.unit_id, Membership.role == Role.UNIT_HEAD, Member.active)
        .order_by(col(Member.id))
    ).all()
    leading = set(leaders)
    return [head for head in heads if head not in leading]


def _latest_moment(
    due: date,
    policy: ReminderPolicy,
    calendar: SchoolCalendar,
    now: datetime,
    leads: tuple[int, ...],
) -> tuple[ReminderKind, str, date, datetime] | None:
    """The latest of the task's reminder moments that has come: (kind, lead, occurrence, at)."""
    latest = None
    for days in leads:
        at = calendar.next_open(calendar.at(due - timedelta(days=days), policy.at))
        kind = {0: ReminderKind.DUE_DAY, 1: ReminderKind.BEFORE_1D}.get(
            days, ReminderKind.BEFORE_7D
        )
        if at <= now and (latest is None or at > latest[3]):
            latest = (kind, f"before_{days}d", due, at)
    day = due + timedelta(days=policy.overdue_every_days)
    while (at := calendar.next_open(calendar.at(day, policy.at))) <= now:
        latest = (ReminderKind.OVERDUE, "overdue", day, at)
        day += timedelta(days=policy.overdue_every_days)
    return latest


def _task_reminders(
    session: Session,
    task: Task,
    rules: FollowUp,
    calendar: SchoolCalendar,
    now: datetime,
    leaders: list[int],
) -> list[Due]:
    due = task.deadline or task.occurrence
    if due is None:  # never due (ongoing, on request): the weekly check-in follows it
        return []
    policy = rules.policy.merged(task.reminders)
    wanted: list[Due] = []
    leads = policy.leads(recurrence_of(task.recurrence, rules.school_year))
    moment = _latest_moment(due, policy, calendar, now, leads)
    if moment is not None:
        kind, lead, occurrence, at = moment
        snoozes = _snoozes(session, task)
        for member in _recipients(session, task, leaders):
            send_at = max(at, snoozes.get(member, at))
            key = task_key(task.id, str(member), lead, occurrence)
            wanted.append(Due(key, kind, occurrence, send_at, task.id, recipient_id=member))
        if rules.group_reminders:
            for chat in session.exec(select(UnitChat).where(UnitChat.unit_id == task.unit_id)):
                key = task_key(task.id, f"g{chat.id}", lead, occurrence)
                wanted.append(Due(key, kind, occurrence, at, task.id, unit_chat_id=chat.id))
    return wanted


def _snoozes(session: Session, task: Task) -> dict[int, datetime]:
    rows = session.exec(select(Snooze).where(Snooze.task_id == task.id)).all()
    return {row.member_id: row.until for row in rows}


def _weekly_moment(calendar: SchoolCalendar, today: date, weekly: tuple[int, time]) -> datetime:
    weekday, moment = weekly
    return calendar.next_open(calendar.at(week_start(today) + timedelta(days=weekday), moment))


def _checkins(
    session: Session, school: School, rules: FollowUp, calendar: SchoolCalendar, now: datetime
) -> list[Due]:
    """Once a week, each unit head whose unit has open tasks is asked, unless the unit's heads
    or the leaders reported this week; reports by its other members do not spare the check-in,
    which is where the head sees them."""
    today = now.astimezone(calendar.tz).date()
    at = _weekly_moment(calendar, today, rules.checkin)
    if at > now:
        return []
    week = week_start(today)
    since = datetime.combine(week, time(0), calendar.tz)
    open_units = set(
        session.exec(
            select(Task.unit_id).where(
                Task.school_id == school.id, Task.status != TaskStatus.DONE, current()
            )
        ).all()
    )
    staff = (
        select(Membership.member_id)
        .where(Membership.unit_id == Task.unit_id, Membership.role == Role.STAFF)
        .correlate(Task)
    )
    followed_up = set(
        session.exec(
            select(Task.unit_id)
            .join(ProgressUpdate, col(ProgressUpdate.task_id) == col(Task.id))
            .where(Task.school_id == school.id, ProgressUpdate.created_at >= since, is_report())
            .where(
                or_(
                    col(ProgressUpdate.member_id).is_(None),
                    col(ProgressUpdate.member_id).not_in(staff),
                )
            )
        ).all()
    )
    heads = session.exec(
        select(Membership.unit_id, Membership.member_id)
        .join(Member, col(Member.id) == col(Membership.member_id))
        .where(
            col(Membership.unit_id).in_(open_units - followed_up),
            Membership.role == Role.UNIT_HEAD,
            Member.active,
        )
    ).all()
    return [
        Due(f"checkin:{unit}:{head}:{week}", ReminderKind.CHECKIN, week, at, unit_id=unit,
            recipient_id=head)
        for unit, head in sorted(heads)
    ]  # fmt: skip


def week_reports(
    session: Session, unit_id: int, since: datetime
) -> list[tuple[ProgressUpdate, Task, str]]:
    """The latest report on each task of the unit since `since` by someone other than its
    heads (assignees, members): what the head reads in the check-in."""
    heads = select(Membership.member_id).where(
        Membership.unit_id == unit_id, Membership.role == Role.UNIT_HEAD
    )
    rows = session.exec(
        select(ProgressUpdate, Task, Member.name)
        .join(Task, col(Task.id) == col(ProgressUpdate.task_id))
        .join(Member, col(Member.id) == col(ProgressUpdate.member_id))
        .where(
            Task.unit_id == unit_id,
            current(),
            ProgressUpdate.created_at >= since,
            is_report(),
            col(ProgressUpdate.member_id).not_in(heads),
        )
        .order_by(col(ProgressUpdate.created_at).desc(), col(ProgressUpdate.id).desc())
    ).all()
    latest: dict[int, tuple[ProgressUpdate, Task, str]] = {}
    for update, task, name in rows:
        latest.setdefault(task.id, (update, task, name))
    return sorted(latest.values(), key=lambda row: row[1].code)


def _briefs(
    session: Session,
    school: School,
    rules: FollowUp,
    calendar: SchoolCalendar,
    timing: Timing,
    leaders: list[int],
) -> list[Due]:
    """Each leader's brief: daily on each working morning, or weekly on the first working
    morning of the week (on that day only: the next one covers a week missed); skipped
    (recorded, not sent) when nothing is new since the last one."""
    today = timing.now.astimezone(calendar.tz).date()
    wanted = []
    members = session.exec(
        select(Member).where(col(Member.id).in_(leaders)).order_by(col(Member.id))
    )
    for member in members:
        if member.brief == BriefFrequency.OFF:
            continue
        day = today if member.brief == BriefFrequency.DAILY else week_start(today)
        at = calendar.next_open(calendar.at(day, rules.policy.at))
        key = brief_key(member.id, at.date())
        if at > timing.now or at.date() != today or _exists(session, key):
            continue  # a weekly brief is not made up later in the week
        due_at = timing.due_at(at)
        since = brief_since(session, member, due_at)
        brief = compile_brief(session, school, member, since, due_at)
        wanted.append(Due(key, ReminderKind.BRIEF, at.date(), at, recipient_id=member.id,
                          nothing_new=brief.is_empty))  # fmt: skip
    return wanted


def _exists(session: Session, key: str) -> bool:
    return session.exec(select(Reminder.id).where(Reminder.dedupe_key == key)).first() is not None


def _insert_new(
    session: Session, school: School, wanted: list[Due], timing: Timing
) -> list[Reminder]:
    keys = [due.key for due in wanted]
    existing = set(
        session.exec(select(Reminder.dedupe_key).where(col(Reminder.dedupe_key).in_(keys))).all()
    ) if keys else set()  # fmt: skip
    created = []
    for due in wanted:
        if due.key in existing:
            continue
        existing.add(due.key)
        row = Reminder(
            school_id=school.id,
            dedupe_key=due.key,
            task_id=due.task_id,
            unit_id=due.unit_id,
            recipient_id=due.recipient_id,
            unit_chat_id=due.unit_chat_id,
            kind=due.kind,
            occurrence=due.occurrence,
            due_at=timing.due_at(due.due_at),
        )
        if due.nothing_new:
            row.status, row.last_error = ReminderStatus.CANCELLED, "nothing new"
        try:
            with session.begin_nested():  # another instance may have planned it meanwhile
                session.add(row)
        except IntegrityError:
            continue
        if not due.nothing_new:
            created.append(row)
    return created


def plan_all(session: Session, now: datetime, defaults: CalendarDefaults) -> list[Reminder]:
    created = []
    for school in session.exec(select(School).order_by(col(School.id))).all():
        created += plan_school(session, school, now, defaults)
    return created
