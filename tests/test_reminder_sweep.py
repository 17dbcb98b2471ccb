"""The outbox sweep with a controlled clock: delivery, coalescing, crashes, restarts, retries."""

import asyncio
from datetime import timedelta

import pytest
from sqlmodel import select

from handlers.chat import RetryLater, Unreachable
from models import (
    Channel,
    ChatIdentity,
    DigestLog,
    Member,
    Reminder,
    ReminderStatus,
    School,
    Snooze,
    Task,
    TaskStatus,
    Unit,
    UnitChat,
)
from models.db import session_scope
from services import outbox
from tests.reminder_school import local
from tests.sweep_rig import CHATS, MONDAY, Crash, RecordingSender, Rig


async def test_each_person_gets_one_message_with_what_is_due(rig: Rig) -> None:
    result = await rig.follow_up.tick()
    head = rig.sender.to("Trưởng Văn Phòng")
    assert len(head) == 1
    assert head[0].startswith("⏰ <b>Nhắc việc</b>: 3 việc cần thầy/cô chú ý")
    assert all(code in head[0] for code in ("T.7", "T.1", "T.OVER"))
    [single] = [r for chat, r in rig.sender.sent if chat == CHATS["Tổ Trưởng"]]
    # Its week-ahead moment (26/11) passed before the bot first ran: it was never missed.
    assert single.text.startswith("⏰ <b>Nhắc việc sắp đến hạn</b>\n<b>T.TCM</b>")
    assert single.buttons[0][0].label == "✅ Hoàn thành"
    assert len(single.tasks) == 1  # a reply to it updates that task
    for leader in ("Hiệu Trưởng", "Phó Hiệu Trưởng"):
        [brief] = rig.sender.to(leader)
        # the first brief: news since Saturday's brief time, not since Sunday
        assert brief.startswith("📋 <b>Tóm tắt cho thầy/cô</b> — điểm mới từ 07:30 28/11/2026:")
        # T.OVER came overdue with the plan: counted, not listed as news
        assert "Kế hoạch mới nhập có 1 việc đã quá hạn từ trước — xem /baocao." in brief
    assert (result.messages, result.sent) == (4, 6)
    assert set(rig.statuses().values()) == {ReminderStatus.SENT}
    assert (await rig.follow_up.tick()).messages == 0  # sent once


async def test_a_restart_in_the_middle_of_a_sweep_sends_nothing_twice(rig: Rig) -> None:
    await asyncio.to_thread(rig.follow_up.plan)
    crashing = RecordingSender(crash_after_sending=False)
    first = rig.dispatcher(crashing)
    original = first._deliver
    delivered = 0

    async def deliver_then_die(message, result):
        nonlocal delivered
        if delivered == 2:
            raise Crash
        delivered += 1
        await original(message, result)

    first._deliver = deliver_then_die  # type: ignore[method-assign]
    with pytest.raises(Crash):
        await first.sweep()
    assert len(crashing.sent) == 2
    rig.clock.advance(minutes=1)
    assert (await rig.dispatcher().sweep()).messages == 0  # claimed rows wait for their lease
    rig.clock.advance(minutes=5)
    restarted = await rig.dispatcher().sweep()
    assert restarted.messages == 2
    everyone = [chat for chat, _ in crashing.sent + rig.sender.sent]
    assert sorted(everyone) == sorted(set(everyone))  # nobody got a message twice
    assert set(rig.statuses().values()) == {ReminderStatus.SENT}


async def test_a_crash_between_sending_and_recording_duplicates_at_most_once(rig: Rig) -> None:
    await asyncio.to_thread(rig.follow_up.plan)
    dying = RecordingSender(crash_after_sending=True)
    with pytest.raises(Crash):
        await rig.dispatcher(dying).sweep()
    assert len(dying.sent) == 1
    chat, reply = dying.sent[0]
    rig.clock.advance(minutes=6)
    await rig.dispatcher().sweep()
    assert [r.text for c, r in rig.sender.sent if c == chat] == [reply.text]  # one duplicate
    rig.clock.advance(minutes=30)
    await rig.dispatcher().sweep()
    assert [r.text for c, r in rig.sender.sent if c == chat] == [reply.text]  # and no more


async def test_after_three_days_of_downtime_each_person_gets_one_message(rig: Rig) -> None:
    rig.clock.now = MONDAY + timedelta(days=3)
    await rig.follow_up.tick()
    per_chat = [chat for chat, _ in rig.sender.sent]
    assert sorted(per_chat) == sorted(set(per_chat))  # one message per person
    head = rig.sender.to("Trưởng Văn Phòng")
    assert len(head) == 1 and head[0].count("<b>T.") >= 3
    assert len(rig.sender.to("Tổ Trưởng")) == 1


