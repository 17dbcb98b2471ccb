"""The conversation teachers actually have (issue 7): tasks given to teachers, answers typed
without swipe-reply, every line of a grouped reminder answerable, codes that win over the
replied message, the phrasing people use, evidence as its own entry.

Everything goes through the real python-telegram-bot application and the fake Bot API server;
the clock is Thursday 26/11/2026 10:00 in Hồ Chí Minh City (see tests/chat_school.py).
"""

import re
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from models import PendingReport, ProgressUpdate, TaskAssignee, TaskStatus, UpdateSource
from tests.chat_school import OFFICE_HEAD, PRINCIPAL, TCM_HEAD, TEACHER
from tests.fake_telegram import SentMessage
from tests.telegram_harness import TelegramBot, buttons, texts
from tests.test_telegram_reminders import follow_up

HIEU, MAI, THU, BINH = 101, 103, 105, 106
USERS = {PRINCIPAL: HIEU, OFFICE_HEAD: MAI, TCM_HEAD: THU, TEACHER: BINH}
TCM_TASKS = ("III.1.4", "III.2.8", "III.3.4", "III.3.5", "III.5.3", "III.5.5", "IV.2.2")


async def joined(bot: TelegramBot, *names: str) -> None:
    for name in names:
        await bot.join(USERS[name], name)


def state(bot: TelegramBot, code: str) -> tuple[TaskStatus, int]:
    task = bot.school.task(code)
    return task.status, task.progress


def updates(bot: TelegramBot) -> list[ProgressUpdate]:
    with bot.school.session() as session:
        return list(session.exec(select(ProgressUpdate).order_by(ProgressUpdate.id)).all())


def kept(bot: TelegramBot) -> list[PendingReport]:
    with bot.school.session() as session:
        return list(session.exec(select(PendingReport).order_by(PendingReport.id)).all())


def give(bot: TelegramBot, code: str, name: str) -> None:
    """The task is assigned to `name` directly in the database (the chat path has its tests)."""
    with bot.school.session() as session:
        session.add(
            TaskAssignee(
                task_id=bot.school.task(code).id,
                member_id=bot.school.member(name).id,
                assigned_at=bot.school.clock.now,
            )
        )
        session.commit()


def numbered(message: SentMessage) -> dict[int, str]:
    """The task codes of a message's numbered lines: {1: "III.1.4", …}."""
    found = re.findall(r"^(\d+)\. (\S+)", message["plain_text"], flags=re.M)
    return {int(number): code for number, code in found}


def button_to(message: SentMessage, code: str) -> str:
    """The payload of the button that names this task."""
    return next(data for label, data in buttons(message) if label.startswith(f"{code} "))


def at(day: int, hour: int, month: int = 12) -> datetime:
    """A moment given in Hồ Chí Minh time (UTC+7)."""
    return datetime(2026, month, day, hour - 7, tzinfo=UTC)


# --- 1. people own tasks: assigning, and teachers reporting on their own -----------------------


async def test_a_unit_head_assigns_with_buttons_and_the_teacher_is_told_once(
    bot: TelegramBot,
) -> None:
    await joined(bot, TCM_HEAD, TEACHER)
    task, teacher = bot.school.task("III.5.5"), bot.school.member(TEACHER)
    [choose] = await bot.say(THU, "/giao III.5.5")
    assert choose["plain_text"].startswith("Giao III.5.5 — ")
    assert (TEACHER, f"g:{task.id}:{teacher.id}") in buttons(choose)
    answer = await bot.press(THU, choose, f"g:{task.id}:{teacher.id}")
    assert texts(answer).startswith("Đã giao III.5.5 — ")

    sweep = follow_up(bot).dispatcher
    before = len(bot.tg.sent)
    await sweep.sweep()
    [told] = [m for m in bot.tg.sent[before:] if m["chat_id"] == BINH]
    assert told["plain_text"].startswith("📋 Thầy/cô được giao nhiệm vụ\nIII.5.5 — ")
    assert ("✅ Hoàn thành", f"d:{task.id}") in buttons(told)
    before = len(bot.tg.sent)
    await sweep.sweep()
    assert [m for m in bot.tg.sent[before:] if m["chat_id"] == BINH] == []

    card = await bot.open_task(BINH, "III.5.5")
    assert "Phụ trách: Đỗ Văn Bình" in card["plain_text"]
    done = await bot.press(BINH, card, f"d:{task.id}")
    assert texts(done).startswith("Đã ghi cho III.5.5")
    assert state(bot, "III.5.5") == (TaskStatus.DONE, 100)
    assert [u.member_id for u in updates(bot)] == [teacher.id]


