"""A bad plan file is refused as a whole, with a message that says where and what to write.

Every test starts from a small plan already in the database and checks, row by row, that the
refused import left every table exactly as it was.
"""

import json
import random
from collections.abc import Callable
from datetime import date
from pathlib import Path

import openpyxl
import pytest
import yaml
from openpyxl.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet
from pydantic import BaseModel
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models import Kpi, School, Task, Unit
from services.plan_schema import KpiIn, PlanFile, TaskIn, UnitIn
from services.school_settings import ReminderRules
from tests.conftest import Cli
from tests.db_state import snapshot

VALID_PLAN = """\
school:
  code: TEST-1
  name: Trường Thử Nghiệm
units:
  - code: VP
    name: Văn phòng
  - code: TCM
    name: Tổ chuyên môn
kpis:
  - key: dropout
    name: Tỉ lệ bỏ học
    measure: "%"
    direction: "<="
    target: 0.5
    year: 2026
  - key: facilities
    name: Cơ sở vật chất đạt chuẩn
    direction: yes_no
    target: true
    year: 2026
tasks:
  - code: T1
    title: Báo cáo tháng
    unit: VP
    recurrence: monthly:25
  - code: T2
    title: Họp tổ chuyên môn
    unit: TCM
    deadline: 31/03/2026
  - code: T3
    title: Tổng kết năm học
    unit: VP
    deadline: 2026-05-25
"""

TASKS_SHEET = "Nhiệm vụ"


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def lines_with(text: str, needle: str) -> list[int]:
    """1-based numbers of the lines of `text` that contain `needle`."""
    return [number for number, line in enumerate(text.splitlines(), 1) if needle in line]


def line_of(text: str, needle: str) -> int:
    (number,) = lines_with(text, needle)
    return number


def refuse(cli: Cli, engine: Engine, path: Path) -> str:
    """Import `path`, expect exit code 2 and an untouched database; return the message."""
    before = snapshot(engine)
    result = cli("plan", "import", path, expect=2)
    assert snapshot(engine) == before
    assert path.name in result.output
    assert "cơ sở dữ liệu giữ nguyên" in result.output
    assert "Traceback" not in result.output
    return result.output


def refuse_text(cli: Cli, engine: Engine, folder: Path, text: str, name: str) -> str:
    return refuse(cli, engine, write(folder, name, text))


def task_titles(engine: Engine) -> dict[str, str]:
    with Session(engine) as session:
        return {task.code: task.title for task in session.exec(select(Task))}


def edit_workbook(source: Path, target: Path, change: Callable[[Workbook], None]) -> Path:
    workbook = openpyxl.load_workbook(source)
    change(workbook)
    workbook.save(target)
    return target


def row_of(sheet: Worksheet, code: str) -> int:
    """The sheet row whose first cell holds `code`."""
    (row,) = [cell.row for (cell,) in sheet.iter_rows(min_col=1, max_col=1) if cell.value == code]
    return row


def column_of(sheet: Worksheet, header: str) -> int:
    (column,) = [cell.column for cell in sheet[1] if cell.value == header]
    return column


@pytest.fixture
def plan_in_db(cli: Cli, engine: Engine, tmp_path: Path) -> Path:
    path = write(tmp_path, "ke-hoach.yaml", VALID_PLAN)
    cli("plan", "import", path)
    assert task_titles(engine) == {
        "T1": "Báo cáo tháng",
        "T2": "Họp tổ chuyên môn",
        "T3": "Tổng kết năm học",
    }
    return path


@pytest.fixture
def exported_workbook(cli: Cli, plan_in_db: Path, tmp_path: Path) -> Path:
    path = tmp_path / "ke-hoach.xlsx"
    cli("plan", "export", "--format", "xlsx", "--out", path)
    return path


# --- YAML -------------------------------------------------------------------------------------


def test_yaml_syntax_error_is_refused_with_its_line(
    cli: Cli, engine: Engine, plan_in_db: Path, tmp_path: Path
) -> None:
    text = VALID_PLAN.replace("title: Họp tổ chuyên môn", "title: Họp tổ: chuyên môn")
    output = refuse_text(cli, engine, tmp_path, text, "cu-phap.yaml")
    assert "sai cú pháp YAML" in output
    assert f"ở dòng {line_of(text, 'Họp tổ: chuyên môn')}, cột" in output
    assert "Kiểm tra thụt lề và dấu hai chấm" in output