async def test_after_real_downtime_a_reminder_long_due_says_it_was_missed(rig: Rig) -> None:
    await rig.follow_up.tick()  # Monday 30/11: the bot runs, then stops until Saturday
    rig.clock.now = local(5, 8)
    await rig.follow_up.tick()
    [message, checkin] = rig.sender.to("Tổ Trưởng")[1:]
    assert checkin.startswith("📝")  # Thursday's check-in, also missed, comes after
    fresh, missed = message.split("<i>Gộp 1 lời nhắc bị lỡ khi bot tạm dừng:</i>")
    assert "<b>T.TCM</b>" in fresh  # due 03/12: its due-day reminder is two days old
    assert "<b>T.HOL</b>" in missed  # its week-ahead reminder (01/12) is four days old


async def test_a_reminder_sent_late_says_what_is_true_on_the_day_it_is_sent(rig: Rig) -> None:
    await asyncio.to_thread(rig.follow_up.plan)  # Monday: T.TCM's week-ahead reminder
    rig.clock.now = local(2, 9)  # the sweep only runs again on Wednesday; T.TCM is due Thursday
    await rig.dispatcher().sweep()
    [message] = rig.sender.to("Tổ Trưởng")
    assert message.startswith("⏰ <b>Ngày mai đến hạn</b>\n<b>T.TCM</b>")


async def test_very_old_reminders_are_summarised(rig: Rig) -> None:
    await asyncio.to_thread(rig.follow_up.plan)
    rig.clock.advance(days=4)  # the rows waited four days (the bot was down after planning)
    await rig.dispatcher().sweep()
    [message] = rig.sender.to("Trưởng Văn Phòng")
    assert "<i>Gộp 3 lời nhắc bị lỡ khi bot tạm dừng:</i>" in message


async def test_retry_after_reschedules_instead_of_dropping(rig: Rig) -> None:
    await asyncio.to_thread(rig.follow_up.plan)
    rig.sender.failures = [RetryLater(30)]
    first = await rig.follow_up.dispatcher.sweep()
    assert first.retried >= 1
    retried = [k for k, s in rig.statuses().items() if s == ReminderStatus.PENDING]
    assert retried
    rig.clock.advance(seconds=10)
    assert (await rig.follow_up.dispatcher.sweep()).messages == 0
    rig.clock.advance(seconds=25)
    assert (await rig.follow_up.dispatcher.sweep()).sent == len(retried)
    assert set(rig.statuses().values()) == {ReminderStatus.SENT}


async def test_a_person_who_blocked_the_bot_is_marked_unreachable(rig: Rig) -> None:
    await asyncio.to_thread(rig.follow_up.plan)
    blocked = RecordingSender(failures=[Unreachable("Forbidden: bot was blocked by the user")] * 10)
    await rig.dispatcher(blocked).sweep()
    with session_scope(rig.engine) as session:
        unreachable = session.exec(
            select(ChatIdentity.chat_id).where(ChatIdentity.unreachable_at.is_not(None))
        ).all()
        failed = session.exec(
            select(Reminder).where(Reminder.status == ReminderStatus.FAILED)
        ).all()
    assert unreachable and failed
    assert all(row.last_error.startswith("Forbidden") for row in failed)


async def test_reminders_of_tasks_done_meanwhile_are_not_sent(rig: Rig) -> None:
    await asyncio.to_thread(rig.follow_up.plan)
    with session_scope(rig.engine) as session:
        session.exec(select(Task).where(Task.code == "T.TCM")).one().status = TaskStatus.DONE
    result = await rig.follow_up.dispatcher.sweep()
    assert result.cancelled == 1
    assert rig.sender.to("Tổ Trưởng") == []


async def test_reminders_of_tasks_archived_meanwhile_are_not_sent(rig: Rig) -> None:
    await asyncio.to_thread(rig.follow_up.plan)
    with session_scope(rig.engine) as session:
        task = session.exec(select(Task).where(Task.code == "T.TCM")).one()
        task.archived_at = task.created_at  # taken out of the plan by an import with --prune
    result = await rig.follow_up.dispatcher.sweep()
    assert result.cancelled == 1
    assert rig.sender.to("Tổ Trưởng") == []


async def test_a_snooze_pressed_after_planning_postpones_the_reminder(rig: Rig) -> None:
    await asyncio.to_thread(rig.follow_up.plan)
    until = MONDAY + timedelta(hours=3)
    with session_scope(rig.engine) as session:
        task = session.exec(select(Task).where(Task.code == "T.TCM")).one()
        head = session.exec(select(Member).where(Member.name == "Tổ Trưởng")).one()
        session.add(Snooze(member_id=head.id, task_id=task.id, until=until))
    await rig.follow_up.dispatcher.sweep()
    assert rig.sender.to("Tổ Trưởng") == []
    rig.clock.now = until
    await rig.follow_up.dispatcher.sweep()
    assert len(rig.sender.to("Tổ Trưởng")) == 1


