"""A school whose people are linked on Telegram, a controlled clock and a recording sender:
the rig the sweep's tests drive."""

import itertools
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.channels import CHANNELS
from handlers.chat import Reply
from handlers.context import ChatConfig
from handlers.core import ChatCore
from models import Channel, ChatIdentity, Member, Reminder, ReminderStatus
from models.db import session_scope
from scheduler.dispatch import Dispatcher
from scheduler.jobs import FollowUp
from services.reminders import CalendarDefaults
from tests.chat_school import Clock
from tests.reminder_school import local

MONDAY = local(30, 7, 31, month=11)
CHATS = {
    "Hiệu Trưởng": "501",
    "Phó Hiệu Trưởng": "502",
    "Trưởng Văn Phòng": "503",
    "Nhân Viên": "504",
    "Tổ Trưởng": "505",
}


class Crash(BaseException):
    """The process dies: nothing after it runs (not an Exception, so no handler catches it)."""


MESSAGE_IDS = itertools.count(1)


@dataclass
class RecordingSender:
    sent: list[tuple[str, Reply]] = field(default_factory=list)
    failures: list[BaseException] = field(default_factory=list)
    crash_after_sending: bool = False

    async def send(self, chat_id: str, reply: Reply) -> str:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append((chat_id, reply))
        if self.crash_after_sending:
            raise Crash
        return str(next(MESSAGE_IDS))  # Telegram's ids: one sequence, whoever sends

    def to(self, name: str) -> list[str]:
        return [reply.text for chat, reply in self.sent if chat == CHATS[name]]


@dataclass
class Rig:
    engine: Engine
    clock: Clock
    sender: RecordingSender
    follow_up: FollowUp
    folder: Path

    def dispatcher(self, sender: RecordingSender | None = None) -> Dispatcher:
        """A new process's dispatcher (its own worker id) on the same database."""
        config = ChatConfig(
            evidence_dir=self.folder / "evidence", reports_dir=self.folder / "reports",
            channels=CHANNELS,
        )  # fmt: skip
        core = ChatCore(self.engine, config, clock=self.clock)
        return Dispatcher(
            self.engine, core.config, {Channel.TELEGRAM: sender or self.sender}, core.remember,
            core.mark_unreachable, clock=self.clock, worker=f"worker-{id(sender)}", pacing=0,
        )  # fmt: skip

    def statuses(self) -> dict[str, ReminderStatus]:
        with session_scope(self.engine) as session:
            return {r.dedupe_key: r.status for r in session.exec(select(Reminder))}


@pytest.fixture
def rig(reminder_school: Engine, tmp_path: Path) -> Rig:
    with session_scope(reminder_school) as session:
        for name, chat in CHATS.items():
            member = session.exec(select(Member).where(Member.name == name)).one()
            session.add(ChatIdentity(member_id=member.id, channel=Channel.TELEGRAM,
                                     external_user_id=chat, chat_id=chat))  # fmt: skip
    clock = Clock(MONDAY)
    sender = RecordingSender()
    rig = Rig(reminder_school, clock, sender, None, tmp_path)  # type: ignore[arg-type]
    rig.follow_up = FollowUp(reminder_school, rig.dispatcher(), CalendarDefaults(), clock=clock)
    return rig
