"""The Zalo channel as teachers meet it: the real adapter, long-polling a fake Zalo Bot API on
127.0.0.1 through the real client, on the chat test school."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.zalo import ZaloChannel, ZaloSender
from bot.zalo_api import ZaloBotApi
from models import (
    Channel,
    ChatIdentity,
    Member,
    ReceivedMessage,
    Reminder,
    ReminderKind,
    Task,
)
from models.db import session_scope
from scheduler.dispatch import Dispatcher, SweepResult
from tests.chat_school import ChatSchool
from tests.fake_zalo import FakeZalo
from tests.processes import wait_until

JsonDict = dict[str, object]


@dataclass
class ZaloBot:
    zalo: FakeZalo
    api: ZaloBotApi
    channel: ZaloChannel
    school: ChatSchool
    users: dict[str, str] = field(default_factory=dict)  # name -> Zalo user id

    async def send(self, update: JsonDict) -> list[str]:
        """The update reaches the bot by its long poll; the texts it answered with."""
        chat = str(update["message"]["chat"]["id"])  # type: ignore[index]
        before = len(self.zalo.texts_to(chat))
        self.zalo.queue(update)
        message_id = str(update["message"]["message_id"])  # type: ignore[index]
        await wait_until(lambda: self.received(message_id) or self.zalo.pending_updates == 0, 10)
        if str(update["message"]["chat"]["chat_type"]) == "PRIVATE":  # type: ignore[index]
            await wait_until(lambda: self.received(message_id), 10)
        await self.channel.drain()
        return self.zalo.texts_to(chat)[before:]

    def received(self, message_id: str) -> bool:
        """The bot has taken the message (it records each one, to drop a second delivery)."""
        with session_scope(self.school.engine) as session:
            query = select(ReceivedMessage).where(ReceivedMessage.message_id == message_id)
            return session.exec(query).first() is not None

    async def say(self, name: str, text: str) -> list[str]:
        return await self.send(self.zalo.text_update(self.user(name), text, display_name=name))

    async def join(self, name: str) -> list[str]:
        return await self.say(name, self.school.codes[name])

    def user(self, name: str) -> str:
        return self.users.setdefault(name, f"zl{len(self.users) + 1:04d}")

    def task(self, code: str) -> Task:
        return self.school.task(code)

    def dispatcher(self) -> Dispatcher:
        core = self.channel.core
        return Dispatcher(
            self.school.engine, core.config, {Channel.ZALO: ZaloSender(self.api)},
            core.remember, core.mark_unreachable, clock=self.school.clock, pacing=0,
        )  # fmt: skip

    def owe(self, name: str, code: str, kind: ReminderKind = ReminderKind.DUE_DAY) -> None:
        """A reminder about `code` falls due for `name` now (as the planner writes one)."""
        now = self.school.clock()
        with session_scope(self.school.engine) as session:
            member = session.exec(select(Member).where(Member.name == name)).one()
            task = session.exec(select(Task).where(Task.code == code)).one()
            session.add(
                Reminder(
                    school_id=member.school_id, recipient_id=member.id, task_id=task.id,
                    dedupe_key=f"task:{task.id}:{member.id}:{kind.value}:{now.date()}",
                    kind=kind, occurrence=now.date(), due_at=now - timedelta(minutes=1),
                )
            )  # fmt: skip

    async def sweep(self) -> SweepResult:
        return await self.dispatcher().sweep()

    def accounts(self, name: str) -> list[ChatIdentity]:
        with session_scope(self.school.engine) as session:
            member = session.exec(select(Member).where(Member.name == name)).one()
            query = select(ChatIdentity).where(ChatIdentity.member_id == member.id)
            return list(session.exec(query))


@pytest.fixture
async def zalo_bot(school: ChatSchool) -> AsyncIterator[ZaloBot]:
    async with FakeZalo() as zalo, ZaloBotApi(zalo.token, zalo.base_url) as api:
        channel = ZaloChannel(school.core, api)
        stop = asyncio.Event()
        polling = asyncio.create_task(channel.poll(stop))
        try:
            yield ZaloBot(zalo, api, channel, school)
        finally:
            stop.set()
            polling.cancel()
            await asyncio.gather(polling, return_exceptions=True)
            await channel.drain()
        assert zalo.violations == []
