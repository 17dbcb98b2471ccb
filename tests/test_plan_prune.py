"""Issue 9: a task or unit a re-imported file leaves out is reported, or archived with --prune;
never silently kept, never deleted with its history; a file that lists it again restores it."""

from datetime import datetime
from pathlib import Path

import pytest
import yaml
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from handlers.chat import Incoming
from handlers.context import ChatConfig, Context
from handlers.tasks import show_tasks
from models import (
    Channel,
    Member,
    ProgressUpdate,
    Reminder,
    School,
    Task,
    TaskStatus,
    Unit,
    UpdateSource,
)
from models.db import session_scope
from services.digest import compile_digest
from services.overview import render_overview
from services.people import import_people
from services.permissions import load_actor
from services.plan_files import read_plan
from services.plan_schema import PlanFile
from services.plan_store import ImportSummary, export_plan, import_plan
from services.progress import record_progress
from services.reminders import CalendarDefaults, plan_all
from tests.conftest import Cli
from tests.reminder_school import local

PLAN = {
    "school": {"code": "BOT", "name": "Trường Bỏ Bớt"},
    "units": [
        {"code": "VP", "name": "Văn phòng"},
        {"code": "TCM", "name": "Tổ chuyên môn"},
        {"code": "BGH", "name": "Ban giám hiệu"},
    ],
    "tasks": [
        {"code": "T.7", "title": "Rà soát hồ sơ", "unit": "VP", "deadline": "07/12/2026"},
        {"code": "T.10", "title": "Kiểm kê thiết bị", "unit": "VP", "deadline": "10/12/2026"},
        {"code": "T.TCM", "title": "Chuyên đề STEM", "unit": "TCM", "deadline": "09/12/2026"},
    ],
}
PEOPLE = """name,unit,role,phone
Hiệu Trưởng,BGH,principal,0900000001
Trưởng Văn Phòng,VP,unit_head,0900000003
Tổ Trưởng,TCM,unit_head,0900000005
"""


def plan_without(*codes: str) -> dict:
    """The plan without the tasks (and units) of those codes."""
    return {
        **PLAN,
        "units": [unit for unit in PLAN["units"] if unit["code"] not in codes],
        "tasks": [task for task in PLAN["tasks"] if task["code"] not in codes],
    }


def write(tmp_path: Path, data: dict, name: str = "plan.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def reimport(
    engine: Engine, tmp_path: Path, data: dict, at: datetime, *, prune: bool = False
) -> ImportSummary:
    with session_scope(engine) as session:
        return import_plan(session, read_plan(write(tmp_path, data)), now=at, prune=prune)


@pytest.fixture
def school(engine: Engine, tmp_path: Path) -> Engine:
    """The plan imported on Monday 30/11/2026 with its people; a report on T.7 on Tuesday."""
    reimport(engine, tmp_path, PLAN, local(30, 0, month=11))
    people = tmp_path / "people.csv"
    people.write_text(PEOPLE, encoding="utf-8")
    with session_scope(engine) as session:
        import_people(session, session.exec(select(School)).one(), people)
        task = session.exec(select(Task).where(Task.code == "T.7")).one()
        head = session.exec(select(Member).where(Member.name == "Trưởng Văn Phòng")).one()
        record_progress(
            session, task, head, source=UpdateSource.COMMAND, now=local(1, 9),
            status=TaskStatus.IN_PROGRESS, percent=40, note="đã rà soát khối 6",
        )  # fmt: skip
    return engine


def reminded(engine: Engine, now: datetime) -> set[str]:
    """The task codes the planner writes reminders for at `now`."""
    with session_scope(engine) as session:
        rows = plan_all(session, now, CalendarDefaults())
        return {session.get(Task, row.task_id).code for row in rows if row.task_id}


