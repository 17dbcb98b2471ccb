"""Schedules as real plans write them (issue 9): a deadline given as a month, a quarter or a year
("hoàn thành trong tháng 3/2026", "quý II/2026", "năm 2026"), work every few weeks ("báo cáo định
kỳ 2 tuần/lần vào thứ Sáu") and on a weekday of the first or last week of the month ("họp vào thứ
Sáu tuần cuối mỗi tháng"). Each is read, shown as the plan writes it, survives export and import,
and is reminded of on the right days."""

import re
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from handlers.context import ChatConfig, Context
from handlers.render import when_line
from models import ReminderKind, School, Task, TaskStatus, UpdateSource
from models.db import session_scope
from services.overview import render_overview
from services.plan_files import PlanFileError, plan_as_data, read_plan
from services.plan_schema import parse_deadline
from services.plan_store import import_plan
from services.plan_text import describe_recurrence
from services.progress import record_progress
from services.recurrence import RecurrenceError, parse_recurrence
from services.reminders import CalendarDefaults, plan_all
from tests.conftest import Cli
from tests.plan_school import exported_again, import_school, plan_file

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
PLAN = """
school: {code: LICH, name: Trường Lịch}
units:
  - {code: VP, name: Văn phòng}
  - {code: BGH, name: Ban giám hiệu}
  - {code: TO_TOAN, name: Tổ Toán}
tasks:
  - {code: K.1, title: Hoàn thành hồ sơ tự đánh giá trong tháng 3/2026, unit: VP,
     deadline: tháng 3/2026}
  - {code: K.2, title: Kiểm định chất lượng giáo dục, unit: BGH, deadline: quý II/2026}
  - {code: K.3, title: Đạt chuẩn quốc gia mức độ 2, unit: BGH, deadline: năm 2026}
  - {code: K.4, title: Sửa chữa phòng học, unit: VP, deadline: Q4/2026}
  - {code: K.5, title: Nộp báo cáo sơ kết, unit: VP, deadline: 15/01/2026}
  - {code: B.1, title: Báo cáo định kỳ 2 tuần/lần vào thứ Sáu, unit: VP,
     recurrence: "every:2w:fri:09/01/2026"}
  - {code: H.1, title: Họp vào thứ Sáu tuần cuối mỗi tháng, unit: TO_TOAN,
     recurrence: "monthly:last-fri"}
  - {code: H.2, title: Sinh hoạt tổ thứ Hai tuần đầu tháng, unit: TO_TOAN,
     recurrence: "monthly:1st-mon"}
"""
PEOPLE = """name,unit,role,phone
Hiệu Trưởng,BGH,principal,0900000001
Trưởng Văn Phòng,VP,unit_head,0900000003
Tổ Trưởng Toán,TO_TOAN,unit_head,0900000005
"""


def local(day: int, month: int, year: int = 2026, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=HCM)


@pytest.fixture
def plan_path(tmp_path: Path) -> Path:
    return plan_file(tmp_path, PLAN)


@pytest.fixture
def school(engine: Engine, plan_path: Path) -> Engine:
    """The plan imported on Monday 12/01/2026."""
    return import_school(engine, plan_path, PEOPLE, now=local(12, 1))


# --- reading ----------------------------------------------------------------------------------


def test_the_plan_reads_periods_as_their_last_day_and_keeps_the_rules(plan_path: Path) -> None:
    tasks = {task.code: task for task in read_plan(plan_path).tasks}
    assert {code: tasks[code].deadline for code in ("K.1", "K.2", "K.3", "K.4", "K.5")} == {
        "K.1": date(2026, 3, 31),
        "K.2": date(2026, 6, 30),
        "K.3": date(2026, 12, 31),
        "K.4": date(2026, 12, 31),
        "K.5": date(2026, 1, 15),
    }
    assert [tasks[code].recurrence for code in ("B.1", "H.1", "H.2")] == [
        "every:2w:fri:09/01/2026",
        "monthly:last-fri",
        "monthly:1st-mon",
    ]


