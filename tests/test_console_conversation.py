"""Issue 7 through the console, which has no reply-to and no buttons (as Zalo): a grouped
reminder and the check-in answered by line number, line after line; the phrasing teachers use;
the register ("thầy/cô", no "bạn"/"Mình").

Evidence (issue item 6) is not covered here: a console session types lines and cannot send a
photo or a file; tests/test_conversation.py covers it through Telegram.
"""

import asyncio
import re

import pytest
from sqlmodel import select

from bot.console import ConsoleChannel, ConsoleSender
from models import Channel, ProgressUpdate, TaskAssignee, TaskStatus
from scheduler.dispatch import Dispatcher
from scheduler.jobs import FollowUp
from services.reminders import CalendarDefaults
from tests.chat_school import PRINCIPAL, TCM_HEAD, TEACHER, ChatSchool
from tests.test_console import console
from tests.test_conversation import TCM_TASKS, at


def tick(school: ChatSchool, *channels: ConsoleChannel) -> None:
    """The follow-up job runs once: what it sends shows in these consoles."""
    sender = ConsoleSender({channel.user_id: channel for channel in channels})
    core = school.core
    dispatcher = Dispatcher(
        school.engine, core.config, {Channel.CONSOLE: sender}, core.remember,
        core.mark_unreachable, clock=school.clock, worker="console-test", pacing=0,
    )  # fmt: skip
    asyncio.run(FollowUp(school.engine, dispatcher, CalendarDefaults(), clock=school.clock).tick())


def numbered(text: str) -> dict[int, str]:
    """The task codes of a message's numbered lines: {1: "III.5.3", …}."""
    found = re.findall(r"^(\d+)\. (\S+) ", text, flags=re.M)
    return {int(number): code for number, code in found}


def shown(lines: list[str], start: int, mark: str) -> str:
    [message] = [line for line in lines[start:] if mark in line]
    return message


def state(school: ChatSchool, code: str) -> tuple[TaskStatus, int]:
    task = school.task(code)
    return task.status, task.progress


def notes(school: ChatSchool) -> list[str | None]:
    with school.session() as session:
        return [u.note for u in session.exec(select(ProgressUpdate).order_by(ProgressUpdate.id))]


# --- item 2: a grouped reminder and the check-in, answered by number --------------------------


def test_the_check_in_is_answered_line_after_line(school: ChatSchool) -> None:
    head, lines = console(school, TCM_HEAD)
    before = len(lines)
    tick(school, head)  # Thursday 10:00: the check-in is due
    lines_of = numbered(shown(lines, before, "📝"))
    assert set(lines_of.values()) == set(TCM_TASKS)

    head.on_line("7 xong")
    head.on_line("6 80%")  # the bot confirmed line 7 in between: still the check-in's line 6
    head.on_line("dạ 5 xong ạ")
    assert state(school, lines_of[7]) == (TaskStatus.DONE, 100)
    assert state(school, lines_of[6]) == (TaskStatus.IN_PROGRESS, 80)
    assert state(school, lines_of[5]) == (TaskStatus.DONE, 100)
    assert notes(school) == [None, None, None]


def test_a_grouped_reminder_is_answered_by_number(school: ChatSchool) -> None:
    head, lines = console(school, TCM_HEAD)
    school.clock.now = at(1, 8)  # Tuesday 01/12/2026 08:00: two overdue tasks
    before = len(lines)
    tick(school, head)
    lines_of = numbered(shown(lines, before, "⏰ Nhắc việc"))
    assert len(lines_of) == 2

    head.on_line("1 xong, 2 vướng thiếu kinh phí")
    assert state(school, lines_of[1]) == (TaskStatus.DONE, 100)
    assert state(school, lines_of[2])[0] == TaskStatus.BLOCKED
    head.on_line("2 50%")
    assert state(school, lines_of[2]) == (TaskStatus.IN_PROGRESS, 50)
    assert state(school, lines_of[1]) == (TaskStatus.DONE, 100)

    head.on_line("3 xong")  # the reminder has two lines
    assert "không có dòng 3" in lines[-1]
    assert state(school, "III.5.5") == (TaskStatus.TODO, 0)