def viec(engine: Engine, args: str = "", name: str = "Trưởng Văn Phòng") -> str:
    """What /viec [args] answers the member."""
    with Session(engine) as session:
        member = session.exec(select(Member).where(Member.name == name)).one()
        ctx = Context(
            session=session,
            now=local(8, 9),
            config=ChatConfig(evidence_dir=Path("/nonexistent/evidence")),
            incoming=Incoming(Channel.TELEGRAM, "1", "1", text=f"/viec {args}"),
            member=member,
            actor=load_actor(session, member),
            school=session.get(School, member.school_id),
        )
        show_tasks(ctx, args)
        return "\n".join(str(reply.text) for reply in ctx.outcome.replies)


def digest_codes(engine: Engine, start: datetime, end: datetime) -> list[str]:
    with Session(engine) as session:
        school = session.exec(select(School)).one()
        return [item.code for item in compile_digest(session, school, start=start, end=end).tasks]


def task_row(engine: Engine, code: str) -> Task:
    with Session(engine) as session:
        return session.exec(select(Task).where(Task.code == code)).one()


def test_a_task_left_out_without_prune_is_reported_and_still_followed_up(
    school: Engine, tmp_path: Path
) -> None:
    summary = reimport(school, tmp_path, plan_without("T.7"), local(2, 8))
    tasks = summary.kinds["tasks"]
    assert (tasks.absent, tasks.archived, tasks.unchanged) == (["T.7"], [], 2)
    assert summary.kinds["units"].absent == []
    assert task_row(school, "T.7").archived_at is None
    assert "T.7" in reminded(school, local(7, 7, 40))  # its due day
    assert "T.7" in viec(school)


def test_pruning_archives_the_task_out_of_everything_current_and_keeps_its_history(
    school: Engine, tmp_path: Path
) -> None:
    reminded(school, local(7, 7, 40))  # the week's reminders so far
    summary = reimport(school, tmp_path, plan_without("T.7"), local(8, 8), prune=True)
    assert (summary.kinds["tasks"].archived, summary.kinds["tasks"].absent) == (["T.7"], [])
    assert task_row(school, "T.7").archived_at == local(8, 8)

    assert "T.7" not in reminded(school, local(9, 7, 40))  # overdue by now, yet not followed up
    listed = viec(school)
    assert "T.10" in listed and "T.7" not in listed
    assert viec(school, "t7") == (
        "Nhiệm vụ <b>T.7</b> Rà soát hồ sơ đã được lưu trữ ngày 08/12/2026 (không còn trong kế "
        "hoạch); không cần báo cáo thêm."
    )
    assert "T.7" in digest_codes(school, local(30, 0, month=11), local(7, 0))  # as it was
    assert "T.7" not in digest_codes(school, local(7, 0), local(14, 0))
    with Session(school) as session:
        target = session.exec(select(School)).one()
        assert "T.7" not in [task.code for task in export_plan(session, target).tasks]
        assert "T.7" not in render_overview(session, target, local(8, 9).date())
        history = session.exec(
            select(ProgressUpdate).where(ProgressUpdate.task_id == task_row(school, "T.7").id)
        ).all()
        assert [update.note for update in history] == ["đã rà soát khối 6"]
        assert session.exec(select(Reminder).where(Reminder.task_id == history[0].task_id)).all()


def test_a_file_listing_an_archived_task_again_restores_it(school: Engine, tmp_path: Path) -> None:
    reimport(school, tmp_path, plan_without("T.7"), local(8, 8), prune=True)
    summary = reimport(school, tmp_path, PLAN, local(9, 8), prune=True)
    tasks = summary.kinds["tasks"]
    assert (tasks.restored, tasks.archived, tasks.updated, tasks.unchanged) == (["T.7"], [], 1, 2)
    restored = task_row(school, "T.7")
    assert (restored.archived_at, restored.progress) == (None, 40)
    assert "T.7" in viec(school)
    assert "T.7" in reminded(school, local(10, 7, 40))


