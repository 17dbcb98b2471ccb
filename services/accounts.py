"""A chat account's links: one member per school, and the school the account acts in."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from models import Channel, ChatIdentity, Member, School
from services.text import fold, is_number

TICK = timedelta(microseconds=1)


@dataclass(frozen=True)
class Link:
    """One school of an account: its identity row, the member it is there, the school."""

    identity: ChatIdentity
    member: Member
    school: School

    @property
    def chosen_at(self) -> datetime:
        return self.identity.selected_at or self.identity.linked_at


def identities(session: Session, channel: Channel, user_id: str) -> list[ChatIdentity]:
    query = select(ChatIdentity).where(
        ChatIdentity.channel == channel, ChatIdentity.external_user_id == user_id
    )
    return list(session.exec(query))


LINKS = (
    select(ChatIdentity, Member, School)
    .join(Member, col(Member.id) == col(ChatIdentity.member_id))
    .join(School, col(School.id) == col(Member.school_id))
    .where(
        ChatIdentity.channel == bindparam("channel"),
        ChatIdentity.external_user_id == bindparam("user_id"),
        col(Member.active).is_(True),
    )
    .order_by(col(ChatIdentity.linked_at), col(ChatIdentity.id))
)  # built once: the one query of every message


def links(session: Session, channel: Channel, user_id: str) -> list[Link]:
    """The account's schools where its member is active, in the order they were linked."""
    rows = session.exec(LINKS, params={"channel": channel, "user_id": user_id}).all()
    return [Link(identity, member, school) for identity, member, school in rows]


def current(account: list[Link]) -> Link:
    """The school the account acts in unless a message says otherwise: the latest chosen."""
    return max(account, key=lambda link: (link.chosen_at, link.identity.id))


def in_school(account: list[Link], school_id: int | None) -> Link | None:
    return next((link for link in account if link.school.id == school_id), None)


def chosen_now(others: list[ChatIdentity], now: datetime) -> datetime:
    """A choice made now, later than every earlier one even on a clock that stands still."""
    return max([now, *((other.selected_at or other.linked_at) + TICK for other in others)])


def choose(session: Session, account: list[Link], link: Link, now: datetime) -> None:
    """Make `link` the account's current school."""
    others = [other.identity for other in account if other is not link]
    link.identity.selected_at = chosen_now(others, now)
    session.add(link.identity)
    session.flush()


def matching(account: list[Link], wanted: str) -> list[Link]:
    """The links `wanted` names: a number in the list (1, 2, …), else part of the school's name
    or its code, typed with or without diacritics."""
    text = wanted.strip()
    if is_number(text):
        number = int(text)
        return [account[number - 1]] if 1 <= number <= len(account) else []
    folded = fold(text)
    return [
        link
        for link in account
        if folded in fold(link.school.name) or folded == fold(link.school.code)
    ]


def member_accounts(session: Session, member: Member) -> list[ChatIdentity]:
    """A member's chat accounts in the order reminders try them: on the channel they chose
    (/kenh) first, then the one linked last. The console (the school's own machine) comes last."""
    accounts = session.exec(select(ChatIdentity).where(ChatIdentity.member_id == member.id)).all()
    return sorted(
        accounts,
        key=lambda account: (
            account.channel == Channel.CONSOLE,
            account.channel != member.preferred_channel,
            -account.linked_at.timestamp(),
            -account.id,
        ),
    )
