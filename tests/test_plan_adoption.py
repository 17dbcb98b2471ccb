"""A school that starts with the bot in December, when its plan began in March (issue 9): its plan
file says how far each task has got, so what was done is not called overdue, and the import is
nobody's report. The fixture is the file such a school writes."""

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from handlers import reports
from handlers.context import ChatConfig, Context
from models import Member, ProgressUpdate, School, Task, TaskStatus, UpdateSource
from models.db import session_scope
from services.digest import compile_digest
from services.digest_files import write_workbook
from services.permissions import load_actor
from services.plan_files import PlanFileError, read_plan
from services.plan_files import write_workbook as write_plan_workbook
from services.plan_store import export_plan, import_plan
from services.progress import done_on, record_progress
from services.reminders import CalendarDefaults, plan_all
from tests.plan_school import exported_again, import_school, plan_file

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
# Kế hoạch từ tháng 3/2026; trường bắt đầu dùng bot ngày 10/12/2026 (thứ Năm).
PLAN = """
school: {code: THU, name: Trường Thử}
units:
  - {code: VP, name: Văn phòng}
  - {code: BGH, name: Ban giám hiệu}
tasks:
  - {code: B.1, title: Quán triệt Nghị quyết 71, unit: BGH, deadline: 31/03/2026,
     done_on: 28/03/2026}
  - {code: B.2, title: Rà soát hồ sơ phổ cập, unit: VP, deadline: 15/03/2026,
     status: hoàn thành, done_on: 17/03/2026}
  - {code: B.3, title: Sửa chữa phòng học, unit: BGH, deadline: 30/06/2026,
     status: gap vuong mac, progress: 40%}
  - {code: B.4, title: Số hoá hồ sơ, unit: VP, deadline: 31/12/2026, progress: 60}
  - {code: B.5, title: Báo cáo tiến độ, unit: VP, recurrence: "monthly:25", done_on: 20/11/2026}
  - {code: B.6, title: Kiểm kê tài sản, unit: VP, deadline: 30/04/2026}
"""
PEOPLE = """name,unit,role,phone
Hiệu Trưởng,BGH,principal,0900000001
Trưởng Văn Phòng,VP,unit_head,0900000003
"""
ADOPTED = datetime(2026, 12, 10, 9, tzinfo=HCM)


@pytest.fixture
def plan_path(tmp_path: Path) -> Path:
    return plan_file(tmp_path, PLAN)


@pytest.fixture
def school(engine: Engine, plan_path: Path) -> Engine:
    return import_school(engine, plan_path, PEOPLE, now=ADOPTED)


def tasks(session: Session) -> dict[str, Task]:
    return {task.code: task for task in session.exec(select(Task))}


def updates(session: Session) -> list[tuple[str, UpdateSource, datetime, str | None]]:
    rows = session.exec(
        select(Task.code, ProgressUpdate)
        .join(Task, col(Task.id) == col(ProgressUpdate.task_id))
        .order_by(col(ProgressUpdate.id))
    ).all()
    return [(code, u.source, u.created_at.astimezone(HCM), u.status) for code, u in rows]


def test_the_files_states_are_recorded_as_imports_dated_the_day_they_were_done(
    school: Engine,
) -> None:
    with Session(school) as session:
        found = tasks(session)
        states = {code: (task.status, task.progress) for code, task in found.items()}
        assert states == {
            "B.1": (TaskStatus.DONE, 100),
            "B.2": (TaskStatus.DONE, 100),
            "B.3": (TaskStatus.BLOCKED, 40),
            "B.4": (TaskStatus.IN_PROGRESS, 60),
            "B.5": (TaskStatus.DONE, 100),
            "B.6": (TaskStatus.TODO, 0),
        }
        assert done_on(session, found["B.1"], HCM) == date(2026, 3, 28)
        assert found["B.5"].occurrence == date(2026, 11, 25)  # done for November's report
        assert updates(session) == [
            ("B.1", UpdateSource.IMPORT, datetime(2026, 3, 28, tzinfo=HCM), TaskStatus.DONE),
            ("B.2", UpdateSource.IMPORT, datetime(2026, 3, 17, tzinfo=HCM), TaskStatus.DONE),
            ("B.3", UpdateSource.IMPORT, ADOPTED, TaskStatus.BLOCKED),
            ("B.4", UpdateSource.IMPORT, ADOPTED, TaskStatus.IN_PROGRESS),
            ("B.5", UpdateSource.IMPORT, datetime(2026, 11, 20, tzinfo=HCM), TaskStatus.DONE),
        ]
        assert all(update.member_id is None for update in session.exec(select(ProgressUpdate)))


