"""The plan in the database: import a validated plan file (upsert by code), export it back."""

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import NotRequired, TypedDict
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, func, select

from messages import format_date, t
from models import (
    Direction,
    Holiday,
    Kpi,
    Member,
    ProgressUpdate,
    Role,
    School,
    Task,
    TaskStatus,
    Unit,
    UpdateSource,
)
from models.base import utcnow
from services.assignments import assignees, place_assignees, set_assignees
from services.people import fold_name
from services.plan_files import refusal
from services.plan_schema import (
    HolidayIn,
    KpiIn,
    Location,
    PlanFile,
    SchoolIn,
    ShareIn,
    TargetRange,
    TaskIn,
    UnitIn,
)
from services.progress import done_on, record_progress
from services.recurrence import Recurrence, recurrence_of
from services.school_settings import school_year_of
from services.task_shares import set_support, share_row, support_units
from services.tasks import current, current_tasks, current_units


@dataclass
class Tally:
    """How many rows of one kind an import created, updated and left as they were; for units and
    tasks, the codes of those it brought back from the archive, those it archived and the current
    ones the file leaves out but that stay (no `--prune`, or a unit with tasks still current)."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    restored: list[str] = field(default_factory=list)
    archived: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


@dataclass
class ImportSummary:
    school: str
    pruned: bool = False  # rows the file leaves out were to be archived
    kinds: dict[str, Tally] = field(
        default_factory=lambda: {kind: Tally() for kind in ("school", "units", "kpis", "tasks")}
    )

    def count(self, kind: str, *, created: bool = False, changed: bool = False) -> None:
        tally = self.kinds[kind]
        if created:
            tally.created += 1
        elif changed:
            tally.updated += 1
        else:
            tally.unchanged += 1


class _SchoolValues(TypedDict):
    name: str
    timezone: str
    plan_title: str | None
    settings: NotRequired[dict[str, object]]


class _UnitValues(TypedDict):
    name: str
    description: str | None


class _KpiValues(TypedDict):
    name: str
    measure: str | None
    direction: Direction
    target: float
    target_max: float | None
    target_text: str | None
    section: str | None


class _TaskValues(TypedDict):
    title: str
    description: str | None
    section: str | None
    unit_id: int
    deadline: date | None
    deadline_text: str | None
    recurrence: str | None
    date_proposed: bool
    owner_role: Role | None
    reminders: NotRequired[dict[str, object]]


def _apply(row: object, values: Mapping[str, object]) -> bool:
    """Set the values that differ; True if any did."""
    changed = {name: value for name, value in values.items() if getattr(row, name) != value}
    for name, value in changed.items():
        setattr(row, name, value)
    return bool(changed)


def import_plan(
    session: Session, plan: PlanFile, *, now: datetime | None = None, prune: bool = False
) -> ImportSummary:
    """Create or update the school's rows from `plan`; never deletes rows or progress history.
    A task's listed assignees become exactly its assignees; unlisted, they stay as they are.
    Current tasks and units the file leaves out are listed in the summary; with `prune` they are
    archived (a unit only once none of its tasks is current). An archived row the file lists is
    current again.

    The caller owns the transaction: on any error nothing of the import is kept. People the
    school does not know, or who may not carry out their task, refuse the plan (`PlanFileError`).
    """
    now = now or utcnow()
    summary = ImportSummary(school=plan.school.name, pruned=prune)
    school = _upsert_school(session, plan.school, summary)
    units = {
        unit.code.upper(): unit
        for unit in session.exec(select(Unit).where(Unit.school_id == school.id))
    }
    for unit_in in plan.units:
        units[unit_in.code.upper()] = _upsert_unit(session, school, units, unit_in, summary)
    session.flush()
    kpis = {
        (k.key, k.target_year): k
        for k in session.exec(select(Kpi).where(Kpi.school_id == school.id))
    }
    for kpi_in in plan.kpis:
        _upsert_kpi(session, school, kpis, kpi_in, summary)
    problems = _upsert_tasks(session, school, units, plan.tasks, now, summary)
    if problems:
        raise refusal(plan, problems)
    if plan.holidays is not None:
        _sync_holidays(session, school, plan.holidays)
    session.flush()
    _left_out(session, school, plan, now, summary)
    session.flush()
    return summary


def _left_out(
    session: Session, school: School, plan: PlanFile, now: datetime, summary: ImportSummary
) -> None:
    """The current tasks, then units, that the file does not list: archived when pruning (a unit
    only when none of its tasks is current any more), else only listed in the summary."""
    listed = {
        (task.code.upper(), share.unit.upper()) for task in plan.tasks for share in task.owners
    }
    tasks = session.exec(
        select(Task, Unit.code)
        .join(Unit, col(Unit.id) == col(Task.unit_id))
        .where(Task.school_id == school.id, current())
        .order_by(col(Task.id))
    ).all()
    codes = {code for code, _ in listed}
    for task, unit_code in tasks:
        if (task.code.upper(), unit_code.upper()) not in listed:
            label = f"{task.code} ({unit_code})" if task.code.upper() in codes else task.code
            _leave_out(task, now, summary.pruned, summary.kinds["tasks"], label)
    session.flush()
    listed_units = {unit.code.upper() for unit in plan.units}
    busy = {task.unit_id for task in current_tasks(session, school.id)}
    for unit in current_units(session, school.id):
        if unit.code.upper() not in listed_units:
            _leave_out(unit, now, summary.pruned and unit.id not in busy, summary.kinds["units"])


def _leave_out(
    row: Task | Unit, now: datetime, archive: bool, tally: Tally, label: str | None = None
) -> None:
    """`label` names a row of a task other units keep: "III.1.9 (TO_VAN)"."""
    if archive:
        row.archived_at = now
        tally.archived.append(label or row.code)
    else:
        tally.absent.append(label or row.code)


def _restore(row: Task | Unit, tally: Tally) -> bool:
    """An archived row the file lists again is current again; True if it was archived."""
    if row.archived_at is None:
        return False
    row.archived_at = None
    tally.restored.append(row.code)
    return True


def _sync_holidays(session: Session, school: School, holidays: list[HolidayIn]) -> None:
    """The file's holidays become the school's: this is configuration, not history."""
    wanted = {day: holiday.name for holiday in holidays for day in holiday.days}
    for existing in session.exec(select(Holiday).where(Holiday.school_id == school.id)):
        if existing.day in wanted:
            existing.name = wanted.pop(existing.day)
        else:
            session.delete(existing)
    session.add_all(
        Holiday(school_id=school.id, day=day, name=name) for day, name in wanted.items()
    )


def _upsert_school(session: Session, school_in: SchoolIn, summary: ImportSummary) -> School:
    school = session.exec(select(School).where(School.code == school_in.code)).first()
    values: _SchoolValues = {
        "name": school_in.name,
        "timezone": school_in.timezone,
        "plan_title": school_in.plan,
    }
    if school_in.settings is not None:  # a file without settings (Excel) keeps the school's
        values["settings"] = school_in.settings.model_dump(mode="json", exclude_none=True)
    if school is None:
        school = School(code=school_in.code, **values)
        session.add(school)
        session.flush()
        summary.count("school", created=True)
    else:
        summary.count("school", changed=_apply(school, values))
    return school


def _upsert_unit(
    session: Session,
    school: School,
    units: dict[str, Unit],
    unit_in: UnitIn,
    summary: ImportSummary,
) -> Unit:
    values: _UnitValues = {"name": unit_in.name, "description": unit_in.description}
    unit = units.get(unit_in.code.upper())
    if unit is None:
        unit = Unit(school_id=school.id, code=unit_in.code, **values)
        session.add(unit)
        summary.count("units", created=True)
    else:
        restored = _restore(unit, summary.kinds["units"])
        summary.count("units", changed=_apply(unit, values) or restored)
    return unit


def _upsert_kpi(
    session: Session,
    school: School,
    kpis: dict[tuple[str, int], Kpi],
    kpi_in: KpiIn,
    summary: ImportSummary,
) -> None:
    target, target_max = kpi_in.bounds
    assert kpi_in.direction is not None  # KpiIn's validation gives every KPI its direction
    values: _KpiValues = {
        "name": kpi_in.name,
        "measure": kpi_in.measure,
        "direction": kpi_in.direction,
        "target": target,
        "target_max": target_max,
        "target_text": kpi_in.target_text,
        "section": kpi_in.section,
    }
    kpi = kpis.get((kpi_in.key, kpi_in.year))
    if kpi is None:
        session.add(Kpi(school_id=school.id, key=kpi_in.key, target_year=kpi_in.year, **values))
        summary.count("kpis", created=True)
    else:
        summary.count("kpis", changed=_apply(kpi, values))


def _upsert_tasks(
    session: Session,
    school: School,
    units: dict[str, Unit],
    tasks_in: list[TaskIn],
    now: datetime,
    summary: ImportSummary,
) -> list[tuple[Location, str]]:
    """Create or update each task (a row for each unit it is given to) and, when the file lists
    them, its assignees; return the people who cannot be assignees (the caller refuses the plan
    then)."""
    rows: dict[str, list[Task]] = {}
    for row in session.exec(select(Task).where(Task.school_id == school.id).order_by(col(Task.id))):
        rows.setdefault(row.code.upper(), []).append(row)
    problems: list[tuple[Location, str]] = []
    school_year = school_year_of(school.settings)
    today = now.astimezone(ZoneInfo(school.timezone)).date()
    for index, task_in in enumerate(tasks_in):
        where: Location = ("tasks", index)
        found = rows.get(task_in.code.upper(), [])
        support = [units[code.upper()] for code in task_in.support or []]
        shares, created = [], []
        for number, share in enumerate(task_in.owners):
            unit = units[share.unit.upper()]
            values = _task_values(task_in, unit)
            task = share_row(found, unit, alone=task_in.units is None)
            if task is None:
                task = _new_task(session, school, task_in.code, values, now)
                created.append(task)
            changed = _restore(task, summary.kinds["tasks"])
            changed = _apply(task, values) or changed
            rule = recurrence_of(task.recurrence, school_year)
            changed = _keep_on_rule(task, rule, today) or changed
            changed = set_support(session, task, support) or changed
            at = (*where, "units", number) if task_in.units is not None else where
            changed = (
                _import_state(session, school, task, rule, share, now, at, problems) or changed
            )
            if rule is not None and task.occurrence is None:  # on the school's own calendar
                task.occurrence = rule.next_on_or_after(today)  # from the start, as planning does
            if changed:
                task.updated_at = now
            shares.append((task, changed))
        if task_in.assignees is not None:
            people = place_assignees(session, [task for task, _ in shares], task_in.assignees)
            problems += [((*where, "assignees", i), no.text()) for i, no in people.refused]
            for number, (task, changed) in enumerate(shares):
                mine = people.given[task.id]
                changed = set_assignees(session, task, mine, by=None, now=now) or changed
                shares[number] = task, changed
        summary.count(
            "tasks",
            created=len(created) == len(shares),
            changed=any(changed for _, changed in shares),
        )
    return problems


def _keep_on_rule(task: Task, rule: Recurrence | None, today: date) -> bool:
    """A recurring task's coming occurrence follows its rule as the file gives it now (another
    day, the school's own year): one still to come that the rule no longer has moves to the
    rule's next. A past one stays: the task was due then. True if it moved."""
    if rule is None or task.occurrence is None:
        return False
    if task.occurrence < today or rule.next_on_or_after(task.occurrence) == task.occurrence:
        return False
    task.occurrence = rule.next_on_or_after(today)
    return True


