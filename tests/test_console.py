"""The console channel: the same chat core in a terminal, with numbered buttons."""

from pathlib import Path

import pytest
from sqlmodel import select

from bot.console import ConsoleChannel, UnknownPerson, console_user
from messages.rich import plain
from models import ChatIdentity, Member, ProgressUpdate, TaskStatus
from tests.chat_school import OFFICE_HEAD, OFFICE_STAFF, TCM_HEAD, TEACHER, ChatSchool


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
    assert any("Chào thầy/cô Trần Thị Mai" in line for line in lines)

    channel.on_line("/viec III.4.2")
    assert "III.4.2 — Nâng cao chất lượng hồ sơ số" in lines[-1]
    assert lines[-1].endswith(
        "Thầy/cô trả lời bằng số để chọn:\n1. ✅ Hoàn thành\n2. 📈 Cập nhật tiến độ\n"
        "3. ⏰ Nhắc lại sau\n4. ⚠️ Gặp vướng mắc"
    )

    channel.on_line("2")
    assert "\n3. 75%" in lines[-1]
    channel.on_line("số 3")
    assert "Tiến độ 75% — đang thực hiện" in "\n".join(lines[-3:])
    assert school.task("III.4.2").progress == 75


def test_free_text_answers_the_last_task_shown(school: ChatSchool) -> None:
    channel, lines = console(school, OFFICE_HEAD)
    channel.on_line("/viec III.1.11")
    channel.on_line("xong, đã gửi báo cáo tháng 11")
    task = school.task("III.1.11")
    assert task.status == TaskStatus.DONE
    with school.session() as session:
        update = session.exec(select(ProgressUpdate).where(ProgressUpdate.task_id == task.id)).one()
    assert update.note == "đã gửi báo cáo tháng 11"  # "xong" was understood, the rest kept
    channel.on_line("1")  # the confirmation's only button: undo
    assert school.task("III.1.11").status == TaskStatus.TODO
    assert any("Đã hoàn tác" in line for line in lines)


def test_the_conversation_works_in_plain_text_without_reply_or_buttons(
    school: ChatSchool,
) -> None:
    """The console has no reply-to: codes, the current task and numbered choices do the work."""
    head, lines = console(school, TCM_HEAD)
    head.on_line("III.1.4 xong, III.2.8 50% còn lớp 9A")
    assert lines[-1].startswith("Đã ghi nhận 2 cập nhật:\n1. III.1.4: Tiến độ 100% — hoàn thành")
    assert school.task("III.1.4").status == TaskStatus.DONE
    assert school.task("III.2.8").progress == 50

    head.on_line("xong")  # of the two tasks just confirmed, the one still open
    assert school.task("III.2.8").status == TaskStatus.DONE

    school.clock.advance(hours=5)  # nothing current any more, several open tasks: which?
    head.on_line("xong")
    assert lines[-1].startswith('Thầy/cô báo "xong" cho việc nào?')
    assert "Thầy/cô trả lời bằng số để chọn:\n1. III.5.3 " in lines[-1]
    head.on_line("1")
    assert school.task("III.5.3").status == TaskStatus.DONE

    head.on_line("/giao III.5.5 do van binh")
    assert any(line.startswith("Đã giao III.5.5") for line in lines)
    teacher, said = console(school, TEACHER)
    teacher.on_line("dạ e làm dc 60% r ạ")  # his only task
    assert school.task("III.5.5").progress == 60
    assert "Ghi chú" not in "\n".join(said[-3:])


def test_a_second_session_of_the_same_person_shows_the_same_task_again(
    school: ChatSchool,
) -> None:
    first, _ = console(school, OFFICE_HEAD)
    first.on_line("/viec III.4.2")

    second, lines = console(school, OFFICE_HEAD)
    second.on_line("/viec III.4.2")
    assert "III.4.2 — Nâng cao chất lượng hồ sơ số" in lines[-1]
    second.on_line("2")
    assert "\n3. 75%" in lines[-1]
    second.on_line("3")
    assert school.task("III.4.2").progress == 75


@pytest.mark.parametrize(
    ("typed", "name"), [("tran thi mai", OFFICE_HEAD), ("DO VAN BINH", TEACHER)]
)
def test_a_name_typed_without_diacritics_is_that_member_not_a_code(
    school: ChatSchool, typed: str, name: str
) -> None:
    channel, lines = console(school, typed)
    assert lines == []
    channel.on_line("/huongdan")
    assert "Cách dùng" in "\n".join(lines)
    with school.session() as session:
        identity = session.exec(
            select(ChatIdentity).where(ChatIdentity.external_user_id == channel.user_id)
        ).one()
    assert identity.member_id == school.member(name).id


def test_a_name_shared_without_diacritics_is_ambiguous_unless_typed_exactly(
    school: ChatSchool,
) -> None:
    with school.session() as session:
        nam = school.member(OFFICE_STAFF)
        session.add(Member(school_id=nam.school_id, name="Lê Văn Năm"))
        session.commit()
    with pytest.raises(UnknownPerson, match="Có nhiều người tên 'le van nam'"):
        console_user(school.engine, "le van nam")
    user_id, _ = console_user(school.engine, "lê văn năm")
    assert user_id != console_user(school.engine, OFFICE_STAFF)[0]


def test_acting_as_an_unknown_person_is_refused(school: ChatSchool) -> None:
    with pytest.raises(UnknownPerson, match="Không tìm thấy 'Ai Đó'"):
        console_user(school.engine, "Ai Đó")
    with pytest.raises(UnknownPerson, match="Không tìm thấy 'le thi hoa'"):
        console_user(school.engine, "le thi hoa")


def test_dondoc_console_runs_an_interactive_session(
    cli, school: ChatSchool, tmp_path: Path
) -> None:
    result = cli("console", "--as", "trần thị mai", input="/viec\n/chiso dropout 1\n/thoat\n")
    assert "Trò chuyện với dondoc" in result.output
    assert "Việc đang mở" in result.output
    assert "Chỉ hiệu trưởng và phó hiệu trưởng ghi được chỉ số" in result.output


def test_dondoc_console_can_be_opened_again_as_the_same_person(cli, school: ChatSchool) -> None:
    for _ in range(2):
        result = cli("console", "--as", "Trần Thị Mai", input="/viec III.4.2\n/thoat\n")
        assert "III.4.2 — Nâng cao chất lượng hồ sơ số" in result.output
        assert "\n1. ✅ Hoàn thành\n" in result.output


def test_dondoc_console_takes_a_name_without_diacritics(cli, school: ChatSchool) -> None:
    result = cli("console", "--as", "do van binh", input="/huongdan\n/thoat\n")
    assert "Cách dùng" in result.output
