"""The sweep: claim the due outbox rows, turn them into one message per person and kind, send
them through the channels, and record each sent message id. Channel-neutral: a channel
registers a Sender; the scheduler calls `sweep` every REMINDER_SWEEP_SECONDS."""

import asyncio
import logging
import os
import socket
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from handlers.chat import DeliveryError, Reply, RetryLater, Sender, Undeliverable, Unreachable
from handlers.context import ChatConfig, Context
from handlers.reminders import compose
from models import (
    Channel,
    ChatIdentity,
    Member,
    Reminder,
    School,
    Snooze,
    Task,
    TaskStatus,
    UnitChat,
)
from models.base import utcnow
from models.db import session_scope
from services import outbox
from services.permissions import load_actor

log = logging.getLogger(__name__)
CHANNEL_PREFERENCE = (Channel.TELEGRAM, Channel.ZALO, Channel.CONSOLE)
Remember = Callable[[Channel, str, str, Reply], None]


@dataclass(frozen=True)
class Message:
    channel: Channel
    chat_id: str
    reply: Reply
    ids: list[int]


@dataclass
class SweepResult:
    sent: int = 0  # rows delivered
    messages: int = 0  # messages sent (several rows may share one)
    retried: int = 0
    failed: int = 0
    cancelled: int = 0


Recipient = tuple[str, int]  # ("member", member id) or ("group", unit chat id)


def by_recipient(rows: list[Reminder]) -> dict[Recipient, list[Reminder]]:
    groups: dict[Recipient, list[Reminder]] = defaultdict(list)
    for row in rows:
        recipient = (
            ("member", row.recipient_id) if row.recipient_id else ("group", row.unit_chat_id)
        )
        groups[recipient].append(row)
    return groups


def recipient_context(
    session: Session, config: ChatConfig, row: Reminder, now: datetime
) -> Context:
    """What a message to the row's recipient is written with: their school, language, role."""
    ctx = Context(session=session, now=now, config=config)
    ctx.school = session.get(School, row.school_id)
    if row.recipient_id:
        ctx.member = session.get(Member, row.recipient_id)
        ctx.actor = load_actor(session, ctx.member)
    return ctx


