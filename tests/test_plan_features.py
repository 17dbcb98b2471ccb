"""What real plans write and the schema must keep: work with no date ("thường xuyên", "khi có
yêu cầu") and dates the plan does not give (proposals). Each fixture is written from a plan's own
sentences; it survives YAML, JSON and Excel unchanged and behaves in reminders and the digest."""

import re
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models import Member, Reminder, ReminderKind, School, Task
from models.db import session_scope
from services.digest import compile_digest
from services.digest_files import write_workbook
from services.plan_files import read_plan
from services.plan_store import import_plan
from services.reminders import CalendarDefaults, plan_all
from tests.plan_school import exported_again, import_school, plan_file

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
# "Chủ động cân đối nguồn để thường xuyên bổ sung và hoàn thiện cơ sở vật chất" (an ongoing
# duty), "báo cáo số liệu khi có yêu cầu" (on request), "tổng kết năm học" on a date the plan
# does not give (proposed), and one dated by the plan itself.
PLAN = """
school: {code: THU, name: Trường Thử}
units:
  - {code: VP, name: Văn phòng}
  - {code: BGH, name: Ban giám hiệu}
tasks:
  - {code: A.1, title: Cân đối nguồn để thường xuyên bổ sung cơ sở vật chất, unit: BGH,
     recurrence: thường xuyên}
  - {code: A.2, title: Báo cáo số liệu phổ cập khi có yêu cầu, unit: VP,
     recurrence: khi có yêu cầu}
  - {code: A.3, title: Tổng kết năm học, unit: BGH, deadline: 31/05/2027, deadline_source: đề xuất}
  - {code: A.4, title: Nộp báo cáo sơ kết học kỳ I, unit: VP, deadline: 15/01/2027}
  - {code: A.5, title: Họp cha mẹ học sinh, unit: VP, recurrence: semester,
     deadline_source: proposed}
"""
PEOPLE = """name,unit,role,phone
Hiệu Trưởng,BGH,principal,0900000001
Trưởng Văn Phòng,VP,unit_head,0900000003
"""


def local(day: int, month: int, year: int = 2026, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=HCM)


@pytest.fixture
def plan_path(tmp_path: Path) -> Path:
    return plan_file(tmp_path, PLAN)


@pytest.fixture
def school(engine: Engine, plan_path: Path) -> Engine:
    return import_school(engine, plan_path, PEOPLE, now=local(1, 12))


def test_undated_and_proposed_are_read_the_way_the_plan_writes_them(plan_path: Path) -> None:
    tasks = {task.code: task for task in read_plan(plan_path).tasks}
    assert (tasks["A.1"].recurrence, tasks["A.1"].deadline, tasks["A.1"].deadline_source) == (
        "ongoing",
        None,
        None,
    )
    assert tasks["A.2"].recurrence == "on_request"
    assert (tasks["A.3"].deadline, tasks["A.3"].deadline_source) == (date(2027, 5, 31), "proposed")
    assert tasks["A.4"].deadline_source is None  # the plan's own date
    assert tasks["A.5"].deadline_source == "proposed"


@pytest.mark.parametrize("fmt", ["yaml", "json", "xlsx"])
def test_they_survive_export_and_import_unchanged(
    school: Engine, plan_path: Path, tmp_path: Path, fmt: str
) -> None:
    again, read = read_plan(exported_again(school, tmp_path, fmt)), read_plan(plan_path)
    assert (again.units, again.kpis, again.tasks) == (read.units, read.kpis, read.tasks)


def test_confirming_a_proposed_date_with_an_import_makes_it_the_plans(
    school: Engine, plan_path: Path
) -> None:
    plan_path.write_text(
        PLAN.replace("deadline: 31/05/2027, deadline_source: đề xuất", "deadline: 25/05/2027"),
        encoding="utf-8",
    )
    with session_scope(school) as session:
        import_plan(session, read_plan(plan_path), now=local(2, 12))
        task = session.exec(select(Task).where(Task.code == "A.3")).one()
        assert (task.deadline, task.date_proposed) == (date(2027, 5, 25), False)


def test_work_with_no_date_is_never_reminded_of_nor_overdue(school: Engine) -> None:
    """Over a whole school year, the undated tasks get no reminder and never count as overdue;
    the weekly check-in of their unit's head asks about them."""
    reminded: set[str] = set()
    checkins = 0
    day = local(1, 12, hour=8)
    with session_scope(school) as session:
        while day < local(30, 6, 2027):
            for row in plan_all(session, day, CalendarDefaults()):
                if row.task_id:
                    reminded.add(session.get(Task, row.task_id).code)
                checkins += row.kind == ReminderKind.CHECKIN
            day += timedelta(days=1)
        head = session.exec(select(Member).where(Member.name == "Trưởng Văn Phòng")).one()
        kinds = {
            row.kind
            for row in session.exec(select(Reminder).where(Reminder.recipient_id == head.id))
        }
    assert "A.1" not in reminded and "A.2" not in reminded
    assert {"A.4", "A.5"} <= reminded
    assert ReminderKind.CHECKIN in kinds and checkins > 20
    with Session(school) as session:
        target = session.exec(select(School)).one()
        digest = compile_digest(session, target, start=local(1, 6, 2027), end=local(30, 6, 2027))
    items = {item.code: item for item in digest.tasks}
    assert (items["A.1"].due, items["A.1"].overdue) == (None, False)
    assert {item.code for item in digest.overdue} == {"A.3", "A.4", "A.5"}  # not A.1, A.2
    assert "A.1" not in {item.code for item in digest.urgent}


def test_the_workbook_and_the_digest_say_which_dates_are_proposals(
    school: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "bao-cao.xlsx"
    with Session(school) as session:
        target = session.exec(select(School)).one()
        digest = compile_digest(session, target, start=local(1, 12), end=local(4, 12, hour=16))
        write_workbook(digest, session, path)
    rows = {
        row[0]: row
        for row in openpyxl.load_workbook(path)["Nhiệm vụ"].iter_rows(min_row=2, values_only=True)
    }
    assert rows["A.1"][4:7] == (None, "chưa bắt đầu", "không có hạn")
    assert rows["A.3"][6] == "còn 178 ngày (hạn đề xuất)"
    assert rows["A.4"][6] == "còn 42 ngày"


def test_every_example_of_the_plan_format_guide_imports(tmp_path: Path) -> None:
    """docs/plan-format.md shows one example per feature: put together, they make a plan that
    imports."""
    guide = (Path(__file__).parents[1] / "docs" / "plan-format.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", guide, flags=re.DOTALL)
    sections = [block for block in blocks if not block.startswith("  - ")]
    tasks = [block for block in blocks if block.startswith("  - ")]
    plan = tmp_path / "guide.yaml"
    plan.write_text("\n".join([*sections, "tasks:", *tasks]), encoding="utf-8")
    read = read_plan(plan)
    codes = {task.code for task in read.tasks}
    assert {"III.4.6", "VP.3", "III.1.1", "III.4.2", "III.1.12"} <= codes
    assert {kpi.key for kpi in read.kpis} == {
        "dropout", "pcgd", "facilities", "further_study", "len_lop", "gvdg", "giai_nhi"
    }  # fmt: skip
