"""Import is idempotent and keeps history; every export format gives back the import schema."""

import json
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest
import yaml
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from data import DEFAULT_PLAN
from models import ProgressUpdate, Task, TaskStatus, UpdateSource
from services.plan_files import read_plan
from tests.conftest import Cli
from tests.db_state import row_counts, snapshot
from tests.test_assign import assigned, import_staff, told


def test_importing_twice_gives_the_same_row_counts(cli, engine: Engine) -> None:
    first = cli("plan", "import")
    counts = row_counts(engine)
    second = cli("plan", "import")
    assert row_counts(engine) == counts
    assert counts["task"] == 42 and counts["kpi"] == 18 and counts["unit"] == 7
    units, kpis, tasks = counts["unit"], counts["kpi"], counts["task"]
    assert first.output.splitlines() == [
        "Đã nhập kế hoạch của Trường THCS Thị Trấn 2 (trường mới):",
        f"  - {units} tổ/bộ phận: {units} mới, 0 cập nhật, 0 giữ nguyên",
        f"  - {kpis} chỉ số: {kpis} mới, 0 cập nhật, 0 giữ nguyên",
        f"  - {tasks} nhiệm vụ: {tasks} mới, 0 cập nhật, 0 giữ nguyên",
    ]
    assert second.output.splitlines() == [
        "Đã nhập kế hoạch của Trường THCS Thị Trấn 2 (thông tin trường giữ nguyên):",
        f"  - {units} tổ/bộ phận: 0 mới, 0 cập nhật, {units} giữ nguyên",
        f"  - {kpis} chỉ số: 0 mới, 0 cập nhật, {kpis} giữ nguyên",
        f"  - {tasks} nhiệm vụ: 0 mới, 0 cập nhật, {tasks} giữ nguyên",
    ]


def test_reimport_updates_by_code_and_keeps_progress_history(
    cli, engine: Engine, session: Session, tmp_path: Path
) -> None:
    cli("plan", "import")
    task = session.exec(select(Task).where(Task.code == "III.4.2")).one()
    task.progress, task.status = 60, TaskStatus.IN_PROGRESS
    session.add(
        ProgressUpdate(
            task_id=task.id,
            percent=60,
            status=TaskStatus.IN_PROGRESS,
            note="đã số hoá khối 6",
            source=UpdateSource.COMMAND,
            created_at=datetime(2026, 11, 20, 2, 0, tzinfo=UTC),
        )
    )
    session.commit()

    data = yaml.safe_load(DEFAULT_PLAN.read_text(encoding="utf-8"))
    edited = next(t for t in data["tasks"] if t["code"] == "III.4.2")
    edited["title"] = "Số hoá hồ sơ; ít nhất 90% dịch vụ công trực tuyến"
    edited["code"] = "iii.4.2"  # codes match case-insensitively
    changed_file = tmp_path / "plan.yaml"
    changed_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = cli("plan", "import", changed_file)

    assert "1 cập nhật" in result.output
    session.expire_all()
    task = session.exec(select(Task).where(Task.code == "III.4.2")).one()
    assert task.title == "Số hoá hồ sơ; ít nhất 90% dịch vụ công trực tuyến"
    assert (task.progress, task.status) == (60, TaskStatus.IN_PROGRESS)
    history = session.exec(select(ProgressUpdate).where(ProgressUpdate.task_id == task.id)).all()
    assert [update.note for update in history] == ["đã số hoá khối 6"]
    assert row_counts(engine)["task"] == 42