async def test_giao_takes_a_name_typed_without_diacritics(bot: TelegramBot) -> None:
    await joined(bot, TCM_HEAD, TEACHER)
    answer = await bot.say(THU, "/giao III.5.5 do van binh")
    assert texts(answer).startswith("Đã giao III.5.5 — ")
    sent = await bot.say(BINH, "/xong III.5.5")
    assert texts(sent).startswith("Đã ghi cho III.5.5")
    assert state(bot, "III.5.5") == (TaskStatus.DONE, 100)


async def test_a_teacher_sees_no_buttons_on_a_task_not_given_to_him_and_cannot_assign(
    bot: TelegramBot,
) -> None:
    await joined(bot, TEACHER)
    shown = await bot.say(BINH, "/viec III.5.5")
    assert "III.5.5 — " in texts(shown)
    assert all(not m["reply_markup"] for m in shown)
    assert "chưa được giao cho thầy/cô" in texts(await bot.say(BINH, "/xong III.5.5"))
    assert "Chỉ tổ trưởng" in texts(await bot.say(BINH, "/giao III.5.5 Đỗ Văn Bình"))
    assert state(bot, "III.5.5") == (TaskStatus.TODO, 0)


async def test_a_unit_head_cannot_assign_another_units_task(bot: TelegramBot) -> None:
    await joined(bot, OFFICE_HEAD)
    refusal = texts(await bot.say(MAI, "/giao III.5.5 Đỗ Văn Bình"))
    assert refusal == "Nhiệm vụ III.5.5 không thuộc tổ/bộ phận của thầy/cô."
    with bot.school.session() as session:
        assert session.exec(select(TaskAssignee)).all() == []


async def test_a_teachers_list_is_his_own_tasks(bot: TelegramBot) -> None:
    await joined(bot, TEACHER)
    assert "Chưa có việc nào được giao riêng" in texts(await bot.say(BINH, "/viec"))
    give(bot, "III.5.5", TEACHER)
    shown = texts(await bot.say(BINH, "/viec"))
    assert "1. III.5.5 " in shown
    assert "III.1.4" not in shown


async def test_reminders_go_to_the_assignee_not_the_unit_head(bot: TelegramBot) -> None:
    await joined(bot, TCM_HEAD, TEACHER)
    give(bot, "III.5.5", TEACHER)
    bot.school.clock.now = at(8, 8)  # Tuesday 08/12, one week before 15/12
    before = len(bot.tg.sent)
    await follow_up(bot).tick()
    to_teacher = texts([m for m in bot.tg.sent[before:] if m["chat_id"] == BINH])
    to_head = texts([m for m in bot.tg.sent[before:] if m["chat_id"] == THU])
    assert "III.5.5" in to_teacher
    assert "III.5.5" not in to_head


async def test_without_an_assignee_the_unit_head_still_reports(bot: TelegramBot) -> None:
    await joined(bot, TCM_HEAD)
    assert texts(await bot.say(THU, "/xong III.5.5")).startswith("Đã ghi cho III.5.5")


# --- 2. replying to a grouped reminder or to the check-in ----------------------------------------


async def grouped_reminder(bot: TelegramBot) -> SentMessage:
    await joined(bot, TCM_HEAD)
    bot.school.clock.now = at(1, 8)  # Tuesday 01/12/2026 08:00
    before = len(bot.tg.sent)
    await follow_up(bot).tick()
    [reminder] = [m for m in bot.tg.sent[before:] if m["chat_id"] == THU]
    assert reminder["plain_text"].startswith("⏰ Nhắc việc: ")
    assert len(numbered(reminder)) >= 2
    return reminder


async def test_replying_xong_to_a_grouped_reminder_asks_which_task_keeping_the_word(
    bot: TelegramBot,
) -> None:
    reminder = await grouped_reminder(bot)
    [question] = await bot.reply(THU, reminder, "xong")
    assert updates(bot) == []
    assert [k.text for k in kept(bot)] == ["xong"]
    first = numbered(reminder)[1]
    assert numbered(question) == numbered(reminder)
    await bot.press(THU, question, button_to(question, first))
    assert state(bot, first) == (TaskStatus.DONE, 100)
    [update] = updates(bot)
    assert update.note is None


