"""The Excel form carries a school's settings (the sheet "Cài đặt") and a task's own reminder rule
(the last columns of "Nhiệm vụ"), written the way a school secretary writes them; a workbook
without them, made before they existed, leaves the school's as they are."""

from datetime import datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from openpyxl.workbook import Workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models import School, Task
from models.db import session_scope
from services.plan_files import read_plan
from services.reminders import CalendarDefaults, plan_all
from services.school_settings import follow_up
from tests.conftest import Cli
from tests.db_state import snapshot

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
PEOPLE = """name,unit,role,phone
Hiệu Trưởng,BGH,principal,0900000001
Trưởng Văn Phòng,VP,unit_head,0900000003
"""
# a school whose rules are set in YAML, to export, change or keep
PLAN = """
school:
  code: THU
  name: Trường Thử
  settings:
    quiet_hours: ""
    working_days: mon-fri
    digest: fri 15:00
    checkin: thu 09:00
    group_reminders: true
    reminders: {before_days: [5, 0], overdue_every_days: 3, escalate_after_days: 10, at: "08:00"}
units:
  - {code: VP, name: Văn phòng}
  - {code: BGH, name: Ban giám hiệu}
tasks:
  - {code: T.1, title: Nộp hồ sơ kiểm định, unit: VP, deadline: 18/12/2026,
     reminders: {before_days: [3, 0], at: "07:00", overdue_every_days: 1, escalate_after_days: 2}}
  - {code: T.2, title: Báo cáo sơ kết, unit: VP, deadline: 18/12/2026}
"""


def local(day: int, month: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=HCM)


def rows_of(workbook: Workbook, sheet: str) -> dict[str, list]:
    """The sheet's rows by their first cell's text, and the header row as "header"."""
    table = workbook[sheet].iter_rows(values_only=True)
    return {"header": list(next(table))} | {str(row[0]): list(row) for row in table}


def fill(workbook: Workbook, sheet: str, header: str, row: str, value: object) -> None:
    """Write `value` in the row whose first cell is `row`, in the column headed `header`."""
    cells = workbook[sheet]
    column = next(cell.column for cell in cells[1] if cell.value == header)
    line = next(cell.row for cell in cells["A"] if cell.value == row)
    cells.cell(line, column, value)


@pytest.fixture
def template(cli: Cli, tmp_path: Path) -> Workbook:
    """The empty form, with a school, its units and two tasks filled in."""
    path = tmp_path / "mau.xlsx"
    cli("plan", "template", "--out", path)
    workbook = openpyxl.load_workbook(path)
    workbook["Trường"].append(["THU", "Trường Thử"])
    workbook["Tổ - bộ phận"].append(["VP", "Văn phòng"])
    workbook["Tổ - bộ phận"].append(["BGH", "Ban giám hiệu"])
    workbook["Nhiệm vụ"].append(["T.1", "Nộp hồ sơ kiểm định", None, None, "VP", "18/12/2026"])
    workbook["Nhiệm vụ"].append(["T.2", "Báo cáo sơ kết", None, None, "Văn phòng", "18/12/2026"])
    return workbook


def import_workbook(cli: Cli, workbook: Workbook, path: Path, expect: int = 0) -> str:
    workbook.save(path)
    return cli("plan", "import", path, expect=expect).output


def settings(engine: Engine) -> dict | None:
    with Session(engine) as session:
        return session.exec(select(School)).one().settings


def task_reminders(engine: Engine, code: str) -> dict | None:
    with Session(engine) as session:
        return session.exec(select(Task).where(Task.code == code)).one().reminders


def reminded(engine: Engine, now: datetime) -> list[tuple[str, datetime]]:
    """The task reminders the planner makes at `now`: (task, local time it is sent)."""
    with session_scope(engine) as session:
        return sorted(
            (session.get(Task, row.task_id).code, row.due_at.astimezone(HCM))
            for row in plan_all(session, now, CalendarDefaults())
            if row.task_id
        )