def test_yaml_and_json_exports_have_the_import_schema(cli, tmp_path: Path) -> None:
    cli("plan", "import")
    exported_yaml = yaml.safe_load(cli("plan", "export", "--format", "yaml").output)
    exported_json = json.loads(cli("plan", "export", "--format", "json").output)
    assert exported_yaml == exported_json
    assert list(exported_json) == ["school", "units", "kpis", "tasks", "holidays"]
    assert {"code", "name"} <= set(exported_json["units"][0])
    assert all(
        {"key", "name", "direction", "target", "year"} <= set(k) for k in exported_json["kpis"]
    )
    for task in exported_json["tasks"]:
        assert {"code", "title", "unit"} <= set(task)
        assert ("deadline" in task) != ("recurrence" in task)
    dropout = next(k for k in exported_json["kpis"] if k["key"] == "dropout")
    assert (dropout["direction"], dropout["target"], dropout["year"]) == ("<=", 0.5, 2026)
    assert "target_text" not in dropout  # worded by the rule: không quá 0,5%
    pcgd = next(k for k in exported_json["kpis"] if k["key"] == "pcgd")
    assert pcgd["target_text"] == "duy trì mức độ 3"

    again = tmp_path / "again.json"
    again.write_text(json.dumps(exported_json, ensure_ascii=False), encoding="utf-8")
    assert read_plan(again) == read_plan(DEFAULT_PLAN)


def test_the_xlsx_export_round_trips(cli, engine: Engine, tmp_path: Path) -> None:
    cli("plan", "import")
    workbook_path = tmp_path / "plan.xlsx"
    cli("plan", "export", "--format", "xlsx", "--out", workbook_path)

    workbook = openpyxl.load_workbook(workbook_path)
    assert workbook.sheetnames == [
        "Trường", "Tổ - bộ phận", "Chỉ số", "Nhiệm vụ", "Ngày nghỉ", "Cài đặt", "Hướng dẫn"
    ]  # fmt: skip
    tasks = workbook["Nhiệm vụ"]
    assert [cell.value for cell in tasks[1]] == [
        "Mã", "Nhiệm vụ", "Mô tả", "Mục", "Tổ/bộ phận", "Hạn", "Lặp lại", "Nguồn của hạn",
        "Người thực hiện", "Trạng thái", "Tiến độ (%)", "Ngày hoàn thành", "Nhắc trước (ngày)",
        "Giờ nhắc", "Nhắc lại khi quá hạn (ngày)", "Báo BGH khi quá hạn (ngày)", "Phối hợp",
        "Vai trò phụ trách",
    ]  # fmt: skip
    assert tasks.freeze_panes == "A2"
    kpis = workbook["Chỉ số"]
    assert [cell.value for cell in kpis[1]] == [
        "Mã chỉ số", "Chỉ số", "Đơn vị tính", "Chiều", "Mục tiêu", "Mục tiêu theo lời kế hoạch",
        "Năm", "Mục",
    ]  # fmt: skip
    assert [row[5] for row in kpis.iter_rows(min_row=2, values_only=True) if row[0] == "pcgd"] == [
        "duy trì mức độ 3", "giữ chuẩn mức độ 3"
    ]  # fmt: skip
    assert tasks.max_row == 43
    assert read_plan(workbook_path) == read_plan(DEFAULT_PLAN)

    counts = row_counts(engine)
    cli("plan", "import", workbook_path)
    assert row_counts(engine) == counts


def test_xlsx_export_needs_an_output_file(cli) -> None:
    cli("plan", "import")
    result = cli("plan", "export", "--format", "xlsx", expect=2)
    assert "--out" in result.output


def test_several_schools_need_the_school_option(cli, tmp_path: Path) -> None:
    cli("plan", "import")
    other = tmp_path / "other.yaml"
    other.write_text(
        "school: {code: THCS-B, name: Trường THCS B}\n"
        "units: [{code: VP, name: Văn phòng}]\n"
        "tasks: [{code: T.1, title: Báo cáo, unit: VP, deadline: 31/12/2026}]\n",
        encoding="utf-8",
    )
    cli("plan", "import", other)
    refused = cli("plan", "export", expect=2)
    assert (
        "--school" in refused.output and "THCS-B" in refused.output and "THCS-TT2" in refused.output
    )
    exported = yaml.safe_load(cli("plan", "export", "--school", "thcs-b").output)
    assert exported["school"]["code"] == "THCS-B"
    assert [task["code"] for task in exported["tasks"]] == ["T.1"]
    mismatch = cli("plan", "import", other, "--school", "THCS-TT2", expect=2)
    assert "THCS-B" in mismatch.output


