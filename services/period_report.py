"""The facts of the official periodic report (báo cáo định kỳ): a month (2026-12) or a quarter
(2026-Q4) in the school's zone, as the plan stood at its end. Numbers only; services/report_docx.py
writes the document, handlers/reports.py the chat summary.

Everything is as of the period's end (or now, for the period under way), by the digest's replay
of the history (services/digest.py, services/history.py): a report of a past month reads as it
did then. Every current task is classified with the follow-up categories of the Government's
task tracking (hệ thống theo dõi nhiệm vụ):

- done on time (hoàn thành đúng hạn): done on or before its due day;
- done late (hoàn thành quá hạn): done after it;
- not done, within the deadline (chưa hoàn thành, còn trong hạn): due on the period's last day
  or later;
- not done and overdue (chưa hoàn thành, quá hạn): due before the period's last day.

A task that is never due (ongoing, "thường xuyên"; on request, "khi có yêu cầu") fits none of
them: it goes to a separate group, with its progress. A recurring task counts once per
occurrence falling in the period: each one done (its "done" report names the occurrence), and
the one under way at the end when it is due by then; one done in the period but due before it
counts too (late). A recurring task with no occurrence in the period counts once, with its next
one (within the deadline). Occurrences never reached (the bot keeps an overdue occurrence until
it is done) are not invented: the overdue one stands for them.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import or_
from sqlmodel import Session, col, select

from models import (
    Member,
    Membership,
    ProgressUpdate,
    Role,
    School,
    Task,
    TaskStatus,
    Unit,
)
from services.digest import KpiItem, TaskItem, compile_digest, last_moment_day, period_reports

PERIOD = re.compile(r"(\d{4})-(?:(\d{1,2})|[Qq]([1-4]))")
PLAN_NUMBER = re.compile(r"số\s*(\d+)\s*/\s*([A-ZĐ]+)\s*-\s*([0-9A-ZĐ]+)", re.IGNORECASE)
ROMAN = ("I", "II", "III", "IV")


class PeriodKind(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"


@dataclass(frozen=True)
class Period:
    kind: PeriodKind
    year: int
    number: int  # the month (1-12) or the quarter (1-4)

    @property
    def label(self) -> str:
        """2026-12, 2026-Q4: as typed on the command line, and the file's name."""
        if self.kind == PeriodKind.MONTH:
            return f"{self.year}-{self.number:02d}"
        return f"{self.year}-Q{self.number}"

    @property
    def roman(self) -> str:
        return ROMAN[self.number - 1]

    @property
    def first_day(self) -> date:
        month = self.number if self.kind == PeriodKind.MONTH else 3 * self.number - 2
        return date(self.year, month, 1)

    @property
    def next(self) -> "Period":
        last = 12 if self.kind == PeriodKind.MONTH else 4
        if self.number == last:
            return Period(self.kind, self.year + 1, 1)
        return Period(self.kind, self.year, self.number + 1)

    @property
    def last_day(self) -> date:
        return date.fromordinal(self.next.first_day.toordinal() - 1)

    def starts(self, tz: ZoneInfo) -> datetime:
        return datetime.combine(self.first_day, time(0), tz)

    def ends(self, tz: ZoneInfo) -> datetime:
        """The next period's first moment: the period is [starts, ends)."""
        return self.next.starts(tz)


def parse_period(text: str) -> Period:
    """'2026-12' (a month) or '2026-Q4' (a quarter); ValueError for anything else."""
    match = PERIOD.fullmatch(text.strip())
    if match is None:
        raise ValueError(text)
    year = int(match[1])
    if match[2] is not None:
        month = int(match[2])
        if not 1 <= month <= 12:
            raise ValueError(text)
        return Period(PeriodKind.MONTH, year, month)
    return Period(PeriodKind.QUARTER, year, int(match[3]))


def period_of(kind: PeriodKind, today: date, number: int | None = None) -> Period:
    """The month or quarter under way on `today`; with `number`, that month or quarter of this
    year, or of last year if it has not begun yet ("tháng 11" asked in February)."""
    current = today.month if kind == PeriodKind.MONTH else (today.month - 1) // 3 + 1
    if number is None:
        return Period(kind, today.year, current)
    if not 1 <= number <= (12 if kind == PeriodKind.MONTH else 4):
        raise ValueError(number)
    return Period(kind, today.year if number <= current else today.year - 1, number)


