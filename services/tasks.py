"""Finding tasks: by code (forgiving), the open tasks of a member, a task's recent history; the
school's tasks and units as its plan is now. Only current ones: an archived task (left out of a
re-imported plan) is found by `archived_task` alone."""

import difflib
from datetime import date

from sqlalchemy import ColumnElement, bindparam, func
from sqlalchemy.orm import defer
from sqlmodel import Session, col, or_, select
from sqlmodel.sql.expression import SelectOfScalar

from models import Member, ProgressUpdate, Task, TaskStatus, Unit
from services.permissions import Actor, can_update
from services.plan_text import due_order
from services.text import code_key, squashed


def current() -> ColumnElement[bool]:
    """A task of the plan as it is now: not archived."""
    return col(Task.archived_at).is_(None)


def current_tasks(session: Session, school_id: int) -> list[Task]:
    """The school's tasks as its plan is now, in the plan's order."""
    query = select(Task).where(Task.school_id == school_id, current()).order_by(col(Task.id))
    return list(session.exec(query).all())


def current_units(session: Session, school_id: int) -> list[Unit]:
    """The school's units as its plan is now (not taken out of it), in the plan's order."""
    query = (
        select(Unit)
        .where(Unit.school_id == school_id, col(Unit.archived_at).is_(None))
        .order_by(col(Unit.id))
    )
    return list(session.exec(query).all())


def find_task(session: Session, school_id: int, code: str) -> Task | None:
    """The task with that code in any case, spaces or hyphens standing for dots ("iii 1.4")."""
    same = [c for c in school_codes(session, school_id) if code_key(c) == code_key(code)]
    return find_tasks(session, school_id, same)[same[0]] if len(same) == 1 else None


def archived_task(session: Session, school_id: int, code: str) -> Task | None:
    """The archived task with that code, written the forgiving way, if only one has it."""
    rows = session.exec(
        select(Task)
        .where(Task.school_id == school_id, col(Task.archived_at).is_not(None))
        .order_by(col(Task.id))
    ).all()
    same = [task for task in rows if code_key(task.code) == code_key(code)]
    return same[0] if len(same) == 1 else None


def similar_codes(session: Session, school_id: int, code: str, limit: int = 3) -> list[str]:
    """Codes that start as written ("III.4." → III.4.1, III.4.2 …) or differ only in dots or
    spaces first, then the closest spellings."""
    codes = school_codes(session, school_id)
    key = code_key(code)
    starting = [c for c in codes if key and code_key(c).startswith(key + ".")]
    same_letters = [c for c in codes if squashed(c) == squashed(code)]
    by_upper = {c.upper(): c for c in codes}
    close = difflib.get_close_matches(code.strip().upper(), list(by_upper), n=limit, cutoff=0.6)
    found = starting + same_letters + [by_upper[c] for c in close]
    return list(dict.fromkeys(found))[:limit]


def _open_tasks(mine: ColumnElement[bool]) -> SelectOfScalar[Task]:
    """Built once; the list shows neither a task's description nor its reminder settings."""
    return (
        select(Task)
        .where(Task.school_id == bindparam("school"), Task.status != TaskStatus.DONE, current())
        .where(mine)
        # SQLModel types a column attribute as its value, not as the InstrumentedAttribute it is
        .options(defer(Task.description), defer(Task.reminders))  # type: ignore[arg-type]
    )


OPEN_IN_UNIT = _open_tasks(col(Task.unit_id) == bindparam("unit"))
OPEN_MINE = _open_tasks(
    or_(
        col(Task.unit_id).in_(bindparam("units", expanding=True)),
        col(Task.id).in_(bindparam("tasks", expanding=True)),
    )
)
SCHOOL_CODES = (
    select(Task.code).where(Task.school_id == bindparam("school"), current()).order_by(col(Task.id))
)
SHARED_CODES = (
    select(Task.code)
    .where(
        Task.school_id == bindparam("school"),
        col(Task.code).in_(bindparam("codes", expanding=True)),
        current(),
    )
    .group_by(Task.code)
    .having(func.count() > 1)
)
SHARES = (
    select(Task)
    .where(
        Task.school_id == bindparam("school"),
        col(Task.code).in_(bindparam("codes", expanding=True)),
        current(),
    )
    .order_by(col(Task.id))
)


def open_tasks(
    session: Session, actor: Actor, today: date, unit_id: int | None = None
) -> list[Task]:
    """Not-done tasks that are the member's to follow, most urgent first: the tasks of the units
    they head (or lead) and those given to them; or all of one unit's."""
    school = actor.member.school_id
    if unit_id is not None:
        rows = session.exec(OPEN_IN_UNIT, params={"school": school, "unit": unit_id})
    else:
        params = {"school": school, "units": actor.led_units, "tasks": list(actor.assigned)}
        rows = session.exec(OPEN_MINE, params=params)
    return sorted(rows.all(), key=lambda task: due_order(task, today))


def school_codes(session: Session, school_id: int) -> list[str]:
    codes = session.exec(SCHOOL_CODES, params={"school": school_id}).all()
    return list(dict.fromkeys(codes))


def shared_codes(session: Session, school_id: int, codes: list[str]) -> set[str]:
    """Which of `codes` name a task given to several units (a row per unit)."""
    if not codes:
        return set()
    return set(session.exec(SHARED_CODES, params={"school": school_id, "codes": codes}))


def find_tasks(
    session: Session, school_id: int, codes: list[str], actor: Actor | None = None
) -> dict[str, Task]:
    """Tasks by their exact codes (as the school spells them); of a task given to several units,
    the row of the one unit `actor` may update, else its first."""
    return {
        code: own_share(rows, actor)
        for code, rows in find_shares(session, school_id, codes).items()
    }


def find_shares(session: Session, school_id: int, codes: list[str]) -> dict[str, list[Task]]:
    """Every current row of each code: one, or one per unit a shared task is given to."""
    if not codes:
        return {}
    rows = session.exec(SHARES, params={"school": school_id, "codes": list(codes)}).all()
    found: dict[str, list[Task]] = {}
    for task in rows:
        found.setdefault(task.code, []).append(task)
    return found


def own_share(rows: list[Task], actor: Actor | None) -> Task:
    mine = [task for task in rows if actor is not None and can_update(actor, task)]
    return mine[0] if len(mine) == 1 else rows[0]


RECENT_UPDATES = (
    select(ProgressUpdate, Member.name)
    .join(Member, col(Member.id) == col(ProgressUpdate.member_id), isouter=True)
    .where(ProgressUpdate.task_id == bindparam("task"), col(ProgressUpdate.undone_at).is_(None))
    .order_by(col(ProgressUpdate.created_at).desc(), col(ProgressUpdate.id).desc())
    .limit(bindparam("limit"))
)


def recent_updates(
    session: Session, task: Task, limit: int = 5
) -> list[tuple[ProgressUpdate, str]]:
    rows = session.exec(RECENT_UPDATES, params={"task": task.id, "limit": limit}).all()
    return [(update, name or "—") for update, name in rows]