@dataclass
class Dispatcher:
    engine: Engine
    config: ChatConfig
    senders: dict[Channel, Sender]
    remember: Remember
    mark_unreachable: Callable[[Channel, str], None]
    clock: Callable[[], datetime] = utcnow
    worker: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
    pacing: float = 1.0  # seconds between two messages to the same chat (Telegram: 1/s)

    async def sweep(self) -> SweepResult:
        now = self.clock()
        result = SweepResult()
        claimed = await asyncio.to_thread(self._claim, now)
        if not claimed:
            return result
        messages = await asyncio.to_thread(self._compose, claimed, now, result)
        last_sent: dict[str, float] = {}
        for message in messages:
            await self._pace(message.chat_id, last_sent)
            await self._deliver(message, result)
        return result

    def _claim(self, now: datetime) -> list[int]:
        with session_scope(self.engine) as session:
            return [row.id for row in outbox.claim_due(session, now, self.worker)]

    def _compose(self, ids: list[int], now: datetime, result: SweepResult) -> list[Message]:
        """Group claimed rows by recipient; drop what no longer needs saying."""
        messages: list[Message] = []
        with session_scope(self.engine) as session:
            rows = session.exec(select(Reminder).where(col(Reminder.id).in_(ids))).all()
            groups = by_recipient(self._still_due(session, rows, now, result))
            for (kind, recipient_id), group in groups.items():
                target = self._target(session, kind, recipient_id)
                if target is None:
                    outbox.mark_failed(session, [r.id for r in group], "no reachable chat")
                    result.failed += len(group)
                    continue
                ctx = recipient_context(session, self.config, group[0], now)
                composed = compose(ctx, group)
                messages += [
                    Message(target[0], target[1], reply, row_ids) for reply, row_ids in composed
                ]
                delivered = {row_id for _, row_ids in composed for row_id in row_ids}
                idle = [row.id for row in group if row.id not in delivered]
                if idle:  # e.g. a brief whose news was settled before it went out
                    outbox.cancel(session, idle, "nothing to say")
                    result.cancelled += len(idle)
        return messages

    def _still_due(
        self, session: Session, rows: list[Reminder], now: datetime, result: SweepResult
    ) -> list[Reminder]:
        due = []
        for row in rows:
            task = session.get(Task, row.task_id) if row.task_id else None
            if task is not None and task.status == TaskStatus.DONE:
                outbox.cancel(session, [row.id], "task done")
                result.cancelled += 1
                continue
            if task is not None and task.archived_at is not None:
                outbox.cancel(session, [row.id], "task archived")
                result.cancelled += 1
                continue
            snooze = (
                session.exec(
                    select(Snooze).where(
                        Snooze.task_id == row.task_id, Snooze.member_id == row.recipient_id
                    )
                ).first()
                if task is not None and row.recipient_id
                else None
            )
            if snooze is not None and snooze.until > now:
                outbox.retry_later(session, [row.id], at=snooze.until, error="snoozed")
                result.retried += 1
                continue
            due.append(row)
        return due

    def _target(self, session: Session, kind: str, recipient_id: int) -> tuple[Channel, str] | None:
        if kind == "group":
            chat = session.get(UnitChat, recipient_id)
            return (chat.channel, chat.chat_id) if chat and chat.channel in self.senders else None
        identities = session.exec(
            select(ChatIdentity).where(
                ChatIdentity.member_id == recipient_id, col(ChatIdentity.unreachable_at).is_(None)
            )
        ).all()
        usable = [i for i in identities if i.channel in self.senders]
        usable.sort(key=lambda identity: CHANNEL_PREFERENCE.index(identity.channel))
        return (usable[0].channel, usable[0].chat_id) if usable else None

    async def _pace(self, chat_id: str, last_sent: dict[str, float]) -> None:
        loop = asyncio.get_running_loop()
        wait = last_sent.get(chat_id, -self.pacing) + self.pacing - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        last_sent[chat_id] = loop.time()

    async def _deliver(self, message: Message, result: SweepResult) -> None:
        try:
            message_id = await self.senders[message.channel].send(message.chat_id, message.reply)
        except RetryLater as exc:
            await self._record(
                outbox.retry_later,
                message.ids,
                at=self.clock() + timedelta(seconds=exc.seconds),
                error=str(exc),
            )
            result.retried += len(message.ids)
        except Unreachable as exc:
            await asyncio.to_thread(self.mark_unreachable, message.channel, message.chat_id)
            await self._record(outbox.mark_failed, message.ids, str(exc) or "unreachable")
            result.failed += len(message.ids)
        except Undeliverable as exc:
            log.error("reminder refused for good by %s: %s", message.channel, exc)
            await self._record(outbox.mark_failed, message.ids, str(exc))
            result.failed += len(message.ids)
        except DeliveryError as exc:
            log.warning("could not send a reminder now (%s); will retry", exc)
            await self._record(
                outbox.retry_later,
                message.ids,
                at=self.clock() + timedelta(minutes=1),
                error=str(exc),
            )
            result.retried += len(message.ids)
        else:
            await self._record(
                outbox.mark_sent,
                message.ids,
                channel=message.channel,
                chat_id=message.chat_id,
                message_id=message_id,
                now=self.clock(),
            )
            await asyncio.to_thread(
                self.remember, message.channel, message.chat_id, message_id, message.reply
            )
            result.sent += len(message.ids)
            result.messages += 1

    async def _record(
        self, action: Callable[..., None], ids: list[int], *args: object, **kwargs: object
    ) -> None:
        def run() -> None:
            with session_scope(self.engine) as session:
                action(session, ids, *args, **kwargs)

        await asyncio.to_thread(run)
