"""`dondoc run` as a real process: long polling against the fake Bot API server on 127.0.0.1."""

import asyncio
import signal
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.channels import CHANNELS
from bot.runner import chat_core, follow_up
from bot.settings import load_settings
from handlers.context import ChatConfig
from models import BotAccount, Channel, Reminder
from tests.chat_school import OFFICE_HEAD, PRINCIPAL, ChatSchool
from tests.fake_telegram import FakeTelegram
from tests.fake_zalo import FakeZalo
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


async def test_dondoc_run_serves_telegram_and_zalo_together(
    tg: FakeTelegram, school: ChatSchool, database_url: str, tmp_path: Path
) -> None:
    async with FakeZalo() as zalo:
        env = run_environment(
            tg, database_url, tmp_path, ZALO_BOT_TOKEN=zalo.token, ZALO_API_BASE_URL=zalo.base_url
        )
        process = await asyncio.create_subprocess_exec(
            DONDOC, "run", cwd=tmp_path, env=env, stderr=asyncio.subprocess.PIPE
        )
        try:
            zalo.queue(zalo.text_update("zl1", school.codes[OFFICE_HEAD]))
            tg.queue(tg.message_update(tg.user(101), f"/start {school.codes[PRINCIPAL]}"))
            await wait_until(lambda: len(zalo.texts_to("zl1")) >= 2)
            await wait_until(lambda: any("Chào" in (m["plain_text"] or "") for m in tg.sent))
            zalo.queue(zalo.text_update("zl1", "/viec III.4.2"))
            await wait_until(lambda: len(zalo.texts_to("zl1")) >= 3)
        finally:
            process.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    log = stderr.decode()
    assert process.returncode == 0, log
    assert "Traceback" not in log and zalo.token not in log, log
    assert zalo.texts_to("zl1")[0].startswith("Chào thầy/cô Trần Thị Mai")
    assert "1. ✅ Hoàn thành" in zalo.texts_to("zl1")[2]
    assert zalo.calls_of("deleteWebhook")  # polling: no webhook left behind
    assert zalo.violations == []


async def test_dondoc_run_with_zalo_alone(
    school: ChatSchool, database_url: str, tmp_path: Path
) -> None:
    async with FakeZalo() as zalo:
        env = {
            **run_environment(FakeTelegram(), database_url, tmp_path),
            "ZALO_BOT_TOKEN": zalo.token, "ZALO_API_BASE_URL": zalo.base_url,
        }  # fmt: skip
        env.pop("TELEGRAM_BOT_TOKEN")
        process = await asyncio.create_subprocess_exec(
            DONDOC, "run", cwd=tmp_path, env=env, stderr=asyncio.subprocess.PIPE
        )
        try:
            zalo.queue(zalo.text_update("zl1", f"/start {school.codes[OFFICE_HEAD]}"))
            await wait_until(lambda: len(zalo.texts_to("zl1")) >= 1)
        finally:
            process.send_signal(signal.SIGINT)
            _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 0, stderr.decode()
    assert zalo.texts_to("zl1")[0].startswith("Chào thầy/cô Trần Thị Mai")


async def test_a_wrong_zalo_token_stops_the_start_with_advice(
    school: ChatSchool, database_url: str, tmp_path: Path
) -> None:
    async with FakeZalo() as zalo:
        env = {
            **run_environment(FakeTelegram(), database_url, tmp_path),
            "ZALO_BOT_TOKEN": "1:wrong-token", "ZALO_API_BASE_URL": zalo.base_url,
        }  # fmt: skip
        env.pop("TELEGRAM_BOT_TOKEN")
        process = await asyncio.create_subprocess_exec(
            DONDOC, "run", cwd=tmp_path, env=env, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        output, _ = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 2
    assert "Zalo không nhận ZALO_BOT_TOKEN" in output.decode()
    assert "wrong-token" not in output.decode()


def test_a_zalo_webhook_needs_a_secret(cli, monkeypatch) -> None:
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.setenv("ZALO_BOT_TOKEN", "1:token")
    monkeypatch.setenv("ZALO_WEBHOOK_URL", "https://truong.example/zalo")
    monkeypatch.delenv("ZALO_WEBHOOK_SECRET", raising=False)
    assert "ZALO_WEBHOOK_SECRET" in cli("run", expect=2).output


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
        channels=CHANNELS,
    )
    assert follow_up(settings, engine, core, {}).dispatcher.config == core.config


def test_dondoc_run_without_a_token_says_how_to_get_one(cli, monkeypatch) -> None:
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.delenv("ZALO_BOT_TOKEN", raising=False)
    result = cli("run", expect=2)
    assert "TELEGRAM_BOT_TOKEN" in result.output and "@BotFather" in result.output
    assert "ZALO_BOT_TOKEN" in result.output and "Zalo Bot Creator" in result.output


def test_a_webhook_needs_a_secret(cli, monkeypatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:TEST-TOKEN")
    monkeypatch.setenv("WEBHOOK_URL", "https://bot.example.invalid/telegram")
    monkeypatch.delenv("WEBHOOK_SECRET", raising=False)
    result = cli("run", expect=2)
    assert "WEBHOOK_SECRET" in result.output
