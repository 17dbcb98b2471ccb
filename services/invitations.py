"""Single-use joining codes. Only a hash is stored, so printing codes again issues new ones."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from models import Channel, ChatIdentity, Invitation, Member, Membership, Role, School, Unit
from models.enums import ROLE_RANK

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are read aloud and typed
CODE_LENGTH = 8


def normalize_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def hash_code(code: str) -> str:
    return hashlib.sha256(normalize_code(code).encode()).hexdigest()


@dataclass
class IssuedInvitation:
    member: Member
    units: list[Unit]
    role: Role
    code: str
    expires_at: datetime


def member_units(session: Session, member: Member) -> list[tuple[Unit, Role]]:
    rows = session.exec(
        select(Unit, Membership.role)
        .join(Membership, col(Membership.unit_id) == col(Unit.id))
        .where(Membership.member_id == member.id)
        .order_by(col(Unit.id))
    ).all()
    return [(unit, Role(role)) for unit, role in rows]


def top_role(roles: list[Role]) -> Role:
    return min(roles, key=ROLE_RANK.__getitem__, default=Role.STAFF)


def issue_code(session: Session, member: Member, now: datetime, expires_at: datetime) -> str:
    """A fresh single-use code for `member` (to link a chat account); their unused ones die."""
    for old in session.exec(
        select(Invitation).where(
            Invitation.member_id == member.id,
            col(Invitation.used_at).is_(None),
            col(Invitation.revoked_at).is_(None),
        )
    ):
        old.revoked_at = now
    code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    session.add(
        Invitation(
            member_id=member.id, code_hash=hash_code(code), created_at=now, expires_at=expires_at
        )
    )
    return code


def issue_invitations(
    session: Session, school: School, *, now: datetime, ttl_days: int
) -> list[IssuedInvitation]:
    """A fresh code for every active member not yet linked to a chat; older unused codes die."""
    linked = select(ChatIdentity.member_id).where(ChatIdentity.channel != Channel.CONSOLE)
    members = session.exec(
        select(Member)
        .where(Member.school_id == school.id, Member.active, col(Member.id).not_in(linked))
        .order_by(col(Member.name), col(Member.id))
    ).all()
    expires_at = now + timedelta(days=ttl_days)
    issued = []
    for member in members:
        code = issue_code(session, member, now, expires_at)
        units = member_units(session, member)
        issued.append(
            IssuedInvitation(
                member=member,
                units=[unit for unit, _ in units],
                role=top_role([role for _, role in units]),
                code=code,
                expires_at=expires_at,
            )
        )
    session.flush()
    return issued