def test_the_settings_sheet_and_a_tasks_reminder_columns_set_the_rules(
    cli: Cli, engine: Engine, template: Workbook, tmp_path: Path
) -> None:
    for label, value in [
        ("Giờ không nhắn tin", "21h30-6h"),
        ("Ngày làm việc", "Thứ 2 - Thứ 6"),
        ("Giờ gửi báo cáo tuần", "thứ Sáu 15h"),
        ("Giờ hỏi thăm tổ trưởng", "thứ 5 09:00"),
        ("Nhắc cả trong nhóm của tổ", "có"),
        ("Nhắc trước hạn (ngày)", "7, 1, 0"),
        ("Giờ nhắc", time(8, 0)),  # "08:00" typed in a cell Excel reads as a time
        ("Nhắc lại khi quá hạn (mỗi … ngày)", "3 ngày"),
    ]:
        fill(template, "Cài đặt", "Giá trị", label, value)
    fill(template, "Nhiệm vụ", "Nhắc trước (ngày)", "T.1", "3, 0")
    fill(template, "Nhiệm vụ", "Giờ nhắc", "T.1", "7h00")
    import_workbook(cli, template, tmp_path / "ke-hoach.xlsx")
    (tmp_path / "can-bo.csv").write_text(PEOPLE, encoding="utf-8")
    cli("people", "import", tmp_path / "can-bo.csv")

    rules = follow_up(settings(engine))
    assert rules.quiet_hours == (time(21, 30), time(6, 0))
    assert rules.working_days == frozenset(range(5))
    assert (rules.digest, rules.checkin) == ((4, time(15)), (3, time(9)))
    assert rules.group_reminders is True
    assert rules.policy.before_days == (7, 1, 0)
    assert (rules.policy.at, rules.policy.overdue_every_days) == (time(8), 3)
    assert rules.policy.escalate_after_days == 5  # left empty: the default
    assert task_reminders(engine, "T.1") == {"before_days": [3, 0], "at": "07:00"}
    assert task_reminders(engine, "T.2") is None

    # a week before the deadline, T.2 is reminded at the school's hour; T.1 is not, it waits
    # for 3 days before, at its own hour
    assert reminded(engine, local(11, 12, 7, 59)) == []
    assert reminded(engine, local(11, 12, 8)) == [("T.2", local(11, 12, 8))]
    assert reminded(engine, local(15, 12, 6, 59)) == []
    assert reminded(engine, local(15, 12, 7)) == [("T.1", local(15, 12, 7))]


def test_export_then_import_gives_the_same_plan(cli: Cli, engine: Engine, tmp_path: Path) -> None:
    source = tmp_path / "ke-hoach.yaml"
    source.write_text(PLAN, encoding="utf-8")
    cli("plan", "import", source)
    path = tmp_path / "xuat.xlsx"
    cli("plan", "export", "--format", "xlsx", "--out", path)

    workbook = openpyxl.load_workbook(path)
    values = {row[1]: row[2] for row in rows_of(workbook, "Cài đặt").values()}
    assert values["quiet_hours"] == "không"  # no quiet hours
    assert values["group_reminders"] == "có"
    assert values["reminders.before_days"] == "5, 0"
    tasks = rows_of(workbook, "Nhiệm vụ")
    assert tasks["header"][-6:-2] == [
        "Nhắc trước (ngày)", "Giờ nhắc", "Nhắc lại khi quá hạn (ngày)", "Báo BGH khi quá hạn (ngày)"
    ]  # fmt: skip
    assert tasks["T.1"][-6:-2] == ["3, 0", "07:00", 1, 2]
    assert tasks["T.2"][-6:-2] == [None, None, None, None]

    exported = tmp_path / "xuat.yaml"
    cli("plan", "export", "--out", exported)
    plans = [read_plan(file) for file in (path, exported, source)]
    assert plans[0].school.settings is not None and plans[0].tasks[0].reminders is not None
    assert [(plan.school, plan.units, plan.tasks) for plan in plans[1:]] == [
        (plans[0].school, plans[0].units, plans[0].tasks)
    ] * 2
    before = snapshot(engine)
    assert "0 cập nhật" in cli("plan", "import", path).output
    assert snapshot(engine) == before