@pytest.mark.parametrize(
    ("written", "due"),
    [
        ("tháng 3/2026", date(2026, 3, 31)),
        ("Tháng 03/2026", date(2026, 3, 31)),
        ("thang 4/2026", date(2026, 4, 30)),  # typed without diacritics
        ("tháng 12 năm 2026", date(2026, 12, 31)),  # the year's end
        ("tháng 2/2028", date(2028, 2, 29)),  # a leap year
        ("tháng 2/2100", date(2100, 2, 28)),  # not one
        ("quý I/2027", date(2027, 3, 31)),
        ("quý II/2026", date(2026, 6, 30)),
        ("quý 2/2026", date(2026, 6, 30)),
        ("Q2/2026", date(2026, 6, 30)),
        ("quý III/2026", date(2026, 9, 30)),
        ("quý IV/2026", date(2026, 12, 31)),
        ("q4/2026", date(2026, 12, 31)),
        ("năm 2026", date(2026, 12, 31)),
        ("31/03/2026", date(2026, 3, 31)),  # dates as before
        ("2026-03-31", date(2026, 3, 31)),
    ],
)
def test_a_deadline_may_be_a_month_a_quarter_or_a_year(written: str, due: date) -> None:
    deadline = parse_deadline(written)
    assert deadline == due
    assert getattr(deadline, "written", None) == (None if written[0].isdigit() else written)


def test_bad_schedules_are_refused_at_their_line(tmp_path: Path) -> None:
    path = tmp_path / "sai.yaml"
    path.write_text(
        """school: {code: SAI, name: Trường Sai}
units:
  - {code: VP, name: Văn phòng}
tasks:
  - {code: A, title: Tháng không có, unit: VP, deadline: tháng 13/2026}
  - {code: B, title: Quý không có, unit: VP, deadline: quý V/2026}
  - {code: C, title: Hạn chưa rõ, unit: VP, deadline: cuối năm}
  - {code: D, title: Lần đầu không phải thứ Sáu, unit: VP, recurrence: "every:2w:fri:10/01/2026"}
  - {code: E, title: Không có thứ Sáu thứ năm, unit: VP, recurrence: "monthly:5th-fri"}
  - {code: F, title: Không có tuần thứ 0, unit: VP, recurrence: "every:0w:fri"}
""",
        encoding="utf-8",
    )
    with pytest.raises(PlanFileError) as refused:
        read_plan(path)
    problems = refused.value.problems
    assert problems[:3] == [
        "dòng 5 (tasks[0].deadline): 'tháng 13/2026' không có thật: tháng từ 1 đến 12, quý từ I "
        "đến IV (hoặc 1 đến 4).",
        "dòng 6 (tasks[1].deadline): 'quý V/2026' không có thật: tháng từ 1 đến 12, quý từ I đến "
        "IV (hoặc 1 đến 4).",
        "dòng 7 (tasks[2].deadline): hạn 'cuối năm' không hợp lệ; hãy ghi một ngày dd/mm/yyyy (ví "
        "dụ 31/03/2026), một tháng (tháng 3/2026), một quý (quý II/2026) hoặc một năm (năm 2026).",
    ]
    for line, (index, rule) in enumerate(
        [(3, "every:2w:fri:10/01/2026"), (4, "monthly:5th-fri"), (5, "every:0w:fri")], start=8
    ):
        assert problems[index].startswith(
            f"dòng {line} (tasks[{index}].recurrence): lịch lặp '{rule}' không hợp lệ; dùng "
        )
        assert "every:2w:fri" in problems[index] and "monthly:last-fri" in problems[index]


