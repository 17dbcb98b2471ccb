"""A school gives its own school year in the plan file (the day it starts, the end of the first
semester, the end of the year): its tasks "cuối mỗi học kỳ" and "đầu năm học" fall on those days,
not on the usual calendar; the file, its JSON and its Excel form keep the year as written."""

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from handlers import reports
from handlers.context import ChatConfig, Context
from models import Member, Reminder, School, Task, TaskStatus, UpdateSource
from models.db import session_scope
from services.digest import compile_digest
from services.permissions import load_actor
from services.plan_files import PlanFileError, dump_text, read_plan
from services.plan_store import export_plan, import_plan
from services.progress import record_progress
from services.reminders import CalendarDefaults, plan_all
from tests.conftest import Cli
from tests.plan_school import exported_again, import_school, plan_file

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
SCHOOL_YEAR = "{start: 20/08/2026, semester1_end: 10/01/2027, end: 31/05/2027}"  # not 05/09
PLAN = """
school:
  code: NAMHOC
  name: Trường Năm Học
  settings:
    school_year: {school_year}
units:
  - {{code: BGH, name: Ban giám hiệu}}
  - {{code: VP, name: Văn phòng}}
kpis:
  - {{key: len_lop, name: Tỷ lệ học sinh lên lớp, measure: "%", direction: ">=", target: 95,
     year: năm học 2026-2027}}
tasks:
  - {{code: HK, title: Sơ kết học kỳ, unit: VP, recurrence: cuối mỗi học kỳ}}
  - {{code: KG, title: Chuẩn bị khai giảng, unit: VP, recurrence: school_year}}
"""
NO_SCHOOL_YEAR = PLAN.replace("  settings:\n    school_year: {school_year}\n", "").format()
PEOPLE = """name,unit,role,phone
Hiệu Trưởng,BGH,principal,0900000001
Trưởng Văn Phòng,VP,unit_head,0900000003
"""


def local(day: int, month: int, year: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=HCM)


def school_with(engine: Engine, folder: Path, plan: str) -> Engine:
    return import_school(engine, plan_file(folder, plan), PEOPLE, now=local(1, 12, 2026))


@pytest.fixture
def school(engine: Engine, tmp_path: Path) -> Engine:
    return school_with(engine, tmp_path, PLAN.format(school_year=SCHOOL_YEAR))


def occurrences(engine: Engine, now: datetime) -> dict[str, date]:
    """Each recurring task's occurrence once the reminders are planned at `now`."""
    with session_scope(engine) as session:
        plan_all(session, now, CalendarDefaults())
        return {task.code: task.occurrence for task in session.exec(select(Task))}


def test_a_semester_task_is_due_at_the_end_of_the_schools_semester(school: Engine) -> None:
    assert occurrences(school, local(1, 12, 2026, hour=8)) == {
        "HK": date(2027, 1, 10),
        "KG": date(2027, 8, 20),  # the school's start, not the usual 05/09
    }
    with Session(school) as session:
        reminders = session.exec(select(Reminder)).all()
        assert {row.occurrence for row in reminders if row.task_id} <= {date(2027, 1, 10)}


def test_the_dry_run_reminds_of_it_a_week_before_the_schools_date(school: Engine, cli: Cli) -> None:
    output = cli("reminders", "--at", "2027-01-04T07:31").output
    assert "HK — Sơ kết học kỳ\n" in output
    assert "Lặp lại: cuối mỗi học kỳ; lần tới 10/01/2027 (còn 6 ngày)\n" in output


def test_after_the_first_semester_the_next_is_the_end_of_the_year(school: Engine) -> None:
    with session_scope(school) as session:
        task = session.exec(select(Task).where(Task.code == "HK")).one()
        done = local(10, 1, 2027, hour=9)
        record_progress(session, task, None, source=UpdateSource.IMPORT, now=done,
                        status=TaskStatus.DONE, percent=100)  # fmt: skip
    assert occurrences(school, local(11, 1, 2027, hour=8))["HK"] == date(2027, 5, 31)


