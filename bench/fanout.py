"""B2: reminder fan-out. 5,000 reminders to 1,000 people (5 each, sent as separate messages: a
task reminder, a task assignment, three kept answers), sent by `dondoc run --role sweep` against
the fake Bot API enforcing Telegram's limits (30/s overall, 1/s per chat). Target: ≥ 95 % of
30 messages/s from the first send to the last, no 429, no duplicate.

`.venv/bin/python -m bench.fanout` (SQLite; BENCH_DATABASE_URL for PostgreSQL, that database is
wiped). Writes bench/results/fanout.md."""

import asyncio
import os
import platform
import signal
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from data import DEFAULT_PLAN
from handlers.chat import Reply, reply_payload
from messages import Rich
from models import (
    Channel,
    Member,
    Reminder,
    ReminderKind,
    ReminderStatus,
    School,
    Task,
    TaskAssignee,
    Unit,
)
from models.base import utcnow
from models.db import make_engine, session_scope, upgrade_schema
from services.plan_files import read_plan
from services.plan_store import import_plan
from tests.crowd import FIRST_CHAT, owe_reminders
from tests.fake_telegram import FakeTelegram, JsonDict, TelegramLimits, window_wait
from tests.processes import DONDOC, run_environment

PEOPLE = 1000
REPLIES = 3  # kept answers per person, each its own message
PER_PERSON = 2 + REPLIES  # + a task reminder and an assignment
TARGET_RATE = 30
RESULTS = Path(__file__).parent / "results" / "fanout.md"
TICKS = os.sysconf("SC_CLK_TCK")


class Fake(FakeTelegram):
    """The fake Bot API enforcing Telegram's limits, noting which limit each 429 was for."""

    def __init__(self) -> None:
        super().__init__(limits=TelegramLimits())
        self.refused: Counter[str] = Counter()

    def _limit_wait(self, chat: JsonDict, now: float) -> float:
        wait = super()._limit_wait(chat, now)
        if wait > 0:
            overall = window_wait(self._send_log, TARGET_RATE, 1.0, now) > 0
            self.refused["30/s overall" if overall else "per chat"] += 1
        return wait


def prepare(url: str, now: datetime) -> list[int]:
    """The default plan, then `PEOPLE` teachers each owed `PER_PERSON` messages; their chats."""
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    upgrade_schema(engine)
    with session_scope(engine) as session:
        import_plan(session, read_plan(DEFAULT_PLAN), now=now)
    chats = owe_reminders(engine, PEOPLE, now)  # a task due tomorrow: its before_1d reminder
    owe_more(engine, now)
    engine.dispose()
    return chats


def owe_more(engine: Engine, now: datetime) -> None:
    """Each teacher is also given a task due in a month (told once) and owed kept answers."""
    with session_scope(engine) as session:
        school = session.exec(select(School)).one()
        office = session.exec(select(Unit).where(Unit.code == "VANPHONG")).one()
        members = session.exec(
            select(Member).where(Member.school_id == school.id).order_by(col(Member.id))
        ).all()[-PEOPLE:]
        tasks = [
            Task(
                school_id=school.id,
                unit_id=office.id,
                code=f"BD.{n}",
                title=f"Báo cáo bồi dưỡng thường xuyên số {n}",
                deadline=now.date() + timedelta(days=30),
            )
            for n in range(PEOPLE)
        ]
        session.add_all(tasks)
        session.flush()
        for n, (member, task) in enumerate(zip(members, tasks, strict=True)):
            session.add(TaskAssignee(task_id=task.id, member_id=member.id, assigned_at=now))
            session.add(
                Reminder(
                    school_id=school.id,
                    dedupe_key=f"assigned:{task.id}:{member.id}",
                    task_id=task.id,
                    recipient_id=member.id,
                    kind=ReminderKind.ASSIGNED,
                    occurrence=now.date(),
                    due_at=now - timedelta(minutes=1),
                )
            )
            for k in range(REPLIES):
                text = f"Thầy/cô {member.name}: câu trả lời số {k + 1} đã được ghi nhận."
                session.add(
                    Reminder(
                        school_id=school.id,
                        dedupe_key=f"reply:bench:{n}:{k}",
                        kind=ReminderKind.REPLY,
                        occurrence=now.date(),
                        due_at=now - timedelta(minutes=1),
                        channel=Channel.TELEGRAM,
                        chat_id=str(FIRST_CHAT + n),
                        payload=reply_payload(Reply(Rich(text))),
                    )
                )


