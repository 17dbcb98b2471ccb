"""The sweep: claim the due outbox rows, turn them into one message per person and kind, send
them through the channels, and record each sent message id. Channel-neutral: a channel
registers a Sender; the scheduler calls `sweep` every REMINDER_SWEEP_SECONDS."""

import asyncio
import itertools
import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from handlers.chat import (
    DeliveryError,
    Reply,
    RetryLater,
    Sender,
    Undeliverable,
    Unreachable,
    reply_of,
)
from handlers.choices import offered
from handlers.context import ChatConfig, InSchool, Personal
from handlers.reminders import compose
from models import (
    Channel,
    DeliveryFailure,
    Member,
    Reminder,
    ReminderKind,
    School,
    Snooze,
    Task,
    TaskStatus,
    UnitChat,
)
from models.base import utcnow
from models.db import session_scope
from services import outbox
from services.accounts import member_accounts
from services.instances import instance_name
from services.outbox import Held
from services.permissions import load_actor

log = logging.getLogger(__name__)
Remember = Callable[[Channel, str, str, Reply], None]
T = TypeVar("T")


@dataclass(frozen=True)
class Message:
    channel: Channel
    chat_id: str
    reply: Reply
    claim: Held


@dataclass
class SweepResult:
    sent: int = 0  # rows delivered
    messages: int = 0  # messages sent (several rows may share one)
    retried: int = 0
    failed: int = 0
    cancelled: int = 0
    expired: int = 0  # failed sends that ran out of time: the row was stale
    lost: int = 0  # rows another sweep took over (this one stalled past its lease)


# ("member", member id), ("group", unit chat id: None for none, which fails as NO_CHAT) or
# ("reply", row id)
Recipient = tuple[str, int | None]


def interleaved(messages: list[Message]) -> list[Message]:
    """The first message of each chat, then the second of each, and so on (each chat's own in
    order): while one chat waits out its 1 s pacing, the sweep sends to the others."""
    chats: dict[tuple[Channel, str], list[Message]] = defaultdict(list)
    for message in messages:
        chats[(message.channel, message.chat_id)].append(message)
    rounds = itertools.zip_longest(*chats.values())
    return [message for turn in rounds for message in turn if message is not None]


def by_recipient(rows: list[Reminder]) -> dict[Recipient, list[Reminder]]:
    """Rows for the same person (or group chat) together; a kept reply stays on its own."""
    groups: dict[Recipient, list[Reminder]] = defaultdict(list)
    for row in rows:
        if row.kind == ReminderKind.REPLY:
            groups[("reply", row.id)].append(row)
        elif row.recipient_id:
            groups[("member", row.recipient_id)].append(row)
        else:
            groups[("group", row.unit_chat_id)].append(row)
    return groups


def recipient_context(
    session: Session, config: ChatConfig, row: Reminder, now: datetime, channel: Channel | None
) -> InSchool:
    """What a message to the row's recipient is written with: their school, language, role,
    and the channel it goes by (None: printed, not sent)."""
    school = session.get_one(School, row.school_id)  # every row but a kept reply has one
    if not row.recipient_id:  # a unit's group chat
        return InSchool(session=session, now=now, config=config, school=school, channel=channel)
    member = session.get_one(Member, row.recipient_id)
    actor = load_actor(session, member)
    return Personal(
        session=session, now=now, config=config, school=school, member=member, actor=actor,
        channel=channel,
    )  # fmt: skip