async def test_a_code_in_the_reply_to_a_grouped_reminder_names_the_task(
    bot: TelegramBot,
) -> None:
    reminder = await grouped_reminder(bot)
    answer = await bot.reply(THU, reminder, "III.1.4 xong")
    assert texts(answer).startswith("Đã ghi cho III.1.4")
    assert state(bot, "III.1.4") == (TaskStatus.DONE, 100)


async def test_numbered_answers_to_a_grouped_reminder_update_each_line(bot: TelegramBot) -> None:
    reminder = await grouped_reminder(bot)
    lines = numbered(reminder)
    assert "III.5.5" not in lines.values()
    answer = await bot.reply(THU, reminder, "1 xong, 2 vướng thiếu kinh phí\nIII.5.5 50%")
    assert texts(answer).startswith("Đã ghi nhận 3 cập nhật:")
    assert state(bot, lines[1]) == (TaskStatus.DONE, 100)
    assert state(bot, lines[2])[0] == TaskStatus.BLOCKED
    assert state(bot, "III.5.5") == (TaskStatus.IN_PROGRESS, 50)  # a code among the numbers
    notes = {u.task_id: u.note for u in updates(bot)}
    assert notes[bot.school.task(lines[2]).id] == "thiếu kinh phí"
    undo = [label for label, _ in buttons(answer[0])]
    assert undo == [f"↩️ Hoàn tác {code}" for code in (lines[1], lines[2], "III.5.5")]


async def test_the_check_in_lists_the_units_tasks_and_takes_numbered_answers(
    bot: TelegramBot,
) -> None:
    await joined(bot, TCM_HEAD)
    before = len(bot.tg.sent)
    await follow_up(bot).tick()  # Thursday 10:00: the check-in is due since 09:00
    [checkin] = [m for m in bot.tg.sent[before:] if m["chat_id"] == THU and "📝" in m["plain_text"]]
    lines = numbered(checkin)
    assert set(lines.values()) == set(TCM_TASKS)  # nobody reported on any of them this week
    await bot.reply(THU, checkin, "1 80%")
    assert state(bot, lines[1]) == (TaskStatus.IN_PROGRESS, 80)
    [question] = await bot.reply(THU, checkin, "xong")
    assert "việc nào" in question["plain_text"]


async def test_the_check_in_shows_the_head_what_the_teachers_reported(bot: TelegramBot) -> None:
    await joined(bot, TCM_HEAD, TEACHER)
    give(bot, "III.5.5", TEACHER)
    await bot.say(BINH, "/capnhat III.5.5 60 đã tập huấn khối 8")
    before = len(bot.tg.sent)
    await follow_up(bot).tick()
    [checkin] = [m for m in bot.tg.sent[before:] if m["chat_id"] == THU and "📝" in m["plain_text"]]
    assert "III.5.5: " in checkin["plain_text"]
    assert "Đỗ Văn Bình: 60% (đang thực hiện) — đã tập huấn khối 8" in checkin["plain_text"]
    assert "III.5.5" not in numbered(checkin).values()


# --- 3. plain text, without swipe-reply -----------------------------------------------------------


@pytest.mark.parametrize("text", ["xong rồi ạ", "e xong r ạ", "da xong", "Dạ em hoàn thành rồi ạ"])
async def test_text_after_viewing_a_task_is_about_that_task(bot: TelegramBot, text: str) -> None:
    await joined(bot, TCM_HEAD)
    await bot.open_task(THU, "III.3.4")
    answer = await bot.say(THU, text)
    assert texts(answer).startswith("Đã ghi cho III.3.4")
    assert state(bot, "III.3.4") == (TaskStatus.DONE, 100)
    assert updates(bot)[0].note is None


@pytest.mark.parametrize("text", ["III.1.4 xong", "xong III.1.4", "iii14 xong", "xong iii 1.4"])
async def test_a_code_and_a_word_in_either_order_as_a_new_message(
    bot: TelegramBot, text: str
) -> None:
    await joined(bot, TCM_HEAD)
    await bot.open_task(THU, "III.3.4")
    assert texts(await bot.say(THU, text)).startswith("Đã ghi cho III.1.4")
    assert state(bot, "III.1.4") == (TaskStatus.DONE, 100)
    assert state(bot, "III.3.4") == (TaskStatus.TODO, 0)


