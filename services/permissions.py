"""The one permission check: who may see and update which task, and who records KPIs."""

from dataclasses import dataclass

from sqlmodel import Session, select

from models import Member, Membership, Role, Task

LEADERS = (Role.PRINCIPAL, Role.VICE_PRINCIPAL)


@dataclass(frozen=True)
class Actor:
    member: Member
    roles: dict[int, Role]  # unit id -> the member's role in that unit

    @property
    def is_leader(self) -> bool:
        return any(role in LEADERS for role in self.roles.values())

    def heads(self, unit_id: int) -> bool:
        return self.roles.get(unit_id) == Role.UNIT_HEAD or self.is_leader

    @property
    def headed_units(self) -> list[int]:
        return [unit for unit, role in self.roles.items() if role == Role.UNIT_HEAD]


def load_actor(session: Session, member: Member) -> Actor:
    rows = session.exec(select(Membership).where(Membership.member_id == member.id)).all()
    return Actor(member=member, roles={row.unit_id: Role(row.role) for row in rows})


def can_view(actor: Actor, task: Task) -> bool:
    if task.school_id != actor.member.school_id:
        return False
    return actor.is_leader or task.unit_id in actor.roles or task.assignee_id == actor.member.id


def update_refusal(actor: Actor, task: Task) -> str | None:
    """None when `actor` may update `task`, else the catalogue key of the reason."""
    if not can_view(actor, task):
        return "deny.not_your_unit"
    if actor.heads(task.unit_id) or task.assignee_id == actor.member.id:
        return None
    return "deny.not_assigned"


def can_record_kpi(actor: Actor) -> bool:
    return actor.is_leader