def test_an_old_workbook_or_an_empty_settings_sheet_keeps_the_schools_rules(
    cli: Cli, engine: Engine, tmp_path: Path
) -> None:
    source = tmp_path / "ke-hoach.yaml"
    source.write_text(PLAN, encoding="utf-8")
    cli("plan", "import", source)
    path = tmp_path / "cu.xlsx"
    cli("plan", "export", "--format", "xlsx", "--out", path)
    kept, overrides = settings(engine), task_reminders(engine, "T.1")

    workbook = openpyxl.load_workbook(path)
    workbook["Nhiệm vụ"].delete_cols(13, 4)  # as written before these columns existed
    del workbook["Cài đặt"]
    workbook["Trường"]["B2"] = "Trường THCS Thử"
    import_workbook(cli, workbook, path)
    assert (settings(engine), task_reminders(engine, "T.1")) == (kept, overrides)

    workbook = openpyxl.load_workbook(path)
    cli("plan", "template", "--out", tmp_path / "mau.xlsx")
    blank = openpyxl.load_workbook(tmp_path / "mau.xlsx")["Cài đặt"]
    settings_sheet = workbook.create_sheet("Cài đặt")
    for row in blank.iter_rows(values_only=True):
        settings_sheet.append(row)
    import_workbook(cli, workbook, path)
    assert settings(engine) == kept

    fill(workbook, "Cài đặt", "Giá trị", "Ngày làm việc", "thứ 2 - thứ 7")
    import_workbook(cli, workbook, path)
    assert settings(engine) == {
        "working_days": "mon-sat",
        "reminders": {},
        "group_reminders": False,
    }


def test_bad_values_are_refused_at_their_sheet_row_and_column(
    cli: Cli, engine: Engine, tmp_path: Path
) -> None:
    source = tmp_path / "ke-hoach.yaml"
    source.write_text(PLAN, encoding="utf-8")
    cli("plan", "import", source)
    path = tmp_path / "sai.xlsx"
    cli("plan", "export", "--format", "xlsx", "--out", path)
    before = snapshot(engine)

    workbook = openpyxl.load_workbook(path)
    fill(workbook, "Cài đặt", "Giá trị", "Giờ gửi báo cáo tuần", "thứ 8 15:00")
    fill(workbook, "Cài đặt", "Giá trị", "Nhắc cả trong nhóm của tổ", "chắc có")
    fill(workbook, "Cài đặt", "Giá trị", "Nhắc lại khi quá hạn (mỗi … ngày)", 0)
    fill(workbook, "Nhiệm vụ", "Nhắc trước (ngày)", "T.1", "3, ba")
    fill(workbook, "Nhiệm vụ", "Giờ nhắc", "T.2", "25:00")
    output = " ".join(import_workbook(cli, workbook, path, expect=2).split())

    assert "trang 'Cài đặt', dòng 4, cột 'Giá trị': 'thứ 8 15:00' không hợp lệ" in output
    assert "trang 'Cài đặt', dòng 6, cột 'Giá trị': 'chắc có' không hợp lệ; hãy ghi có" in output
    assert "trang 'Cài đặt', dòng 9, cột 'Giá trị': giá trị 0 quá nhỏ; nhỏ nhất là 1." in output
    assert "trang 'Nhiệm vụ', dòng 2, cột 'Nhắc trước (ngày)': 'ba' không phải là số" in output
    assert "trang 'Nhiệm vụ', dòng 3, cột 'Giờ nhắc': '25:00' không hợp lệ" in output
    assert output.index("'Nhắc trước") < output.index("dòng 4") < output.index("dòng 9")
    assert snapshot(engine) == before

    workbook = openpyxl.load_workbook(path)
    workbook["Cài đặt"].append(["Giờ ăn trưa", None, "11:30"])
    row = workbook["Cài đặt"].max_row  # the row just written
    output = " ".join(import_workbook(cli, workbook, path, expect=2).split())
    assert f"trang 'Cài đặt', dòng {row}: không rõ là cài đặt nào" in output
    assert snapshot(engine) == before


def test_the_help_sheet_explains_the_settings_and_the_reminder_columns(
    cli: Cli, tmp_path: Path
) -> None:
    path = tmp_path / "mau.xlsx"
    cli("plan", "template", "--out", path)
    workbook = openpyxl.load_workbook(path)
    guide = "\n".join(str(row[0]) for row in workbook["Hướng dẫn"].iter_rows(values_only=True))
    assert "Cài đặt: mỗi dòng một cài đặt chung của trường" in guide
    assert "Nhắc trước (ngày), Giờ nhắc" in guide
    assert "nhập tệp Excel không làm thay đổi" not in guide
    explained = rows_of(workbook, "Cài đặt")
    assert explained["header"] == ["Cài đặt", "Mã", "Giá trị", "Giải thích"]
    assert all(row[3] for name, row in explained.items() if name != "header")