def test_task_without_title_is_refused_naming_the_missing_field(
    cli: Cli, engine: Engine, plan_in_db: Path, tmp_path: Path
) -> None:
    text = VALID_PLAN.replace("    title: Họp tổ chuyên môn\n", "")
    output = refuse_text(cli, engine, tmp_path, text, "thieu-ten.yaml")
    line = line_of(text, "- code: T2")
    assert f"dòng {line} (tasks[1].title): thiếu mục bắt buộc 'title'" in output


def test_task_with_unknown_unit_is_refused_listing_the_known_units(
    cli: Cli, engine: Engine, plan_in_db: Path, tmp_path: Path
) -> None:
    text = VALID_PLAN.replace("unit: TCM", "unit: THUVIEN")
    output = refuse_text(cli, engine, tmp_path, text, "to-la.yaml")
    line = line_of(text, "unit: THUVIEN")
    assert f"dòng {line} (tasks[1].unit)" in output
    assert "'THUVIEN'" in output
    assert "mã hoặc tên của một trong: VP (Văn phòng), TCM (Tổ chuyên môn)" in output


@pytest.mark.parametrize(
    ("written", "impossible"),
    [("2026-05-25", "2026-02-30"), ("31/03/2026", "31/02/2026")],
    ids=["iso", "dd/mm/yyyy"],
)
def test_impossible_date_is_refused_with_its_line(
    cli: Cli, engine: Engine, plan_in_db: Path, tmp_path: Path, written: str, impossible: str
) -> None:
    text = VALID_PLAN.replace(written, impossible)
    output = refuse_text(cli, engine, tmp_path, text, "ngay-sai.yaml")
    line = line_of(text, impossible)
    assert f"dòng {line} (tasks[" in output
    assert f"ngày '{impossible}' không tồn tại" in output
    assert "dd/mm/yyyy" in output


def test_kpi_without_target_is_refused(
    cli: Cli, engine: Engine, plan_in_db: Path, tmp_path: Path
) -> None:
    text = VALID_PLAN.replace("    target: 0.5\n", "")
    output = refuse_text(cli, engine, tmp_path, text, "thieu-muc-tieu.yaml")
    line = line_of(text, "- key: dropout")
    assert f"dòng {line} (kpis[0].target): thiếu mục bắt buộc 'target'" in output


def test_kpi_with_unknown_direction_is_refused_listing_the_choices(
    cli: Cli, engine: Engine, plan_in_db: Path, tmp_path: Path
) -> None:
    text = VALID_PLAN.replace('direction: "<="', 'direction: "~"')
    output = refuse_text(cli, engine, tmp_path, text, "chieu-sai.yaml")
    line = line_of(text, 'direction: "~"')
    assert f"dòng {line} (kpis[0].direction): giá trị '~' không hợp lệ" in output
    assert "một trong: " in output
    for choice in ("'<='", "'>='", "'='", "'yes_no'"):
        assert choice in output


def test_kpi_target_wording_longer_than_100_characters_is_refused(
    cli: Cli, engine: Engine, plan_in_db: Path, tmp_path: Path
) -> None:
    wording = "không quá 0,5% " * 8
    text = VALID_PLAN.replace("    target: 0.5\n", f"    target: 0.5\n    target_text: {wording}\n")
    output = refuse_text(cli, engine, tmp_path, text, "muc-tieu-dai.yaml")
    line = line_of(text, "target_text:")
    assert f"dòng {line} (kpis[0].target_text): dài quá 100 ký tự." in output


def test_duplicate_task_codes_are_refused_at_the_second_one(
    cli: Cli, engine: Engine, plan_in_db: Path, tmp_path: Path
) -> None:
    text = VALID_PLAN.replace("code: T3", "code: T1")
    output = refuse_text(cli, engine, tmp_path, text, "trung-ma.yaml")
    second = lines_with(text, "- code: T1")[-1]
    assert f"dòng {second} (tasks[2].code): mã 'T1' bị trùng" in output


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("    deadline: 31/03/2026\n", "    deadline: 31/03/2026\n    recurrence: weekly:fri\n"),
        ("    deadline: 31/03/2026\n", ""),
    ],
    ids=["both", "neither"],
)
def test_task_needs_exactly_one_of_deadline_and_recurrence(
    cli: Cli, engine: Engine, plan_in_db: Path, tmp_path: Path, old: str, new: str
) -> None:
    text = VALID_PLAN.replace(old, new)
    output = refuse_text(cli, engine, tmp_path, text, "lich.yaml")
    line = line_of(text, "- code: T2")
    assert f"dòng {line} (tasks[1]): mỗi nhiệm vụ cần đúng một trong hai" in output
    assert "deadline" in output and "recurrence" in output