def _task_values(task_in: TaskIn, unit: Unit) -> _TaskValues:
    values: _TaskValues = {
        "title": task_in.title,
        "description": task_in.description,
        "section": task_in.section,
        "unit_id": unit.id,
        "deadline": task_in.deadline,
        "deadline_text": getattr(task_in.deadline, "written", None),  # "quý II/2026"
        "recurrence": task_in.recurrence,
        "date_proposed": task_in.deadline_source == "proposed",
        "owner_role": task_in.role,
    }
    if task_in.reminders is not None:
        values["reminders"] = task_in.reminders.model_dump(exclude_none=True)
    return values


def _import_state(
    session: Session,
    school: School,
    task: Task,
    rule: Recurrence | None,
    state: ShareIn,
    now: datetime,
    where: Location,
    problems: list[tuple[Location, str]],
) -> bool:
    """Record the state the file gives the task, if it differs from the task's, as an import
    update: dated the day it was done (00:00 at the school), else now. A recurring task's state
    is that of its occurrence under way (on the day it was done, else today); a done day before
    the occurrence the task is at now is history already and changes nothing. True if an update
    was recorded."""
    if state.status is None:
        return False
    tz = ZoneInfo(school.timezone)
    today = now.astimezone(tz).date()
    occurrence = rule.next_on_or_after(state.done_on or today) if rule else None
    if state.done_on and occurrence and task.occurrence and occurrence < task.occurrence:
        return False
    same = state.status == task.status and state.progress in (None, task.progress)
    if same and state.done_on in (None, done_on(session, task, tz)):
        return False
    at = now
    if state.done_on is not None:
        at = datetime.combine(state.done_on, time(), tz)
        problem = _done_on_problem(session, task, at, today, tz)
        if problem is not None:
            problems.append(((*where, "done_on"), problem))
            return False
    task.occurrence = task.occurrence or occurrence
    record_progress(
        session, task, None, source=UpdateSource.IMPORT, now=at,
        status=state.status, percent=state.progress,
    )  # fmt: skip
    return True