# --- occurrences ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "start", "expected"),
    [
        # every two weeks from Friday 09/01/2026, across a month and a year
        ("every:2w:fri:09/01/2026", date(2025, 12, 1), date(2026, 1, 9)),  # none before the first
        ("every:2w:fri:09/01/2026", date(2026, 1, 9), date(2026, 1, 9)),
        ("every:2w:fri:09/01/2026", date(2026, 1, 10), date(2026, 1, 23)),
        ("every:2w:fri:09/01/2026", date(2026, 1, 24), date(2026, 2, 6)),
        ("every:2w:fri:09/01/2026", date(2026, 12, 26), date(2027, 1, 8)),
        ("every:3w:mon:05/01/2026", date(2026, 1, 6), date(2026, 1, 26)),
        # without a first date, weeks count from that of 01/01/2024: Friday 05/01/2024, 19/01…
        ("every:2w:fri", date(2024, 1, 6), date(2024, 1, 19)),
        ("every:2w:fri", date(2026, 1, 1), date(2026, 1, 2)),
        ("every:2w:fri", date(2026, 1, 3), date(2026, 1, 16)),
        # the last Friday, the first Monday of the month
        ("monthly:last-fri", date(2026, 1, 1), date(2026, 1, 30)),
        ("monthly:last-fri", date(2026, 1, 31), date(2026, 2, 27)),
        ("monthly:last-fri", date(2026, 7, 31), date(2026, 7, 31)),  # 31/07 is one
        ("monthly:last-fri", date(2026, 12, 26), date(2027, 1, 29)),  # over the year's end
        ("monthly:last-sun", date(2024, 2, 1), date(2024, 2, 25)),
        ("monthly:1st-mon", date(2026, 1, 1), date(2026, 1, 5)),
        ("monthly:1st-mon", date(2026, 1, 6), date(2026, 2, 2)),
        ("monthly:1st-mon", date(2026, 12, 8), date(2027, 1, 4)),
        ("monthly:2nd-wed", date(2026, 3, 1), date(2026, 3, 11)),
        ("monthly:4th-thu", date(2026, 11, 27), date(2026, 12, 24)),
    ],
)
def test_next_occurrences(rule: str, start: date, expected: date) -> None:
    assert parse_recurrence(rule).next_on_or_after(start) == expected


@pytest.mark.parametrize(
    ("written", "rule", "gap", "vi", "en"),
    [
        (
            "every:2w:fri",
            "every:2w:fri",
            14,
            "2 tuần một lần vào thứ Sáu",
            "every 2 weeks on Friday",
        ),
        (
            " Every:2W:Fri:9/1/2026 ",
            "every:2w:fri:09/01/2026",
            14,
            "2 tuần một lần vào thứ Sáu, từ ngày 09/01/2026",
            "every 2 weeks on Friday, from 09/01/2026",
        ),
        ("every:1w:mon", "weekly:mon", 7, "hằng tuần vào thứ Hai", "every week on Monday"),
        (
            "monthly:last-fri",
            "monthly:last-fri",
            28,
            "thứ Sáu cuối cùng hằng tháng",
            "the last Friday of every month",
        ),
        (
            "monthly:1st-mon",
            "monthly:1st-mon",
            28,
            "thứ Hai đầu tiên hằng tháng",
            "the first Monday of every month",
        ),
        (
            "monthly:3rd-wed",
            "monthly:3rd-wed",
            28,
            "thứ Tư thứ 3 hằng tháng",
            "the third Wednesday of every month",
        ),
    ],
)
def test_rules_read_in_both_languages(written: str, rule: str, gap: int, vi: str, en: str) -> None:
    recurrence = parse_recurrence(written)
    assert (recurrence.rule, recurrence.gap_days) == (rule, gap)
    assert describe_recurrence(rule) == vi
    assert describe_recurrence(rule, "en") == en


@pytest.mark.parametrize(
    "rule",
    ["every:2w", "every:2:fri", "every:53w:fri", "every:2w:fri:31/02/2026", "monthly:last",
     "monthly:first-mon", "monthly:1st-xyz"],
)  # fmt: skip
def test_malformed_rules_are_refused(rule: str) -> None:
    with pytest.raises(RecurrenceError):
        parse_recurrence(rule)


# --- display ----------------------------------------------------------------------------------