def test_unknown_recurrence_is_refused_with_the_accepted_rules(
    cli: Cli, engine: Engine, plan_in_db: Path, tmp_path: Path
) -> None:
    text = VALID_PLAN.replace("recurrence: monthly:25", "recurrence: daily")
    output = refuse_text(cli, engine, tmp_path, text, "lap-lai.yaml")
    line = line_of(text, "recurrence: daily")
    assert f"dòng {line} (tasks[0].recurrence): lịch lặp 'daily' không hợp lệ" in output
    assert "weekly:fri, monthly:25, yearly:05/09" in output


@pytest.mark.parametrize(
    "text", ["- code: VP\n  name: Văn phòng\n", ""], ids=["top-level-list", "empty"]
)
def test_file_that_is_not_a_plan_mapping_is_refused(
    cli: Cli, engine: Engine, plan_in_db: Path, tmp_path: Path, text: str
) -> None:
    output = refuse_text(cli, engine, tmp_path, text, "sai-cau-truc.yaml")
    assert "dòng 1" in output
    assert "sai cấu trúc; tệp cần các mục school, units, kpis, tasks" in output


def test_missing_file_is_refused(
    cli: Cli, engine: Engine, plan_in_db: Path, tmp_path: Path
) -> None:
    output = refuse(cli, engine, tmp_path / "khong-co.yaml")
    assert "không tìm thấy tệp" in output


def test_unsupported_extension_is_refused(
    cli: Cli, engine: Engine, plan_in_db: Path, tmp_path: Path
) -> None:
    output = refuse_text(cli, engine, tmp_path, VALID_PLAN, "ke-hoach.txt")
    assert "chỉ nhận tệp .yaml, .yml, .json hoặc .xlsx" in output


def test_file_not_in_utf8_is_refused(
    cli: Cli, engine: Engine, plan_in_db: Path, tmp_path: Path
) -> None:
    path = tmp_path / "utf16.yaml"
    path.write_bytes(VALID_PLAN.encode("utf-16"))
    output = refuse(cli, engine, path)
    assert "không ở mã UTF-8; hãy lưu lại với mã UTF-8" in output


def test_reimport_with_one_bad_date_applies_none_of_its_changes(
    cli: Cli, engine: Engine, plan_in_db: Path, tmp_path: Path
) -> None:
    text = VALID_PLAN.replace("title: Báo cáo tháng", "title: Báo cáo tháng (sửa)").replace(
        "2026-05-25", "2026-02-30"
    )
    output = refuse_text(cli, engine, tmp_path, text, "sua-lai.yaml")
    assert f"dòng {line_of(text, '2026-02-30')} (tasks[2].deadline)" in output
    assert task_titles(engine)["T1"] == "Báo cáo tháng"


def test_the_same_change_without_the_bad_date_is_applied(
    cli: Cli, engine: Engine, plan_in_db: Path, tmp_path: Path
) -> None:
    text = VALID_PLAN.replace("title: Báo cáo tháng", "title: Báo cáo tháng (sửa)")
    result = cli("plan", "import", write(tmp_path, "sua-lai.yaml", text))
    assert "1 cập nhật" in result.output
    assert task_titles(engine)["T1"] == "Báo cáo tháng (sửa)"


@pytest.mark.parametrize(
    ("old", "new", "written", "similar", "model"),
    [
        ("deadline: 31/03/2026", "deadlin: 31/03/2026", "deadlin", "deadline", TaskIn),
        ("tasks:", "task:", "task", "tasks", PlanFile),
        ("    name: Văn phòng\n", "    Name: Văn phòng\n", "Name", "name", UnitIn),
        ("    year: 2026\n  - key: f", "    nam: 2026\n  - key: f", "nam", "year", KpiIn),
        (
            "  name: Trường Thử Nghiệm\n",
            "  name: Trường Thử Nghiệm\n  settings:\n    reminders: {before_day: [3]}\n",
            "before_day",
            "before_days",
            ReminderRules,
        ),
    ],
    ids=["task", "section", "unit", "kpi", "nested-setting"],
)
def test_unknown_field_names_the_fields_allowed_there_and_the_closest_one(
    cli: Cli,
    engine: Engine,
    plan_in_db: Path,
    tmp_path: Path,
    old: str,
    new: str,
    written: str,
    similar: str,
    model: type[BaseModel],
) -> None:
    text = VALID_PLAN.replace(old, new, 1)
    output = refuse_text(cli, engine, tmp_path, text, "muc-la.yaml")
    allowed = ", ".join(model.model_fields)
    line = line_of(text, f"{written}:")
    assert f"dòng {line} (" in output
    assert f": mục lạ '{written}'; có phải '{similar}'? Ở đây chỉ dùng được: {allowed}." in output
    assert "trường" not in output.replace("Trường Thử Nghiệm", "")


