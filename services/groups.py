"""Group chats linked to units."""

from datetime import datetime

from sqlmodel import Session, select

from models import Channel, Member, Unit, UnitChat


def linked_unit(session: Session, channel: Channel, chat_id: str) -> Unit | None:
    link = session.exec(
        select(UnitChat).where(UnitChat.channel == channel, UnitChat.chat_id == chat_id)
    ).first()
    return session.get(Unit, link.unit_id) if link else None


def link_group(
    session: Session,
    *,
    unit: Unit,
    channel: Channel,
    chat_id: str,
    title: str | None,
    by: Member,
    now: datetime,
) -> None:
    """Link (or re-link) the group to the unit; one group belongs to one unit."""
    link = session.exec(
        select(UnitChat).where(UnitChat.channel == channel, UnitChat.chat_id == chat_id)
    ).first()
    if link is None:
        link = UnitChat(channel=channel, chat_id=chat_id, unit_id=unit.id)
    link.unit_id, link.title, link.linked_by_id, link.linked_at = unit.id, title, by.id, now
    session.add(link)
    session.flush()