async def test_the_current_task_is_forgotten_after_a_few_hours(bot: TelegramBot) -> None:
    await joined(bot, TCM_HEAD)
    await bot.open_task(THU, "III.3.4")
    bot.school.clock.advance(hours=5)
    [question] = await bot.say(THU, "xong")
    assert "việc nào" in question["plain_text"]
    assert state(bot, "III.3.4") == (TaskStatus.TODO, 0)


async def test_xong_with_several_open_tasks_asks_which_most_urgent_first(
    bot: TelegramBot,
) -> None:
    await joined(bot, TCM_HEAD)
    [question] = await bot.say(THU, "xong")
    lines = numbered(question)
    assert lines[1] == "III.5.3"  # due 31/07/2026: the most overdue
    assert lines[len(lines)] == "IV.2.2"  # ongoing, never due: last
    assert set(lines.values()) == set(TCM_TASKS)
    assert [k.text for k in kept(bot)] == ["xong"]
    await bot.press(THU, question, button_to(question, "III.2.8"))
    assert state(bot, "III.2.8") == (TaskStatus.DONE, 100)


async def test_a_teacher_with_one_task_just_types_xong(bot: TelegramBot) -> None:
    await joined(bot, TEACHER)
    give(bot, "III.5.5", TEACHER)
    assert texts(await bot.say(BINH, "xong ạ")).startswith("Đã ghi cho III.5.5")
    assert state(bot, "III.5.5") == (TaskStatus.DONE, 100)


async def test_xong_command_without_a_code_takes_the_only_open_task(bot: TelegramBot) -> None:
    await joined(bot, TEACHER)
    give(bot, "III.5.5", TEACHER)
    assert texts(await bot.say(BINH, "/xong")).startswith("Đã ghi cho III.5.5")
    assert state(bot, "III.5.5") == (TaskStatus.DONE, 100)


async def test_xong_command_without_a_code_and_several_tasks_asks_which(bot: TelegramBot) -> None:
    await joined(bot, TCM_HEAD)
    [question] = await bot.say(THU, "/xong đã nộp biên bản")
    assert "việc nào" in question["plain_text"]
    await bot.press(THU, question, button_to(question, "III.3.5"))
    assert state(bot, "III.3.5") == (TaskStatus.DONE, 100)
    assert updates(bot)[0].note == "đã nộp biên bản"


async def test_chatter_with_nothing_to_report_gets_the_hint(bot: TelegramBot) -> None:
    await joined(bot, TEACHER)
    answer = texts(await bot.say(BINH, "hôm nay trời đẹp"))
    assert "/viec" in answer
    assert updates(bot) == []


# --- 4. a typed code wins; several tasks in one message -----------------------------------------


async def test_a_code_typed_in_a_reply_wins_over_the_replied_task(bot: TelegramBot) -> None:
    await joined(bot, TCM_HEAD)
    card = await bot.open_task(THU, "III.3.4")
    answer = await bot.reply(THU, card, "hoàn thành III.2.8")
    assert texts(answer).startswith("Đã ghi cho III.2.8")
    assert state(bot, "III.2.8") == (TaskStatus.DONE, 100)
    assert state(bot, "III.3.4") == (TaskStatus.TODO, 0)


@pytest.mark.parametrize("args", ["III.1.4 III.2.8", "III.1.4, III.2.8", "III.1.4 và III.2.8"])
async def test_xong_with_several_codes_marks_each(bot: TelegramBot, args: str) -> None:
    await joined(bot, TCM_HEAD)
    answer = await bot.say(THU, f"/xong {args}")
    assert texts(answer).startswith("Đã ghi nhận 2 cập nhật:")
    assert state(bot, "III.1.4") == state(bot, "III.2.8") == (TaskStatus.DONE, 100)
    assert [u.note for u in updates(bot)] == [None, None]


async def test_several_tasks_in_one_plain_message(bot: TelegramBot) -> None:
    await joined(bot, TCM_HEAD)
    await bot.say(THU, "III.1.4 xong, III.2.8 50% còn lớp 9A")
    assert state(bot, "III.1.4") == (TaskStatus.DONE, 100)
    assert state(bot, "III.2.8") == (TaskStatus.IN_PROGRESS, 50)
    assert [u.note for u in updates(bot)] == [None, "còn lớp 9A"]


async def test_an_unknown_code_offers_the_close_ones_and_one_tap_applies_the_words(
    bot: TelegramBot,
) -> None:
    await joined(bot, TCM_HEAD)
    [question] = await bot.say(THU, "III.2.81 xong")
    assert question["plain_text"].startswith("Không có nhiệm vụ mã III.2.81.")
    assert updates(bot) == []
    await bot.press(THU, question, button_to(question, "III.2.8"))
    assert state(bot, "III.2.8") == (TaskStatus.DONE, 100)


