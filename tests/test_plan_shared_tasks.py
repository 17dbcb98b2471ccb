"""A task the plan gives to several units, and a lead unit with units coordinating, written from
the plans' own sentences:

- "các Tổ chuyên môn … hoàn thành kế hoạch giáo dục của Tổ trước ngày 05/9/2026": one task for
  every subject group; each reports its own progress; the task is done when all are;
- "Văn phòng phối hợp với đoàn thể, bộ phận liên quan theo dõi việc thực hiện Kế hoạch này"
  (chủ trì … phối hợp …): a lead unit and the units that help it.
"""

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from models import (
    Member,
    Reminder,
    School,
    Task,
    TaskAssignee,
    TaskStatus,
    Unit,
)
from models.db import session_scope
from services.digest import compile_digest
from services.plan_files import PlanFileError, read_plan
from services.plan_store import import_plan
from services.reminders import CalendarDefaults, plan_all
from tests.conftest import Cli
from tests.plan_school import exported_again, import_school, link_chats, plan_file
from tests.plan_school import say as say_as

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
PLAN = """
school: {code: THU, name: Trường Thử}
units:
  - {code: BGH, name: Ban giám hiệu}
  - {code: TO_TOAN, name: Tổ Toán – Tin}
  - {code: TO_VAN, name: Tổ Ngữ văn}
  - {code: TO_ANH, name: Tổ Tiếng Anh}
  - {code: VP, name: Văn phòng}
  - {code: CONGDOAN, name: Công đoàn}
  - {code: CHIDOAN, name: Chi đoàn}
kpis:
  - {key: teachers_standard, name: Giáo viên đạt chuẩn trình độ đào tạo, measure: "%",
     direction: ">=", target: 99, year: 2026}
tasks:
  - code: III.1.9
    title: Hoàn thành kế hoạch giáo dục của Tổ
    units: [Tổ Toán – Tin, Tổ Ngữ văn, Tổ Tiếng Anh]
    deadline: 05/12/2026
  - code: IV.4
    title: Theo dõi việc thực hiện Kế hoạch, định kỳ báo cáo lãnh đạo nhà trường
    unit: VP
    support: [CONGDOAN, CHIDOAN]
    deadline: 15/12/2026
"""
PEOPLE = """name,unit,role,phone
Hiệu Trưởng,BGH,principal,0900000001
Tổ Trưởng Toán,TO_TOAN,unit_head,0900000002
Tổ Trưởng Văn,TO_VAN,unit_head,0900000003
Tổ Trưởng Anh,TO_ANH,unit_head,0900000004
Trưởng Văn Phòng,VP,unit_head,0900000005
Chủ Tịch Công Đoàn,CONGDOAN,unit_head,0900000006
Giáo Viên Văn,TO_VAN,staff,0900000007
"""


def local(day: int, month: int = 12, hour: int = 9) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=HCM)


@pytest.fixture
def plan_path(tmp_path: Path) -> Path:
    return plan_file(tmp_path, PLAN)


@pytest.fixture
def school(engine: Engine, plan_path: Path) -> Engine:
    import_school(engine, plan_path, PEOPLE, now=local(1))
    link_chats(engine, PEOPLE)
    return engine


def say(engine: Engine, name: str, text: str, at: datetime) -> str:
    return say_as(engine, PEOPLE, name, text, at)


def parts(engine: Engine, code: str) -> dict[str, tuple[TaskStatus, int]]:
    with Session(engine) as session:
        rows = session.exec(select(Task).where(Task.code == code).order_by(Task.id)).all()
        return {task.unit_id: (task.status, task.progress) for task in rows}


@pytest.mark.parametrize("fmt", ["yaml", "json", "xlsx"])
def test_shared_and_coordinated_tasks_survive_export_and_import(
    school: Engine, plan_path: Path, tmp_path: Path, fmt: str
) -> None:
    read = read_plan(plan_path)
    assert [share.unit for share in read.tasks[0].owners] == ["TO_TOAN", "TO_VAN", "TO_ANH"]
    assert read.tasks[1].support == ["CONGDOAN", "CHIDOAN"]
    again = read_plan(exported_again(school, tmp_path, fmt))
    assert (again.units, again.kpis, again.tasks) == (read.units, read.kpis, read.tasks)
    assert len(again.units) == 7 and len(again.kpis) == 1