async def test_two_processes_sweeping_at_once_send_each_reminder_once(rig: Rig) -> None:
    await asyncio.to_thread(rig.follow_up.plan)
    a, b = RecordingSender(), RecordingSender()
    await asyncio.gather(rig.dispatcher(a).sweep(), rig.dispatcher(b).sweep())
    chats = [chat for chat, _ in a.sent + b.sent]
    assert sorted(chats) == sorted(set(chats)) and len(chats) == 4


async def test_people_without_a_chat_are_recorded_as_not_reachable(rig: Rig) -> None:
    with session_scope(rig.engine) as session:
        for identity in session.exec(select(ChatIdentity)):
            session.delete(identity)
    await rig.follow_up.tick()
    assert rig.sender.sent == []
    with session_scope(rig.engine) as session:
        errors = set(session.exec(select(Reminder.last_error)).all())
    assert errors == {"no reachable chat"}


def test_claims_are_guarded(rig: Rig) -> None:
    rig.follow_up.plan()
    with session_scope(rig.engine) as session:
        first = outbox.claim_due(session, MONDAY, "a")
    with session_scope(rig.engine) as session:
        assert not outbox.claim_due(session, MONDAY, "b")
        later = outbox.claim_due(session, MONDAY + outbox.LEASE + timedelta(seconds=1), "c")
    assert len(first) == len(later) > 0


def test_the_dry_run_shows_what_would_be_sent_and_records_nothing(
    rig: Rig, cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    output = cli("reminders", "--at", "2026-11-30T07:31").output
    assert output.startswith("Nhắc việc sẽ gửi lúc 07:31 30/11/2026 (chạy thử")
    assert "── Gửi Trưởng Văn Phòng (telegram) ──\n⏰ Nhắc việc: 3 việc cần thầy/cô chú ý" in output
    assert "── Gửi Hiệu Trưởng (telegram) ──\n📋 Tóm tắt cho thầy/cô — điểm mới từ" in output
    assert "[1] ✅ T.OVER  [2] 📈 T.OVER  [3] ⏰ T.OVER  [4] ✅ T.1" in output
    assert rig.statuses() == {}
    assert "Không có nhắc việc nào" in cli("reminders", "--at", "2026-11-02T05:00").output
    assert "không hợp lệ" in cli("reminders", "--at", "thứ hai", expect=2).output


async def test_fridays_digest_goes_to_each_leader_with_the_same_period_and_files(
    rig: Rig,
) -> None:
    rig.clock.now = local(4, 16, 31)  # Friday
    await rig.follow_up.tick()
    principal = [r for chat, r in rig.sender.sent if chat == CHATS["Hiệu Trưởng"]]
    vice = [r for chat, r in rig.sender.sent if chat == CHATS["Phó Hiệu Trưởng"]]
    digest = principal[-1]
    assert digest.text.startswith("📊 <b>Tuần 30/11–06/12/2026</b> — Trường Nhắc Việc")
    assert [path.name for path in digest.files] == [
        "bao-cao-tuan-2026-W49.xlsx",
        "tien-do-2026-W49.png",
    ]
    assert all(path.is_file() for path in digest.files)
    assert vice[-1].text == digest.text
    with session_scope(rig.engine) as session:
        [log] = session.exec(select(DigestLog)).all()
    assert (log.week, log.period_start, log.period_end) == (
        "2026-W49",
        local(30, 0, month=11),
        local(4, 16, 31),
    )
    rig.clock.advance(minutes=30)
    await rig.follow_up.tick()
    assert [r for chat, r in rig.sender.sent if chat == CHATS["Hiệu Trưởng"]] == principal


async def test_group_reminders_reach_the_units_linked_group(rig: Rig) -> None:
    with session_scope(rig.engine) as session:
        school = session.exec(select(School)).one()
        school.settings = {"group_reminders": True}
        office = session.exec(select(Unit).where(Unit.code == "VP")).one()
        session.add(UnitChat(unit_id=office.id, channel=Channel.TELEGRAM, chat_id="-100"))
    await rig.follow_up.tick()
    [to_group] = [reply for chat, reply in rig.sender.sent if chat == "-100"]
    assert to_group.text.startswith("⏰ <b>Nhắc việc</b>: 3 việc cần thầy/cô chú ý")
    assert len(rig.sender.to("Trưởng Văn Phòng")) == 1  # the head is reminded as well


def test_one_schools_broken_settings_do_not_stop_the_others(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    with session_scope(rig.engine) as session:
        session.add(School(code="HONG", name="Trường cấu hình hỏng", settings={"quiet_hours": "x"}))
    assert rig.follow_up.plan() > 0  # the first school was planned
    assert "planning reminders for school" in caplog.text