def digest_of_the_week(engine: Engine, friday: datetime, folder: Path) -> str:
    """The weekly digest the principal reads at 16:00 on `friday`, for the week to then; the
    running bot has planned the week's reminders on Monday morning."""
    end = friday.replace(hour=16)
    occurrences(engine, end - timedelta(days=4, hours=8))
    with Session(engine) as session:
        school = session.exec(select(School)).one()
        digest = compile_digest(session, school, start=end - timedelta(days=4, hours=16), end=end)
        member = session.exec(select(Member).where(Member.name == "Hiệu Trưởng")).one()
        ctx = Context(
            session=session,
            now=end,
            config=ChatConfig(evidence_dir=folder / "minh-chung"),
            member=member,
            actor=load_actor(session, member),
            school=school,
        )
        return str(reports.render_digest(ctx, digest))


def test_the_digest_follows_the_schools_semester_end(school: Engine, tmp_path: Path) -> None:
    """The school's first semester ends on 10/01 (the usual calendar: 15/01): the digest of the
    week before says two days are left, the next week's says it is five days overdue."""
    before = digest_of_the_week(school, local(8, 1, 2027), tmp_path)
    assert "<b>HK</b> Sơ kết học kỳ — còn 2 ngày, 0%" in before
    after = digest_of_the_week(school, local(15, 1, 2027), tmp_path)
    assert "<b>HK</b> Sơ kết học kỳ — quá hạn 5 ngày, 0%" in after


def test_the_digest_follows_the_usual_calendar_without_a_school_year(
    engine: Engine, tmp_path: Path
) -> None:
    school = school_with(engine, tmp_path, NO_SCHOOL_YEAR)
    before = digest_of_the_week(school, local(8, 1, 2027), tmp_path)
    assert "<b>HK</b> Sơ kết học kỳ — còn 7 ngày, 0%" in before


def test_without_a_school_year_the_usual_calendar_holds(engine: Engine, tmp_path: Path) -> None:
    school = school_with(engine, tmp_path, NO_SCHOOL_YEAR)
    assert occurrences(school, local(1, 12, 2026, hour=8)) == {
        "HK": date(2027, 1, 15),
        "KG": date(2027, 9, 5),
    }


def test_a_kpi_of_the_school_year_is_due_in_the_year_it_ends(school: Engine) -> None:
    with Session(school) as session:
        plan = export_plan(session, session.exec(select(School)).one())
    assert [(kpi.key, kpi.year) for kpi in plan.kpis] == [("len_lop", 2027)]


@pytest.mark.parametrize("fmt", ["yaml", "json", "xlsx"])
def test_the_school_year_survives_export_and_import(
    school: Engine, tmp_path: Path, fmt: str
) -> None:
    """YAML → `fmt` → YAML gives the same file, the school year and `semester` as written."""
    with Session(school) as session:
        before = dump_text(export_plan(session, session.exec(select(School)).one()), "yaml")
    assert "school_year:\n      start: '2026-08-20'\n" in before
    assert "recurrence: semester\n" in before
    again = read_plan(exported_again(school, tmp_path, fmt))
    with session_scope(school) as session:
        import_plan(session, again, now=local(2, 12, 2026))
        after = dump_text(export_plan(session, session.exec(select(School)).one()), "yaml")
    assert after == before


def test_the_excel_form_shows_the_school_year_on_its_settings_sheet(
    school: Engine, tmp_path: Path
) -> None:
    workbook = openpyxl.load_workbook(exported_again(school, tmp_path, "xlsx"))
    rows = {row[1]: row for row in workbook["Cài đặt"].iter_rows(min_row=2, values_only=True)}
    assert rows["school_year.start"][:3] == (
        "Ngày bắt đầu năm học",
        "school_year.start",
        "20/08/2026",
    )
    assert rows["school_year.semester1_end"][2] == "10/01/2027"
    assert rows["school_year.end"][2] == "31/05/2027"
    assert "cuối mỗi học kỳ" in rows["school_year.semester1_end"][3]
    guide = "\n".join(str(row[0]) for row in workbook["Hướng dẫn"].iter_rows(values_only=True))
    assert "ngày kết thúc học kỳ I" in guide