def test_nul_characters_are_dropped_on_every_database(cli, tmp_path: Path) -> None:
    plan = tmp_path / "nul.yaml"
    plan.write_text('school: {code: "N\\0X", name: "A\\0B"}\nunits: [{code: VP, name: "V\\0P"}]\n')
    people = tmp_path / "nul.csv"
    people.write_text("name,unit,role,phone\nLê\0 Hoa,VP,staff,\n", encoding="utf-8")
    cli("plan", "import", plan)
    cli("people", "import", people)
    exported = yaml.safe_load(cli("plan", "export").output)
    assert (exported["school"]["code"], exported["school"]["name"]) == ("NX", "AB")
    assert exported["units"] == [{"code": "VP", "name": "VP"}]


# --- assignees --------------------------------------------------------------------------------


def plan_with(folder: Path, assignees: dict[str, object], name: str = "ke-hoach.yaml") -> Path:
    """The default plan with `assignees` written on the tasks named by code."""
    data = yaml.safe_load(DEFAULT_PLAN.read_text(encoding="utf-8"))
    for task in data["tasks"]:
        if task["code"] in assignees:
            task["assignees"] = assignees[task["code"]]
    path = folder / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def staffed(cli: Cli, tmp_path: Path) -> None:
    cli("plan", "import")
    import_staff(cli, tmp_path)


def test_assignees_are_the_people_named_or_phoned_in_the_file(
    cli: Cli, engine: Engine, staffed: None, tmp_path: Path
) -> None:
    path = plan_with(
        tmp_path, {"III.4.2": ["trần thị  MAI", "+84 912 000 010"], "III.3.4": ["Nguyễn Văn Hiếu"]}
    )
    result = cli("plan", "import", path)
    tasks = row_counts(engine)["task"]
    assert f"{tasks} nhiệm vụ: 0 mới, 2 cập nhật, {tasks - 2} giữ nguyên" in result.output
    assert assigned(engine, "III.4.2") == ["Trần Thị Mai", "Lê Văn Nam"]
    assert assigned(engine, "III.3.4") == ["Nguyễn Văn Hiếu"]
    assert told(engine) == [  # in the file's order
        ("III.3.4", "Nguyễn Văn Hiếu"),
        ("III.4.2", "Trần Thị Mai"),
        ("III.4.2", "Lê Văn Nam"),
    ]


def test_importing_the_same_assignees_again_changes_nothing_and_tells_nobody_twice(
    cli: Cli, engine: Engine, staffed: None, tmp_path: Path
) -> None:
    path = plan_with(tmp_path, {"III.4.2": ["Trần Thị Mai", "Lê Văn Nam"]})
    cli("plan", "import", path)
    before = snapshot(engine)
    result = cli("plan", "import", path)
    tasks = row_counts(engine)["task"]
    assert f"{tasks} nhiệm vụ: 0 mới, 0 cập nhật, {tasks} giữ nguyên" in result.output
    assert snapshot(engine) == before
    assert len(told(engine)) == 2


def test_the_file_makes_the_list_exact_unless_it_says_nothing(
    cli: Cli, engine: Engine, staffed: None, tmp_path: Path
) -> None:
    cli("assign", "III.4.2", "Lê Thị Hoa")  # as the chat would
    cli("plan", "import", plan_with(tmp_path, {"III.4.2": ["Trần Thị Mai"]}))
    assert assigned(engine, "III.4.2") == ["Trần Thị Mai"]

    unsaid = cli("plan", "import")
    assert "0 cập nhật" in unsaid.output
    assert assigned(engine, "III.4.2") == ["Trần Thị Mai"]

    cleared = cli("plan", "import", plan_with(tmp_path, {"III.4.2": []}))
    assert "1 cập nhật" in cleared.output
    assert assigned(engine, "III.4.2") == []
    assert told(engine) == [("III.4.2", "Lê Thị Hoa"), ("III.4.2", "Trần Thị Mai")]


