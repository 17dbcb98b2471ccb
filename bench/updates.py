"""CPU per chat update: `dondoc run` against a bare python-telegram-bot bot that only replies,
both polling the same fake Bot API server (tests/fake_telegram.py, 127.0.0.1) run in this
process. Not a test: `.venv/bin/python -m bench.updates [--rate N] [--out FILE]`.

The school is the default plan with 100 people linked on Telegram (a head for each unit, the
others staff given tasks of their unit). Each person sends the same mix, 15 messages each:
`/viec`, `/capnhat CODE N`, `/viec CODE`. Each bot gets the same 1,500 updates, one process after
the other. CPU is user + system time from /proc/<pid>/stat, counted from when the process is up
and idle (its idle rate, measured just before, is taken off); latency runs from the update
queued to the first answer received in that chat.
"""

import argparse
import asyncio
import os
import platform
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import col, func, select

from data import DEFAULT_PLAN
from models import (
    Channel,
    ChatIdentity,
    Member,
    Membership,
    Reminder,
    ReminderStatus,
    Role,
    School,
    Task,
    TaskAssignee,
    Unit,
)
from models.db import make_engine, session_scope, upgrade_schema
from services.plan_files import read_plan
from services.plan_store import import_plan
from services.reminders import CalendarDefaults, plan_school
from tests.fake_telegram import FakeTelegram, JsonDict, Params
from tests.processes import DONDOC, run_environment

PEOPLE = 100
ROUNDS = 5  # each round: /viec, /capnhat CODE N, /viec CODE
FIRST_USER = 1000
TICKS = os.sysconf("SC_CLK_TCK")
BARE_BOT = Path(__file__).with_name("bare_bot.py")
RESULTS = Path(__file__).parent / "results" / "updates.md"
ANSWER_TIMEOUT = 300.0


@dataclass(frozen=True)
class Person:
    user_id: int
    code: str  # the task their /capnhat and /viec CODE name


class TimedFake(FakeTelegram):
    """The fake server, noting when each chat gets its first answer to a pending update."""

    def __init__(self) -> None:
        super().__init__()
        self.pending: dict[int, float] = {}  # chat id -> when its update was queued
        self.latencies: list[float] = []
        self.extra = 0  # messages sent while no update of that chat was waiting
        self.get_updates = 0

    def send_at(self, update: JsonDict, chat_id: int) -> None:
        self.pending[chat_id] = time.perf_counter()
        self.queue(update)

    async def _send_message(self, params: Params) -> JsonDict:
        message = await super()._send_message(params)
        queued = self.pending.pop(message["chat"]["id"], None)
        if queued is None:
            self.extra += 1
        else:
            self.latencies.append(time.perf_counter() - queued)
        return message

    async def _get_updates(self, params: Params) -> list[JsonDict]:
        self.get_updates += 1
        return await super()._get_updates(params)


def build_school(folder: Path, now: datetime) -> tuple[str, list[Person]]:
    """The default plan, a head for each unit and staff given up to three tasks of their unit;
    reminders due in the next hour are planned and cancelled, so none is sent during the run."""
    url = f"sqlite:///{folder / 'bench.db'}"
    engine = make_engine(url)
    upgrade_schema(engine)
    people: list[Person] = []
    with session_scope(engine) as session:
        import_plan(session, read_plan(DEFAULT_PLAN), now=now)
        school = session.exec(select(School)).one()
        shared = select(Task.code).group_by(Task.code).having(func.count() > 1)
        own: dict[int, list[int]] = {}
        codes: dict[int, str] = {}
        for task in session.exec(select(Task).where(col(Task.code).not_in(shared))):
            own.setdefault(task.unit_id, []).append(task.id)
            codes[task.id] = task.code
        units = [
            unit for unit in session.exec(select(Unit).order_by(col(Unit.id))) if unit.id in own
        ]
        for n in range(PEOPLE):
            unit = units[n % len(units)]
            head = n < len(units)
            role = Role.STAFF
            if head:
                role = Role.PRINCIPAL if unit.code == "BGH" else Role.UNIT_HEAD
            member = Member(school_id=school.id, name=f"Người thử {n}", salutation="cô")
            session.add(member)
            session.flush()
            session.add(Membership(member_id=member.id, unit_id=unit.id, role=role))
            user_id = FIRST_USER + n
            chat = str(user_id)
            session.add(ChatIdentity(member_id=member.id, channel=Channel.TELEGRAM,
                                     external_user_id=chat, chat_id=chat))  # fmt: skip
            tasks = own[unit.id]
            mine = [tasks[(n + k) % len(tasks)] for k in range(min(3, len(tasks)))]
            if not head:
                session.add_all(
                    TaskAssignee(task_id=task_id, member_id=member.id, assigned_at=now)
                    for task_id in mine
                )
            people.append(Person(user_id, codes[mine[0]]))
    with session_scope(engine) as session:
        school = session.exec(select(School)).one()
        plan_school(session, school, now + timedelta(hours=1), CalendarDefaults())
        for reminder in session.exec(select(Reminder)):
            reminder.status = ReminderStatus.CANCELLED
            session.add(reminder)
    engine.dispose()
    return url, people


def messages(people: list[Person]) -> list[tuple[int, str]]:
    """The 1,500 messages, person after person within each step."""
    mix = []
    for round_ in range(ROUNDS):
        for text in ("/viec", "/capnhat {code} {percent}", "/viec {code}"):
            for person in people:
                mix.append(
                    (person.user_id, text.format(code=person.code, percent=10 * (round_ + 1)))
                )
    return mix


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


