"""Import is idempotent and keeps history; every export format gives back the import schema."""

import json
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import yaml
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from data import DEFAULT_PLAN
from models import ProgressUpdate, Task, TaskStatus, UpdateSource
from services.plan_files import read_plan
from tests.db_state import row_counts


def test_importing_twice_gives_the_same_row_counts(cli, engine: Engine) -> None:
    first = cli("plan", "import")
    counts = row_counts(engine)
    second = cli("plan", "import")
    assert row_counts(engine) == counts
    assert counts["task"] == 38 and counts["kpi"] == 18 and counts["unit"] == 7
    assert "64 mới" in first.output  # 1 school + 7 units + 18 KPIs + 38 tasks
    assert "0 mới, 0 cập nhật, 64 giữ nguyên" in second.output


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
    assert row_counts(engine)["task"] == 38


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

    again = tmp_path / "again.json"
    again.write_text(json.dumps(exported_json, ensure_ascii=False), encoding="utf-8")
    assert read_plan(again) == read_plan(DEFAULT_PLAN)


def test_the_xlsx_export_round_trips(cli, engine: Engine, tmp_path: Path) -> None:
    cli("plan", "import")
    workbook_path = tmp_path / "plan.xlsx"
    cli("plan", "export", "--format", "xlsx", "--out", workbook_path)

    workbook = openpyxl.load_workbook(workbook_path)
    assert workbook.sheetnames == [
        "Trường", "Tổ - bộ phận", "Chỉ số", "Nhiệm vụ", "Ngày nghỉ", "Hướng dẫn"
    ]  # fmt: skip
    tasks = workbook["Nhiệm vụ"]
    assert [cell.value for cell in tasks[1]] == [
        "Mã", "Nhiệm vụ", "Mô tả", "Mục", "Tổ/bộ phận", "Hạn", "Lặp lại"
    ]  # fmt: skip
    assert tasks.freeze_panes == "A2"
    assert tasks.max_row == 39
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