# --- 5. phrasing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["da xong", "hoan thanh", "ok", "👍", "✅", "done", "xong roi", "Đã hoàn thành ạ"]
)
async def test_done_as_teachers_write_it(bot: TelegramBot, text: str) -> None:
    await joined(bot, TCM_HEAD)
    card = await bot.open_task(THU, "III.3.4")
    assert texts(await bot.reply(THU, card, text)).startswith("Đã ghi cho III.3.4")
    assert state(bot, "III.3.4") == (TaskStatus.DONE, 100)


@pytest.mark.parametrize(
    "text", ["/capnhat III.3.4 50 %", "/capnhat III.3.4 50 phần trăm", "/capnhat III.3.4 50%"]
)
async def test_capnhat_with_the_percent_written_out_stores_no_note(
    bot: TelegramBot, text: str
) -> None:
    await joined(bot, TCM_HEAD)
    await bot.say(THU, text)
    assert state(bot, "III.3.4") == (TaskStatus.IN_PROGRESS, 50)
    assert [u.note for u in updates(bot)] == [None]


@pytest.mark.parametrize("text", ["/capnhat III.3.4 150", "III.3.4 150%"])
async def test_a_percentage_above_100_gets_its_own_answer(bot: TelegramBot, text: str) -> None:
    await joined(bot, TCM_HEAD)
    answer = texts(await bot.say(THU, text))
    assert "từ 0 đến 100%" in answer
    assert updates(bot) == []


@pytest.mark.parametrize("text", ["được 60% rồi", "dc 60%", "60 phan tram"])
async def test_percentages_as_teachers_write_them(bot: TelegramBot, text: str) -> None:
    await joined(bot, TCM_HEAD)
    card = await bot.open_task(THU, "III.3.4")
    await bot.reply(THU, card, text)
    assert state(bot, "III.3.4") == (TaskStatus.IN_PROGRESS, 60)


async def test_words_that_say_nothing_sure_are_kept_while_asking_what_they_mean(
    bot: TelegramBot,
) -> None:
    await joined(bot, TCM_HEAD)
    card = await bot.open_task(THU, "III.3.4")
    [question] = await bot.reply(THU, card, "đã gửi kế hoạch cho BGH")
    assert updates(bot) == []
    assert [k.text for k in kept(bot)] == ["đã gửi kế hoạch cho BGH"]
    task = bot.school.task("III.3.4")
    note_only = next(data for label, data in buttons(question) if label == "📝 Chỉ ghi chú")
    await bot.press(THU, question, note_only)
    [update] = updates(bot)
    assert (update.task_id, update.note, update.percent) == (
        task.id,
        "đã gửi kế hoạch cho BGH",
        None,
    )
    assert state(bot, "III.3.4") == (TaskStatus.TODO, 0)


# --- 6. evidence is its own entry ----------------------------------------------------------------


async def test_evidence_after_a_blocker_shows_as_evidence_not_as_the_blocker(
    bot: TelegramBot, tmp_path
) -> None:
    await joined(bot, TCM_HEAD, PRINCIPAL)
    await bot.say(THU, "/vuong III.3.5 thiếu sân tập")
    bot.tg.add_file("PHOTO1", b"jpeg-bytes", "photos/p1.jpg", "uniq1")
    answer = await bot.say(THU, photo="PHOTO1", caption="III.3.5 biên bản họp tổ")
    assert "Minh chứng: 1 tệp" in texts(answer)
    assert state(bot, "III.3.5")[0] == TaskStatus.BLOCKED
    evidence = updates(bot)[-1]
    assert (evidence.source, evidence.status, evidence.note) == (
        UpdateSource.EVIDENCE,
        None,
        "biên bản họp tổ",
    )

    history = texts(await bot.say(THU, "/viec III.3.5"))
    assert "Hoàng Thị Thu: minh chứng — biên bản họp tổ" in history
    assert "gặp vướng mắc — biên bản họp tổ" not in history

    bot.school.clock.advance(minutes=1)
    report = texts([m for m in await bot.say(HIEU, "/baocao") if m["plain_text"]])
    # the blocker the principal must decide on keeps its reason; the evidence is not it
    assert "🚧 III.3.5 gặp vướng mắc từ 26/11 (Hoàng Thị Thu): thiếu sân tập" in report
    assert "biên bản họp tổ" not in report
    workbooks = list((tmp_path / "reports").rglob("*.xlsx"))
    [workbook] = workbooks
    sheet = load_workbook(workbook)["Báo cáo trong kỳ"]
    rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=2)]
    evidence_row = next(row for row in rows if row[-1] == "biên bản họp tổ")
    assert "minh chứng" in evidence_row