def test_unknown_field_unlike_any_allowed_one_asks_to_check_the_spelling(
    cli: Cli, engine: Engine, plan_in_db: Path, tmp_path: Path
) -> None:
    text = VALID_PLAN.replace("    unit: TCM\n", "    unit: TCM\n    ghi_chu: họp ngày 15\n")
    output = refuse_text(cli, engine, tmp_path, text, "ghi-chu.yaml")
    line = line_of(text, "ghi_chu:")
    assert (
        f"dòng {line} (tasks[1].ghi_chu): mục lạ 'ghi_chu'; kiểm tra chính tả. "
        f"Ở đây chỉ dùng được: {', '.join(TaskIn.model_fields)}."
    ) in output


@pytest.mark.parametrize(
    "written", ["Tổ chuyên môn", "tổ  CHUYÊN môn", "to chuyen mon", "tcm"], ids=str
)
def test_a_task_unit_may_be_the_units_code_or_name(
    cli: Cli, engine: Engine, plan_in_db: Path, tmp_path: Path, written: str
) -> None:
    text = VALID_PLAN.replace("unit: TCM", f"unit: {written}")
    before = snapshot(engine)
    result = cli("plan", "import", write(tmp_path, "ten-to.yaml", text))
    assert "3 nhiệm vụ: 0 mới, 0 cập nhật, 3 giữ nguyên" in result.output
    assert snapshot(engine) == before
    exported = yaml.safe_load(cli("plan", "export").output)
    assert [task["unit"] for task in exported["tasks"]] == ["VP", "TCM", "VP"]


def test_an_unknown_unit_name_is_refused_listing_codes_and_names(
    cli: Cli, engine: Engine, plan_in_db: Path, tmp_path: Path
) -> None:
    text = VALID_PLAN.replace("unit: TCM", "unit: Tổ Văn")
    output = refuse_text(cli, engine, tmp_path, text, "to-van.yaml")
    line = line_of(text, "unit: Tổ Văn")
    assert (
        f"dòng {line} (tasks[1].unit): không có tổ/bộ phận 'Tổ Văn' trong tệp; hãy ghi mã hoặc "
        "tên của một trong: VP (Văn phòng), TCM (Tổ chuyên môn)."
    ) in output
    assert "khoảng trắng" not in output


def test_a_unit_code_with_spaces_is_refused_suggesting_a_code(
    cli: Cli, engine: Engine, plan_in_db: Path, tmp_path: Path
) -> None:
    text = VALID_PLAN.replace(
        "  - code: TCM\n    name: Tổ chuyên môn\n", "  - code: Tổ Toán\n    name: Tổ Toán\n"
    ).replace("unit: TCM", "unit: Tổ Toán")
    output = refuse_text(cli, engine, tmp_path, text, "ma-to.yaml")
    line = line_of(text, "- code: Tổ Toán")
    assert output.splitlines()[1:] == [
        f"  - dòng {line} (units[1].code): mã tổ/bộ phận 'Tổ Toán' có khoảng trắng; hãy ghi mã "
        "liền, ví dụ TO_TOAN, và ghi tên đầy đủ vào tên tổ/bộ phận (name)."
    ]  # the task naming that unit is right: with the code fixed, it names the unit by its name


def test_a_kpi_year_may_be_the_school_year_that_ends_in_it(
    cli: Cli, engine: Engine, plan_in_db: Path, tmp_path: Path
) -> None:
    text = VALID_PLAN.replace("    year: 2026\n  - key: f", "    year: 2025-2026\n  - key: f")
    before = snapshot(engine)
    result = cli("plan", "import", write(tmp_path, "nam-hoc.yaml", text))
    assert "2 chỉ số: 0 mới, 0 cập nhật, 2 giữ nguyên" in result.output
    assert snapshot(engine) == before
    exported = yaml.safe_load(cli("plan", "export").output)
    assert [kpi["year"] for kpi in exported["kpis"]] == [2026, 2026]