def test_a_unit_left_out_is_archived_with_its_tasks_and_restored_with_them(
    school: Engine, tmp_path: Path
) -> None:
    summary = reimport(school, tmp_path, plan_without("TCM", "T.TCM"), local(8, 8))
    assert (summary.kinds["units"].absent, summary.kinds["tasks"].absent) == (["TCM"], ["T.TCM"])

    summary = reimport(school, tmp_path, plan_without("TCM", "T.TCM"), local(8, 9), prune=True)
    assert (summary.kinds["units"].archived, summary.kinds["tasks"].archived) == (
        ["TCM"],
        ["T.TCM"],
    )
    with Session(school) as session:
        target = session.exec(select(School)).one()
        assert [unit.code for unit in export_plan(session, target).units] == ["VP", "BGH"]
        assert "Tổ chuyên môn" not in render_overview(session, target, local(8, 9).date())
    assert "T.TCM" not in viec(school, name="Tổ Trưởng")

    summary = reimport(school, tmp_path, PLAN, local(9, 8))
    assert (summary.kinds["units"].restored, summary.kinds["tasks"].restored) == (
        ["TCM"],
        ["T.TCM"],
    )
    with Session(school) as session:
        assert session.exec(select(Unit).where(Unit.code == "TCM")).one().archived_at is None


def test_a_unit_with_a_task_still_current_is_kept(school: Engine) -> None:
    """A plan given without its file's units to match (not read from a file) may keep a task of
    a unit it leaves out: the unit stays."""
    data = {**PLAN, "units": [unit for unit in PLAN["units"] if unit["code"] != "TCM"]}
    with session_scope(school) as session:
        summary = import_plan(session, PlanFile.model_validate(data), now=local(8, 8), prune=True)
    assert (summary.kinds["units"].archived, summary.kinds["units"].absent) == ([], ["TCM"])
    assert summary.kinds["tasks"].archived == []


def test_the_cli_reports_left_out_archived_and_restored_rows(cli: Cli, tmp_path: Path) -> None:
    full = write(tmp_path, PLAN, "full.yaml")
    fewer = write(tmp_path, plan_without("TCM", "T.TCM", "T.7"), "fewer.yaml")
    cli("plan", "import", full)

    kept = cli("plan", "import", fewer).output.splitlines()
    assert kept[1:] == [
        "  - 2 tổ/bộ phận: 0 mới, 0 cập nhật, 2 giữ nguyên",
        "  - chỉ số: không có",
        "  - 1 nhiệm vụ: 0 mới, 0 cập nhật, 1 giữ nguyên",
        "1 tổ/bộ phận không có trong tệp, vẫn được theo dõi: TCM",
        "2 nhiệm vụ không có trong tệp, vẫn được theo dõi: T.7, T.TCM",
        "Thêm --prune để lưu trữ các mục này (lịch sử vẫn được giữ).",
    ]
    assert "T.7" in cli("plan", "export").output

    pruned = cli("plan", "import", fewer, "--prune").output.splitlines()
    assert pruned[4:] == [
        "Đã lưu trữ 1 tổ/bộ phận không có trong tệp (lịch sử vẫn được giữ): TCM",
        "Đã lưu trữ 2 nhiệm vụ không có trong tệp (lịch sử vẫn được giữ): T.7, T.TCM",
    ]
    assert "T.7" not in cli("plan", "export").output
    refused = cli("assign", "t7", "Trưởng Văn Phòng", expect=2).output
    assert "Nhiệm vụ 'T.7' đã được lưu trữ ngày" in refused
    assert cli("plan", "import", fewer, "--prune").output.splitlines()[4:] == []  # done already

    restored = cli("plan", "import", full).output.splitlines()
    assert restored[1:] == [
        "  - 3 tổ/bộ phận: 0 mới, 1 cập nhật, 2 giữ nguyên",
        "  - chỉ số: không có",
        "  - 3 nhiệm vụ: 0 mới, 2 cập nhật, 1 giữ nguyên",
        "Khôi phục 1 tổ/bộ phận đã lưu trữ (có lại trong tệp): TCM",
        "Khôi phục 2 nhiệm vụ đã lưu trữ (có lại trong tệp): T.7, T.TCM",
    ]
    assert "T.7" in cli("plan", "export").output
