"""The one permission check: who may see, update and assign which task, and who records KPIs."""

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy import BindParameter, CompoundSelect, bindparam, cast, literal, null, union_all
from sqlmodel import Session, col, select

from models import Member, Membership, Role, Task, TaskAssignee, TaskSupport

LEADERS = (Role.PRINCIPAL, Role.VICE_PRINCIPAL)


@dataclass(frozen=True)
class Actor:
    member: Member
    roles: dict[int, Role]  # unit id -> the member's role in that unit
    assigned: frozenset[int] = field(default_factory=frozenset)  # ids of tasks given to them
    supporting: frozenset[int] = field(default_factory=frozenset)  # tasks their units help on

    @property
    def is_leader(self) -> bool:
        return any(role in LEADERS for role in self.roles.values())

    def heads(self, unit_id: int) -> bool:
        return self.roles.get(unit_id) == Role.UNIT_HEAD or self.is_leader

    @property
    def headed_units(self) -> list[int]:
        return [unit for unit, role in self.roles.items() if role == Role.UNIT_HEAD]

    @property
    def led_units(self) -> list[int]:
        """The units whose whole list of tasks is theirs to follow: headed, or led (leaders)."""
        return [unit for unit, role in self.roles.items() if role != Role.STAFF]


def _actor_rows() -> CompoundSelect:
    """In one query, what makes an actor: their roles by unit ('m'), the tasks given to them
    ('a'), the tasks their units coordinate on ('s'), the school's tasks given to a role ('r').
    Built once; `member` and `school` are bound at each call."""
    member: BindParameter[int] = bindparam("member")
    school: BindParameter[int] = bindparam("school")
    text = sa.String()
    units = select(Membership.unit_id).where(Membership.member_id == member)
    return union_all(
        select(literal("m"), null(), cast(Membership.role, text), Membership.unit_id).where(
            Membership.member_id == member
        ),
        select(literal("a"), TaskAssignee.task_id, null(), null()).where(
            TaskAssignee.member_id == member
        ),
        select(literal("s"), TaskSupport.task_id, null(), null()).where(
            col(TaskSupport.unit_id).in_(units)
        ),
        select(literal("r"), Task.id, cast(Task.owner_role, text), Task.unit_id).where(
            Task.school_id == school, col(Task.owner_role).is_not(None)
        ),
    )


ACTOR_ROWS = _actor_rows()


def load_actor(session: Session, member: Member) -> Actor:
    rows = session.execute(ACTOR_ROWS, {"member": member.id, "school": member.school_id}).all()
    roles = {unit: Role(role) for kind, _, role, unit in rows if kind == "m"}
    given = [(task, Role(role), unit) for kind, task, role, unit in rows if kind == "r"]
    return Actor(
        member=member,
        roles=roles,
        assigned=frozenset(task for kind, task, _, _ in rows if kind == "a") | _holds(roles, given),
        supporting=frozenset(task for kind, task, _, _ in rows if kind == "s"),
    )


def _holds(roles: dict[int, Role], given: list[tuple[int, Role, int]]) -> frozenset[int]:
    """The tasks the plan gives to a role the member holds: a leader's in the school, a head's
    or a teacher's in their unit."""
    held = set(roles.values())
    return frozenset(
        task
        for task, role, unit in given
        if (role in LEADERS and role in held) or (role not in LEADERS and roles.get(unit) == role)
    )


def can_view(actor: Actor, task: Task) -> bool:
    if task.school_id != actor.member.school_id:
        return False
    mine = task.unit_id in actor.roles or task.id in actor.assigned
    return actor.is_leader or mine or task.id in actor.supporting


def update_refusal(actor: Actor, task: Task) -> str | None:
    """None when `actor` may update `task`, else the catalogue key of the reason. A task taken
    out of the plan (archived) is updated by nobody: its history stays as it was."""
    if not can_view(actor, task):
        return "deny.not_your_unit"
    if task.archived_at is not None:
        return "deny.archived"
    if actor.heads(task.unit_id) or task.id in actor.assigned:
        return None
    if task.unit_id not in actor.roles and task.id in actor.supporting:
        return "deny.supporting"
    return "deny.not_assigned"


def can_update(actor: Actor, task: Task) -> bool:
    return update_refusal(actor, task) is None


def can_assign(actor: Actor, task: Task) -> bool:
    """Leaders assign any task of their school; a unit head the tasks of their unit."""
    return task.school_id == actor.member.school_id and actor.heads(task.unit_id)


def can_record_kpi(actor: Actor) -> bool:
    return actor.is_leader