@dataclass
class Result:
    name: str
    updates: int
    cpu: float  # seconds, idle taken off
    idle_rate: float  # CPU seconds per second before the first update
    seconds: float
    latencies: list[float] = field(default_factory=list)
    extra: int = 0
    polls: int = 0

    @property
    def ms_per_update(self) -> float:
        return self.cpu / self.updates * 1000

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * share))] * 1000


async def settle(pid: int, fake: TimedFake, started: int, timeout: float = 60.0) -> None:
    """Up: polling, and its start-up work (the first reminder planning and sweep) done."""
    deadline = time.monotonic() + timeout
    while fake.get_updates <= started:
        if time.monotonic() > deadline:
            raise RuntimeError("the bot did not start polling")
        await asyncio.sleep(0.05)
    before = cpu_seconds(pid)
    while time.monotonic() < deadline:
        await asyncio.sleep(1.0)
        now = cpu_seconds(pid)
        if now - before <= 0.02:
            return
        before = now
    raise RuntimeError("the bot never became idle")


async def measure(
    name: str, command: list[str], env: dict[str, str], fake: TimedFake, people: list[Person],
    rate: float, log: Path,
) -> Result:  # fmt: skip
    users = {person.user_id: fake.user(person.user_id) for person in people}
    mix = messages(people)
    fake.latencies, fake.extra, fake.pending = [], 0, {}
    started = fake.get_updates
    with log.open("w") as stderr:
        process = await asyncio.create_subprocess_exec(
            *command, env=env, cwd=log.parent, stdout=stderr, stderr=stderr
        )
    try:
        await settle(process.pid, fake, started)
        idle_from = cpu_seconds(process.pid)
        await asyncio.sleep(2.0)
        idle_rate = (cpu_seconds(process.pid) - idle_from) / 2.0
        fake.extra = 0
        polls = fake.get_updates
        cpu_from, start = cpu_seconds(process.pid), time.perf_counter()
        await feed(fake, users, mix, rate)
        seconds = time.perf_counter() - start
        cpu = cpu_seconds(process.pid) - cpu_from - idle_rate * seconds
        polls = fake.get_updates - polls
    finally:
        process.send_signal(signal.SIGINT)
        await asyncio.wait_for(process.wait(), timeout=30)
    return Result(name, len(mix), cpu, idle_rate, seconds, fake.latencies, fake.extra, polls)


async def feed(fake: TimedFake, users: dict, mix: list[tuple[int, str]], rate: float) -> None:
    """Queue the updates (at `rate` per second, all at once when 0), a person's next only once
    their previous one is answered; return when every one is."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ANSWER_TIMEOUT
    start = loop.time()
    for index, (user_id, text) in enumerate(mix):
        if rate:
            await asyncio.sleep(max(0.0, start + index / rate - loop.time()))
        while user_id in fake.pending:
            await _tick(loop, deadline)
        fake.send_at(fake.message_update(users[user_id], text), user_id)
    while fake.pending:
        await _tick(loop, deadline)


async def _tick(loop: asyncio.AbstractEventLoop, deadline: float) -> None:
    if loop.time() > deadline:
        raise RuntimeError("updates left unanswered")
    await asyncio.sleep(0.001)


def table(results: list[Result], rate: float) -> str:
    dondoc, bare = results
    lines = [
        "# CPU per chat update: `dondoc run` against a bare python-telegram-bot bot",
        "",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, {dondoc.updates} updates from {PEOPLE} people "
        f"(`/viec`, `/capnhat CODE N`, `/viec CODE`), "
        + (f"queued at {rate:g}/s" if rate else "queued all at once")
        + "; `.venv/bin/python -m bench.updates`",
        "",
        "| bot | CPU ms/update | idle CPU ms/s | p50 ms | p99 ms | wall s | getUpdates "
        "| extra msgs |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        lines.append(
            f"| {result.name} | {result.ms_per_update:.2f} | {result.idle_rate * 1000:.1f} | "
            f"{result.percentile(0.5):.1f} | {result.percentile(0.99):.1f} | "
            f"{result.seconds:.1f} | {result.polls} | {result.extra} |"
        )
    ratio = dondoc.ms_per_update / bare.ms_per_update
    lines += ["", f"dondoc / bare: **{ratio:.2f}×** CPU per update"]
    return "\n".join(lines) + "\n"


async def run(rate: float, out: Path) -> str:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        url, people = build_school(root, datetime.now(UTC))
        async with TimedFake() as fake:
            env = run_environment(fake, url, root, REMINDER_SWEEP_SECONDS="3600", LOG_LEVEL="INFO")
            dondoc = await measure("dondoc run", [str(DONDOC), "run"], env, fake, people, rate,
                                   root / "dondoc.log")  # fmt: skip
            bare = await measure("bare PTB", [sys.executable, str(BARE_BOT)], env, fake, people,
                                 rate, root / "bare.log")  # fmt: skip
            problems = fake.violations
    report = table([dondoc, bare], rate)
    if problems:
        report += f"\nBot API violations: {problems[:3]}\n"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report, encoding="utf-8")
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=25.0, help="updates/s, 0 = all at once")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    print(asyncio.run(run(args.rate, args.out)))


if __name__ == "__main__":
    main()
