"""One person on Telegram and Zalo: they link the second channel with a code from the first,
choose where reminders go (/kenh), and each reminder reaches them once, there."""

import re

from bot.telegram import TelegramSender
from bot.zalo import ZaloSender
from models import Channel
from scheduler.dispatch import Dispatcher
from tests.chat_school import OFFICE_HEAD
from tests.telegram_harness import TelegramBot, texts
from tests.zalo_harness import ZaloBot

MAI_TELEGRAM = 201


def both(bot: TelegramBot, zalo_bot: ZaloBot) -> Dispatcher:
    core = bot.school.core
    senders = {
        Channel.TELEGRAM: TelegramSender(bot.app.bot),
        Channel.ZALO: ZaloSender(zalo_bot.api),
    }
    return Dispatcher(
        bot.school.engine, core.config, senders, core.remember, core.mark_unreachable,  # type: ignore[arg-type]
        clock=bot.school.clock, pacing=0,
    )  # fmt: skip


def telegram_texts(bot: TelegramBot) -> list[str]:
    return [m["plain_text"] or "" for m in bot.tg.sent if m["chat_id"] == MAI_TELEGRAM]


async def test_a_person_on_both_channels_gets_each_reminder_once_where_they_chose(
    bot: TelegramBot, zalo_bot: ZaloBot
) -> None:
    await bot.join(MAI_TELEGRAM, OFFICE_HEAD)
    given = texts(await bot.say(MAI_TELEGRAM, "/kenh lienket"))
    code = re.search(r"Mã liên kết của thầy/cô: (\w+)", given)
    assert code is not None, given
    bot.school.clock.advance(minutes=5)
    welcome = await zalo_bot.say(OFFICE_HEAD, code.group(1))
    assert welcome[0].startswith("Chào thầy/cô Trần Thị Mai")
    assert {a.channel for a in zalo_bot.accounts(OFFICE_HEAD)} == {Channel.TELEGRAM, Channel.ZALO}

    zalo_bot.owe(OFFICE_HEAD, "III.4.2")  # linked last: Zalo
    on_telegram = len(telegram_texts(bot))
    assert (await both(bot, zalo_bot).sweep()).sent == 1
    assert "III.4.2" in zalo_bot.zalo.texts_to(zalo_bot.user(OFFICE_HEAD))[-1]
    assert len(telegram_texts(bot)) == on_telegram

    listing = (await zalo_bot.say(OFFICE_HEAD, "/kenh"))[0]
    assert "qua Zalo" in listing and "• Telegram" in listing
    assert "1. 📩 Nhận qua Telegram" in listing
    chosen = await zalo_bot.say(OFFICE_HEAD, "1")
    assert chosen == ["Từ nay nhắc việc và báo cáo tuần gửi đến thầy/cô qua Telegram."]

    zalo_bot.owe(OFFICE_HEAD, "III.1.11")
    on_zalo = len(zalo_bot.zalo.texts_to(zalo_bot.user(OFFICE_HEAD)))
    assert (await both(bot, zalo_bot).sweep()).sent == 1
    assert "III.1.11" in telegram_texts(bot)[-1]
    assert len(zalo_bot.zalo.texts_to(zalo_bot.user(OFFICE_HEAD))) == on_zalo


async def test_choosing_a_channel_not_linked_says_how_to_link_it(bot: TelegramBot) -> None:
    await bot.join(MAI_TELEGRAM, OFFICE_HEAD)
    answer = texts(await bot.say(MAI_TELEGRAM, "/kenh zalo"))
    assert answer.startswith("Thầy/cô chưa liên kết Zalo. Gõ /kenh lienket")
    assert "Không có kênh “viber”" in texts(await bot.say(MAI_TELEGRAM, "/kenh viber"))