@dataclass
class Dispatcher:
    engine: Engine
    config: ChatConfig
    senders: dict[Channel, Sender]
    remember: Remember
    mark_unreachable: Callable[[Channel, str], None]
    clock: Callable[[], datetime] = utcnow
    worker: str = field(default_factory=instance_name)
    pacing: float = 1.0  # seconds between two messages to the same chat
    rate: float = 25.0  # messages per second the channels take from reminders
    dead_after: timedelta = outbox.DEAD_AFTER  # an instance silent this long is dead
    stopping: bool = False  # set on a graceful stop: finish the message in flight, no more

    @property
    def batch(self) -> int:
        """As many rows as can be sent in half a lease at the channel's rate (a row per
        message at worst), so a claim does not outlast its lease even before renewal."""
        return max(1, min(500, int(self.rate * outbox.LEASE.total_seconds() / 2)))

    async def sweep(self) -> SweepResult:
        now = self.clock()
        result = SweepResult()
        if self.stopping:
            return result
        claim = await asyncio.to_thread(self._claim, now)
        if not claim.versions:
            return result
        messages = await asyncio.to_thread(self._compose, claim, now, result)
        last_sent: dict[str, float] = {}
        for message in interleaved(messages):
            if self.stopping:
                break
            await self._pace(message.chat_id, last_sent)
            if not await self._record(outbox.hold, message.claim, self.clock()):
                result.lost += len(message.claim.versions)
                continue
            await self._deliver(message, result)
        return result

    def _claim(self, now: datetime) -> Held:
        with session_scope(self.engine) as session:
            return outbox.claim_due(session, now, self.worker, self.batch, self.dead_after)

    def _compose(self, claim: Held, now: datetime, result: SweepResult) -> list[Message]:
        """Group claimed rows by recipient; drop what no longer needs saying."""
        messages: list[Message] = []
        with session_scope(self.engine) as session:
            rows = session.exec(select(Reminder).where(col(Reminder.id).in_(claim.ids))).all()
            groups = by_recipient(self._still_due(session, claim, rows, now, result))
            for (kind, recipient_id), group in groups.items():
                ids = [row.id for row in group]
                target = self._target(session, kind, recipient_id, group[0])
                if isinstance(target, DeliveryFailure):
                    outbox.mark_failed(session, claim.only(ids), target, "no reachable chat")
                    result.failed += len(group)
                    continue
                if kind == "reply":
                    reply = reply_of(group[0].payload or "")
                    messages.append(Message(*target, reply, claim.only(ids)))
                    continue
                ctx = recipient_context(session, self.config, group[0], now, target[0])
                composed = compose(ctx, group)
                messages += [
                    Message(*target, offered(ctx, reply), claim.only(row_ids))
                    for reply, row_ids in composed
                ]
                delivered = {row_id for _, row_ids in composed for row_id in row_ids}
                idle = [row_id for row_id in ids if row_id not in delivered]
                if idle:  # e.g. a brief whose news was settled before it went out
                    outbox.cancel(session, claim.only(idle), "nothing to say")
                    result.cancelled += len(idle)
        return messages

    def _still_due(
        self,
        session: Session,
        claim: Held,
        rows: Sequence[Reminder],
        now: datetime,
        result: SweepResult,
    ) -> list[Reminder]:
        due = []
        for row in rows:
            task = session.get(Task, row.task_id) if row.task_id else None
            if task is not None and task.status == TaskStatus.DONE:
                outbox.cancel(session, claim.only([row.id]), "task done")
                result.cancelled += 1
                continue
            if task is not None and task.archived_at is not None:
                outbox.cancel(session, claim.only([row.id]), "task archived")
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
                outbox.postpone(session, claim.only([row.id]), until=snooze.until, reason="snoozed")
                result.retried += 1
                continue
            due.append(row)
        return due

    def _target(
        self, session: Session, kind: str, recipient_id: int | None, row: Reminder
    ) -> tuple[Channel, str] | DeliveryFailure:
        """Where the message goes, or why it cannot: no chat yet, or only chats that blocked
        the bot (the rows then wait for the person to join or write again)."""
        if kind == "reply":
            if row.channel in self.senders and row.chat_id is not None:
                return row.channel, row.chat_id
            return DeliveryFailure.NO_CHAT
        if kind == "group":
            chat = session.get(UnitChat, recipient_id)
            if chat and chat.channel in self.senders:
                return chat.channel, chat.chat_id
            return DeliveryFailure.NO_CHAT
        member = session.get_one(Member, recipient_id)
        served = [i for i in member_accounts(session, member) if i.channel in self.senders]
        usable = [i for i in served if i.unreachable_at is None]
        if not usable:
            return DeliveryFailure.UNREACHABLE if served else DeliveryFailure.NO_CHAT
        return usable[0].channel, usable[0].chat_id

    async def _pace(self, chat_id: str, last_sent: dict[str, float]) -> None:
        loop = asyncio.get_running_loop()
        wait = last_sent.get(chat_id, -self.pacing) + self.pacing - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        last_sent[chat_id] = loop.time()

    async def _deliver(self, message: Message, result: SweepResult) -> None:
        claim, rows = message.claim, len(message.claim.versions)
        try:
            message_id = await self.senders[message.channel].send(message.chat_id, message.reply)
        except RetryLater as exc:
            after = timedelta(seconds=exc.seconds)
            expired = await self._record(
                outbox.retry_later, claim, now=self.clock(), error=str(exc), after=after
            )
            result.retried += rows - expired
            result.expired += expired
        except Unreachable as exc:
            await asyncio.to_thread(self.mark_unreachable, message.channel, message.chat_id)
            error = str(exc) or "unreachable"
            await self._record(outbox.mark_failed, claim, DeliveryFailure.UNREACHABLE, error)
            result.failed += rows
        except Undeliverable as exc:
            log.error("a message was refused for good by %s: %s", message.channel, exc)
            await self._record(outbox.mark_failed, claim, DeliveryFailure.REFUSED, str(exc))
            result.failed += rows
        except DeliveryError as exc:
            log.warning("could not send a message now (%s); will retry", exc)
            expired = await self._record(
                outbox.retry_later, claim, now=self.clock(), error=str(exc)
            )
            result.retried += rows - expired
            result.expired += expired
        else:
            recorded = await self._record(
                outbox.mark_sent,
                claim,
                channel=message.channel,
                chat_id=message.chat_id,
                message_id=message_id,
                now=self.clock(),
            )
            if recorded < rows:
                log.warning("a message went out after its claim was taken over: %s", claim)
            await asyncio.to_thread(
                self.remember, message.channel, message.chat_id, message_id, message.reply
            )
            result.sent += rows
            result.messages += 1

    async def _record(
        self, action: Callable[..., T], claim: Held, *args: object, **kwargs: object
    ) -> T:
        def run() -> T:
            with session_scope(self.engine) as session:
                return action(session, claim, *args, **kwargs)

        return await asyncio.to_thread(run)