def test_the_first_digest_counts_no_report_and_only_what_is_open_is_overdue(
    school: Engine, tmp_path: Path
) -> None:
    end = datetime(2026, 12, 11, 16, tzinfo=HCM)
    with Session(school) as session:
        target = session.exec(select(School)).one()
        digest = compile_digest(session, target, start=datetime(2026, 12, 7, tzinfo=HCM), end=end)
        member = session.exec(select(Member).where(Member.name == "Hiệu Trưởng")).one()
        ctx = Context(
            session=session,
            now=end,
            config=ChatConfig(evidence_dir=tmp_path / "minh-chung"),
            member=member,
            actor=load_actor(session, member),
            school=target,
        )
        text = reports.render_digest(ctx, digest)
        write_workbook(digest, session, tmp_path / "bao-cao.xlsx")
    assert digest.totals.updates == 0 and "· 0 lượt báo cáo" in text
    assert {item.code for item in digest.overdue} == {"B.3", "B.6"}
    assert digest.totals.done == 3
    assert all(row.last_report is None for row in digest.units)  # no unit "reported"
    assert {item.code: item.status for item in digest.tasks}["B.3"] == TaskStatus.BLOCKED
    sheet = openpyxl.load_workbook(tmp_path / "bao-cao.xlsx")["Nhiệm vụ"]
    rows = {row[0]: row for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows["B.1"][5:7] == ("hoàn thành", "hoàn thành đúng hạn")
    assert rows["B.2"][5:7] == ("hoàn thành", "hoàn thành trễ 2 ngày")
    assert rows["B.3"][5] == "gặp vướng mắc"
    assert rows["B.1"][8] is None  # last report: none


def test_done_tasks_get_no_reminder_and_the_recurring_one_moves_on(school: Engine) -> None:
    reminded: set[str] = set()
    day = ADOPTED
    with session_scope(school) as session:
        while day < ADOPTED + timedelta(days=20):
            for row in plan_all(session, day, CalendarDefaults()):
                if row.task_id:
                    reminded.add(session.get(Task, row.task_id).code)
            day += timedelta(days=1)
        found = tasks(session)
        assert (found["B.5"].status, found["B.5"].occurrence) == (
            TaskStatus.TODO,
            date(2026, 12, 25),
        )
    assert not reminded & {"B.1", "B.2"}
    assert {"B.4", "B.6"} <= reminded


def test_reimporting_after_the_recurring_task_moved_on_keeps_it_on_its_new_occurrence(
    school: Engine, plan_path: Path
) -> None:
    """Done on 20/11 was November's report: history once December's is under way."""
    with session_scope(school) as session:
        plan_all(session, ADOPTED, CalendarDefaults())
        before = updates(session)
        import_plan(session, read_plan(plan_path), now=ADOPTED + timedelta(days=1))
        assert updates(session) == before
        assert tasks(session)["B.5"].status == TaskStatus.TODO


def test_a_done_date_before_a_report_in_chat_is_refused(school: Engine, plan_path: Path) -> None:
    with session_scope(school) as session:
        head = session.exec(select(Member).where(Member.name == "Trưởng Văn Phòng")).one()
        record_progress(
            session, tasks(session)["B.4"], head, source=UpdateSource.COMMAND,
            now=ADOPTED + timedelta(days=1), percent=80,
        )  # fmt: skip
    plan_path.write_text(PLAN.replace("progress: 60", "done_on: 01/12/2026"), encoding="utf-8")
    with pytest.raises(PlanFileError) as caught, session_scope(school) as session:
        import_plan(session, read_plan(plan_path), now=ADOPTED + timedelta(days=2))
    assert "dòng 13 (tasks[3].done_on): ngày hoàn thành 01/12/2026 trước lần báo cáo gần " in str(
        caught.value
    )
    assert "nhất của nhiệm vụ (11/12/2026)" in str(caught.value)


def test_importing_the_same_file_again_records_nothing(school: Engine, plan_path: Path) -> None:
    with session_scope(school) as session:
        before = updates(session)
        summary = import_plan(session, read_plan(plan_path), now=ADOPTED + timedelta(days=3))
        assert updates(session) == before
    assert summary.kinds["tasks"].unchanged == 6


def test_a_changed_state_records_one_import_update(school: Engine, plan_path: Path) -> None:
    plan_path.write_text(
        PLAN.replace("status: gap vuong mac, progress: 40%", "done_on: 11/12/2026"),
        encoding="utf-8",
    )
    later = ADOPTED + timedelta(days=2)
    with session_scope(school) as session:
        before = updates(session)
        summary = import_plan(session, read_plan(plan_path), now=later)
        new = updates(session)[len(before) :]
        task = tasks(session)["B.3"]
        assert (task.status, task.progress) == (TaskStatus.DONE, 100)
    assert new == [
        ("B.3", UpdateSource.IMPORT, datetime(2026, 12, 11, tzinfo=HCM), TaskStatus.DONE)
    ]
    assert (summary.kinds["tasks"].updated, summary.kinds["tasks"].unchanged) == (1, 5)


@pytest.mark.parametrize("fmt", ["yaml", "json", "xlsx"])
def test_export_writes_the_state_and_imports_back_unchanged(
    school: Engine, plan_path: Path, tmp_path: Path, fmt: str
) -> None:
    path = exported_again(school, tmp_path, fmt)
    again = read_plan(path)
    assert again.tasks == read_plan(plan_path).tasks
    b3 = next(task for task in again.tasks if task.code == "B.3")
    assert (b3.status, b3.progress, b3.done_on) == (TaskStatus.BLOCKED, 40, None)
    with session_scope(school) as session:
        before = updates(session)
        summary = import_plan(session, again, now=ADOPTED + timedelta(days=1))
        assert updates(session) == before
    assert summary.kinds["tasks"].unchanged == 6


def test_the_excel_form_has_the_state_columns_in_vietnamese(school: Engine, tmp_path: Path) -> None:
    path = tmp_path / "ke-hoach.xlsx"
    with Session(school) as session:
        write_plan_workbook(export_plan(session, session.exec(select(School)).one()), path)
    sheet = openpyxl.load_workbook(path)["Nhiệm vụ"]
    header = [cell.value for cell in sheet[1]]
    first = header.index("Trạng thái")
    assert header[first : first + 3] == ["Trạng thái", "Tiến độ (%)", "Ngày hoàn thành"]
    rows = {row[0]: row[first : first + 3] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows["B.2"] == ("hoàn thành", 100, datetime(2026, 3, 17))
    assert rows["B.6"] == (None, None, None)


def refused(tmp_path: Path, old: str, new: str) -> str:
    path = tmp_path / "sai.yaml"
    path.write_text(PLAN.replace(old, new), encoding="utf-8")
    with pytest.raises(PlanFileError) as caught:
        read_plan(path)
    return str(caught.value)


def test_an_unknown_status_is_refused_with_the_words_to_use(tmp_path: Path) -> None:
    message = refused(tmp_path, "status: gap vuong mac", "status: xong lắm")
    assert "dòng 12 (tasks[2].status)" in message
    assert "trạng thái 'xong lắm' không hợp lệ" in message
    assert "chưa bắt đầu, đang thực hiện, gặp vướng mắc, hoàn thành" in message


def test_progress_above_100_is_refused(tmp_path: Path) -> None:
    message = refused(tmp_path, "progress: 60", "progress: 150")
    assert "dòng 13 (tasks[3].progress)" in message
    assert "tiến độ '150' không hợp lệ; ghi một số nguyên từ 0 đến 100" in message


def test_a_done_date_with_another_status_or_progress_is_refused(tmp_path: Path) -> None:
    message = refused(tmp_path, "status: hoàn thành, done_on", "status: đang thực hiện, done_on")
    assert "đã ghi ngày hoàn thành nhưng trạng thái là 'đang thực hiện'" in message
    message = refused(tmp_path, "done_on: 28/03/2026", "done_on: 28/03/2026, progress: 80")
    assert "tiến độ là 100, không phải 80" in message


def test_a_done_date_still_to_come_is_refused_at_its_line(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "ke-hoach.yaml"
    path.write_text(PLAN.replace("done_on: 20/11/2026", "done_on: 20/12/2026"), encoding="utf-8")
    with pytest.raises(PlanFileError) as caught, session_scope(engine) as session:
        import_plan(session, read_plan(path), now=ADOPTED)
    assert "dòng 14 (tasks[4].done_on)" in str(caught.value)
    assert "ngày hoàn thành 20/12/2026 chưa đến (hôm nay là 10/12/2026)" in str(caught.value)
    with Session(engine) as session:
        assert session.exec(select(Task)).first() is None  # nothing of the file was kept


def test_excel_progress_typed_as_a_percentage_reads_as_that_percentage(
    school: Engine, tmp_path: Path
) -> None:
    """Typing "75%" in a cell, Excel keeps 0.75 shown in a percent format."""
    path = tmp_path / "ke-hoach.xlsx"
    with Session(school) as session:
        write_plan_workbook(export_plan(session, session.exec(select(School)).one()), path)
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["Nhiệm vụ"]
    row = next(row for row in sheet.iter_rows(min_row=2) if row[0].value == "B.4")
    cell = row[[c.value for c in sheet[1]].index("Tiến độ (%)")]
    cell.value, cell.number_format = 0.75, "0%"
    workbook.save(path)
    b4 = next(task for task in read_plan(path).tasks if task.code == "B.4")
    assert (b4.status, b4.progress) == (TaskStatus.IN_PROGRESS, 75)


def test_a_bad_status_in_excel_is_refused_at_its_cell(school: Engine, tmp_path: Path) -> None:
    path = tmp_path / "ke-hoach.xlsx"
    with Session(school) as session:
        write_plan_workbook(export_plan(session, session.exec(select(School)).one()), path)
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["Nhiệm vụ"]
    column = next(cell.column for cell in sheet[1] if cell.value == "Trạng thái")
    sheet.cell(row=3, column=column, value="xong lắm")  # B.2's
    workbook.save(path)
    with pytest.raises(PlanFileError) as caught:
        read_plan(path)
    assert "trang 'Nhiệm vụ', dòng 3, cột 'Trạng thái': trạng thái 'xong lắm' không hợp lệ" in str(
        caught.value
    )
