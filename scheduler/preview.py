"""`dondoc reminders --at`: what would be sent at a moment, planned and written exactly as the
sweep would, inside a transaction that is rolled back — nothing is recorded."""

from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from handlers.chat import reply_of
from handlers.context import ChatConfig
from handlers.reminders import compose
from messages import t
from messages.rich import plain
from models import ChatIdentity, Member, Reminder, ReminderStatus, UnitChat
from scheduler.dispatch import Recipient, by_recipient, recipient_context
from services.reminders import CalendarDefaults, plan_all


def preview(engine: Engine, at: datetime, config: ChatConfig, defaults: CalendarDefaults) -> str:
    with Session(engine) as session:
        try:
            plan_all(session, at, defaults)
            session.flush()
            rows = session.exec(
                select(Reminder)
                .where(Reminder.status == ReminderStatus.PENDING, col(Reminder.due_at) <= at)
                .order_by(col(Reminder.due_at), col(Reminder.id))
            ).all()
            blocks = [
                _block(session, config, recipient, group, at)
                for recipient, group in by_recipient(list(rows)).items()
            ]
        finally:
            session.rollback()
    if not blocks:
        return t("preview.none")
    return "\n\n".join(blocks)


def _block(
    session: Session,
    config: ChatConfig,
    recipient: Recipient,
    rows: list[Reminder],
    at: datetime,
) -> str:
    kind, recipient_id = recipient
    if kind == "reply":  # an answer kept for a later try: already written
        row = rows[0]
        reply = reply_of(row.payload or "")
        return "\n".join([t("preview.kept_answer", chat=row.chat_id), plain(reply.text)])
    if kind == "group":
        chat = session.get_one(UnitChat, recipient_id)
        who = t("preview.group", title=chat.title or chat.chat_id)
    else:
        member = session.get_one(Member, recipient_id)
        channels = session.exec(
            select(col(ChatIdentity.channel)).where(ChatIdentity.member_id == recipient_id)
        ).all()
        where = ", ".join(sorted({c.value for c in channels})) or t("preview.not_linked")
        who = t("preview.member", name=member.name, channels=where)
    lines = [who]
    for reply, _ in compose(recipient_context(session, config, rows[0], at, None), rows):
        lines.append(plain(reply.text))
        choices = [button.label for row in reply.buttons for button in row]
        if choices:
            lines.append("  ".join(f"[{n}] {label}" for n, label in enumerate(choices, 1)))
    return "\n".join(lines)