def _done_on_problem(
    session: Session, task: Task, at: datetime, today: date, tz: ZoneInfo
) -> str | None:
    """Why a task cannot be recorded done at `at`: the day is still to come, or a report on the
    task came later (its history would read out of order)."""
    day = at.date()
    if day > today:
        return t("plan.done_on_future", value=format_date(day), today=format_date(today))
    last = session.exec(
        select(func.max(ProgressUpdate.created_at)).where(
            ProgressUpdate.task_id == task.id, col(ProgressUpdate.undone_at).is_(None)
        )
    ).one()
    if last is not None and at < last:
        return t("plan.done_on_before_report", value=format_date(day), last=format_date(last, tz))
    return None


def _new_task(
    session: Session, school: School, code: str, values: _TaskValues, now: datetime
) -> Task:
    task = Task(school_id=school.id, code=code, created_at=now, updated_at=now, **values)
    session.add(task)
    session.flush()  # its assignees need its id
    return task


def _target(kpi: Kpi) -> float | bool | TargetRange:
    """The KPI's target as the plan file writes it: yes/no, a number or a range."""
    if kpi.direction == Direction.YES_NO:
        return bool(kpi.target)
    if kpi.direction == Direction.BETWEEN and kpi.target_max is not None:
        return TargetRange(kpi.target, kpi.target_max)
    return kpi.target


