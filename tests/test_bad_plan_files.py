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
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models import Kpi, School, Task, Unit
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
    assert f"dòng {line} (tasks[1].title): thiếu trường bắt buộc 'title'" in output


def test_task_with_unknown_unit_is_refused_listing_the_known_units(
    cli: Cli, engine: Engine, plan_in_db: Path, tmp_path: Path
) -> None:
    text = VALID_PLAN.replace("unit: TCM", "unit: THUVIEN")
    output = refuse_text(cli, engine, tmp_path, text, "to-la.yaml")
    line = line_of(text, "unit: THUVIEN")
    assert f"dòng {line} (tasks[1].unit)" in output
    assert "'THUVIEN'" in output
    assert "một trong: VP, TCM" in output


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
    assert f"dòng {line} (kpis[0].target): thiếu trường bắt buộc 'target'" in output


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


# --- Excel ------------------------------------------------------------------------------------


def test_exported_workbook_imports_back_unchanged(
    cli: Cli, engine: Engine, exported_workbook: Path
) -> None:
    before = snapshot(engine)
    result = cli("plan", "import", exported_workbook)
    assert "0 mới, 0 cập nhật" in result.output
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
    assert "một trong: VP, TCM" in output


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
    assert "1 tổ/bộ phận, 0 chỉ số, 1 nhiệm vụ" in result.output
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
