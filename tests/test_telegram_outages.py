"""Telegram misbehaving, through real python-telegram-bot and the fake Bot API: a long 502
outage, a storm of 429s. Reminders and answers wait and go out after; none is dropped."""

import asyncio
from datetime import timedelta

from telegram import Update
from telegram.ext import ExtBot

from bot.rate_limit import PriorityRateLimiter
from bot.telegram import TelegramSender, build_application
from models import Channel, ReminderStatus
from scheduler.dispatch import Dispatcher
from tests.chat_school import OFFICE_HEAD, OFFICE_STAFF
from tests.fake_telegram import FakeTelegram
from tests.sweep_rig import MONDAY, Rig
from tests.telegram_harness import TelegramBot, unlimited
from tests.test_delivery_resilience import minute_by_minute, rows

HELP_START = "Cách dùng\n/viec — các việc thầy/cô phụ trách"
MAI, NAM = 103, 104  # Telegram user ids of the office head and a teacher of the office


async def test_reminders_due_during_a_thirty_minute_outage_go_out_after_it(
    rig: Rig, tg: FakeTelegram
) -> None:
    await asyncio.to_thread(rig.follow_up.plan)
    bot = ExtBot(tg.token, base_url=tg.base_url, rate_limiter=unlimited(max_retries=0))
    async with bot:
        dispatcher = rig.dispatcher(TelegramSender(bot))  # type: ignore[arg-type]
        with tg.outage(502) as outage:
            await minute_by_minute(rig, dispatcher, 30)
        assert outage.hits > 0 and tg.sent == []
        assert {row.status for row in rows(rig)} == {ReminderStatus.PENDING}
        await minute_by_minute(rig, dispatcher, 10)
    assert {row.status for row in rows(rig)} == {ReminderStatus.SENT}
    assert rig.clock.now - MONDAY == timedelta(minutes=40)
    assert {row.chat_id for row in rows(rig)} == {str(m["chat_id"]) for m in tg.sent}
    assert tg.duplicates() == {}


async def test_in_a_storm_of_429s_every_answer_reaches_its_person(
    tg: FakeTelegram, bot: TelegramBot
) -> None:
    for name, user in ((OFFICE_STAFF, NAM), (OFFICE_HEAD, MAI)):
        await bot.join(user, name)
    app = build_application(
        bot.school.core, token=tg.token, base_url=tg.base_url, base_file_url=tg.base_file_url,
        rate_limiter=PriorityRateLimiter(per_chat_per_second=100),
    )  # fmt: skip
    await app.initialize()
    try:
        storm = tg.flood_wait(60)  # longer than the limiter waits: answers go to the outbox
        before = len(tg.sent)
        await asyncio.gather(
            *(
                app.process_update(Update.de_json(tg.message_update(tg.user(user), text), app.bot))
                for user in (NAM, MAI)
                for text in ("/huongdan", "/viec")
            )
        )
        assert tg.sent[before:] == []
        storm.end()
        bot.school.clock.advance(minutes=1)
        other = ExtBot(tg.token, base_url=tg.base_url, rate_limiter=unlimited(max_retries=0))
        async with other:  # a sweeping instance
            sweep = Dispatcher(
                bot.school.engine, bot.school.core.config,
                {Channel.TELEGRAM: TelegramSender(other)}, bot.school.core.remember,
                bot.school.core.mark_unreachable, clock=bot.school.clock, pacing=0,
            )  # fmt: skip
            assert (await sweep.sweep()).messages == 4
    finally:
        await app.shutdown()
    for user, listing in ((NAM, "Chưa có việc nào được giao riêng"), (MAI, "Việc đang mở")):
        answers = [m["plain_text"] for m in tg.sent[before:] if m["chat_id"] == user]
        assert sorted(answer.startswith(HELP_START) for answer in answers) == [False, True]
        assert any(answer.startswith(listing) for answer in answers)
