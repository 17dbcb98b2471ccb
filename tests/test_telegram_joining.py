"""Joining through Telegram: deep links, typed codes, expired, reused and wrong codes, strangers."""

import json

from sqlmodel import select

from bot.runner import known_username, start_telegram
from bot.settings import load_settings
from models import Channel, ChatIdentity, Invitation, JoinAttempt
from tests.chat_school import OFFICE_HEAD, OFFICE_STAFF, TEACHER
from tests.telegram_harness import TelegramBot, texts

STRANGER, MAI, NAM = 999, 103, 104


async def test_the_deep_link_code_links_the_account(bot: TelegramBot) -> None:
    sent = await bot.say(MAI, f"/start {bot.school.codes[OFFICE_HEAD]}")
    assert sent[0]["plain_text"].startswith(
        "Chào thầy/cô Trần Thị Mai! Tài khoản đã được liên kết."
    )
    assert "/viec" in sent[1]["plain_text"]
    with bot.school.session() as session:
        identity = session.exec(select(ChatIdentity)).one()
        invitation = session.exec(
            select(Invitation).where(Invitation.member_id == identity.member_id)
        ).one()
    assert (identity.channel, identity.external_user_id, identity.chat_id) == (
        Channel.TELEGRAM,
        str(MAI),
        str(MAI),
    )
    assert identity.member_id == bot.school.member(OFFICE_HEAD).id
    assert invitation.used_at is not None


async def test_typing_the_code_also_links(bot: TelegramBot) -> None:
    code = bot.school.codes[OFFICE_STAFF]
    sent = await bot.say(NAM, f"  {code[:4].lower()}-{code[4:]} ")
    assert "Chào thầy/cô Lê Văn Nam!" in texts(sent)


async def test_an_expired_code_is_refused(bot: TelegramBot) -> None:
    bot.school.clock.advance(days=15)
    sent = await bot.say(MAI, f"/start {bot.school.codes[OFFICE_HEAD]}")
    assert texts(sent) == (
        "Mã mời này đã hết hạn. Thầy/cô vui lòng xin mã mới ở văn phòng hoặc Ban giám hiệu."
    )


async def test_a_code_works_once(bot: TelegramBot) -> None:
    await bot.join(MAI, OFFICE_HEAD)
    sent = await bot.say(STRANGER, f"/start {bot.school.codes[OFFICE_HEAD]}")
    assert texts(sent).startswith("Mã mời này đã được dùng.")
    again = await bot.say(MAI, f"/start {bot.school.codes[OFFICE_HEAD]}")
    assert texts(again).startswith("Tài khoản này đã liên kết với Trần Thị Mai")


async def test_wrong_codes_are_slowed_down(bot: TelegramBot) -> None:
    for attempt in range(5):
        sent = await bot.say(STRANGER, f"/start WRONG{attempt:03d}")
        assert texts(sent).startswith("Mã mời không đúng.")
    sent = await bot.say(STRANGER, f"/start {bot.school.codes[TEACHER]}")
    assert texts(sent) == "Mã mời đã bị nhập sai nhiều lần. Thầy/cô vui lòng thử lại sau 15 phút."
    bot.school.clock.advance(minutes=16)
    assert "Chào thầy/cô Đỗ Văn Bình!" in texts(
        await bot.say(STRANGER, f"/start {bot.school.codes[TEACHER]}")
    )
    with bot.school.session() as session:
        attempts = session.exec(select(JoinAttempt.succeeded)).all()
    assert sorted(attempts) == [False] * 5 + [True]


async def test_strangers_see_no_school_data(bot: TelegramBot) -> None:
    for text in ("/viec", "/chiso", "/viec III.4.2", "xin chào", "/capnhat III.4.2 50"):
        shown = texts(await bot.say(STRANGER, text))
        assert shown.startswith(
            "Xin chào thầy/cô! Đây là hệ thống đôn đốc công việc của nhà trường."
        )
        assert "III." not in shown and "dropout" not in shown


async def test_a_stranger_in_a_group_is_ignored_unless_they_use_a_command(bot: TelegramBot) -> None:
    group = {"chat_id": -100_5, "chat_type": "supergroup", "chat_title": "Tổ Văn phòng"}
    assert await bot.say(STRANGER, "chào cả nhà", **group) == []
    sent = await bot.say(STRANGER, "/viec", **group)
    assert sent[0]["plain_text"].startswith("Xin chào thầy/cô!")


async def test_start_up_sets_the_menu_in_both_languages_and_remembers_the_username(
    bot: TelegramBot, cli, monkeypatch
) -> None:
    await start_telegram(bot.app, bot.school.engine)
    vietnamese = bot.tg.commands[("default", "vi")]
    english = bot.tg.commands[("default", "en")]
    assert [c["command"] for c in vietnamese][:4] == ["viec", "capnhat", "xong", "vuong"]
    assert [c["command"] for c in english][:4] == ["tasks", "update", "done", "blocked"]
    assert vietnamese[0]["description"] == "Việc cá nhân và của tổ"
    assert bot.tg.commands[("default", "")] == vietnamese
    assert known_username(bot.school.engine, load_settings()) == "dondoc_test_bot"

    issued = json.loads(cli("invite", "--format", "json").output)
    assert issued[0]["telegram_link"] == f"https://t.me/dondoc_test_bot?start={issued[0]['code']}"
