"""Finding tasks: by code (forgiving), the open tasks of a member, a task's recent history."""

import difflib
import re
from datetime import date

from sqlmodel import Session, col, func, or_, select

from models import Member, ProgressUpdate, Task, TaskStatus
from services.permissions import Actor
from services.plan_text import next_due


def _squash(code: str) -> str:
    return re.sub(r"[^0-9A-Z]", "", code.upper())


def find_task(session: Session, school_id: int, code: str) -> Task | None:
    """Exactly that code, in any case. A near miss is never taken for a task: it is suggested."""
    return session.exec(
        select(Task).where(
            Task.school_id == school_id, func.upper(Task.code) == code.strip().upper()
        )
    ).first()


def similar_codes(session: Session, school_id: int, code: str, limit: int = 3) -> list[str]:
    """Codes that differ only in dots or spaces first, then the closest spellings."""
    codes = session.exec(select(Task.code).where(Task.school_id == school_id)).all()
    same_letters = [c for c in codes if _squash(c) == _squash(code)]
    by_upper = {c.upper(): c for c in codes}
    close = difflib.get_close_matches(code.strip().upper(), list(by_upper), n=limit, cutoff=0.6)
    return list(dict.fromkeys(same_letters + [by_upper[c] for c in close]))[:limit]


def open_tasks(
    session: Session, actor: Actor, today: date, unit_id: int | None = None
) -> list[Task]:
    """Not-done tasks of the member and their units (or of one unit), nearest deadline first."""
    query = select(Task).where(
        Task.school_id == actor.member.school_id, Task.status != TaskStatus.DONE
    )
    if unit_id is not None:
        query = query.where(Task.unit_id == unit_id)
    else:
        query = query.where(
            or_(col(Task.unit_id).in_(list(actor.roles)), Task.assignee_id == actor.member.id)
        )
    return sorted(session.exec(query).all(), key=lambda task: (next_due(task, today), task.code))


def recent_updates(
    session: Session, task: Task, limit: int = 5
) -> list[tuple[ProgressUpdate, str]]:
    rows = session.exec(
        select(ProgressUpdate, Member.name)
        .join(Member, col(Member.id) == col(ProgressUpdate.member_id), isouter=True)
        .where(ProgressUpdate.task_id == task.id, col(ProgressUpdate.undone_at).is_(None))
        .order_by(col(ProgressUpdate.created_at).desc(), col(ProgressUpdate.id).desc())
        .limit(limit)
    ).all()
    return [(update, name or "—") for update, name in rows]