@pytest.mark.parametrize("fmt", ["yaml", "json", "xlsx"])
def test_each_units_own_progress_survives_export_and_import(
    school: Engine, tmp_path: Path, fmt: str
) -> None:
    say(school, "Tổ Trưởng Toán", "/xong III.1.9", local(2))
    say(school, "Tổ Trưởng Văn", "/capnhat III.1.9 40", local(2))
    path = exported_again(school, tmp_path, fmt)
    [shared, _] = read_plan(path).tasks
    assert [(s.unit, s.status, s.progress) for s in shared.owners] == [
        ("TO_TOAN", TaskStatus.DONE, 100),
        ("TO_VAN", TaskStatus.IN_PROGRESS, 40),
        ("TO_ANH", None, None),
    ]
    before = parts(school, "III.1.9")
    with session_scope(school) as session:
        import_plan(session, read_plan(path), now=local(3))
    assert parts(school, "III.1.9") == before  # imported back: each unit's state unchanged
    if fmt == "xlsx":  # one row per subject group, as a school fills the form
        sheet = openpyxl.load_workbook(path)["Nhiệm vụ"]
        rows = [row for row in sheet.iter_rows(min_row=2, values_only=True) if row[0] == "III.1.9"]
        assert [row[4] for row in rows] == ["TO_TOAN", "TO_VAN", "TO_ANH"]


def test_a_school_writes_the_groups_in_one_cell_or_one_row_each(
    engine: Engine, tmp_path: Path
) -> None:
    listed = "units: [Tổ Toán – Tin, Tổ Ngữ văn, Tổ Tiếng Anh]"
    one_cell = plan_file(tmp_path, PLAN.replace(listed, "unit: TO_TOAN; TO_VAN; TO_ANH"))
    assert read_plan(one_cell).tasks == read_plan(plan_file(tmp_path, PLAN, "b.yaml")).tasks


def test_each_subject_group_reports_its_own_part_and_the_task_is_done_when_all_are(
    school: Engine,
) -> None:
    answer = say(school, "Tổ Trưởng Toán", "/xong III.1.9", local(2))
    assert "III.1.9" in answer and "Tổ Toán – Tin" in answer
    states = list(parts(school, "III.1.9").values())
    assert states == [(TaskStatus.DONE, 100), (TaskStatus.TODO, 0), (TaskStatus.TODO, 0)]

    card = say(school, "Hiệu Trưởng", "/viec III.1.9", local(2, hour=10))
    assert "1/3 đơn vị hoàn thành" in card and "Hạn: 05/12/2026 (còn 3 ngày)" in card
    assert "Tổ Toán – Tin: hoàn thành" in card and "Tổ Ngữ văn: chưa bắt đầu" in card

    say(school, "Tổ Trưởng Văn", "III.1.9 xong", local(3))
    say(school, "Tổ Trưởng Anh", "xong III.1.9", local(4))
    card = say(school, "Hiệu Trưởng", "/viec III.1.9", local(4, hour=10))
    assert "3/3 đơn vị hoàn thành" in card


def test_the_principal_marking_a_shared_task_is_asked_which_unit(school: Engine) -> None:
    answer = say(school, "Hiệu Trưởng", "/xong III.1.9", local(2))
    assert "Tổ Toán – Tin" in answer and "Tổ Ngữ văn" in answer and "Tổ Tiếng Anh" in answer
    assert all(state == (TaskStatus.TODO, 0) for state in parts(school, "III.1.9").values())


def test_each_group_is_reminded_of_its_own_part_until_it_is_done(school: Engine) -> None:
    say(school, "Tổ Trưởng Toán", "/xong III.1.9", local(2))
    with session_scope(school) as session:
        plan_all(session, local(4, hour=8), CalendarDefaults())  # the day before: 05/12
        reminded = {
            session.get(Member, row.recipient_id).name
            for row in session.exec(select(Reminder))
            if row.task_id is not None and session.get(Task, row.task_id).code == "III.1.9"
        }
    assert reminded == {"Tổ Trưởng Văn", "Tổ Trưởng Anh"}