@pytest.mark.parametrize(
    ("school_year", "problem"),
    [
        (
            "{start: 05/09/2026, semester1_end: 01/09/2026, end: 31/05/2027}",
            "dòng 6 (school.settings.school_year): ngày kết thúc học kỳ I (semester1_end: "
            "01/09/2026) phải sau ngày bắt đầu năm học (start: 05/09/2026); hãy ghi ba ngày của "
            "năm học theo thứ tự, ví dụ start: 05/09/2026, semester1_end: 10/01/2027, end: "
            "31/05/2027.",
        ),
        (
            "{start: 05/09/2026, semester1_end: 10/01/2027, end: 10/01/2027}",
            "ngày kết thúc năm học (end: 10/01/2027) phải sau ngày kết thúc học kỳ I "
            "(semester1_end: 10/01/2027)",
        ),
        (
            "{start: 05/09/2026, semester1_end: 10/01/2027, end: 31/12/2027}",
            "năm học từ 05/09/2026 đến 31/12/2027 dài hơn một năm",
        ),
        (
            "{start: 05/09/2026, semester1_end: 31/01/2027, end: 31/02/2027}",
            "school.settings.school_year.end",
        ),
    ],
)
def test_a_school_year_out_of_order_is_refused_saying_what_to_write(
    tmp_path: Path, school_year: str, problem: str
) -> None:
    path = plan_file(tmp_path, PLAN.format(school_year=school_year))
    with pytest.raises(PlanFileError) as refused:
        read_plan(path)
    assert problem in str(refused.value)


def test_the_settings_sheet_takes_dates_as_excel_keeps_them_and_refuses_a_bad_order(
    school: Engine, tmp_path: Path
) -> None:
    path = exported_again(school, tmp_path, "xlsx")
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["Cài đặt"]
    cells = {row[1].value: row[2] for row in sheet.iter_rows(min_row=2)}
    cells["school_year.semester1_end"].value = datetime(2027, 1, 15)  # a real date cell
    workbook.save(path)
    school_year = read_plan(path).school.settings.school_year
    assert (school_year.start, school_year.semester1_end) == (date(2026, 8, 20), date(2027, 1, 15))
    cells["school_year.end"].value = "01/01/2027"
    workbook.save(path)
    with pytest.raises(PlanFileError) as refused:
        read_plan(path)
    assert (
        "trang 'Cài đặt', cột 'Giá trị': ngày kết thúc năm học (end: 01/01/2027) phải sau"
        in str(refused.value)
    )


def test_a_school_year_given_after_the_first_import_moves_the_coming_semester_end(
    engine: Engine, tmp_path: Path
) -> None:
    """The school imported the plan without its year (the semester ends on the usual 15/01),
    then writes its year in the file and imports it again: the coming end is its own 10/01."""
    school_with(engine, tmp_path, NO_SCHOOL_YEAR)
    assert occurrences(engine, local(1, 12, 2026, hour=8))["HK"] == date(2027, 1, 15)
    plan = plan_file(tmp_path, PLAN.format(school_year=SCHOOL_YEAR), "nam-hoc.yaml")
    with session_scope(engine) as session:
        import_plan(session, read_plan(plan), now=local(2, 12, 2026, hour=8))
    assert occurrences(engine, local(2, 12, 2026, hour=9))["HK"] == date(2027, 1, 10)


def test_right_after_the_import_the_schools_dates_hold_everywhere(school: Engine) -> None:
    """Before the bot has planned any reminder, what the school reads of a recurring task
    (the task card, the digest, the overview) already follows its own school year."""
    with Session(school) as session:
        tasks = {task.code: task for task in session.exec(select(Task))}
        assert {code: task.occurrence for code, task in tasks.items()} == {
            "HK": date(2027, 1, 10),
            "KG": date(2027, 8, 20),
        }
        target = session.exec(select(School)).one()
        end = local(8, 1, 2027, hour=16)
        digest = compile_digest(session, target, start=end - timedelta(days=4), end=end)
        assert {item.code: item.due for item in digest.tasks}["HK"] == date(2027, 1, 10)