async def test_a_caption_that_also_says_done_records_the_evidence_and_the_done(
    bot: TelegramBot,
) -> None:
    await joined(bot, TCM_HEAD)
    bot.tg.add_file("PHOTO1", b"jpeg-bytes", "photos/p1.jpg", "uniq1")
    answer = await bot.say(THU, photo="PHOTO1", caption="III.3.5 xong ạ, biên bản họp tổ")
    assert [m["plain_text"].split("\n")[1] for m in answer] == [
        "Minh chứng: 1 tệp",
        "Tiến độ 100% — hoàn thành",
    ]
    evidence, done = updates(bot)
    assert (evidence.source, evidence.status, evidence.note) == (
        UpdateSource.EVIDENCE,
        None,
        "biên bản họp tổ",
    )
    assert (done.status, done.note) == (TaskStatus.DONE, None)
    assert state(bot, "III.3.5") == (TaskStatus.DONE, 100)


async def test_a_photo_without_caption_after_viewing_a_task_is_its_evidence(
    bot: TelegramBot,
) -> None:
    await joined(bot, TCM_HEAD)
    await bot.open_task(THU, "III.3.5")
    bot.tg.add_file("PHOTO1", b"jpeg-bytes", "photos/p1.jpg", "uniq1")
    answer = await bot.say(THU, photo="PHOTO1")
    assert texts(answer).startswith("Đã ghi cho III.3.5")


async def test_a_photo_with_no_task_in_sight_waits_for_a_tap(bot: TelegramBot) -> None:
    await joined(bot, TCM_HEAD)
    bot.tg.add_file("PHOTO1", b"jpeg-bytes", "photos/p1.jpg", "uniq1")
    [question] = await bot.say(THU, photo="PHOTO1", caption="ảnh buổi tập")
    assert updates(bot) == []
    await bot.press(THU, question, button_to(question, "III.3.5"))
    [evidence] = updates(bot)
    assert (evidence.source, evidence.note) == (UpdateSource.EVIDENCE, "ảnh buổi tập")
    assert [path.name for path in bot.school.evidence_dir.rglob("*.jpg")] == ["uniq1.jpg"]


# --- 7. numbered answers typed as plain text, more than once (Zalo and the console: no reply) ---


async def checkin_for(bot: TelegramBot) -> SentMessage:
    await joined(bot, TCM_HEAD)
    before = len(bot.tg.sent)
    await follow_up(bot).tick()  # Thursday 10:00: the check-in is due since 09:00
    [checkin] = [m for m in bot.tg.sent[before:] if m["chat_id"] == THU and "📝" in m["plain_text"]]
    assert len(numbered(checkin)) == len(TCM_TASKS)
    return checkin


async def test_line_numbers_typed_one_after_another_answer_the_check_in(
    bot: TelegramBot,
) -> None:
    """Thu answers line 7, then types "6 80%" and "5 xong" as new messages: each goes to its line
    of the check-in, not to the task the bot just confirmed."""
    checkin = await checkin_for(bot)
    lines = numbered(checkin)
    await bot.reply(THU, checkin, "7 xong")
    assert state(bot, lines[7]) == (TaskStatus.DONE, 100)

    answer = await bot.say(THU, "6 80%")
    assert texts(answer).startswith(f"Đã ghi cho {lines[6]}")
    assert state(bot, lines[6]) == (TaskStatus.IN_PROGRESS, 80)
    answer = await bot.say(THU, "5 xong")
    assert texts(answer).startswith(f"Đã ghi cho {lines[5]}")
    assert state(bot, lines[5]) == (TaskStatus.DONE, 100)

    assert state(bot, lines[7]) == (TaskStatus.DONE, 100)
    assert [(u.task_id, u.note) for u in updates(bot)] == [
        (bot.school.task(lines[n]).id, None) for n in (7, 6, 5)
    ]