@pytest.mark.parametrize("year", ["2026-2028", "năm 2027", "2026,5"])
def test_a_kpi_year_that_is_not_a_year_says_to_write_the_year_the_target_is_due(
    cli: Cli, engine: Engine, plan_in_db: Path, tmp_path: Path, year: str
) -> None:
    text = VALID_PLAN.replace("    year: 2026\n  - key: f", f'    year: "{year}"\n  - key: f')
    output = refuse_text(cli, engine, tmp_path, text, "nam-sai.yaml")
    line = line_of(text, f'year: "{year}"')
    assert (
        f"dòng {line} (kpis[0].year): năm '{year}' không hợp lệ; hãy ghi năm phải đạt mục tiêu, "
        "ví dụ 2027, hoặc năm học như 2026-2027 (tính là 2027, năm kết thúc năm học)."
    ) in output
    assert "0,5 hoặc 96" not in output


def test_every_problem_is_reported_at_once_in_the_files_order(
    cli: Cli, engine: Engine, plan_in_db: Path, tmp_path: Path
) -> None:
    text = (
        VALID_PLAN.replace("  - code: TCM\n", "  - code: VP\n")  # a duplicate unit code
        .replace("target: 0.5", "target: nửa")  # a schema error
        .replace("unit: TCM", "unit: THUVIEN")  # a unit the file does not have
        .replace("code: T3", "code: T1")  # a duplicate task code
        .replace("2026-05-25", "2026-02-30")  # a schema error
    )
    output = refuse_text(cli, engine, tmp_path, text, "nhieu-loi.yaml")
    problems = output.splitlines()[1:]
    assert [line.split(" (")[0] for line in problems] == [
        f"  - dòng {lines_with(text, '- code: VP')[1]}",
        f"  - dòng {line_of(text, 'target: nửa')}",
        f"  - dòng {line_of(text, 'unit: THUVIEN')}",
        f"  - dòng {lines_with(text, '- code: T1')[1]}",
        f"  - dòng {line_of(text, '2026-02-30')}",
    ]
    assert "mã 'VP' bị trùng" in problems[0]
    assert "mục tiêu 'nửa' không hợp lệ" in problems[1]
    assert "không có tổ/bộ phận 'THUVIEN'" in problems[2]
    assert "mã 'T1' bị trùng" in problems[3]
    assert "ngày '2026-02-30' không tồn tại" in problems[4]


# --- Excel ------------------------------------------------------------------------------------


def test_exported_workbook_imports_back_unchanged(
    cli: Cli, engine: Engine, exported_workbook: Path
) -> None:
    before = snapshot(engine)
    result = cli("plan", "import", exported_workbook)
    assert "3 nhiệm vụ: 0 mới, 0 cập nhật, 3 giữ nguyên" in result.output
    assert snapshot(engine) == before


def test_workbook_with_impossible_deadline_is_refused_at_its_cell(
    cli: Cli, engine: Engine, exported_workbook: Path, tmp_path: Path
) -> None:
    def bad_deadline(workbook: Workbook) -> None:
        sheet = workbook[TASKS_SHEET]
        sheet.cell(row_of(sheet, "T2"), column_of(sheet, "Hạn"), "31/02/2026")

    path = edit_workbook(exported_workbook, tmp_path / "han-sai.xlsx", bad_deadline)
    output = refuse(cli, engine, path)
    row = row_of(openpyxl.load_workbook(path)[TASKS_SHEET], "T2")
    assert f"trang 'Nhiệm vụ', dòng {row}, cột 'Hạn'" in output
    assert "ngày '31/02/2026' không tồn tại" in output
    assert "dd/mm/yyyy" in output


def test_workbook_with_unknown_unit_is_refused_at_its_cell(
    cli: Cli, engine: Engine, exported_workbook: Path, tmp_path: Path
) -> None:
    def bad_unit(workbook: Workbook) -> None:
        sheet = workbook[TASKS_SHEET]
        sheet.cell(row_of(sheet, "T3"), column_of(sheet, "Tổ/bộ phận"), "THUVIEN")

    path = edit_workbook(exported_workbook, tmp_path / "to-la.xlsx", bad_unit)
    output = refuse(cli, engine, path)
    row = row_of(openpyxl.load_workbook(path)[TASKS_SHEET], "T3")
    assert f"trang 'Nhiệm vụ', dòng {row}, cột 'Tổ/bộ phận'" in output
    assert "'THUVIEN'" in output
    assert "mã hoặc tên của một trong: VP (Văn phòng), TCM (Tổ chuyên môn)" in output


