"""How fast dondoc's own work is, so that Telegram's limits (30 messages/s, 1/s per chat) and not
dondoc bound the throughput. Not a test: run `make bench` and read the figures.

- chat: the chat core's handling of /viec and /capnhat (database included, no network);
- plan: planning reminders for a school with many assigned tasks;
- sweep: claiming, composing and recording those reminders, with a sender that only counts.
"""

import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import select

from data import DEFAULT_PLAN
from handlers.chat import Incoming, Reply
from handlers.context import ChatConfig
from handlers.core import ChatCore
from models import (
    Channel,
    ChatIdentity,
    Member,
    Membership,
    Role,
    School,
    Task,
    TaskAssignee,
    Unit,
)
from models.db import make_engine, session_scope, upgrade_schema
from scheduler.dispatch import Dispatcher
from scheduler.jobs import FollowUp
from services.plan_files import read_plan
from services.plan_store import import_plan
from services.reminders import CalendarDefaults

NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # Tuesday 08:00 in Hồ Chí Minh City
PEOPLE = int(sys.argv[1]) if len(sys.argv) > 1 else 300


class CountingSender:
    def __init__(self) -> None:
        self.count = 0

    async def send(self, chat_id: str, reply: Reply) -> str:
        self.count += 1
        return str(self.count)


def build(folder: Path) -> ChatCore:
    engine = make_engine(f"sqlite:///{folder / 'bench.db'}")
    upgrade_schema(engine)
    with session_scope(engine) as session:
        import_plan(session, read_plan(DEFAULT_PLAN), now=NOW)
        school = session.exec(select(School)).one()
        office = session.exec(select(Unit).where(Unit.code == "VANPHONG")).one()
        for n in range(PEOPLE):
            member = Member(school_id=school.id, name=f"Giáo viên {n}")
            session.add(member)
            session.flush()
            session.add(Membership(member_id=member.id, unit_id=office.id, role=Role.STAFF))
            session.add(ChatIdentity(member_id=member.id, channel=Channel.TELEGRAM,
                                     external_user_id=str(n), chat_id=str(n)))  # fmt: skip
            task = Task(school_id=school.id, unit_id=office.id, code=f"GV.{n}",
                        title=f"Hoàn thành khoá bồi dưỡng số {n}",
                        deadline=NOW.date() + timedelta(days=1))  # fmt: skip
            session.add(task)
            session.flush()
            session.add(TaskAssignee(task_id=task.id, member_id=member.id, assigned_at=NOW))
    config = ChatConfig(evidence_dir=folder / "evidence", reports_dir=folder / "reports")
    return ChatCore(engine, config, clock=lambda: NOW)


def timed(label: str, count: int, action) -> None:
    start = time.perf_counter()
    action()
    seconds = time.perf_counter() - start
    print(f"{label:<44} {count:>6} in {seconds:6.2f} s  = {count / seconds:8.0f}/s")


def chat_latency(core: ChatCore) -> None:
    samples = []
    for n in range(PEOPLE):
        for text in ("/viec", f"/capnhat GV.{n} 50 đã học xong phần 1"):
            start = time.perf_counter()
            core.handle(Incoming(Channel.TELEGRAM, str(n), str(n), text=text))
            samples.append(time.perf_counter() - start)
    samples.sort()
    median, p95 = statistics.median(samples), samples[int(len(samples) * 0.95)]
    print(f"chat core, {len(samples)} messages: median {median * 1000:.1f} ms,", end=" ")
    print(f"p95 {p95 * 1000:.1f} ms")


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        core = build(Path(folder))
        sender = CountingSender()
        dispatcher = Dispatcher(core.engine, core.config, {Channel.TELEGRAM: sender}, core.remember,
                                core.mark_unreachable, clock=lambda: NOW, pacing=0)  # fmt: skip
        follow_up = FollowUp(core.engine, dispatcher, CalendarDefaults(), clock=lambda: NOW)
        planned: list[int] = []
        timed("plan reminders (rows)", PEOPLE, lambda: planned.append(follow_up.plan()))
        result = []
        timed("sweep: claim, compose, record (messages)", planned[0],
              lambda: result.append(asyncio.run(dispatcher.sweep())))  # fmt: skip
        print(f"sweep sent {result[0].messages} messages for {result[0].sent} rows")
        chat_latency(core)


if __name__ == "__main__":
    main()