async def test_line_numbers_typed_without_reply_answer_each_line_of_a_grouped_reminder(
    bot: TelegramBot,
) -> None:
    reminder = await grouped_reminder(bot)
    lines = numbered(reminder)
    await bot.say(THU, "1 xong")
    await bot.say(THU, "2 50% đã họp tổ")
    assert state(bot, lines[1]) == (TaskStatus.DONE, 100)
    assert state(bot, lines[2]) == (TaskStatus.IN_PROGRESS, 50)
    assert [u.note for u in updates(bot)] == [None, "đã họp tổ"]


async def test_a_number_refers_to_the_list_even_after_a_task_was_opened(bot: TelegramBot) -> None:
    """Words without a number go to the task just shown; a line number to the check-in."""
    checkin = await checkin_for(bot)
    lines = numbered(checkin)
    assert lines[6] != "III.3.4"
    await bot.open_task(THU, "III.3.4")
    await bot.say(THU, "được 30% rồi ạ")
    assert state(bot, "III.3.4") == (TaskStatus.IN_PROGRESS, 30)
    await bot.say(THU, "6 xong")
    assert state(bot, lines[6]) == (TaskStatus.DONE, 100)
    assert state(bot, "III.3.4") == (TaskStatus.IN_PROGRESS, 30)


async def test_a_swipe_reply_under_a_message_about_one_task_is_about_that_task(
    bot: TelegramBot,
) -> None:
    """Replying to a specific message wins over the latest numbered one."""
    await checkin_for(bot)
    card = await bot.open_task(THU, "III.3.4")
    await bot.say(THU, "/viec III.1.4")
    answer = await bot.reply(THU, card, "80%")
    assert texts(answer).startswith("Đã ghi cho III.3.4")
    assert state(bot, "III.3.4") == (TaskStatus.IN_PROGRESS, 80)


async def test_a_line_number_the_list_does_not_have_gets_a_clear_answer(bot: TelegramBot) -> None:
    """After the check-in (7 lines) the morning reminder (2 lines) is the latest list: "6 80%"
    names no line of it. Nothing is recorded on another task; one tap applies the words."""
    checkin = await checkin_for(bot)
    bot.school.clock.now = at(1, 8)
    before = len(bot.tg.sent)
    await follow_up(bot).tick()
    [reminder] = [m for m in bot.tg.sent[before:] if m["chat_id"] == THU]
    assert len(numbered(reminder)) == 2 < len(numbered(checkin))

    [question] = await bot.say(THU, "6 80%")
    assert "không có dòng 6" in question["plain_text"]
    assert "1–2" in question["plain_text"]
    assert updates(bot) == []
    assert numbered(question) == numbered(reminder)
    await bot.press(THU, question, button_to(question, numbered(reminder)[2]))
    assert state(bot, numbered(reminder)[2]) == (TaskStatus.IN_PROGRESS, 80)
    assert [u.note for u in updates(bot)] == [None]


async def test_a_line_number_too_high_in_a_reply_gets_a_clear_answer(bot: TelegramBot) -> None:
    reminder = await grouped_reminder(bot)
    [question] = await bot.reply(THU, reminder, "3 xong")
    assert "không có dòng 3" in question["plain_text"]
    assert updates(bot) == []


async def test_a_good_line_and_a_wrong_one_in_one_message(bot: TelegramBot) -> None:
    """ "1 xong, 9 50%" under a two-line reminder: line 1 is done; the 50% is not a note on it."""
    reminder = await grouped_reminder(bot)
    lines = numbered(reminder)
    answer = await bot.reply(THU, reminder, "1 xong, 9 50%")
    assert texts(answer).startswith(f"Đã ghi cho {lines[1]}")
    assert "không có dòng 9" in answer[-1]["plain_text"]
    assert state(bot, lines[1]) == (TaskStatus.DONE, 100)
    assert [(u.percent, u.note) for u in updates(bot)] == [(100, None)]
    assert [k.text for k in kept(bot)] == ["50%"]


# --- 8. words are never dropped, even on a task already done ------------------------------------


async def test_words_sent_about_a_task_already_done_are_kept_as_a_note(bot: TelegramBot) -> None:
    await joined(bot, TCM_HEAD)
    await bot.say(THU, "/xong III.1.4")
    answer = texts(await bot.say(THU, "III.1.4 xong, đã nộp thêm biên bản"))
    assert "Việc đã hoàn thành từ trước; trạng thái giữ nguyên" in answer
    assert "Ghi chú: đã nộp thêm biên bản" in answer
    done, note = updates(bot)
    assert (note.task_id, note.note) == (done.task_id, "đã nộp thêm biên bản")
    assert note.previous_status == note.status == TaskStatus.DONE
    assert state(bot, "III.1.4") == (TaskStatus.DONE, 100)


