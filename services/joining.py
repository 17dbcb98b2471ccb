"""Linking a chat account to a member with an invitation code; wrong codes are slowed down."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlmodel import Session, col, func, select

from models import Channel, ChatIdentity, Invitation, JoinAttempt, Member
from services import outbox
from services.accounts import chosen_now, identities
from services.invitations import hash_code

MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)


class JoinResult(StrEnum):
    JOINED = "joined"
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    USED = "used"
    THROTTLED = "throttled"
    TAKEN = "taken"  # this chat account already belongs to someone else of that school


@dataclass(frozen=True)
class Join:
    result: JoinResult
    member: Member | None = None  # who joined: set for JOINED only
    retry_after: timedelta | None = None  # set for THROTTLED only


def redeem(
    session: Session,
    *,
    channel: Channel,
    user_id: str,
    chat_id: str,
    username: str | None,
    code: str,
    now: datetime,
) -> Join:
    since = now - FAILURE_WINDOW
    failures = session.exec(
        select(func.count(), func.min(JoinAttempt.attempted_at)).where(
            JoinAttempt.channel == channel,
            JoinAttempt.external_user_id == user_id,
            col(JoinAttempt.succeeded).is_(False),
            JoinAttempt.attempted_at > since,
        )
    ).one()
    if failures[0] >= MAX_FAILURES:
        return Join(JoinResult.THROTTLED, retry_after=failures[1] + FAILURE_WINDOW - now)
    join = _check(session, code, now)
    existing = identities(session, channel, user_id)
    if join.member is not None and _taken(session, existing, join.member):
        join = Join(JoinResult.TAKEN)
    session.add(
        JoinAttempt(
            channel=channel,
            external_user_id=user_id,
            attempted_at=now,
            succeeded=join.result == JoinResult.JOINED,
        )
    )
    session.flush()
    member = join.member
    if member is None:  # not joined
        return join
    invitation = session.exec(
        select(Invitation).where(Invitation.code_hash == hash_code(code))
    ).one()
    invitation.used_at = now
    if all(identity.member_id != member.id for identity in existing):
        session.add(
            ChatIdentity(
                member_id=member.id,
                channel=channel,
                external_user_id=user_id,
                chat_id=chat_id,
                username=username,
                linked_at=now,
                selected_at=chosen_now(existing, now),
            )
        )
        member.preferred_channel = None  # reminders go to the account linked last
        outbox.wake(session, member.id, now)
    session.flush()
    return join


def _taken(session: Session, existing: list[ChatIdentity], member: Member) -> bool:
    """An account holds one member per school: a second school's invitation links the same
    person there too; another member of a school the account is already in is someone else."""
    others = [identity.member_id for identity in existing if identity.member_id != member.id]
    if not others:
        return False
    schools = session.exec(select(Member.school_id).where(col(Member.id).in_(others))).all()
    return member.school_id in schools


def owns_code(session: Session, code: str, member_ids: list[int]) -> bool:
    """Whether the code was issued to one of these members (a linked person's own code)."""
    query = select(Invitation.member_id).where(Invitation.code_hash == hash_code(code))
    return session.exec(query).first() in member_ids


def _check(session: Session, code: str, now: datetime) -> Join:
    invitation = session.exec(
        select(Invitation).where(Invitation.code_hash == hash_code(code))
    ).first()
    if invitation is None or invitation.revoked_at is not None:
        return Join(JoinResult.UNKNOWN)
    if invitation.used_at is not None:
        return Join(JoinResult.USED)
    if invitation.expires_at <= now:
        return Join(JoinResult.EXPIRED)
    member = session.get(Member, invitation.member_id)
    if member is None or not member.active:
        return Join(JoinResult.UNKNOWN)
    return Join(JoinResult.JOINED, member)


def is_issued(session: Session, code: str) -> bool:
    """Whether this code was ever issued (used, expired or revoked ones included)."""
    query = select(Invitation.id).where(Invitation.code_hash == hash_code(code))
    return session.exec(query).first() is not None


def link_console(session: Session, member: Member, now: datetime) -> str:
    """The console channel runs on the school's own machine: name a member to act as them."""
    user_id = f"member-{member.id}"
    identity = session.exec(
        select(ChatIdentity).where(
            ChatIdentity.channel == Channel.CONSOLE, ChatIdentity.external_user_id == user_id
        )
    ).first()
    if identity is None:
        session.add(
            ChatIdentity(
                member_id=member.id,
                channel=Channel.CONSOLE,
                external_user_id=user_id,
                chat_id=user_id,
                linked_at=now,
            )
        )
        session.flush()
    return user_id