def test_a_reminder_with_more_than_five_tasks_is_answerable_on_every_line(
    school: ChatSchool,
) -> None:
    head, lines = console(school, TCM_HEAD)
    due = ("III.1.4", "III.2.8", "III.3.4", "III.3.5", "III.5.3", "III.5.5")
    with school.session() as session:
        for code in due:
            task = school.task(code)
            task.deadline, task.recurrence, task.occurrence = at(8, 8).date(), None, None
            session.add(task)
        session.commit()
    school.clock.now = at(8, 8)
    before = len(lines)
    tick(school, head)
    lines_of = numbered(shown(lines, before, "⏰ Nhắc việc"))
    assert len(lines_of) >= 6
    last = max(lines_of)
    head.on_line(f"{last} xong")
    head.on_line("6 xong")
    assert state(school, lines_of[last]) == (TaskStatus.DONE, 100)
    assert state(school, lines_of[6]) == (TaskStatus.DONE, 100)


# --- item 5: phrasing --------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["da xong", "hoan thanh", "ok", "👍", "Dạ em hoàn thành rồi ạ"])
def test_done_as_teachers_type_it(school: ChatSchool, text: str) -> None:
    head, _ = console(school, TCM_HEAD)
    head.on_line("/viec III.3.4")
    head.on_line(text)
    assert state(school, "III.3.4") == (TaskStatus.DONE, 100)


def test_percentages_and_their_limits_as_teachers_type_them(school: ChatSchool) -> None:
    head, lines = console(school, TCM_HEAD)
    head.on_line("/capnhat III.3.4 50 %")
    head.on_line("/capnhat III.2.8 40 phần trăm")
    assert state(school, "III.3.4") == (TaskStatus.IN_PROGRESS, 50)
    assert state(school, "III.2.8") == (TaskStatus.IN_PROGRESS, 40)
    assert notes(school) == [None, None]
    head.on_line("/viec III.1.4")
    head.on_line("được 60% rồi")
    assert state(school, "III.1.4") == (TaskStatus.IN_PROGRESS, 60)
    head.on_line("/capnhat III.3.5 150")
    assert "từ 0 đến 100%" in lines[-1]
    assert state(school, "III.3.5") == (TaskStatus.TODO, 0)


def test_xong_alone_takes_a_teachers_only_task(school: ChatSchool) -> None:
    with school.session() as session:
        session.add(
            TaskAssignee(
                task_id=school.task("III.5.5").id,
                member_id=school.member(TEACHER).id,
                assigned_at=school.clock.now,
            )
        )
        session.commit()
    teacher, _ = console(school, TEACHER)
    teacher.on_line("/xong")
    assert state(school, "III.5.5") == (TaskStatus.DONE, 100)


def test_words_on_a_task_already_done_are_kept_as_a_note(school: ChatSchool) -> None:
    head, lines = console(school, TCM_HEAD)
    head.on_line("III.1.4 xong")
    head.on_line("III.1.4 xong, đã nộp thêm biên bản")
    assert "Ghi chú: đã nộp thêm biên bản" in "\n".join(lines[-2:])
    assert notes(school) == [None, "đã nộp thêm biên bản"]
    assert state(school, "III.1.4") == (TaskStatus.DONE, 100)


# --- item 7: register --------------------------------------------------------------------------


@pytest.mark.parametrize("who", [PRINCIPAL, TCM_HEAD, TEACHER])
def test_the_bot_says_thay_co_and_never_ban_or_minh(school: ChatSchool, who: str) -> None:
    channel, lines = console(school, school.codes[who])
    for line in ("/huongdan", "/viec", "/viec III.3.4", "xong", "hôm nay trời đẹp", "/xong"):
        channel.on_line(line)
    said = "\n".join(lines)
    assert "thầy/cô" in said.lower()
    assert re.search(r"(?i)(?<!\w)bạn(?!\w)", said) is None, said
    assert re.search(r"(?<!\w)Mình(?!\w)", said) is None, said


def test_a_question_over_many_tasks_offers_each_as_a_numbered_choice(school: ChatSchool) -> None:
    """The principal's "xong, đã duyệt" could be about any of 18 open tasks: on a channel
    without buttons every one of them is a choice (not only the first ten), listed once."""
    principal, lines = console(school, PRINCIPAL)
    principal.on_line("xong, đã duyệt")
    question = lines[-1]
    offered = numbered(question.split("trả lời bằng số để chọn:", 1)[1])
    assert len(offered) == 18 and question.count("III.2.4") == 1
    twelfth = offered[12].split()[0]
    principal.on_line("12")
    assert state(school, twelfth) == (TaskStatus.DONE, 100)
    assert "đã duyệt" in notes(school)