async def test_xong_alone_on_a_task_already_done_records_nothing_new(bot: TelegramBot) -> None:
    await joined(bot, TCM_HEAD)
    await bot.say(THU, "/xong III.1.4")
    answer = texts(await bot.say(THU, "III.1.4 xong"))
    assert answer == "Nhiệm vụ III.1.4 đã hoàn thành; không cần cập nhật thêm."
    assert len(updates(bot)) == 1


# --- 9. leaders assign in chat; a grouped reminder longer than five lines -----------------------


async def test_the_principal_assigns_any_units_task_in_chat(bot: TelegramBot) -> None:
    await joined(bot, PRINCIPAL, TEACHER)
    answer = await bot.say(HIEU, "/giao III.5.5 Đỗ Văn Bình")
    assert texts(answer).startswith("Đã giao III.5.5 — ")
    with bot.school.session() as session:
        [given] = session.exec(select(TaskAssignee)).all()
    assert (given.task_id, given.member_id) == (
        bot.school.task("III.5.5").id,
        bot.school.member(TEACHER).id,
    )
    sweep = follow_up(bot).dispatcher
    before = len(bot.tg.sent)
    await sweep.sweep()
    [told] = [m for m in bot.tg.sent[before:] if m["chat_id"] == BINH]
    assert told["plain_text"].startswith("📋 Thầy/cô được giao nhiệm vụ\nIII.5.5 — ")
    assert texts(await bot.say(BINH, "xong ạ")).startswith("Đã ghi cho III.5.5")
    assert state(bot, "III.5.5") == (TaskStatus.DONE, 100)


async def test_the_principal_assigns_with_buttons(bot: TelegramBot) -> None:
    await joined(bot, PRINCIPAL, TEACHER)
    task, teacher = bot.school.task("III.5.5"), bot.school.member(TEACHER)
    [choose] = await bot.say(HIEU, "/giao III.5.5")
    assert (TEACHER, f"g:{task.id}:{teacher.id}") in buttons(choose)
    answer = await bot.press(HIEU, choose, f"g:{task.id}:{teacher.id}")
    assert texts(answer).startswith("Đã giao III.5.5 — ")


SEVEN_DUE = ("III.1.4", "III.2.8", "III.3.4", "III.3.5", "III.5.3", "III.5.5")


async def long_reminder(bot: TelegramBot) -> SentMessage:
    """Six of the unit's tasks fall due the same Tuesday: one reminder lists them all."""
    await joined(bot, TCM_HEAD)
    with bot.school.session() as session:
        for code in SEVEN_DUE:
            task = bot.school.task(code)
            task.deadline, task.recurrence, task.occurrence = date(2026, 12, 8), None, None
            session.add(task)
        session.commit()
    bot.school.clock.now = at(8, 8)
    before = len(bot.tg.sent)
    await follow_up(bot).tick()
    [reminder] = [m for m in bot.tg.sent[before:] if m["chat_id"] == THU]
    assert set(numbered(reminder).values()) >= set(SEVEN_DUE)
    return reminder


async def test_every_line_of_a_reminder_longer_than_five_is_answerable(bot: TelegramBot) -> None:
    reminder = await long_reminder(bot)
    lines = numbered(reminder)
    assert len(lines) >= 6
    await bot.reply(THU, reminder, "6 xong")
    assert state(bot, lines[6]) == (TaskStatus.DONE, 100)
    await bot.say(THU, f"{len(lines)} 40%")  # the last line, typed without reply
    assert state(bot, lines[len(lines)]) == (TaskStatus.IN_PROGRESS, 40)
    answer = await bot.say(THU, "1 xong, 5 vướng thiếu phòng")
    assert texts(answer).startswith("Đã ghi nhận 2 cập nhật:")
    assert state(bot, lines[1]) == (TaskStatus.DONE, 100)
    assert state(bot, lines[5])[0] == TaskStatus.BLOCKED


async def test_a_reminder_longer_than_five_keeps_buttons_for_the_first_five_only(
    bot: TelegramBot,
) -> None:
    reminder = await long_reminder(bot)
    lines = numbered(reminder)
    done_buttons = [label for label, _ in buttons(reminder) if label.startswith("✅")]
    assert done_buttons == [f"✅ {lines[n]}" for n in range(1, 6)]
    assert "1 xong, 2 50%" in reminder["plain_text"]  # the footer says how to answer the rest
