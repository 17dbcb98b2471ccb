"""`dondoc run` processes stopped, killed and run side by side while they send reminders,
against the fake Bot API on 127.0.0.1: nothing is lost, nothing stranded, duplicates bounded."""

import asyncio
import signal
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from models import ReminderStatus
from models.base import utcnow
from models.db import session_scope
from services import instances, outbox
from tests.chat_school import OFFICE_HEAD, OFFICE_STAFF, ChatSchool
from tests.crowd import owe_reminders, statuses
from tests.fake_telegram import FakeTelegram
from tests.processes import DONDOC, run_environment, wait_until

FAST = {"REMINDER_SWEEP_SECONDS": "1", "HEARTBEAT_SECONDS": "1"}


Launch = Callable[..., Awaitable[asyncio.subprocess.Process]]


@pytest.fixture
async def launch() -> AsyncIterator[Launch]:
    """Starts `dondoc run --role ROLE`; whatever a failed test left running is killed after it,
    so that it cannot take the next tests' reminders."""
    started: list[asyncio.subprocess.Process] = []

    async def start(env: dict[str, str], folder: Path, role: str = "sweep"):
        process = await asyncio.create_subprocess_exec(
            DONDOC, "run", "--role", role, cwd=folder, env=env, stderr=asyncio.subprocess.PIPE
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.returncode is None:
            process.kill()
            await process.wait()


def reminders_sent(tg: FakeTelegram, chats: set[int]) -> list[int]:
    return [m["chat_id"] for m in tg.sent if m["method"] == "sendMessage" and m["chat_id"] in chats]


async def stop(process: asyncio.subprocess.Process) -> tuple[float, str]:
    """SIGTERM, as a process supervisor sends it; how long the process took to exit."""
    loop = asyncio.get_running_loop()
    began = loop.time()
    process.send_signal(signal.SIGTERM)
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    return loop.time() - began, stderr.decode()


async def test_sigterm_mid_sweep_strands_nothing_and_sends_nothing_twice(
    tg: FakeTelegram,
    school: ChatSchool,
    engine: Engine,
    database_url: str,
    tmp_path: Path,
    launch: Launch,
) -> None:
    chats = set(owe_reminders(engine, 150, utcnow()))
    env = run_environment(tg, database_url, tmp_path, **FAST)
    first = await launch(env, tmp_path)
    await wait_until(lambda: len(reminders_sent(tg, chats)) >= 20)
    seconds, stderr = await stop(first)
    assert first.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert seconds <= 10
    left = statuses(engine)
    assert ReminderStatus.SENDING not in left  # given back at once, not after a lease
    assert 0 < left[ReminderStatus.PENDING] < 150
    assert left[ReminderStatus.SENT] == len(reminders_sent(tg, chats))

    second = await launch(env, tmp_path)
    await wait_until(lambda: statuses(engine) == {ReminderStatus.SENT: 150})
    _, stderr = await stop(second)
    assert second.returncode == 0, stderr
    assert Counter(reminders_sent(tg, chats)) == Counter(chats)  # each person once


@pytest.mark.slow
async def test_twenty_kill_9_rounds_lose_nothing_and_duplicate_at_most_once_a_crash(
    tg: FakeTelegram,
    school: ChatSchool,
    engine: Engine,
    database_url: str,
    tmp_path: Path,
    launch: Launch,
) -> None:
    chats = set(owe_reminders(engine, 1000, utcnow()))
    env = run_environment(tg, database_url, tmp_path, **FAST)
    crashes = 20
    for _ in range(crashes):
        before = len(reminders_sent(tg, chats))
        process = await launch(env, tmp_path)
        await wait_until(lambda before=before: len(reminders_sent(tg, chats)) >= before + 15)
        process.kill()  # kill -9: no goodbye, its claims and heartbeat just stop
        await process.wait()
    last = await launch(env, tmp_path)
    await wait_until(lambda: statuses(engine) == {ReminderStatus.SENT: 1000}, timeout=180)
    _, stderr = await stop(last)
    assert last.returncode == 0, stderr
    received = Counter(reminders_sent(tg, chats))
    assert set(received) == chats  # nobody lost their reminder
    assert sum(received.values()) - len(chats) <= crashes


async def test_two_instances_poll_one_at_a_time_and_the_other_takes_over(
    school: ChatSchool, engine: Engine, database_url: str, tmp_path: Path, launch: Launch
) -> None:
    async with FakeTelegram(conflict_on_second_poller=True) as tg:
        env = run_environment(tg, database_url, tmp_path, **FAST)
        first = await launch(env, tmp_path, role="all")
        await wait_until(lambda: len(tg.calls_of("getUpdates")) >= 1)
        second = await launch(env, tmp_path, role="all")
        await wait_until(lambda: len(alive(engine)) == 2)
        chats = set(owe_reminders(engine, 20, utcnow()))
        await wait_until(lambda: statuses(engine) == {ReminderStatus.SENT: 20})
        tg.queue(tg.message_update(tg.user(103), f"/start {school.codes[OFFICE_HEAD]}"))
        await wait_until(lambda: welcomed(tg) == 1)
        _, first_log = await stop(first)  # the poller goes: the other one takes the updates
        tg.queue(tg.message_update(tg.user(104), f"/start {school.codes[OFFICE_STAFF]}"))
        await wait_until(lambda: welcomed(tg) == 2)
        _, second_log = await stop(second)
    assert "409" not in first_log + second_log  # never both polling at once
    assert Counter(reminders_sent(tg, chats)) == Counter(chats)


def welcomed(tg: FakeTelegram) -> int:
    return sum("Chào" in (m["plain_text"] or "") for m in tg.sent)


def alive(engine: Engine) -> list[str]:
    with session_scope(engine) as session:
        return [instance.name for instance in instances.alive(session, utcnow(), outbox.DEAD_AFTER)]
