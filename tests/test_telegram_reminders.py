"""Reminders through the real Telegram path: buttons under them, replies to them, 429s."""

from datetime import timedelta

from sqlmodel import select

from bot.telegram import TelegramSender
from models import Channel, ProgressUpdate, Reminder, ReminderStatus, Task, TaskStatus, UpdateSource
from scheduler.dispatch import Dispatcher
from scheduler.jobs import FollowUp
from services.reminders import CalendarDefaults
from tests.chat_school import OFFICE_HEAD, TCM_HEAD
from tests.telegram_harness import TelegramBot, buttons

MAI, THU = 103, 105


def follow_up(bot: TelegramBot) -> FollowUp:
    core = bot.school.core
    dispatcher = Dispatcher(
        bot.school.engine, core.config, {Channel.TELEGRAM: TelegramSender(bot.app.bot)},
        core.remember, core.mark_unreachable, clock=bot.school.clock, pacing=0,
    )  # fmt: skip
    return FollowUp(bot.school.engine, dispatcher, CalendarDefaults(), clock=bot.school.clock)


async def test_a_reminder_carries_the_task_buttons_and_a_reply_to_it_updates_the_task(
    bot: TelegramBot,
) -> None:
    await bot.join(THU, TCM_HEAD)
    before = len(bot.tg.sent)
    await follow_up(bot).tick()
    reminder, checkin = [m for m in bot.tg.sent[before:] if m["chat_id"] == THU]
    assert reminder["plain_text"].startswith("⏰ Nhắc việc: ")  # several TCM tasks, coalesced
    # its six tasks with dates and IV.2.2, ongoing: followed by the check-in only
    assert checkin["plain_text"].startswith("📝 Tuần này Tổ chuyên môn còn 7 việc đang mở chưa có")
    sent_buttons = buttons(reminder)
    assert ("✅ III.5.3", f"d:{bot.school.task('III.5.3').id}") in sent_buttons

    pressed = await bot.press(THU, reminder, f"d:{bot.school.task('III.5.3').id}")
    assert pressed[0]["plain_text"].startswith("Đã ghi cho III.5.3")
    assert bot.school.task("III.5.3").status == TaskStatus.DONE


async def test_replying_to_a_single_task_reminder_records_progress(bot: TelegramBot) -> None:
    await bot.join(MAI, OFFICE_HEAD)
    with bot.school.session() as session:
        for task in session.exec(select(Task).where(Task.code != "III.1.11")):
            task.status = TaskStatus.DONE
            session.add(task)
        session.commit()
    bot.school.clock.now = bot.school.clock.now.replace(day=24, month=12, hour=1)  # 24/12 08:00
    before = len(bot.tg.sent)
    await follow_up(bot).tick()
    [reminder] = [m for m in bot.tg.sent[before:] if m["chat_id"] == MAI]
    assert reminder["plain_text"].startswith("⏰ Ngày mai đến hạn\nIII.1.11 — Định kỳ báo cáo")
    answer = await bot.reply(MAI, reminder, "đã xong 80% khối 6")
    assert "Tiến độ 80% — đang thực hiện" in answer[0]["plain_text"]
    with bot.school.session() as session:  # (recurring tasks done earlier moved on: SYSTEM)
        query = select(ProgressUpdate).where(ProgressUpdate.source != UpdateSource.SYSTEM)
        update = session.exec(query).one()
    assert (update.source, update.percent) == (UpdateSource.REPLY, 80)


async def test_telegram_429_reschedules_the_reminder(bot: TelegramBot) -> None:
    await bot.join(THU, TCM_HEAD)
    service = follow_up(bot)
    bot.tg.fail_next("sendMessage", 429, "Too Many Requests: retry after 7", retry_after=7,
                     chat_id=THU)  # fmt: skip
    result = await service.tick()
    assert result.retried >= 1
    with bot.school.session() as session:
        waiting = session.exec(
            select(Reminder).where(Reminder.status == ReminderStatus.PENDING)
        ).all()
    assert waiting and all(
        row.due_at == bot.school.clock.now + timedelta(seconds=7) for row in waiting
    )
    bot.school.clock.advance(seconds=8)
    assert (await service.dispatcher.sweep()).sent == len(waiting)
    assert [m for m in bot.tg.sent if m["chat_id"] == THU]