def test_a_teacher_assigned_to_a_shared_task_carries_their_groups_part(
    school: Engine, cli: Cli
) -> None:
    result = cli("assign", "III.1.9", "Giáo Viên Văn")
    assert result.exit_code == 0 and "Giáo Viên Văn" in result.output
    with Session(school) as session:
        [unit] = session.exec(
            select(Unit.code)
            .join(Task, col(Task.unit_id) == col(Unit.id))
            .join(TaskAssignee, col(TaskAssignee.task_id) == col(Task.id))
        ).all()
    assert unit == "TO_VAN"


def test_the_digest_counts_each_groups_part_under_that_group(school: Engine) -> None:
    say(school, "Tổ Trưởng Toán", "/xong III.1.9", local(2))
    with Session(school) as session:
        target = session.exec(select(School)).one()
        digest = compile_digest(session, target, start=local(7, hour=0), end=local(11, hour=16))
    rows = {row.name: row for row in digest.units}
    assert (rows["Tổ Toán – Tin"].done, rows["Tổ Toán – Tin"].tasks) == (1, 1)
    assert (rows["Tổ Ngữ văn"].done, rows["Tổ Ngữ văn"].overdue) == (0, 1)
    overdue = {(item.code, item.unit) for item in digest.overdue}
    assert overdue == {("III.1.9", "Tổ Ngữ văn"), ("III.1.9", "Tổ Tiếng Anh")}


def test_coordinating_units_see_the_task_and_the_lead_unit_reports(school: Engine) -> None:
    card = say(school, "Chủ Tịch Công Đoàn", "/viec IV.4", local(2))
    assert "Văn phòng" in card and "Phối hợp: Công đoàn, Chi đoàn" in card
    refused = say(school, "Chủ Tịch Công Đoàn", "/xong IV.4", local(2))
    assert "Văn phòng" in refused and "chủ trì" in refused
    assert parts(school, "IV.4") and all(
        state == (TaskStatus.TODO, 0) for state in parts(school, "IV.4").values()
    )
    assert "IV.4" in say(school, "Trưởng Văn Phòng", "/xong IV.4", local(2))
    assert [state for state in parts(school, "IV.4").values()] == [(TaskStatus.DONE, 100)]


def test_a_unit_that_leaves_a_shared_task_is_reported_and_archived_with_prune(
    school: Engine, plan_path: Path
) -> None:
    plan_path.write_text(PLAN.replace(", Tổ Tiếng Anh]", "]"), encoding="utf-8")
    with session_scope(school) as session:
        summary = import_plan(session, read_plan(plan_path), now=local(3), prune=True)
    assert summary.kinds["tasks"].archived == ["III.1.9 (TO_ANH)"]
    with Session(school) as session:
        current = session.exec(
            select(Task).where(Task.code == "III.1.9", Task.archived_at == None)  # noqa: E711
        ).all()
    assert len(current) == 2


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("units: [Tổ Toán – Tin, Tổ Ngữ văn, Tổ Tiếng Anh]",
         "đơn vị 'TO_VAN' được ghi hai lần"),
        ("support: [CONGDOAN, CHIDOAN]", "đơn vị 'VP' vừa được giao"),
    ],
)  # fmt: skip
def test_a_unit_named_twice_is_refused_with_what_to_write(
    tmp_path: Path, change: str, expected: str
) -> None:
    wrong = {
        "units: [Tổ Toán – Tin, Tổ Ngữ văn, Tổ Tiếng Anh]": "units: [TO_TOAN, TO_VAN, Tổ Ngữ văn]",
        "support: [CONGDOAN, CHIDOAN]": "support: [CONGDOAN, VP]",
    }[change]
    with pytest.raises(PlanFileError) as refused:
        read_plan(plan_file(tmp_path, PLAN.replace(change, wrong)))
    assert expected in str(refused.value)


def test_a_dash_on_a_shared_tasks_rows_unassigns_everyone(
    school: Engine, cli: Cli, tmp_path: Path
) -> None:
    """In the Excel form "-" under Người thực hiện is nobody, on a task's rows as on one row."""
    cli("assign", "III.1.9", "Giáo Viên Văn")
    path = exported_again(school, tmp_path, "xlsx")
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["Nhiệm vụ"]
    column = [cell.value for cell in sheet[1]].index("Người thực hiện") + 1
    for row in range(2, sheet.max_row + 1):
        if sheet.cell(row, 1).value == "III.1.9":
            sheet.cell(row, column, "-")
    workbook.save(path)
    [shared, _] = read_plan(path).tasks
    assert shared.assignees == []