def test_workbook_without_school_sheet_is_refused(
    cli: Cli, engine: Engine, exported_workbook: Path, tmp_path: Path
) -> None:
    path = edit_workbook(
        exported_workbook, tmp_path / "thieu-trang.xlsx", lambda wb: wb.remove(wb["Trường"])
    )
    output = refuse(cli, engine, path)
    assert "thiếu trang 'Trường'" in output
    assert "dondoc plan template" in output


def test_workbook_with_unknown_column_is_refused(
    cli: Cli, engine: Engine, exported_workbook: Path, tmp_path: Path
) -> None:
    def extra_column(workbook: Workbook) -> None:
        sheet = workbook[TASKS_SHEET]
        sheet.cell(1, sheet.max_column + 1, "Ghi chú")

    path = edit_workbook(exported_workbook, tmp_path / "cot-la.xlsx", extra_column)
    output = refuse(cli, engine, path)
    assert "trang 'Nhiệm vụ' có cột lạ 'Ghi chú'" in output
    assert "tiêu đề cột của mẫu" in output


def test_workbook_with_a_misspelt_column_is_refused_suggesting_the_right_one(
    cli: Cli, engine: Engine, exported_workbook: Path, tmp_path: Path
) -> None:
    headers = [cell.value for cell in openpyxl.load_workbook(exported_workbook)[TASKS_SHEET][1]]

    def misspelt(workbook: Workbook) -> None:
        sheet = workbook[TASKS_SHEET]
        sheet.cell(1, column_of(sheet, "Lặp lại"), "Lặp lai")

    output = refuse(cli, engine, edit_workbook(exported_workbook, tmp_path / "cot.xlsx", misspelt))
    assert (
        "trang 'Nhiệm vụ' có cột lạ 'Lặp lai'; có phải 'Lặp lại'? "
        f"Hãy dùng đúng tiêu đề cột của mẫu: {', '.join(headers)}."
    ) in output


def test_workbook_problems_are_reported_at_once_in_row_order(
    cli: Cli, engine: Engine, exported_workbook: Path, tmp_path: Path
) -> None:
    def problems(workbook: Workbook) -> None:
        sheet = workbook[TASKS_SHEET]
        sheet.cell(row_of(sheet, "T3"), column_of(sheet, "Hạn"), "31/02/2026")
        sheet.cell(row_of(sheet, "T1"), column_of(sheet, "Tổ/bộ phận"), "Văn phòng")  # a name
        sheet.cell(row_of(sheet, "T2"), column_of(sheet, "Tổ/bộ phận"), "Thư viện")
        sheet.cell(row_of(sheet, "T2"), 1, "T1")

    path = edit_workbook(exported_workbook, tmp_path / "nhieu-loi.xlsx", problems)
    output = refuse(cli, engine, path)
    rows = openpyxl.load_workbook(exported_workbook)[TASKS_SHEET]
    second, third = row_of(rows, "T2"), row_of(rows, "T3")
    assert output.splitlines()[1:] == [
        f"  - trang 'Nhiệm vụ', dòng {second}, cột 'Mã': mã 'T1' bị trùng; mỗi mã chỉ được dùng "
        "một lần.",
        f"  - trang 'Nhiệm vụ', dòng {second}, cột 'Tổ/bộ phận': không có tổ/bộ phận 'Thư viện' "
        "trong tệp; hãy ghi mã hoặc tên của một trong: VP (Văn phòng), TCM (Tổ chuyên môn).",
        f"  - trang 'Nhiệm vụ', dòng {third}, cột 'Hạn': ngày '31/02/2026' không tồn tại; hãy ghi "
        "một ngày có thật dạng dd/mm/yyyy.",
    ]