class Category(StrEnum):
    ON_TIME = "on_time"  # hoàn thành đúng hạn
    LATE = "late"  # hoàn thành quá hạn
    IN_TIME = "in_time"  # chưa hoàn thành, còn trong hạn
    OVERDUE = "overdue"  # chưa hoàn thành, đã quá hạn
    ONGOING = "ongoing"  # không có hạn: thường xuyên, khi có yêu cầu


FOLLOWED = (Category.ON_TIME, Category.LATE, Category.IN_TIME, Category.OVERDUE)


@dataclass(frozen=True)
class Entry:
    """A task, or one occurrence of a recurring task, in its category."""

    task: TaskItem
    category: Category
    due: date | None  # the deadline or the occurrence; None for a task never due
    done_on: date | None  # the day it was done, for the done categories
    progress: int  # of the task at the period's end; 100 for a done occurrence
    recurrence: str | None  # the rule of a recurring task

    @property
    def days_late(self) -> int:
        """How many days after its due day it was done (0 for one not done)."""
        if self.due is None or self.done_on is None:
            return 0
        return max((self.done_on - self.due).days, 0)


@dataclass(frozen=True)
class UnitNote:
    """The latest note a unit wrote on a task in the period."""

    code: str
    title: str
    unit: str
    who: str | None
    at: datetime
    note: str


@dataclass(frozen=True)
class PeriodReport:
    school_id: int
    school_name: str
    school_code: str
    plan_title: str | None
    timezone: str
    period: Period
    start: datetime
    end: datetime  # the period's end, or the moment it was compiled for the period under way
    as_of: date  # the day of the last moment counted
    complete: bool  # the whole period has passed
    entries: tuple[Entry, ...]  # by due day (never due last), then code and unit
    kpis: tuple[KpiItem, ...]
    notes: tuple[UnitNote, ...]  # oldest first
    units: int  # units with tasks
    updates: int  # reports in the period
    done_in_period: int  # entries done within the period
    principal: str | None  # the name of the school's principal, for the signature

    def of(self, category: Category) -> tuple[Entry, ...]:
        return tuple(entry for entry in self.entries if entry.category == category)

    @property
    def counts(self) -> dict[Category, int]:
        return {category: len(self.of(category)) for category in Category}

    @property
    def followed(self) -> int:
        """The entries with a due day: those the four categories share."""
        return sum(self.counts[category] for category in FOLLOWED)

    @property
    def plan_number(self) -> str | None:
        """28/KH-THCSTT2, from the plan's title ("Kế hoạch số 28/KH-THCSTT2 ngày …")."""
        match = PLAN_NUMBER.search(self.plan_title or "")
        return f"{match[1]}/{match[2].upper()}-{match[3].upper()}" if match else None

    @property
    def issuer_code(self) -> str:
        """The school's abbreviation in document numbers: THCSTT2, from the plan's number, else
        from the school's code."""
        match = PLAN_NUMBER.search(self.plan_title or "")
        if match:
            return match[3].upper()
        return re.sub(r"[^0-9A-ZĐ]", "", self.school_code.upper()) or self.school_code


class FuturePeriod(ValueError):
    """The period has not begun: there is nothing to report yet."""


def compile_period_report(
    session: Session, school: School, period: Period, now: datetime
) -> PeriodReport:
    tz = ZoneInfo(school.timezone)
    start, period_end = period.starts(tz), period.ends(tz)
    if start > now:
        raise FuturePeriod(period.label)
    end = min(period_end, now)
    digest = compile_digest(session, school, start=start, end=end)
    as_of = last_moment_day(end, tz)
    tasks = {
        task.id: task
        for task in session.exec(
            select(Task).where(col(Task.id).in_([item.task_id for item in digest.tasks]))
        ).all()
    }
    done = _done_occurrences(session, school, end)
    entries: list[Entry] = []
    for item in digest.tasks:
        rule = tasks[item.task_id].recurrence
        if rule and item.due is not None:
            found = done.get(item.task_id, {})
            entries += _occurrences(item, rule, found, period, tz, as_of)
        else:
            entries.append(_entry(item, tz, as_of, rule))
    entries.sort(key=lambda e: (e.due or date.max, e.task.code, e.task.unit))
    in_period = [
        entry
        for entry in entries
        if entry.done_on is not None and period.first_day <= entry.done_on <= as_of
    ]
    return PeriodReport(
        school_id=school.id,
        school_name=school.name,
        school_code=school.code,
        plan_title=school.plan_title,
        timezone=school.timezone,
        period=period,
        start=start,
        end=end,
        as_of=as_of,
        complete=end == period_end,
        entries=tuple(entries),
        kpis=digest.kpis,
        notes=_notes(session, school, start, end),
        units=len(digest.units),
        updates=digest.totals.updates,
        done_in_period=len(in_period),
        principal=_principal(session, school),
    )


