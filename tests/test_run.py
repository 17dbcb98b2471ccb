"""`dondoc run` as a real process: long polling against the fake Bot API server on 127.0.0.1."""

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest
from sqlmodel import select

from models import BotAccount, Channel, Reminder
from tests.chat_school import OFFICE_HEAD, ChatSchool
from tests.fake_telegram import FakeTelegram

DONDOC = Path(sys.executable).with_name("dondoc")


async def wait_for(condition, timeout: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            pytest.fail("timed out waiting for the bot")
        await asyncio.sleep(0.05)


async def test_dondoc_run_polls_answers_and_stops_cleanly(
    tg: FakeTelegram, school: ChatSchool, database_url: str, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "TELEGRAM_BOT_TOKEN": tg.token,
        "TELEGRAM_API_BASE_URL": tg.base_url,
        "EVIDENCE_DIR": str(tmp_path / "evidence"),
        "LOG_LEVEL": "WARNING",
    }
    env.pop("WEBHOOK_URL", None)
    process = await asyncio.create_subprocess_exec(
        DONDOC, "run", cwd=tmp_path, env=env, stderr=asyncio.subprocess.PIPE
    )
    try:
        await wait_for(lambda: ("default", "vi") in tg.commands)
        tg.queue(tg.message_update(tg.user(103), f"/start {school.codes[OFFICE_HEAD]}"))
        tg.queue(tg.message_update(tg.user(103), "/viec"))
        await wait_for(lambda: any("Việc đang mở" in (m["plain_text"] or "") for m in tg.sent))
        await wait_for(lambda: planned_reminders(school) > 0)  # the scheduler runs in the process
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 0, stderr.decode()
    assert "Traceback" not in stderr.decode()
    assert any(m["plain_text"].startswith("Chào Trần Thị Mai!") for m in tg.sent)
    with school.session() as session:
        account = session.exec(select(BotAccount)).one()
    assert (account.channel, account.username) == (Channel.TELEGRAM, "dondoc_test_bot")


def planned_reminders(school: ChatSchool) -> int:
    with school.session() as session:
        return len(session.exec(select(Reminder.id)).all())


def test_dondoc_run_without_a_token_says_how_to_get_one(cli, monkeypatch) -> None:
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    result = cli("run", expect=2)
    assert "TELEGRAM_BOT_TOKEN" in result.output and "@BotFather" in result.output


def test_a_webhook_needs_a_secret(cli, monkeypatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:TEST-TOKEN")
    monkeypatch.setenv("WEBHOOK_URL", "https://bot.example.invalid/telegram")
    monkeypatch.delenv("WEBHOOK_SECRET", raising=False)
    result = cli("run", expect=2)
    assert "WEBHOOK_SECRET" in result.output
