"""A task given to several units ("các Tổ chuyên môn … hoàn thành kế hoạch của Tổ") is a row per
unit under one code, each unit reporting its own part; the task is done when every part is.
Units coordinating on a task (phối hợp) see it and its progress; its own units report."""

from collections.abc import Sequence

from sqlalchemy import bindparam
from sqlmodel import Session, col, func, select

from models import Task, TaskSupport, Unit
from services.tasks import current


def share_row(rows: Sequence[Task], unit: Unit, *, alone: bool) -> Task | None:
    """Of the rows a code has, the one of `unit`; a task given to one unit alone keeps its one
    row when the file gives it to another unit (its history goes with it)."""
    same = next((row for row in rows if row.unit_id == unit.id), None)
    if same is not None or not alone:
        return same
    current = [row for row in rows if row.archived_at is None]
    return current[0] if len(current) == 1 else None


def set_support(session: Session, task: Task, units: list[Unit]) -> bool:
    """Make `units` exactly the task's coordinating units; True if anything changed."""
    wanted = {unit.id for unit in units}
    rows = session.exec(select(TaskSupport).where(TaskSupport.task_id == task.id)).all()
    have = {row.unit_id for row in rows}
    for row in rows:
        if row.unit_id not in wanted:
            session.delete(row)
    session.add_all(TaskSupport(task_id=task.id, unit_id=unit) for unit in wanted - have)
    return wanted != have


# Built once (a chat update asks them for each task it shows).
SUPPORT_UNITS = (
    select(Unit)
    .join(TaskSupport, col(TaskSupport.unit_id) == col(Unit.id))
    .where(TaskSupport.task_id == bindparam("task"))
    .order_by(col(Unit.id))
)
SAME_CODE = (Task.school_id == bindparam("school"), Task.code == bindparam("code"), current())
OTHER_SHARES = select(func.count()).where(*SAME_CODE, Task.id != bindparam("task"))
SHARES_OF = select(Task).where(*SAME_CODE).order_by(col(Task.id))


def support_units(session: Session, task: Task) -> list[Unit]:
    return list(session.exec(SUPPORT_UNITS, params={"task": task.id}).all())


def is_shared(session: Session, task: Task) -> bool:
    """Whether the task is one unit's part of a task given to several."""
    params = {"school": task.school_id, "code": task.code, "task": task.id}
    return session.exec(OTHER_SHARES, params=params).one() > 0


def shares_of(session: Session, task: Task) -> list[Task]:
    """Every current row of the task's code (the task itself when it is given to one unit)."""
    params = {"school": task.school_id, "code": task.code}
    return list(session.exec(SHARES_OF, params=params).all())
