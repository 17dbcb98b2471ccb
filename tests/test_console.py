"""The console channel: the same chat core in a terminal, with numbered buttons."""

from pathlib import Path

import pytest
from sqlmodel import select

from bot.console import ConsoleChannel, console_user, plain
from models import ProgressUpdate, TaskStatus
from tests.chat_school import OFFICE_HEAD, ChatSchool


def console(school: ChatSchool, who: str) -> tuple[ConsoleChannel, list[str]]:
    lines: list[str] = []
    user_id, first = console_user(school.engine, who)
    channel = ConsoleChannel(school.core, user_id, write=lines.append)
    if first:
        channel.on_line(first)
    return channel, lines


def test_html_is_shown_as_plain_text() -> None:
    assert plain("<b>III.4.2</b> &lt;b&gt;&amp; <i>x</i>") == "III.4.2 <b>& x"


def test_joining_with_a_code_then_reporting_with_numbered_buttons(school: ChatSchool) -> None:
    channel, lines = console(school, school.codes[OFFICE_HEAD])
    assert any("Chào Trần Thị Mai" in line for line in lines)

    channel.on_line("/viec III.4.2")
    assert "III.4.2 — Nâng cao chất lượng hồ sơ số" in lines[-2]
    assert (
        lines[-1]
        == "[1] ✅ Hoàn thành  [2] 📈 Cập nhật tiến độ  [3] ⏰ Nhắc lại sau  [4] ⚠️ Gặp vướng mắc"
    )

    channel.on_line("2")
    assert "[3] 75 %" in lines[-1]
    channel.on_line("3")
    assert "Tiến độ 75 % — đang thực hiện" in "\n".join(lines[-3:])
    assert school.task("III.4.2").progress == 75


def test_free_text_answers_the_last_task_shown(school: ChatSchool) -> None:
    channel, lines = console(school, OFFICE_HEAD)
    channel.on_line("/viec III.1.11")
    channel.on_line("xong, đã gửi báo cáo tháng 11")
    task = school.task("III.1.11")
    assert task.status == TaskStatus.DONE
    with school.session() as session:
        update = session.exec(select(ProgressUpdate).where(ProgressUpdate.task_id == task.id)).one()
    assert update.note == "xong, đã gửi báo cáo tháng 11"
    channel.on_line("1")  # the confirmation's only button: undo
    assert school.task("III.1.11").status == TaskStatus.TODO
    assert any("Đã hoàn tác" in line for line in lines)


def test_acting_as_an_unknown_person_is_refused(school: ChatSchool) -> None:
    with pytest.raises(Exception, match="Không tìm thấy 'Ai Đó'"):
        console_user(school.engine, "Ai Đó")


def test_dondoc_console_runs_an_interactive_session(
    cli, school: ChatSchool, tmp_path: Path
) -> None:
    result = cli("console", "--as", "trần thị mai", input="/viec\n/chiso dropout 1\n/thoat\n")
    assert "Trò chuyện với dondoc" in result.output
    assert "Việc đang mở" in result.output
    assert "Chỉ hiệu trưởng và phó hiệu trưởng ghi được chỉ số" in result.output
