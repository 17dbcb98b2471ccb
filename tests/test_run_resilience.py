"""`dondoc run` processes stopped, killed and run side by side while they send reminders,
against the fake Bot API on 127.0.0.1: nothing is lost, nothing stranded, duplicates bounded."""

import asyncio
import signal
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from models import ReminderStatus
from models.base import utcnow
from models.db import session_scope
from services import instances
from tests.chat_school import OFFICE_HEAD, ChatSchool
from tests.crowd import owe_reminders, statuses
from tests.fake_telegram import FakeTelegram
from tests.processes import DONDOC, run_environment, wait_until

FAST = {"REMINDER_SWEEP_SECONDS": "1", "HEARTBEAT_SECONDS": "1"}


async def start(
    env: dict[str, str], folder: Path, role: str = "sweep"
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        DONDOC, "run", "--role", role, cwd=folder, env=env, stderr=asyncio.subprocess.PIPE
    )


def reminders_sent(tg: FakeTelegram, chats: set[int]) -> list[int]:
    return [m["chat_id"] for m in tg.sent if m["method"] == "sendMessage" and m["chat_id"] in chats]


async def wait_for(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    try:
        await wait_until(condition, timeout)
    except TimeoutError:
        pytest.fail("timed out waiting for the bot")


async def stop(process: asyncio.subprocess.Process) -> tuple[float, str]:
    """SIGTERM, as a process supervisor sends it; how long the process took to exit."""
    loop = asyncio.get_running_loop()
    began = loop.time()
    process.send_signal(signal.SIGTERM)
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    return loop.time() - began, stderr.decode()


async def test_sigterm_mid_sweep_strands_nothing_and_sends_nothing_twice(
    tg: FakeTelegram, school: ChatSchool, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    chats = set(owe_reminders(engine, 150, utcnow()))
    env = run_environment(tg, database_url, tmp_path, **FAST)
    first = await start(env, tmp_path)
    await wait_for(lambda: len(reminders_sent(tg, chats)) >= 20)
    seconds, stderr = await stop(first)
    assert first.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert seconds <= 10
    left = statuses(engine)
    assert ReminderStatus.SENDING not in left  # given back at once, not after a lease
    assert 0 < left[ReminderStatus.PENDING] < 150
    assert left[ReminderStatus.SENT] == len(reminders_sent(tg, chats))

    second = await start(env, tmp_path)
    await wait_for(lambda: statuses(engine) == {ReminderStatus.SENT: 150})
    _, stderr = await stop(second)
    assert second.returncode == 0, stderr
    assert Counter(reminders_sent(tg, chats)) == Counter(chats)  # each person once


@pytest.mark.slow
async def test_twenty_kill_9_rounds_lose_nothing_and_duplicate_at_most_once_a_crash(
    tg: FakeTelegram, school: ChatSchool, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    chats = set(owe_reminders(engine, 1000, utcnow()))
    env = run_environment(tg, database_url, tmp_path, **FAST)
    crashes = 20
    for _ in range(crashes):
        before = len(reminders_sent(tg, chats))
        process = await start(env, tmp_path)
        await wait_for(lambda before=before: len(reminders_sent(tg, chats)) >= before + 15)
        process.kill()  # kill -9: no goodbye, its claims and heartbeat just stop
        await process.wait()
    last = await start(env, tmp_path)
    await wait_for(lambda: statuses(engine) == {ReminderStatus.SENT: 1000}, timeout=180)
    _, stderr = await stop(last)
    assert last.returncode == 0, stderr
    received = Counter(reminders_sent(tg, chats))
    assert set(received) == chats  # nobody lost their reminder
    assert sum(received.values()) - len(chats) <= crashes


async def test_a_second_poller_says_so_once_and_keeps_sending_reminders(
    school: ChatSchool, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    async with FakeTelegram(conflict_on_second_poller=True) as tg:
        env = run_environment(tg, database_url, tmp_path, **FAST)
        first = await start(env, tmp_path, role="all")
        await wait_for(lambda: len(tg.calls_of("getUpdates")) >= 1)
        second = await start(env, tmp_path, role="all")
        await wait_for(lambda: len(alive(engine)) == 2)
        chats = set(owe_reminders(engine, 20, utcnow()))
        await wait_for(lambda: statuses(engine) == {ReminderStatus.SENT: 20})
        await asyncio.sleep(1)  # both keep running, one of them no longer polls
        tg.queue(tg.message_update(tg.user(103), f"/start {school.codes[OFFICE_HEAD]}"))
        await wait_for(lambda: any("Chào thầy/cô" in (m["plain_text"] or "") for m in tg.sent))
        assert len(alive(engine)) == 2
        logs = [(await stop(process))[1] for process in (first, second)]
    told = [log.count("409 Conflict") for log in logs]
    assert sorted(told) == [0, 1], logs
    assert Counter(reminders_sent(tg, chats)) == Counter(chats)


def alive(engine: Engine) -> list[str]:
    with session_scope(engine) as session:
        return [instance.name for instance in instances.alive(session, utcnow())]
