"""`dondoc run` as a real process: long polling against the fake Bot API server on 127.0.0.1."""

import asyncio
import signal
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.runner import chat_core, follow_up
from bot.settings import load_settings
from handlers.context import ChatConfig
from models import BotAccount, Channel, Reminder
from tests.chat_school import OFFICE_HEAD, PRINCIPAL, ChatSchool
from tests.fake_telegram import FakeTelegram
from tests.processes import DONDOC, run_environment, wait_until


async def test_dondoc_run_polls_answers_and_stops_cleanly(
    tg: FakeTelegram, school: ChatSchool, database_url: str, tmp_path: Path
) -> None:
    env = run_environment(tg, database_url, tmp_path, REPORTS_DIR=str(tmp_path / "bao-cao"))
    process = await asyncio.create_subprocess_exec(
        DONDOC, "run", cwd=tmp_path, env=env, stderr=asyncio.subprocess.PIPE
    )
    try:
        await wait_until(lambda: ("default", "vi") in tg.commands)
        tg.queue(tg.message_update(tg.user(103), f"/start {school.codes[OFFICE_HEAD]}"))
        tg.queue(tg.message_update(tg.user(103), "/viec"))
        await wait_until(lambda: any("Việc đang mở" in (m["plain_text"] or "") for m in tg.sent))
        await wait_until(lambda: planned_reminders(school) > 0)  # the scheduler runs in the process
        tg.queue(tg.message_update(tg.user(101), f"/start {school.codes[PRINCIPAL]}"))
        tg.queue(tg.message_update(tg.user(101), "/baocao"))
        await wait_until(lambda: any(m["method"] == "sendDocument" for m in tg.sent))
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 0, stderr.decode()
    assert "Traceback" not in stderr.decode()
    assert any((m["plain_text"] or "").startswith("Chào thầy/cô Trần Thị Mai!") for m in tg.sent)
    with school.session() as session:
        account = session.exec(select(BotAccount)).one()
    assert (account.channel, account.username) == (Channel.TELEGRAM, "dondoc_test_bot")
    assert list((tmp_path / "bao-cao").glob("THCS-TT2/*/bao-cao-tuan-*.xlsx"))
    assert not (tmp_path / "data").exists()


def planned_reminders(school: ChatSchool) -> int:
    with school.session() as session:
        return len(session.exec(select(Reminder.id)).all())


def test_the_process_chat_config_comes_from_the_settings(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REPORTS_DIR", str(tmp_path / "bao-cao"))
    monkeypatch.setenv("EVIDENCE_DIR", str(tmp_path / "minh-chung"))
    monkeypatch.setenv("DEFAULT_TIMEZONE", "Asia/Bangkok")
    settings = load_settings()
    core = chat_core(settings, engine)
    assert core.config == ChatConfig(
        evidence_dir=tmp_path / "minh-chung",
        reports_dir=tmp_path / "bao-cao",
        default_timezone="Asia/Bangkok",
    )
    assert follow_up(settings, engine, core, {}).dispatcher.config == core.config


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
