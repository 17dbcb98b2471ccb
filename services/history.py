"""The plan as it stood at a moment: each task's status, progress and occurrence replayed from its
history of updates and undos, so a past week reads as it did then, whatever came later."""

from dataclasses import dataclass, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, or_
from sqlmodel import Session, col, select

from models import ProgressUpdate, School, Task, TaskStatus, UpdateSource
from services.progress import NOT_REPORTS
from services.recurrence import parse_recurrence
from services.school_settings import SchoolYear, school_year_of


@dataclass(frozen=True)
class TaskState:
    status: TaskStatus = TaskStatus.TODO
    progress: int = 0
    occurrence: date | None = None  # a recurring task's occurrence under way
    done_at: datetime | None = None  # when it was last marked done, if it is done
    blocked_by: ProgressUpdate | None = None  # the report that blocked it, if it is blocked
    last_report: datetime | None = None


def reported_by(moment: datetime) -> ColumnElement[bool]:
    """An update that counted as a report at `moment`: made by a person (not the bot moving a
    recurring task on, nor a plan file's import), and not undone before `moment`."""
    return and_(
        col(ProgressUpdate.source).not_in(NOT_REPORTS),
        or_(col(ProgressUpdate.undone_at).is_(None), col(ProgressUpdate.undone_at) >= moment),
    )


def states_at(session: Session, school: School, moment: datetime) -> dict[int, TaskState]:
    """Task id -> its state at `moment`, for the school's tasks that existed by then and were
    not archived yet."""
    school_id = school.id
    tasks = session.exec(
        select(Task)
        .where(
            Task.school_id == school_id,
            Task.created_at <= moment,
            or_(col(Task.archived_at).is_(None), col(Task.archived_at) >= moment),
        )
        .order_by(col(Task.id))
    ).all()
    updates = session.exec(
        select(ProgressUpdate)
        .join(Task, col(Task.id) == col(ProgressUpdate.task_id))
        .where(Task.school_id == school_id, ProgressUpdate.created_at < moment)
        .order_by(col(ProgressUpdate.created_at), col(ProgressUpdate.id))
    ).all()
    moved_later = set(
        session.exec(
            select(ProgressUpdate.task_id)
            .join(Task, col(Task.id) == col(ProgressUpdate.task_id))
            .where(
                Task.school_id == school_id,
                ProgressUpdate.source == UpdateSource.SYSTEM,
                ProgressUpdate.created_at >= moment,
            )
        ).all()
    )
    events: list[tuple[datetime, int, int, ProgressUpdate]] = []
    for update in updates:
        events.append((update.created_at, 0, update.id, update))
        if update.undone_at is not None and update.undone_at < moment:
            events.append((update.undone_at, 1, update.id, update))
    events.sort(key=lambda event: event[:3])

    stacks: dict[int, list[TaskState]] = {}
    states: dict[int, TaskState] = {}
    for at, undo, _, update in events:
        state = states.get(update.task_id, TaskState())
        stack = stacks.setdefault(update.task_id, [])
        if undo:
            states[update.task_id] = (
                stack.pop()
                if stack
                else replace(
                    state, status=update.previous_status, progress=update.previous_progress
                )
            )
            continue
        stack.append(state)
        states[update.task_id] = _apply(state, update, at)

    tz = ZoneInfo(school.timezone)
    school_year = school_year_of(school.settings)
    result = {}
    for task in tasks:
        state = states.get(task.id, TaskState())
        if task.recurrence and state.occurrence is None:
            first = _first_occurrence(task, task.id in moved_later, tz, school_year)
            state = replace(state, occurrence=first)
        result[task.id] = state
    return result


def _apply(state: TaskState, update: ProgressUpdate, at: datetime) -> TaskState:
    """The state after `update`; evidence (no status, no percent) changes only the last report.
    Being done dates from the first "done" in a row, being blocked from the latest blocker."""
    status = TaskStatus(update.status) if update.status is not None else state.status
    done_at = None
    if status == TaskStatus.DONE:
        done_at = state.done_at if state.status == TaskStatus.DONE else at
    blocked_by = None
    if status == TaskStatus.BLOCKED:
        blocked_by = update if update.status == TaskStatus.BLOCKED else state.blocked_by
    return TaskState(
        status=status,
        progress=update.percent if update.percent is not None else state.progress,
        occurrence=update.occurrence or state.occurrence,
        done_at=done_at,
        blocked_by=blocked_by,
        last_report=state.last_report if update.source in NOT_REPORTS else at,
    )


def _first_occurrence(
    task: Task, moved_later: bool, tz: ZoneInfo, school_year: SchoolYear | None
) -> date | None:
    """A recurring task no update spoke of yet: its occurrence now, unless the bot moved it on
    after the moment; then the first one from the day it was created."""
    if not moved_later:
        return task.occurrence
    created = task.created_at.astimezone(tz).date()
    return parse_recurrence(task.rule, school_year).next_on_or_after(created)
