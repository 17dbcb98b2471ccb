"""`dondoc assign CODE PERSON...`: people given a task from the command line, by name or phone.

Each test starts from the default plan and a staff list; III.4.2 belongs to Văn phòng, III.3.4
to Tổ chuyên môn.
"""

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from models import Member, Reminder, ReminderKind, Task
from services.assignments import assignees
from tests.conftest import Cli
from tests.db_state import snapshot

STAFF = """\
name,unit,role,phone
Nguyễn Văn Hiếu,BGH,Hiệu trưởng,0912000001
Hoàng Thị Thu,TCM,Tổ trưởng,0912000004
Đỗ Văn Bình,TCM,Giáo viên,0912000005
Trần Thị Mai,VANPHONG,Tổ trưởng,0912000009
Lê Văn Nam,VANPHONG,Giáo viên,0912000010
Lê Thị Hoa,VANPHONG,Giáo viên,0912000011
Lê Thị Hòa,TCM,Giáo viên,0912000012
Nguyễn Thị Lan,VANPHONG,Giáo viên,0912000013
Nguyễn Thị Lan,TCM,Giáo viên,0912000014
"""


def import_staff(cli: Cli, folder: Path, text: str = STAFF) -> None:
    path = folder / "can-bo.csv"
    path.write_text(text, encoding="utf-8")
    cli("people", "import", path)


def assigned(engine: Engine, code: str) -> list[str]:
    """The names of the task's assignees, the earliest given first."""
    with Session(engine) as session:
        task = session.exec(select(Task).where(Task.code == code)).one()
        return [member.name for member in assignees(session, task)]


def told(engine: Engine) -> list[tuple[str, str]]:
    """(task code, person) of every "you were assigned" message queued."""
    with Session(engine) as session:
        rows = session.exec(
            select(Task.code, Member.name)
            .join(Reminder, col(Reminder.task_id) == col(Task.id))
            .join(Member, col(Member.id) == col(Reminder.recipient_id))
            .where(Reminder.kind == ReminderKind.ASSIGNED)
            .order_by(col(Reminder.id))
        ).all()
    return [(code, name) for code, name in rows]


@pytest.fixture
def school(cli: Cli, tmp_path: Path) -> None:
    cli("plan", "import")
    import_staff(cli, tmp_path)


def test_people_are_assigned_by_name_or_phone_and_each_is_told_once(
    cli: Cli, engine: Engine, school: None
) -> None:
    result = cli("assign", "iii.4.2", "trần  thị MAI", "+84 912 000 010", "--school", "THCS-TT2")
    assert result.output == "Đã giao nhiệm vụ III.4.2 cho Trần Thị Mai, Lê Văn Nam.\n"
    assert assigned(engine, "III.4.2") == ["Trần Thị Mai", "Lê Văn Nam"]
    assert told(engine) == [("III.4.2", "Trần Thị Mai"), ("III.4.2", "Lê Văn Nam")]


def test_assigning_again_adds_only_who_is_new(cli: Cli, engine: Engine, school: None) -> None:
    cli("assign", "III.4.2", "Trần Thị Mai")
    result = cli("assign", "III.4.2", "Lê Văn Nam", "0912000009")
    assert result.output == (
        "Đã giao nhiệm vụ III.4.2 cho Lê Văn Nam; Trần Thị Mai đã được giao từ trước.\n"
    )
    assert assigned(engine, "III.4.2") == ["Trần Thị Mai", "Lê Văn Nam"]
    assert told(engine) == [("III.4.2", "Trần Thị Mai"), ("III.4.2", "Lê Văn Nam")]

    before = snapshot(engine)
    again = cli("assign", "III.4.2", "Lê Văn Nam", "Trần Thị Mai")
    assert again.output == (
        "Không có gì thay đổi: Lê Văn Nam, Trần Thị Mai đã được giao nhiệm vụ III.4.2 từ trước.\n"
    )
    assert snapshot(engine) == before


def test_a_leader_may_be_given_a_task_of_any_unit(cli: Cli, engine: Engine, school: None) -> None:
    cli("assign", "III.3.4", "Nguyễn Văn Hiếu", "Đỗ Văn Bình")
    assert assigned(engine, "III.3.4") == ["Nguyễn Văn Hiếu", "Đỗ Văn Bình"]


def test_a_namesake_is_told_apart_by_phone(cli: Cli, engine: Engine, school: None) -> None:
    cli("assign", "III.3.4", "0912000014")
    with Session(engine) as session:
        task = session.exec(select(Task).where(Task.code == "III.3.4")).one()
        assert [m.phone for m in assignees(session, task)] == ["0912000014"]


@pytest.mark.parametrize(
    ("code", "people", "expected"),
    [
        ("HOP-TO", ["Trần Thị Mai"], "Không có nhiệm vụ mã 'HOP-TO'; xem các mã: dondoc plan"),
        ("III.4.22", ["Trần Thị Mai"], "Không có nhiệm vụ mã 'III.4.22'; có phải: III.4.2"),
        (
            "III.4.2",
            ["Trần Thị Mai", "Lê Thị Hương"],
            "Không giao được nhiệm vụ III.4.2: không có ai tên 'Lê Thị Hương' trong danh sách",
        ),
        (
            "III.4.2",
            ["Le Van Nam"],  # diacritics are part of the name
            "Không giao được nhiệm vụ III.4.2: không có ai tên 'Le Van Nam' trong danh sách",
        ),
        (
            "III.4.2",
            ["0999999999"],
            "Không giao được nhiệm vụ III.4.2: không có ai số điện thoại 0999999999",
        ),
        (
            "III.4.2",
            ["nguyễn thị lan"],
            "Không giao được nhiệm vụ III.4.2: có 2 người tên 'nguyễn thị lan'; "
            "hãy ghi số điện thoại",
        ),
        (
            "III.4.2",
            ["Lê Thị Hòa"],  # not Lê Thị Hoa: she is in Tổ chuyên môn
            "Không giao được nhiệm vụ III.4.2: Lê Thị Hòa không thuộc Văn phòng "
            "cũng không thuộc ban giám hiệu",
        ),
    ],
    ids=["code", "near-code", "name", "no-diacritics", "phone", "namesakes", "unit"],
)
def test_a_bad_code_or_person_is_one_line_and_changes_nothing(
    cli: Cli, engine: Engine, school: None, code: str, people: list[str], expected: str
) -> None:
    before = snapshot(engine)
    result = cli("assign", code, *people, expect=2)
    assert result.output.startswith(expected)
    assert result.output.count("\n") == 1
    assert snapshot(engine) == before


def test_the_unknown_name_message_says_to_write_a_phone_or_import_the_staff_list(
    cli: Cli, school: None
) -> None:
    output = cli("assign", "III.4.2", "Lê Thị Hương", expect=2).output
    assert "ghi đúng họ tên như trong danh sách cán bộ hoặc số điện thoại" in output
    assert "dondoc people import" in output


def test_a_school_without_staff_is_told_to_import_the_list_first(cli: Cli) -> None:
    cli("plan", "import")
    output = cli("assign", "III.4.2", "Trần Thị Mai", expect=2).output
    assert "trường chưa có danh sách cán bộ" in output
    assert "dondoc people import" in output
