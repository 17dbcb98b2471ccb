"""Linking a chat account to a member with an invitation code; wrong codes are slowed down."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlmodel import Session, col, func, select

from models import Channel, ChatIdentity, Invitation, JoinAttempt, Member
from services.invitations import hash_code

MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)


class JoinResult(StrEnum):
    JOINED = "joined"
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    USED = "used"
    THROTTLED = "throttled"
    TAKEN = "taken"  # this chat account already belongs to someone else


@dataclass(frozen=True)
class Join:
    result: JoinResult
    member: Member | None = None
    retry_after: timedelta | None = None


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
    existing = session.exec(
        select(ChatIdentity).where(
            ChatIdentity.channel == channel, ChatIdentity.external_user_id == user_id
        )
    ).first()
    if join.member is not None and existing is not None and existing.member_id != join.member.id:
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
    if join.result != JoinResult.JOINED:
        return join
    invitation = session.exec(
        select(Invitation).where(Invitation.code_hash == hash_code(code))
    ).one()
    invitation.used_at = now
    if existing is None:
        session.add(
            ChatIdentity(
                member_id=join.member.id,
                channel=channel,
                external_user_id=user_id,
                chat_id=chat_id,
                username=username,
                linked_at=now,
            )
        )
    session.flush()
    return join


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