def test_the_task_card_and_the_overview_show_the_deadline_as_written(
    school: Engine, tmp_path: Path
) -> None:
    now = local(19, 3, hour=9)  # Thursday 19/03/2026
    with Session(school) as session:
        target = session.exec(select(School)).one()
        tasks = {task.code: task for task in session.exec(select(Task))}
        ctx = Context(session, now, ChatConfig(evidence_dir=tmp_path), school=target)
        assert when_line(ctx, tasks["K.1"]) == "Hạn: tháng 3/2026 (còn 12 ngày)"
        assert when_line(ctx, tasks["K.2"]) == "Hạn: quý II/2026 (còn 103 ngày)"
        assert when_line(ctx, tasks["K.5"]) == "Hạn: 15/01/2026 (quá hạn 63 ngày)"
        assert when_line(ctx, tasks["H.1"]) == (  # January's, never done, is still due
            "Lặp lại: thứ Sáu cuối cùng hằng tháng; lần tới 30/01/2026 (quá hạn 48 ngày)"
        )
        vi = render_overview(session, target, now.date())
        en = render_overview(session, target, now.date(), "en")
    assert "hạn tháng 3/2026 (còn 12 ngày)" in vi
    assert "hạn năm 2026 (còn 287 ngày)" in vi
    assert "hạn Q4/2026 (còn 287 ngày)" in vi
    assert "2 tuần một lần vào thứ Sáu, từ ngày 09/01/2026; lần tới" in vi
    assert "thứ Hai đầu tiên hằng tháng; lần tới" in vi
    assert "due quý II/2026 (103 days left)" in en
    assert "the last Friday of every month; next" in en


def test_a_new_occurrence_follows_the_rule(school: Engine, tmp_path: Path) -> None:
    """Before the planner sets an occurrence, the card shows the rule's next one from today."""
    with Session(school) as session:
        target = session.exec(select(School)).one()
        task = session.exec(select(Task).where(Task.code == "B.1")).one()
        task.occurrence = None
        ctx = Context(
            session, local(24, 1, hour=9), ChatConfig(evidence_dir=tmp_path), school=target
        )
        assert when_line(ctx, task) == (
            "Lặp lại: 2 tuần một lần vào thứ Sáu, từ ngày 09/01/2026; lần tới 06/02/2026 "
            "(còn 13 ngày)"
        )


# --- round trip -------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["yaml", "json", "xlsx"])
def test_they_survive_export_and_import_unchanged(
    school: Engine, plan_path: Path, tmp_path: Path, fmt: str
) -> None:
    path = exported_again(school, tmp_path, fmt)
    if fmt != "xlsx":
        assert "quý II/2026" in path.read_text(encoding="utf-8")
    again = plan_as_data(read_plan(path))["tasks"]
    first = plan_as_data(read_plan(plan_path))["tasks"]
    assert [{k: v for k, v in a.items() if k in f} for a, f in zip(again, first, strict=True)] == (
        first
    )  # the exported state of each task (status, progress) aside
    assert {task["code"]: task.get("deadline") for task in again}["K.1"] == "tháng 3/2026"
    with session_scope(school) as session:
        import_plan(session, read_plan(path), now=local(13, 1))
        tasks = {task.code: task for task in session.exec(select(Task))}
        assert (tasks["K.2"].deadline, tasks["K.2"].deadline_text) == (
            date(2026, 6, 30),
            "quý II/2026",
        )
        assert tasks["K.5"].deadline_text is None


def test_a_period_changed_to_a_date_is_shown_as_a_date(school: Engine, plan_path: Path) -> None:
    plan_path.write_text(PLAN.replace("deadline: quý II/2026", "deadline: 30/06/2026"), "utf-8")
    with session_scope(school) as session:
        import_plan(session, read_plan(plan_path), now=local(13, 1))
        task = session.exec(select(Task).where(Task.code == "K.2")).one()
        assert (task.deadline, task.deadline_text) == (date(2026, 6, 30), None)


# --- reminders --------------------------------------------------------------------------------


def reminders_until(engine: Engine, end: datetime) -> dict[str, list[tuple[str, date]]]:
    """Run the planner every morning from 13/01/2026 to `end`; each recurring task is reported
    done on its due day. The reminders each task got: (kind, day)."""
    got: dict[str, list[tuple[str, date]]] = {}
    day = local(13, 1, hour=8)
    with session_scope(engine) as session:
        while day < end:
            for row in plan_all(session, day, CalendarDefaults()):
                if row.task_id and row.kind != ReminderKind.BRIEF:
                    code = session.get(Task, row.task_id).code
                    got.setdefault(code, []).append(
                        (row.kind.value, row.due_at.astimezone(HCM).date())
                    )
            for task in session.exec(select(Task).where(Task.recurrence.is_not(None))):
                if task.occurrence == day.date() and task.status != TaskStatus.DONE:
                    record_progress(
                        session, task, None, source=UpdateSource.SYSTEM, now=day,
                        status=TaskStatus.DONE,
                    )  # fmt: skip
            day += timedelta(days=1)
    return {code: sorted(set(rows), key=lambda row: (row[1], row[0])) for code, rows in got.items()}