def test_workbook_kpi_wording_is_read_and_checked_at_its_cell(
    cli: Cli, engine: Engine, exported_workbook: Path, tmp_path: Path
) -> None:
    def wording(text: str) -> Callable[[Workbook], None]:
        def change(workbook: Workbook) -> None:
            sheet = workbook["Chỉ số"]
            sheet.cell(
                row_of(sheet, "dropout"), column_of(sheet, "Mục tiêu theo lời kế hoạch"), text
            )

        return change

    path = edit_workbook(exported_workbook, tmp_path / "loi-dai.xlsx", wording("x" * 101))
    output = refuse(cli, engine, path)
    row = row_of(openpyxl.load_workbook(path)["Chỉ số"], "dropout")
    assert f"trang 'Chỉ số', dòng {row}, cột 'Mục tiêu theo lời kế hoạch': dài quá 100" in output

    path = edit_workbook(exported_workbook, tmp_path / "loi.xlsx", wording("dưới 0,5%"))
    assert "1 cập nhật" in cli("plan", "import", path).output
    with Session(engine) as session:
        dropout = session.exec(select(Kpi).where(Kpi.key == "dropout")).one()
    assert dropout.target_text == "dưới 0,5%"


def test_corrupt_workbook_is_refused(
    cli: Cli, engine: Engine, plan_in_db: Path, tmp_path: Path
) -> None:
    path = tmp_path / "hong.xlsx"
    path.write_bytes(random.Random(71).randbytes(4096))
    output = refuse(cli, engine, path)
    assert "không mở được tệp Excel; hãy lưu lại dạng .xlsx" in output


def test_filled_template_imports(cli: Cli, engine: Engine, tmp_path: Path) -> None:
    template = tmp_path / "mau.xlsx"
    cli("plan", "template", "--out", template)

    def fill(workbook: Workbook) -> None:
        workbook["Trường"].append(["MAU-1", "Trường Mẫu"])
        workbook["Tổ - bộ phận"].append(["VP", "Văn phòng"])
        workbook[TASKS_SHEET].append(["A.1", "Nộp báo cáo", None, None, "VP", "30/06/2026"])

    filled = edit_workbook(template, tmp_path / "da-dien.xlsx", fill)
    result = cli("plan", "import", filled)
    assert result.output.splitlines()[1:] == [
        "  - 1 tổ/bộ phận: 1 mới, 0 cập nhật, 0 giữ nguyên",
        "  - chỉ số: không có",
        "  - 1 nhiệm vụ: 1 mới, 0 cập nhật, 0 giữ nguyên",
    ]
    with Session(engine) as session:
        school = session.exec(select(School)).one()
        unit = session.exec(select(Unit)).one()
        task = session.exec(select(Task)).one()
    assert (school.code, school.name, school.timezone) == (
        "MAU-1",
        "Trường Mẫu",
        "Asia/Ho_Chi_Minh",
    )
    assert (unit.school_id, unit.code, unit.name) == (school.id, "VP", "Văn phòng")
    assert (task.code, task.title, task.unit_id) == ("A.1", "Nộp báo cáo", unit.id)
    assert (task.deadline, task.recurrence) == (date(2026, 6, 30), None)


# --- assignees --------------------------------------------------------------------------------

STAFF = """\
name,unit,role,phone
Trần Văn An,VP,Hiệu trưởng,0912000001
Lê Thị Hoa,VP,Giáo viên,0912000002
Lê Thị Hòa,TCM,Giáo viên,0912000003
Nguyễn Thị Lan,VP,Giáo viên,0912000004
Nguyễn Thị Lan,TCM,Giáo viên,0912000005
"""


def with_assignees(code: str, *people: str) -> str:
    """VALID_PLAN with a block list of `people` under task `code`."""
    start = VALID_PLAN.index(f"- code: {code}\n")
    end = VALID_PLAN.find("  - code:", start + 1)
    end = len(VALID_PLAN) if end == -1 else end
    block = "    assignees:\n" + "".join(f"      - {person}\n" for person in people)
    return VALID_PLAN[:end] + block + VALID_PLAN[end:]


@pytest.fixture
def staff(cli: Cli, plan_in_db: Path, tmp_path: Path) -> None:
    cli("people", "import", write(tmp_path, "can-bo.csv", STAFF))


def test_assignees_of_the_tasks_unit_or_the_leadership_are_accepted(
    cli: Cli, engine: Engine, staff: None, tmp_path: Path
) -> None:
    text = with_assignees("T2", "Lê Thị Hòa", "0912000001")
    result = cli("plan", "import", write(tmp_path, "giao.yaml", text))
    assert "1 cập nhật" in result.output