def test_every_export_writes_assignees_by_name_and_imports_back_unchanged(
    cli: Cli, engine: Engine, staffed: None, tmp_path: Path
) -> None:
    cli("plan", "import", plan_with(tmp_path, {"III.4.2": ["Trần Thị Mai", "0912000010"]}))
    exported = yaml.safe_load(cli("plan", "export").output)
    tasks = {task["code"]: task for task in exported["tasks"]}
    assert tasks["III.4.2"]["assignees"] == ["Trần Thị Mai", "Lê Văn Nam"]
    assert "assignees" not in tasks["III.4.4"]
    assert json.loads(cli("plan", "export", "--format", "json").output) == exported

    workbook_path = tmp_path / "plan.xlsx"
    cli("plan", "export", "--format", "xlsx", "--out", workbook_path)
    sheet = openpyxl.load_workbook(workbook_path)["Nhiệm vụ"]
    rows = {row[0]: row[8] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows["III.4.2"] == "Trần Thị Mai; Lê Văn Nam"
    assert rows["III.4.4"] is None

    before = snapshot(engine)
    for fmt in ("yaml", "json"):
        path = tmp_path / f"again.{fmt}"
        cli("plan", "export", "--format", fmt, "--out", path)
        assert "0 cập nhật" in cli("plan", "import", path).output
    assert "0 cập nhật" in cli("plan", "import", workbook_path).output
    assert snapshot(engine) == before


def test_a_namesake_is_exported_by_phone_so_the_export_imports_back(
    cli: Cli, engine: Engine, staffed: None, tmp_path: Path
) -> None:
    cli("assign", "III.3.4", "Đỗ Văn Bình", "0912000014")
    exported = yaml.safe_load(cli("plan", "export").output)
    (task,) = [task for task in exported["tasks"] if task["code"] == "III.3.4"]
    assert task["assignees"] == ["Đỗ Văn Bình", "0912000014"]
    path = tmp_path / "again.yaml"
    cli("plan", "export", "--out", path)
    before = snapshot(engine)
    cli("plan", "import", path)
    assert snapshot(engine) == before


def test_an_excel_cell_lists_people_separated_by_semicolons_commas_or_new_lines(
    cli: Cli, engine: Engine, staffed: None, tmp_path: Path
) -> None:
    path = tmp_path / "plan.xlsx"
    cli("plan", "export", "--format", "xlsx", "--out", path)
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["Nhiệm vụ"]
    sheet.cell(1, 9, "Assignees")  # the English header works too
    row = next(cells for cells in sheet.iter_rows(min_row=2) if cells[0].value == "III.4.2")
    row[8].value = "Trần Thị Mai,\n0912000010 ;Lê Thị Hoa"
    workbook.save(path)
    cli("plan", "import", path)
    assert assigned(engine, "III.4.2") == ["Trần Thị Mai", "Lê Văn Nam", "Lê Thị Hoa"]

    row[8].value = None  # an empty cell says nothing: the assignees stay
    workbook.save(path)
    cli("plan", "import", path)
    assert assigned(engine, "III.4.2") == ["Trần Thị Mai", "Lê Văn Nam", "Lê Thị Hoa"]

    row[8].value = "-"  # a dash: nobody
    workbook.save(path)
    cli("plan", "import", path)
    assert assigned(engine, "III.4.2") == []


def test_the_template_has_the_assignees_column_and_explains_it(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "mau.xlsx"
    cli("plan", "template", "--out", path)
    workbook = openpyxl.load_workbook(path)
    assert [cell.value for cell in workbook["Nhiệm vụ"][1]][8] == "Người thực hiện"
    guide = "\n".join(str(row[0]) for row in workbook["Hướng dẫn"].iter_rows(values_only=True))
    assert "Người thực hiện: họ tên như trong danh sách cán bộ hoặc số điện thoại" in guide