def test_reminders_come_on_the_right_days(school: Engine) -> None:
    got = reminders_until(school, local(1, 4, hour=8))
    due_days = {
        code: [day for kind, day in rows if kind == "due_day"] for code, rows in got.items()
    }
    # the end of March: Tuesday 31/03, reminded 7 days and 1 day before
    assert [row for row in got["K.1"] if row[1] >= date(2026, 3, 1)] == [
        ("before_7d", date(2026, 3, 24)),
        ("before_1d", date(2026, 3, 30)),
        ("due_day", date(2026, 3, 31)),
    ]
    # every other Friday from 09/01: 23/01, 06/02, 20/02, 06/03, 20/03 — never the Fridays between
    assert due_days["B.1"] == [
        date(2026, 1, 23),
        date(2026, 2, 6),
        date(2026, 2, 20),
        date(2026, 3, 6),
        date(2026, 3, 20),
    ]
    assert ("before_7d", date(2026, 1, 30)) in got["B.1"]  # a week before 06/02
    # the last Friday of January, February and March
    assert due_days["H.1"] == [date(2026, 1, 30), date(2026, 2, 27), date(2026, 3, 27)]
    # the first Monday of February and March (that of January, 05/01, came before the import)
    assert due_days["H.2"] == [date(2026, 2, 2), date(2026, 3, 2)]
    assert "K.4" not in got  # Q4/2026: not before December


# --- the Excel template's help sheet ----------------------------------------------------------

# Each form of schedule the plans of issue 9 need, with the rule a school writes for it.
FORMS = {
    "thứ Sáu hằng tuần": "weekly:fri",
    "định kỳ 2 tuần/lần vào thứ Sáu": "every:2w:fri",
    "2 tuần/lần vào thứ Sáu, từ ngày 09/01/2026": "every:2w:fri:09/01/2026",
    "ngày 25 hằng tháng": "monthly:25",
    "thứ Sáu tuần cuối mỗi tháng": "monthly:last-fri",
    "thứ Hai đầu tiên hằng tháng": "monthly:1st-mon",
    "hằng năm vào ngày 05/09": "yearly:05/09",
    "cuối mỗi học kỳ": "semester",
    "đầu năm học": "school_year",
    "thường xuyên": "ongoing",
    "khi có yêu cầu": "on_request",
}
RULE = re.compile(
    r"\b(?:weekly|monthly|yearly|every):[\w:/,-]+|\b(?:semester|school_year|ongoing|on_request)\b"
)


def form(rule: str) -> tuple[object, ...]:
    """What kind of schedule a rule is, whatever its days: every week or every few weeks (from a
    first day or not), a day or a weekday of the month (first or last week), a day of the year,
    the school calendar, or no date at all."""
    read = parse_recurrence(rule)
    weekday_of_month = None if read.nth is None else read.nth > 0
    return read.every, read.weeks > 1, read.start is not None, weekday_of_month, read.named


def test_the_help_sheet_names_every_form_of_schedule_the_importer_reads(
    cli: Cli, tmp_path: Path
) -> None:
    path = tmp_path / "mau.xlsx"
    cli("plan", "template", "--out", path)
    sheet = openpyxl.load_workbook(path)["Hướng dẫn"]
    guide = "\n".join(str(row[0]) for row in sheet.iter_rows(values_only=True))
    written = [rule.rstrip(",") for rule in RULE.findall(guide)]
    assert all(parse_recurrence(rule).rule == rule for rule in written), written
    assert {form(rule) for rule in FORMS.values()} <= {form(rule) for rule in written}
    assert all(form(words) == form(rule) for words, rule in FORMS.items())
    for words in ("định kỳ 2 tuần/lần vào thứ Sáu", "thường xuyên", "khi có yêu cầu"):
        assert words in guide
    for period, due in (("tháng 3/2026", date(2026, 3, 31)), ("quý II/2026", date(2026, 6, 30)),
                        ("năm 2026", date(2026, 12, 31))):  # fmt: skip
        assert period in guide and parse_deadline(period) == due