def test_an_unknown_name_is_refused_at_its_line(
    cli: Cli, engine: Engine, staff: None, tmp_path: Path
) -> None:
    text = with_assignees("T2", "Lê Thị Hòa", "Lê Thị Hương")
    output = refuse_text(cli, engine, tmp_path, text, "nguoi-la.yaml")
    line = line_of(text, "- Lê Thị Hương")
    assert f"dòng {line} (tasks[1].assignees[1]): không có ai tên 'Lê Thị Hương'" in output
    assert "ghi đúng họ tên như trong danh sách cán bộ hoặc số điện thoại" in output
    assert "dondoc people import" in output
    assert "Lê Thị Hòa" not in output


def test_diacritics_tell_people_apart_so_the_wrong_one_is_refused(
    cli: Cli, engine: Engine, staff: None, tmp_path: Path
) -> None:
    text = with_assignees("T2", "Lê Thị Hoa")  # Lê Thị Hòa is in TCM; Lê Thị Hoa is not
    output = refuse_text(cli, engine, tmp_path, text, "sai-dau.yaml")
    line = line_of(text, "- Lê Thị Hoa")
    assert f"dòng {line} (tasks[1].assignees[0]): Lê Thị Hoa không thuộc Tổ chuyên môn" in output
    assert "cũng không thuộc ban giám hiệu" in output


def test_a_name_shared_by_several_people_asks_for_the_phone(
    cli: Cli, engine: Engine, staff: None, tmp_path: Path
) -> None:
    text = with_assignees("T1", "Nguyễn Thị Lan")
    output = refuse_text(cli, engine, tmp_path, text, "trung-ten.yaml")
    line = line_of(text, "- Nguyễn Thị Lan")
    assert f"dòng {line} (tasks[0].assignees[0]): có 2 người tên 'Nguyễn Thị Lan'" in output
    assert "hãy ghi số điện thoại của người cần giao thay cho tên" in output


def test_an_unknown_phone_is_refused(cli: Cli, engine: Engine, staff: None, tmp_path: Path) -> None:
    output = refuse_text(cli, engine, tmp_path, with_assignees("T1", "0999 999 999"), "so.yaml")
    assert "không có ai số điện thoại 0999999999" in output


def test_assignees_before_any_staff_list_say_to_import_it_first(
    cli: Cli, engine: Engine, plan_in_db: Path, tmp_path: Path
) -> None:
    output = refuse_text(cli, engine, tmp_path, with_assignees("T1", "Trần Văn An"), "som.yaml")
    assert "trường chưa có danh sách cán bộ" in output
    assert "dondoc people import" in output


def test_json_assignees_are_refused_at_their_line(
    cli: Cli, engine: Engine, staff: None, tmp_path: Path
) -> None:
    data = yaml.safe_load(VALID_PLAN)
    data["tasks"][2]["assignees"] = ["Trần Văn An", "Ngô Văn Tư"]
    text = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    output = refuse_text(cli, engine, tmp_path, text, "ke-hoach.json")
    line = line_of(text, "Ngô Văn Tư")
    assert f"dòng {line} (tasks[2].assignees[1]): không có ai tên 'Ngô Văn Tư'" in output


def test_bad_assignees_with_a_good_change_apply_neither(
    cli: Cli, engine: Engine, staff: None, tmp_path: Path
) -> None:
    text = with_assignees("T1", "Trần Văn An", "Người Lạ").replace(
        "title: Báo cáo tháng", "title: Báo cáo tháng (sửa)"
    )
    refuse_text(cli, engine, tmp_path, text, "mot-nua.yaml")
    assert task_titles(engine)["T1"] == "Báo cáo tháng"


def test_workbook_with_an_unknown_assignee_is_refused_at_its_cell(
    cli: Cli, engine: Engine, staff: None, exported_workbook: Path, tmp_path: Path
) -> None:
    def bad_person(workbook: Workbook) -> None:
        sheet = workbook[TASKS_SHEET]
        column = column_of(sheet, "Người thực hiện")
        sheet.cell(row_of(sheet, "T2"), column, "Lê Thị Hòa; Lê Thị Hương")

    path = edit_workbook(exported_workbook, tmp_path / "nguoi-la.xlsx", bad_person)
    output = refuse(cli, engine, path)
    row = row_of(openpyxl.load_workbook(path)[TASKS_SHEET], "T2")
    where = f"trang 'Nhiệm vụ', dòng {row}, cột 'Người thực hiện'"
    assert f"{where}: không có ai tên 'Lê Thị Hương'" in output