def _entry(item: TaskItem, tz: ZoneInfo, as_of: date, recurrence: str | None = None) -> Entry:
    """A task (or a recurring task's occurrence under way) by its state at the end: overdue when
    due before `as_of`, the last day counted, as the digest says."""
    due = item.due
    if due is None:
        return Entry(item, Category.ONGOING, None, None, item.progress, recurrence)
    if item.status == TaskStatus.DONE:
        done_on = item.done_at.astimezone(tz).date() if item.done_at else due
        category = Category.ON_TIME if done_on <= due else Category.LATE
        return Entry(item, category, due, done_on, 100, recurrence)
    category = Category.IN_TIME if due >= as_of else Category.OVERDUE
    return Entry(item, category, due, None, item.progress, recurrence)


def _occurrences(
    item: TaskItem,
    rule: str,
    done: dict[date, datetime],
    period: Period,
    tz: ZoneInfo,
    as_of: date,
) -> list[Entry]:
    """A recurring task's occurrences of the period: the ones done (due in the period, or done
    in it), then the one under way at the end if it is due by the period's last day; else that
    one alone, the next to come."""
    entries = []
    for occurrence, at in sorted(done.items()):
        if occurrence == item.due:
            continue  # the one under way: its state says it
        done_on = at.astimezone(tz).date()
        in_period = period.first_day <= occurrence <= period.last_day
        if in_period or period.first_day <= done_on <= period.last_day:
            category = Category.ON_TIME if done_on <= occurrence else Category.LATE
            entries.append(Entry(item, category, occurrence, done_on, 100, rule))
    current = _entry(item, tz, as_of, rule)
    if current.due is not None and (current.due <= period.last_day or not entries):
        entries.append(current)
    return entries


def _done_occurrences(
    session: Session, school: School, end: datetime
) -> dict[int, dict[date, datetime]]:
    """Task id -> occurrence -> when it was last marked done, as the history stood at `end`."""
    rows = session.exec(
        select(ProgressUpdate)
        .join(Task, col(Task.id) == col(ProgressUpdate.task_id))
        .where(
            Task.school_id == school.id,
            col(Task.recurrence).is_not(None),
            col(ProgressUpdate.occurrence).is_not(None),
            ProgressUpdate.status == TaskStatus.DONE,
            ProgressUpdate.created_at < end,
            or_(col(ProgressUpdate.undone_at).is_(None), col(ProgressUpdate.undone_at) >= end),
        )
        .order_by(col(ProgressUpdate.created_at), col(ProgressUpdate.id))
    ).all()
    result: dict[int, dict[date, datetime]] = {}
    for update in rows:
        if update.occurrence is not None:
            result.setdefault(update.task_id, {})[update.occurrence] = update.created_at
    return result


def _notes(
    session: Session, school: School, start: datetime, end: datetime
) -> tuple[UnitNote, ...]:
    """The latest note per task and unit among the period's reports (a shared task has one row
    per unit), oldest first."""
    units = dict(session.exec(select(Unit.id, Unit.name).where(Unit.school_id == school.id)).all())
    latest: dict[int, UnitNote] = {}
    for update, task, member in period_reports(session, school.id, start, end):
        note = " ".join((update.note or "").split())
        if note:
            latest[task.id] = UnitNote(
                task.code, task.title, units[task.unit_id], member.name if member else None,
                update.created_at, note,
            )  # fmt: skip
    return tuple(sorted(latest.values(), key=lambda n: n.at))


def _principal(session: Session, school: School) -> str | None:
    name = session.exec(
        select(Member.name)
        .join(Membership, col(Membership.member_id) == col(Member.id))
        .where(Member.school_id == school.id, Member.active, Membership.role == Role.PRINCIPAL)
        .order_by(col(Member.id))
    ).first()
    return name
