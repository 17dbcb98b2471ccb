"""Who carries out a task: its assignees, who may be one, and telling each new one once."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam
from sqlmodel import Session, col, or_, select

from messages import t
from models import Member, Membership, Reminder, ReminderKind, Task, TaskAssignee, Unit
from services.people import fold_name, normalize_phone
from services.permissions import LEADERS

ASSIGNEES = (
    select(Member)
    .join(TaskAssignee, col(TaskAssignee.member_id) == col(Member.id))
    .where(TaskAssignee.task_id == bindparam("task"))
    .order_by(col(TaskAssignee.assigned_at), col(Member.id))
)  # built once: asked for each task shown or reminded of


def assignees(session: Session, task: Task) -> list[Member]:
    return list(session.exec(ASSIGNEES, params={"task": task.id}).all())


def role_holders(session: Session, task: Task) -> list[Member]:
    """Who holds the role the plan gives the task to ("Hiệu trưởng phụ trách chung"): in the
    school for a leader's role, in the task's unit for a head's or a teacher's."""
    if task.owner_role is None:
        return []
    query = (
        select(Member)
        .join(Membership, col(Membership.member_id) == col(Member.id))
        .where(
            Member.school_id == task.school_id, Member.active, Membership.role == task.owner_role
        )
        .order_by(col(Member.name), col(Member.id))
    )
    if task.owner_role not in LEADERS:
        query = query.where(Membership.unit_id == task.unit_id)
    return list({member.id: member for member in session.exec(query)}.values())


def candidates(session: Session, task: Task) -> list[Member]:
    """Who may carry out the task: active members of its unit or of the leadership."""
    rows = session.exec(
        select(Member)
        .join(Membership, col(Membership.member_id) == col(Member.id))
        .where(
            Member.school_id == task.school_id,
            Member.active,
            or_(Membership.unit_id == task.unit_id, col(Membership.role).in_(LEADERS)),
        )
        .order_by(col(Member.name), col(Member.id))
    ).all()
    return list({member.id: member for member in rows}.values())


def assign(
    session: Session, task: Task, members: list[Member], *, by: Member | None, now: datetime
) -> list[Member]:
    """Add `members` to the task's assignees; each new one is told once (an outbox row).
    Returns the members who were not assigned before."""
    current = {member.id for member in assignees(session, task)}
    unique = {member.id: member for member in members}
    added = [member for member in unique.values() if member.id not in current]
    for member in added:
        session.add(
            TaskAssignee(
                task_id=task.id,
                member_id=member.id,
                assigned_at=now,
                assigned_by_id=by.id if by else None,
            )
        )
        _tell(session, task, member, now)
    session.flush()
    return added


def set_assignees(
    session: Session, task: Task, members: list[Member], *, by: Member | None, now: datetime
) -> bool:
    """Make `members` exactly the task's assignees (a plan import); True if anything changed."""
    wanted = {member.id for member in members}
    removed = [
        row
        for row in session.exec(select(TaskAssignee).where(TaskAssignee.task_id == task.id))
        if row.member_id not in wanted
    ]
    for row in removed:
        session.delete(row)
    added = assign(session, task, members, by=by, now=now)
    return bool(removed or added)


def _tell(session: Session, task: Task, member: Member, now: datetime) -> None:
    key = f"assigned:{task.id}:{member.id}"
    if session.exec(select(Reminder.id).where(Reminder.dedupe_key == key)).first() is not None:
        return  # told before (assigned, removed, assigned again): once is enough
    session.add(
        Reminder(
            school_id=task.school_id,
            dedupe_key=key,
            task_id=task.id,
            recipient_id=member.id,
            kind=ReminderKind.ASSIGNED,
            occurrence=now.date(),
            due_at=now,
        )
    )


class NotAssignable(Exception):
    """Why a name or phone cannot be one of a task's assignees: a catalogue key and its
    parameters, for each caller to word (a plan file, the command line, the chat)."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params

    def text(self, locale: str | None = None) -> str:
        return t(self.key, locale, **self.params)


def find_people(session: Session, school_id: int, text: str) -> list[Member]:
    """The school's active members `text` names: a phone number in any usual spelling, or a full
    name as in the staff list (case and spacing aside; diacritics count: Hoa is not Hòa)."""
    members = select(Member).where(Member.school_id == school_id, Member.active)
    phone = normalize_phone(text)
    if phone is not None:
        return list(session.exec(members.where(Member.phone == phone).order_by(col(Member.id))))
    name = fold_name(text)
    return [m for m in session.exec(members.order_by(col(Member.id))) if fold_name(m.name) == name]


def find_assignee(session: Session, task: Task, text: str) -> Member:
    """The one member `text` names who may carry out `task`; else `NotAssignable` says why."""
    found = find_people(session, task.school_id, text)
    if not found:
        raise _nobody(session, task.school_id, text)
    if len(found) > 1:
        raise NotAssignable("person.ambiguous", value=" ".join(text.split()), count=len(found))
    member = found[0]
    if member.id not in {candidate.id for candidate in candidates(session, task)}:
        unit = session.get_one(Unit, task.unit_id)
        raise NotAssignable(
            "person.not_candidate", name=member.name, unit=unit.name, code=task.code
        )
    return member


@dataclass
class Placed:
    """The people named for a task given to one unit or several, by the row (unit) each may
    carry it out in; and, by their place in the list, those who may in none."""

    given: dict[int, list[Member]]
    refused: list[tuple[int, NotAssignable]]


def place_assignees(session: Session, shares: list[Task], written: list[str]) -> Placed:
    """Each person `written` names goes to the first of the task's units they may carry it out
    in (see `find_assignee`)."""
    placed = Placed({task.id: [] for task in shares}, [])
    for index, text in enumerate(written):
        refusals = []
        for task in shares:
            try:
                placed.given[task.id].append(find_assignee(session, task, text))
                break
            except NotAssignable as refused:
                refusals.append(refused)
        else:
            placed.refused.append((index, refusals[0]))
    return placed


def _nobody(session: Session, school_id: int, text: str) -> NotAssignable:
    if session.exec(select(Member.id).where(Member.school_id == school_id)).first() is None:
        return NotAssignable("person.no_staff", value=text)
    phone = normalize_phone(text)
    if phone is not None:
        return NotAssignable("person.unknown_phone", value=phone)
    return NotAssignable("person.unknown_name", value=" ".join(text.split()))