def export_plan(session: Session, school: School) -> PlanFile:
    units = current_units(session, school.id)
    unit_codes = {unit.id: unit.code for unit in units}
    kpis = session.exec(
        select(Kpi).where(Kpi.school_id == school.id).order_by(col(Kpi.target_year), col(Kpi.id))
    ).all()
    tasks = current_tasks(session, school.id)
    holidays = session.exec(
        select(Holiday).where(Holiday.school_id == school.id).order_by(col(Holiday.day))
    ).all()
    written = _how_written(session, school)
    tz = ZoneInfo(school.timezone)
    return PlanFile(
        school=SchoolIn(
            code=school.code,
            name=school.name,
            timezone=school.timezone,
            plan=school.plan_title,
            settings=school.settings or None,
        ),
        units=[UnitIn(code=u.code, name=u.name, description=u.description) for u in units],
        kpis=[
            KpiIn(
                key=k.key,
                name=k.name,
                measure=k.measure,
                direction=k.direction,
                target=_target(k),
                target_text=k.target_text,
                year=k.target_year,
                section=k.section,
            )
            for k in kpis
        ],
        tasks=[_task_out(session, shares, unit_codes, written, tz) for shares in _by_code(tasks)],
        holidays=_holiday_ranges(holidays) or None,
    )


def _by_code(tasks: list[Task]) -> list[list[Task]]:
    """Rows grouped by code (a shared task's units), in the order the codes first appear."""
    groups: dict[str, list[Task]] = {}
    for task in tasks:
        groups.setdefault(task.code.upper(), []).append(task)
    return list(groups.values())


def _task_out(
    session: Session,
    shares: list[Task],
    unit_codes: dict[int, str],
    written: Callable[[Member], str],
    tz: ZoneInfo,
) -> TaskIn:
    """A task as the plan file writes it: its one unit and state, or each unit with its own."""
    task = shares[0]
    people = [written(m) for share in shares for m in assignees(session, share)]
    owners: dict[str, object] = (
        {"unit": unit_codes[task.unit_id], **_state(session, task, tz)}
        if len(shares) == 1
        else {
            "units": [
                ShareIn(unit=unit_codes[share.unit_id], **_state(session, share, tz))
                for share in shares
            ]
        }
    )
    return TaskIn(
        code=task.code,
        title=task.title,
        description=task.description,
        section=task.section,
        support=[unit.code for unit in support_units(session, task)] or None,
        role=task.owner_role,
        deadline=task.deadline_text or task.deadline,
        recurrence=task.recurrence,
        deadline_source="proposed" if task.date_proposed else None,
        reminders=task.reminders,
        assignees=list(dict.fromkeys(people)) or None,
        **owners,
    )


def _state(session: Session, task: Task, tz: ZoneInfo) -> dict[str, object]:
    """The task's state as a plan file writes it: nothing for a task not started."""
    if task.status == TaskStatus.TODO and task.progress == 0:
        return {}
    return {"status": task.status, "progress": task.progress, "done_on": done_on(session, task, tz)}


def _how_written(session: Session, school: School) -> Callable[[Member], str]:
    """How a plan file names a person: by name, or by phone when someone else has that name."""
    members = session.exec(select(Member).where(Member.school_id == school.id, Member.active))
    names = Counter(fold_name(member.name) for member in members)
    return lambda m: m.phone if m.phone and names[fold_name(m.name)] > 1 else m.name


def _holiday_ranges(holidays: Sequence[Holiday]) -> list[HolidayIn]:
    """Consecutive days with the same name read back as one range."""
    ranges: list[HolidayIn] = []
    for holiday in holidays:
        last = ranges[-1] if ranges else None
        end = (last.until or last.date) if last else None
        if (
            last
            and end
            and last.name == holiday.name
            and end.toordinal() + 1 == holiday.day.toordinal()
        ):
            ranges[-1] = HolidayIn(date=last.date, until=holiday.day, name=last.name)
        else:
            ranges.append(HolidayIn(date=holiday.day, name=holiday.name))
    return ranges