def left_unsent(url: str) -> int:
    engine = make_engine(url)
    with session_scope(engine) as session:
        rows = session.exec(
            select(Reminder.status).where(
                col(Reminder.recipient_id).is_not(None) | (Reminder.kind == ReminderKind.REPLY)
            )
        ).all()
    engine.dispose()
    return sum(status != ReminderStatus.SENT for status in rows)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Fanout:
    expected: int
    sent: int
    seconds: float  # first send to last
    too_many: int
    duplicates: int
    busiest_second: int
    unsent: int
    cpu: float  # the dondoc process's CPU seconds, start-up included
    peak_rss: float  # MB
    startup: float  # seconds from exec to the first send
    refused: Counter[str] = field(default_factory=Counter)  # 429s by limit

    @property
    def rate(self) -> float:
        return (self.sent - 1) / self.seconds if self.seconds else 0.0

    @property
    def met(self) -> bool:
        good_rate = self.rate >= 0.95 * TARGET_RATE
        return good_rate and not self.too_many and not self.duplicates and not self.unsent


def sends(tg: FakeTelegram, chats: set[int]) -> list[float]:
    return sorted(t for chat in chats for t in tg.send_times.get(chat, []))


async def fan_out(
    tg: Fake, url: str, chats: list[int], folder: Path, role: str = "sweep"
) -> Fanout:
    """Start `dondoc run --role ROLE`, wait until every message is out (or nothing moves for
    30 s), stop it with SIGTERM."""
    expected, wanted = len(chats) * PER_PERSON, set(chats)
    log = (folder / "sweep.log").open("w")
    began = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        DONDOC,
        "run",
        "--role",
        role,
        cwd=folder,
        env=run_environment(tg, url, folder, REMINDER_SWEEP_SECONDS="1"),
        stdout=log,
        stderr=log,
    )
    progress, moved = 0, time.monotonic()
    cpu = rss = 0.0
    try:
        while True:
            await asyncio.sleep(0.5)
            done = len(sends(tg, wanted))
            if done != progress:
                progress, moved = done, time.monotonic()
            if done >= expected or time.monotonic() - moved > 30 or process.returncode is not None:
                break
        await asyncio.sleep(1.5)  # the last sends recorded
        cpu, rss = cpu_seconds(process.pid), peak_rss_mb(process.pid)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), timeout=30)
        log.close()
    times = sends(tg, wanted)
    return Fanout(
        expected=expected,
        sent=len(times),
        seconds=times[-1] - times[0] if times else 0.0,
        too_many=tg.too_many_requests,
        duplicates=sum(count - 1 for count in tg.duplicates().values()),
        busiest_second=tg.max_sends_in(1.0),
        unsent=left_unsent(url),
        cpu=cpu,
        peak_rss=rss,
        startup=times[0] - began if times else 0.0,
        refused=tg.refused,
    )


async def run_once(url: str | None, folder: Path, role: str = "sweep") -> Fanout:
    url = url or f"sqlite:///{folder / 'fanout.db'}"
    chats = await asyncio.to_thread(prepare, url, utcnow())
    async with Fake() as tg:
        return await fan_out(tg, url, chats, folder, role)


def report(result: Fanout, database: str) -> str:
    yes = "met" if result.met else "**not met**"
    return "\n".join(
        [
            "## B2 — reminder fan-out through `dondoc run --role sweep`",
            "",
            f"{datetime.now().astimezone():%Y-%m-%d %H:%M %Z}, {os.cpu_count()} CPUs, "
            f"Python {platform.python_version()}, {database}; {PEOPLE:,} people × {PER_PERSON} "
            "messages (a task reminder, an assignment, 3 kept answers), REMINDER_SWEEP_SECONDS=1, "
            "the fake Bot API enforcing 30/s, 1/s per chat, 20/min per group; "
            "`.venv/bin/python -m bench.fanout`",
            "",
            "| messages | sent | s first→last | msg/s | of 30/s | busiest 1 s | 429s | duplicates "
            "| rows unsent | CPU s | CPU ms/msg | first send after s |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
            f"| {result.expected:,} | {result.sent:,} | {result.seconds:.1f} | {result.rate:.1f} "
            f"| {result.rate / TARGET_RATE:.1%} | {result.busiest_second} | {result.too_many} "
            f"| {result.duplicates} | {result.unsent} | {result.cpu:.1f} "
            f"| {result.cpu / max(1, result.sent) * 1000:.1f} | {result.startup:.1f} |",
            "",
            f"Target (≥ 95 % of 30/s, zero 429, zero duplicates, nothing left): {yes}. "
            f"Peak RSS of the sweep process: {result.peak_rss:.0f} MB."
            + (f" 429s by limit: {dict(result.refused)}." if result.refused else ""),
            "",
        ]
    )


def main() -> None:
    url = os.environ.get("BENCH_DATABASE_URL")
    with tempfile.TemporaryDirectory() as folder:
        result = asyncio.run(run_once(url, Path(folder)))
        database = make_engine(url or f"sqlite:///{folder}/fanout.db").dialect.name
    text = report(result, database)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
