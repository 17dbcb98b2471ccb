"""The weekly digest: its numbers, the next period, the chat text, the workbook, the chart and
/baocao (/report), against a small school with a controlled clock."""

import re
import struct
import warnings
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from handlers import reports
from handlers.chat import Incoming
from handlers.context import ChatConfig, Context
from messages import t
from models import (
    Attachment,
    Channel,
    DigestLog,
    Kpi,
    KpiValue,
    Member,
    ProgressUpdate,
    School,
    Task,
    TaskAssignee,
    TaskStatus,
    UpdateSource,
)
from models.db import session_scope
from services.digest import (
    Digest,
    compile_digest,
    digest_period,
    record_digest,
    week_period,
)
from services.digest_files import write_chart, write_workbook
from services.kpi_forecast import Outlook
from services.people import import_people
from services.permissions import load_actor
from services.plan_files import read_plan
from services.plan_store import import_plan
from services.progress import record_progress, undo_update
from services.weeks import parse_week, week_of
from tests.chat_school import PRINCIPAL, TEACHER, ChatSchool
from tests.telegram_harness import TelegramBot, texts

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
PLAN = """
school:
  code: BAOCAO
  name: Trường Báo Cáo
units:
  - {code: VP, name: Văn phòng}
  - {code: TCM, name: Tổ chuyên môn}
  - {code: BGH, name: Ban giám hiệu}
  - {code: CD, name: Công đoàn}
kpis:
  - {key: old_target, name: Chỉ tiêu năm 2025, measure: "%", direction: ">=", target: 90,
     year: 2025}
  - {key: dropout, name: Tỷ lệ học sinh bỏ học, measure: "%", direction: "<=", target: 0.5,
     year: 2026}
  - {key: efficiency, name: Hiệu suất đào tạo, measure: "%", direction: ">=", target: 96,
     year: 2026}
  - {key: facilities, name: Cơ sở vật chất hiện đại, direction: yes_no, target: true, year: 2026}
  - {key: online, name: Dịch vụ công trực tuyến, measure: "%", direction: ">=", target: 90,
     year: 2027}
  - {key: standard, name: Trường chuẩn quốc gia, direction: yes_no, target: true, year: 2028}
  - {key: digital, name: Hồ sơ số, measure: "%", direction: "=", target: 100, year: 2030}
tasks:
  - {code: T.DONE, title: Nộp báo cáo tháng, unit: VP, deadline: 20/11/2026}
  - {code: T.OVER, title: Số hoá hồ sơ, unit: VP, deadline: 25/11/2026}
  - {code: T.SOON, title: Rà soát thiết bị, unit: VP, deadline: 10/12/2026}
  - {code: T.REC, title: Báo cáo thứ Tư, unit: VP, recurrence: weekly:wed}
  - {code: T.TCM1, title: Soạn chuyên đề STEM, unit: TCM, deadline: 18/12/2026}
  - {code: T.TCM2, title: Dự giờ thao giảng, unit: TCM, deadline: 30/12/2026}
  - {code: T.BGH, title: Kiểm tra nội bộ, unit: BGH, deadline: 01/12/2026}
"""
PEOPLE = """name,unit,role,phone
Hiệu Trưởng,BGH,principal,0900000001
Phó Hiệu Trưởng,BGH,vice_principal,0900000002
Trưởng Văn Phòng,VP,unit_head,0900000003
Nhân Viên,VP,staff,0900000004
Tổ Trưởng,TCM,unit_head,0900000005
Giáo Viên,TCM,staff,0900000006
Người Đã Nghỉ,TCM,staff,0900000007
"""


def local(day: int, hour: int, minute: int = 0, month: int = 12) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=HCM)


# Friday 04/12/2026 16:30 in Hồ Chí Minh City: ISO week 2026-W49, which began on Monday 30/11.
NOW = local(4, 16, 30)
MONDAY = local(30, 0, month=11)
AFTER = local(4, 17)  # an update that arrives after the digest


def _update(session: Session, code: str, who: str, at: datetime, **change: object):
    task = session.exec(select(Task).where(Task.code == code)).one()
    member = session.exec(select(Member).where(Member.name == who)).one()
    return record_progress(session, task, member, source=UpdateSource.COMMAND, now=at, **change)


def _kpi_value(session: Session, key: str, value: float, at: datetime, **count: int) -> None:
    kpi = session.exec(select(Kpi).where(Kpi.key == key)).one()
    session.add(KpiValue(kpi_id=kpi.id, value=value, recorded_at=at, **count))


def _evidence(session: Session, code: str, at: datetime, name: str) -> None:
    task = session.exec(select(Task).where(Task.code == code)).one()
    session.add(Attachment(task_id=task.id, channel=Channel.TELEGRAM, file_id=name, created_at=at))


@pytest.fixture
def plan_school(engine: Engine, tmp_path: Path) -> Engine:
    """A small school with a week of reports, KPI values and evidence."""
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN, encoding="utf-8")
    people = tmp_path / "people.csv"
    people.write_text(PEOPLE, encoding="utf-8")
    with session_scope(engine) as session:
        import_plan(session, read_plan(plan), now=local(1, 0, month=11))
        target = session.exec(select(School)).one()
        import_people(session, target, people)
        members = {m.name: m for m in session.exec(select(Member)).all()}
        members["Người Đã Nghỉ"].active = False
        tasks = {task.code: task for task in session.exec(select(Task)).all()}
        tasks["T.REC"].occurrence = date(2026, 12, 2)  # Wednesday: overdue by Friday
        for code, name in (
            ("T.SOON", "Nhân Viên"),
            ("T.OVER", "Trưởng Văn Phòng"),
            ("T.TCM1", "Giáo Viên"),
            ("T.TCM2", "Người Đã Nghỉ"),  # inactive: not listed
        ):
            session.add(TaskAssignee(task_id=tasks[code].id, member_id=members[name].id))
        session.flush()
        # Before the period.
        _update(session, "T.TCM1", "Giáo Viên", local(20, 9, month=11), percent=20)
        _update(session, "T.OVER", "Trưởng Văn Phòng", local(27, 9, month=11), percent=40,
                note="bắt đầu")  # fmt: skip
        _evidence(session, "T.OVER", local(27, 9, month=11), "old")
        # In the period.
        _update(session, "T.OVER", "Trưởng Văn Phòng", local(1, 8),
                status=TaskStatus.BLOCKED, note="thiếu máy quét")  # fmt: skip
        _update(session, "T.DONE", "Trưởng Văn Phòng", local(1, 9),
                status=TaskStatus.DONE, note="đã nộp báo cáo")  # fmt: skip
        _evidence(session, "T.DONE", local(1, 9), "a")
        _evidence(session, "T.DONE", local(1, 9, 1), "b")
        _update(session, "T.OVER", "Trưởng Văn Phòng", local(2, 10), percent=60,
                note="còn khối 9")  # fmt: skip
        _update(session, "T.OVER", "Trưởng Văn Phòng", local(3, 8), percent=70)
        wrong = _update(session, "T.OVER", "Trưởng Văn Phòng", local(3, 9), percent=90,
                        note="nhầm")  # fmt: skip
        undo_update(session, wrong, members["Trưởng Văn Phòng"], local(3, 9, 5))
        rec = tasks["T.REC"]
        record_progress(session, rec, None, source=UpdateSource.SYSTEM, now=local(1, 7),
                        status=TaskStatus.TODO, percent=0, note="Chuyển sang kỳ mới")  # fmt: skip
        _update(session, "T.BGH", "Phó Hiệu Trưởng", local(3, 14), percent=30,
                status=TaskStatus.BLOCKED, note="chờ hướng dẫn của Phòng GD&ĐT")  # fmt: skip
        _evidence(session, "T.BGH", local(3, 14), "c")
        # KPI values: the one after the period's end is not this digest's.
        _kpi_value(session, "dropout", 0.6, local(1, 8, month=11))
        _kpi_value(session, "dropout", 0.4, local(2, 8))
        _kpi_value(session, "dropout", 0.7, AFTER)
        _kpi_value(session, "efficiency", 95.5, local(2, 8))
        _kpi_value(session, "old_target", 80, local(2, 8))
        _kpi_value(session, "online", 30, local(2, 8), numerator=3, denominator=10)
        _kpi_value(session, "digital", 50, local(2, 8))
        _kpi_value(session, "facilities", 1, local(2, 8))
    return engine


def digest_at(engine: Engine, now: datetime = NOW, start: datetime | None = None) -> Digest:
    with Session(engine) as session:
        school = session.exec(select(School)).one()
        period_start, end = digest_period(session, school, now)
        return compile_digest(session, school, start=start or period_start, end=end)


def context(session: Session, name: str = "Hiệu Trưởng", locale: str = "vi") -> Context:
    member = session.exec(select(Member).where(Member.name == name)).one()
    member.locale = locale
    return Context(
        session=session,
        now=NOW,
        config=ChatConfig(evidence_dir=Path("/nonexistent/evidence")),
        member=member,
        actor=load_actor(session, member),
        school=session.get(School, member.school_id),
    )


# --------------------------------------------------------------------------------------------
# Numbers
# --------------------------------------------------------------------------------------------


def test_the_period_starts_on_monday_and_the_totals_add_up(plan_school: Engine) -> None:
    digest = digest_at(plan_school)
    assert (digest.week.label, digest.start, digest.end, digest.today) == (
        "2026-W49",
        MONDAY,
        NOW,
        date(2026, 12, 4),
    )
    totals = digest.totals
    # 7 tasks, one done; (100 + 70 + 0 + 0 + 20 + 0 + 30) / 7; five reports in the period:
    # the undone one, the system's and last week's do not count.
    assert (totals.tasks, totals.done, totals.overdue, totals.updates) == (7, 1, 3, 5)
    assert totals.progress == pytest.approx(220 / 7)


def test_per_unit_rows_count_done_overdue_and_the_last_report(plan_school: Engine) -> None:
    rows = [
        (row.code, row.heads, row.tasks, row.done, row.overdue, row.last_report, row.progress)
        for row in digest_at(plan_school).units
    ]
    assert rows == [
        ("VP", ("Trưởng Văn Phòng",), 4, 1, 2, local(3, 8), 42.5),  # not the undone 09:00
        ("TCM", ("Tổ Trưởng",), 2, 0, 0, local(20, 9, month=11), 10.0),
        ("BGH", ("Hiệu Trưởng",), 1, 0, 1, local(3, 14), 30.0),  # no head: the principal
    ]  # CD has no tasks: no row


def test_overdue_due_soon_and_the_five_to_follow_up_first(plan_school: Engine) -> None:
    digest = digest_at(plan_school)
    assert [(item.code, item.due) for item in digest.overdue] == [
        ("T.OVER", date(2026, 11, 25)),
        ("T.BGH", date(2026, 12, 1)),
        ("T.REC", date(2026, 12, 2)),  # the recurring task's occurrence under way
    ]
    # Today to today + 14 days, inclusive; T.TCM2 (30/12) is further away.
    assert [(item.code, item.due, item.assignee) for item in digest.due_soon] == [
        ("T.SOON", date(2026, 12, 10), "Nhân Viên"),
        ("T.TCM1", date(2026, 12, 18), "Giáo Viên"),
    ]
    # Nearest to today first; T.OVER, overdue by more than 5 days, comes last.
    assert [item.code for item in digest.urgent] == ["T.REC", "T.BGH", "T.SOON", "T.TCM1", "T.OVER"]


def test_what_needs_a_decision(plan_school: Engine) -> None:
    digest = digest_at(plan_school)
    # T.OVER was blocked on Tuesday but moved on since; T.BGH is still blocked.
    assert [(b.task.code, b.who, b.since, b.note) for b in digest.blockers] == [
        ("T.BGH", "Phó Hiệu Trưởng", local(3, 14), "chờ hướng dẫn của Phòng GD&ĐT")
    ]
    assert [(k.key, k.value, k.projected) for k in digest.kpis_at_risk] == [
        ("efficiency", 95.5, 95.5),
        ("online", 30, 30),
        ("digital", 50, 50),
    ]
    # TCM's last report was on 20/11, two weeks and more before the end.
    assert [(s.unit.code, s.last_report, s.quiet_since) for s in digest.silent_units] == [
        ("TCM", local(20, 9, month=11), local(20, 9, month=11))
    ]
    assert digest.long_overdue_days == 5  # the school's escalation threshold
    assert [(late.unit.code, late.count, late.oldest.code) for late in digest.long_overdue] == [
        ("VP", 1, "T.OVER")
    ]
    assert digest.decisions == 6


def test_every_kpi_with_its_latest_value_and_outlook(plan_school: Engine) -> None:
    kpis = [(k.key, k.target_year, k.value, k.outlook) for k in digest_at(plan_school).kpis]
    assert kpis == [
        ("old_target", 2025, 80, Outlook.NOT_MET),  # the target date is past
        ("dropout", 2026, 0.4, Outlook.MET),  # 0.7 came after the period's end
        ("efficiency", 2026, 95.5, Outlook.AT_RISK),
        ("facilities", 2026, 1, Outlook.MET),
        ("online", 2027, 30, Outlook.AT_RISK),
        ("standard", 2028, None, Outlook.NO_DATA),
        ("digital", 2030, 50, Outlook.AT_RISK),
    ]


def test_an_update_after_a_digest_is_counted_in_the_next_one(plan_school: Engine) -> None:
    first = digest_at(plan_school)
    with session_scope(plan_school) as session:
        target = session.exec(select(School)).one()
        log = record_digest(session, target, first.week.label, first.start, first.end)
        again = record_digest(session, target, first.week.label, first.start, local(4, 18))
        assert again.id == log.id and again.period_end == NOW
        _update(session, "T.TCM1", "Giáo Viên", AFTER, percent=40, note="đã soạn xong")
    with Session(plan_school) as session:
        assert len(session.exec(select(DigestLog)).all()) == 1
    # The first digest's period, compiled again later, still leaves it out.
    with Session(plan_school) as session:
        target = session.exec(select(School)).one()
        late = compile_digest(session, target, start=MONDAY, end=NOW)
    assert late == first
    # On demand, the same evening: from the digest's end.
    evening = digest_at(plan_school, now=local(4, 18))
    assert (evening.start, evening.end, evening.totals.updates) == (NOW, local(4, 18), 1)
    # Next week's digest: TCM reported, so it is no longer silent.
    friday = local(11, 16, 30)
    second = digest_at(plan_school, now=friday)
    assert (second.week.label, second.start, second.totals.updates) == ("2026-W50", NOW, 1)
    assert "TCM" not in [silent.unit.code for silent in second.silent_units]


def test_a_past_week_reads_as_it_did_at_its_end(plan_school: Engine) -> None:
    """History replay: whatever happens later — new reports, an undo, a recurring task moved
    on, a late KPI value, a new assignee, a task added — the week's digest stays the same."""
    with Session(plan_school) as session:
        school = session.exec(select(School)).one()
        week = parse_week("2026-W49")
        full_week = week_period(session, school, week, local(7, 9))
        assert full_week == (MONDAY, local(7, 0))
        then = compile_digest(session, school, start=MONDAY, end=local(7, 0))
        then_text = reports.render_digest(context(session), then)
    with session_scope(plan_school) as session:
        members = {m.name: m for m in session.exec(select(Member)).all()}
        tasks = {task.code: task for task in session.exec(select(Task)).all()}
        latest = _update(session, "T.BGH", "Phó Hiệu Trưởng", local(8, 9), status=TaskStatus.DONE)
        _update(session, "T.SOON", "Nhân Viên", local(8, 10), percent=50, note="làm tiếp")
        undo_update(session, latest, members["Phó Hiệu Trưởng"], local(8, 11))
        seventy = session.exec(
            select(ProgressUpdate).where(ProgressUpdate.percent == 70)
        ).one()  # T.OVER's last report of W49, taken back the next week
        undo_update(session, seventy, members["Trưởng Văn Phòng"], local(9, 8))
        rec = tasks["T.REC"]
        record_progress(session, rec, members["Trưởng Văn Phòng"], source=UpdateSource.COMMAND,
                        now=local(8, 8), status=TaskStatus.DONE)  # fmt: skip
        rec.occurrence = date(2026, 12, 9)
        record_progress(session, rec, None, source=UpdateSource.SYSTEM, now=local(9, 7),
                        status=TaskStatus.TODO, percent=0, note="Chuyển sang kỳ mới")  # fmt: skip
        _kpi_value(session, "efficiency", 97, local(8, 8))
        session.add(TaskAssignee(task_id=tasks["T.TCM2"].id, member_id=members["Tổ Trưởng"].id,
                                 assigned_at=local(8, 8)))  # fmt: skip
        session.add(Task(school_id=rec.school_id, code="T.NEW", title="Việc mới",
                         unit_id=rec.unit_id, deadline=date(2026, 12, 1),
                         created_at=local(8, 7)))  # fmt: skip
    with Session(plan_school) as session:
        school = session.exec(select(School)).one()
        now = compile_digest(session, school, start=MONDAY, end=local(7, 0))
        assert now == then
        assert reports.render_digest(context(session), now) == then_text
        # and the next week sees what happened in it, late or not
        after = compile_digest(session, school, start=local(7, 0), end=local(11, 16, 30))
    states = {item.code: (item.status, item.progress) for item in after.tasks}
    assert states["T.OVER"] == (TaskStatus.IN_PROGRESS, 60)  # the 70 was taken back
    assert states["T.BGH"] == (TaskStatus.BLOCKED, 30)
    assert "T.NEW" in states and after.totals.updates == 2  # T.SOON and T.REC; T.BGH undone


def test_a_done_task_says_how_late_it_was_done_in_the_workbook(
    plan_school: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "bao-cao.xlsx"
    with Session(plan_school) as session:
        write_workbook(digest_at(plan_school), session, path)
    tasks = openpyxl.load_workbook(path)["Nhiệm vụ"]
    timing = {row[0].value: row[6].value for row in tasks.iter_rows(min_row=2)}
    assert timing["T.DONE"] == "hoàn thành trễ 11 ngày"  # due 20/11, done 01/12
    assert timing["T.OVER"] == "quá hạn 9 ngày"
    assert timing["T.SOON"] == "còn 6 ngày"


def test_without_any_digest_the_period_starts_monday_in_the_school_zone(
    plan_school: Engine,
) -> None:
    with Session(plan_school) as session:
        target = session.exec(select(School)).one()
        sunday_night = local(6, 23, 59)
        assert digest_period(session, target, sunday_night) == (MONDAY, sunday_night)
        monday_early = local(7, 0, 1)  # still Sunday in UTC
        assert digest_period(session, target, monday_early) == (local(7, 0), monday_early)


def test_an_empty_school_has_a_digest_of_zeros(engine: Engine, tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text("school: {code: TRONG, name: Trường trống}\nunits:\n  - {code: VP, name: VP}\n")
    with session_scope(engine) as session:
        import_plan(session, read_plan(plan), now=local(1, 0, month=11))
    digest = digest_at(engine)
    assert (digest.totals.tasks, digest.totals.progress, digest.units, digest.kpis) == (
        0,
        0.0,
        (),
        (),
    )
    write_chart(digest, tmp_path / "empty.png")
    assert (tmp_path / "empty.png").read_bytes().startswith(b"\x89PNG")


# --------------------------------------------------------------------------------------------
# Weeks
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "monday", "sunday", "dates"),
    [
        ("2026-W01", date(2025, 12, 29), date(2026, 1, 4), "29/12/2025–04/01/2026"),
        ("2026-W10", date(2026, 3, 2), date(2026, 3, 8), "02/03–08/03/2026"),
        ("2026-W47", date(2026, 11, 16), date(2026, 11, 22), "16/11–22/11/2026"),
        ("2026-W52", date(2026, 12, 21), date(2026, 12, 27), "21/12–27/12/2026"),
        ("2026-W53", date(2026, 12, 28), date(2027, 1, 3), "28/12/2026–03/01/2027"),
        ("2027-W01", date(2027, 1, 4), date(2027, 1, 10), "04/01–10/01/2027"),
    ],
)
def test_iso_weeks_and_their_dates(label: str, monday: date, sunday: date, dates: str) -> None:
    week = parse_week(label)
    assert (week.label, week.monday, week.sunday, week.dates()) == (label, monday, sunday, dates)
    assert week_of(monday) == week_of(sunday) == week
    assert week_of(monday - timedelta(days=1)) != week


@pytest.mark.parametrize("label", ["2027-W53", "2026-W54", "2026-W00", "W49", "2026-49"])
def test_a_week_that_does_not_exist_is_refused(label: str) -> None:
    with pytest.raises(ValueError):
        parse_week(label)


@pytest.mark.parametrize(
    ("label", "dates"),
    [
        ("2026-W10", "02/03–08/03/2026"),
        ("2026-W47", "16/11–22/11/2026"),
        ("2026-W48", "23/11–29/11/2026"),
    ],
)
def test_the_digest_command_labels_the_week_asked_for(
    cli, tmp_path: Path, label: str, dates: str
) -> None:
    cli("plan", "import")
    output = cli("digest", "--week", label, "--out", tmp_path).output
    assert output.startswith(f"📊 Tuần {dates} — Trường THCS Thị Trấn 2\n")
    assert (tmp_path / f"bao-cao-tuan-{label}.xlsx").is_file()
    assert (tmp_path / f"tien-do-{label}.png").is_file()


def test_the_digest_command_refuses_a_week_not_begun_or_not_existing(cli) -> None:
    cli("plan", "import")
    future = cli("digest", "--week", "2026-W50", expect=2).output
    assert "Tuần 2026-W50 (07/12–13/12/2026) chưa bắt đầu" in future
    assert "Tuần '2027-W53' không có" in cli("digest", "--week", "2027-W53", expect=2).output


# --------------------------------------------------------------------------------------------
# The chat text
# --------------------------------------------------------------------------------------------


def rendered(engine: Engine, locale: str = "vi") -> str:
    with Session(engine) as session:
        ctx = context(session, locale=locale)
        return reports.render_digest(ctx, digest_at(engine))


def test_the_digest_reads_on_one_screen_with_the_decisions_first(plan_school: Engine) -> None:
    text = rendered(plan_school)
    assert text.split("\n") == [
        "📊 <b>Tuần 30/11–06/12/2026</b> — Trường Báo Cáo",
        "Từ 00:00 30/11 đến 16:30 04/12: tiến độ chung 31,4% · xong 1/7 việc · 3 việc quá hạn · "
        "5 lượt báo cáo",
        "",
        "<b>Cần thầy/cô quyết (6)</b>",
        "• 🚧 <b>T.BGH</b> gặp vướng mắc từ 03/12 (Phó Hiệu Trưởng): "
        "<i>chờ hướng dẫn của Phòng GD&amp;ĐT</i>",
        "• 📉 Hiệu suất đào tạo: 95,5% (02/12), dự báo 95,5% vào 31/12/2026 — có nguy cơ không "
        "đạt mục tiêu ít nhất 96%",
        "• 📉 Dịch vụ công trực tuyến: 30% (3/10) (02/12), dự báo 30% vào 31/12/2027 — có nguy "
        "cơ không đạt mục tiêu ít nhất 90%",
        "• 📉 Hồ sơ số: 50% (02/12), dự báo 50% vào 31/12/2030 — có nguy cơ không đạt mục tiêu "
        "100%",
        "• 🔕 Tổ chuyên môn (Tổ Trưởng) chưa báo cáo từ 20/11",
        "• ⏳ Văn phòng (Trưởng Văn Phòng): 1 việc quá hạn hơn 5 ngày, lâu nhất <b>T.OVER</b> "
        "từ 25/11",
        "",
        "<b>Tổ/bộ phận</b> (xong/tổng số việc · quá hạn · báo cáo gần nhất)",
        "• Văn phòng: 1/4 · 2 · 03/12",
        "• Tổ chuyên môn: 0/2 · 0 · 20/11",
        "• Ban giám hiệu: 0/1 · 1 · 03/12",
        "",
        "<b>Cần đôn đốc trước</b> (5 trong 5 việc quá hạn hoặc sắp đến hạn)",
        "<i>Văn phòng</i>",
        "• <b>T.REC</b> Báo cáo thứ Tư — quá hạn 2 ngày, 0%",
        "• <b>T.SOON</b> Rà soát thiết bị — còn 6 ngày, 0%",
        "• <b>T.OVER</b> Số hoá hồ sơ — quá hạn 9 ngày, 70%",
        "<i>Tổ chuyên môn</i>",
        "• <b>T.TCM1</b> Soạn chuyên đề STEM — còn 14 ngày, 20%",
        "<i>Ban giám hiệu</i>",
        "• <b>T.BGH</b> Kiểm tra nội bộ — quá hạn 3 ngày, 30%",
        "",
        "Chỉ số: 2 đạt · 3 có nguy cơ không đạt · 1 chưa đạt; 1 chỉ số chưa có số liệu — xem "
        "tệp Excel.",
        "<i>📎 Kèm bảng tính Excel (đủ mọi việc, báo cáo, chỉ số) và biểu đồ tiến độ.</i>",
    ]
    assert set(re.findall(r"</?([a-z]+)", text)) <= {"b", "i"}


def test_the_principal_is_addressed_as_thay_or_co(plan_school: Engine) -> None:
    with session_scope(plan_school) as session:
        principal = session.exec(select(Member).where(Member.name == "Hiệu Trưởng")).one()
        principal.salutation = "cô"
    assert "<b>Cần cô quyết (6)</b>" in rendered(plan_school).split("\n")


def test_the_digest_in_english(plan_school: Engine) -> None:
    lines = rendered(plan_school, "en").split("\n")
    assert "📊 <b>Week 30/11–06/12/2026</b> — Trường Báo Cáo" in lines
    assert "<b>For your decision (6)</b>" in lines
    assert "• <b>T.REC</b> Báo cáo thứ Tư — 2 days overdue, 0%" in lines
    assert "• ⏳ Văn phòng (Trưởng Văn Phòng): 1 task overdue past the 5-day limit, " \
        "<b>T.OVER</b> since 25/11" in lines  # fmt: skip


def test_a_quiet_week_has_nothing_to_decide(engine: Engine, tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        "school: {code: YEN, name: Trường Yên}\nunits:\n  - {code: VP, name: Văn phòng}\n"
        "tasks:\n  - {code: T1, title: Việc xa, unit: VP, deadline: 30/06/2027}\n",
        encoding="utf-8",
    )
    with session_scope(engine) as session:
        import_plan(session, read_plan(plan), now=local(28, 0, month=11))
    with Session(engine) as session:
        ctx = Context(session=session, now=NOW, config=ChatConfig(evidence_dir=tmp_path))
        ctx.school = session.exec(select(School)).one()
        text = reports.render_digest(ctx, digest_at(engine))
    assert "<b>Cần thầy/cô quyết</b>: tuần này không có việc nào." in text.split("\n")
    assert "Không có việc quá hạn hay đến hạn trong 14 ngày tới." in text


def test_a_long_blocker_reason_reads_on_one_short_line(plan_school: Engine) -> None:
    with session_scope(plan_school) as session:
        _update(session, "T.SOON", "Nhân Viên", local(4, 9), status=TaskStatus.BLOCKED,
                note="dòng một\n\n<b>dòng hai</b> " + "x" * 400)  # fmt: skip
    line = next(line for line in rendered(plan_school).split("\n") if "dòng một" in line)
    assert line.startswith(
        "• 🚧 <b>T.SOON</b> gặp vướng mắc từ 04/12 (Nhân Viên): "
        "<i>dòng một &lt;b&gt;dòng hai&lt;/b&gt; xxx"
    )
    assert line.endswith("x…</i>") and len(line) < 250


def test_a_long_digest_is_split_between_sections() -> None:
    sections = [f"<b>Mục {n}</b>\n" + "\n".join(["• dòng khá dài " * 10] * 8) for n in range(9)]
    text = reports.Rich("\n\n".join(sections))
    parts = reports.split_sections(text, limit=4096)
    assert len(parts) > 1 and all(len(part) <= 4096 for part in parts)
    assert all(part.startswith("<b>Mục ") for part in parts)
    assert "\n\n".join(parts) == text


# --------------------------------------------------------------------------------------------
# The workbook and the chart
# --------------------------------------------------------------------------------------------

TASK_HEADERS = [
    "Mã",
    "Nhiệm vụ",
    "Tổ/bộ phận",
    "Người thực hiện",
    "Hạn",
    "Trạng thái",
    "So với hạn",
    "Tiến độ (%)",
    "Báo cáo gần nhất",
]
UNIT_HEADERS = [
    "Tổ/bộ phận",
    "Tổ trưởng/phụ trách",
    "Số việc",
    "Đã xong",
    "Quá hạn",
    "Tiến độ TB (%)",
    "Báo cáo gần nhất",
]
UPDATE_HEADERS = [
    "Thời gian",
    "Mã",
    "Nhiệm vụ",
    "Người báo cáo",
    "Tiến độ (%)",
    "Trạng thái",
    "Ghi chú",
]
KPI_HEADERS = [
    "Mã",
    "Chỉ số",
    "Mục tiêu",
    "Năm",
    "Giá trị mới nhất",
    "Ngày ghi",
    "Dự báo đến hạn",
    "Đánh giá",
]
SHEETS = ["Nhiệm vụ", "Tổ, bộ phận", "Báo cáo trong kỳ", "Chỉ số"]


def test_the_workbook_has_every_number_of_the_digest(plan_school: Engine, tmp_path: Path) -> None:
    path = tmp_path / "out" / "bao-cao.xlsx"
    with Session(plan_school) as session:
        write_workbook(digest_at(plan_school), session, path)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == SHEETS
    assert [t(f"xlsx.digest.sheet.{s}") for s in ("tasks", "units", "updates", "kpis")] == SHEETS
    tasks, units, updates, kpis = (book[name] for name in book.sheetnames)
    for sheet, headers, wide in (
        (tasks, TASK_HEADERS, "B"),
        (units, UNIT_HEADERS, "A"),
        (updates, UPDATE_HEADERS, "C"),
        (kpis, KPI_HEADERS, "B"),
    ):
        assert [cell.value for cell in sheet[1]] == headers
        assert all(cell.font.bold for cell in sheet[1])
        assert sheet.freeze_panes == "A2"
        assert sheet.column_dimensions[wide].width >= 28
    assert (tasks.max_row, units.max_row, updates.max_row, kpis.max_row) == (8, 4, 6, 8)

    over = [cell.value for cell in tasks[3]]
    assert over == [
        "T.OVER",
        "Số hoá hồ sơ",
        "Văn phòng",
        "Trưởng Văn Phòng",
        datetime(2026, 11, 25),
        "đang thực hiện",
        "quá hạn 9 ngày",
        70,
        datetime(2026, 12, 3, 8, 0),  # local time, without a zone
    ]
    assert tasks["E3"].number_format == "DD/MM/YYYY"
    assert tasks["I3"].number_format == "DD/MM/YYYY HH:MM"
    assert tasks["I4"].value is None  # T.SOON: never reported
    assert tasks["E5"].value == datetime(2026, 12, 2)  # T.REC's occurrence

    assert [cell.value for cell in units[2]] == [
        "Văn phòng", "Trưởng Văn Phòng", 4, 1, 2, 42.5, datetime(2026, 12, 3, 8, 0),
    ]  # fmt: skip

    first = [cell.value for cell in updates[2]]
    assert first == [
        datetime(2026, 12, 1, 8, 0),
        "T.OVER",
        "Số hoá hồ sơ",
        "Trưởng Văn Phòng",
        None,
        "gặp vướng mắc",
        "thiếu máy quét",
    ]
    assert updates["A2"].number_format == "DD/MM/YYYY HH:MM"

    rows = {row[0].value: [cell.value for cell in row] for row in kpis.iter_rows(min_row=2)}
    assert rows["dropout"][:6] == [
        "dropout",
        "Tỷ lệ học sinh bỏ học",
        "không quá 0,5%",
        2026,
        0.4,
        datetime(2026, 12, 2),
    ]
    assert rows["dropout"][7] == "đạt"
    assert rows["facilities"][4] == "có"
    assert rows["standard"][4:] == [None, None, None, "chưa có số liệu"]
    assert rows["online"][6:] == [30, "có nguy cơ không đạt"]
    assert kpis["F3"].number_format == "DD/MM/YYYY"


def test_user_text_in_the_workbook_is_never_a_formula(plan_school: Engine, tmp_path: Path) -> None:
    with session_scope(plan_school) as session:
        _update(session, "T.SOON", "Nhân Viên", local(4, 9), percent=10,
                note="=HYPERLINK(\"http://x\")\x07 hết")  # fmt: skip
    path = tmp_path / "bao-cao.xlsx"
    with Session(plan_school) as session:
        write_workbook(digest_at(plan_school), session, path)
    sheet = openpyxl.load_workbook(path)["Báo cáo trong kỳ"]
    cell = sheet.cell(row=sheet.max_row, column=7)
    assert (cell.value, cell.data_type) == ('=HYPERLINK("http://x") hết', "s")


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_the_chart_is_a_png_with_vietnamese_text_and_no_missing_glyphs(
    plan_school: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "tien-do.png"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph … missing from font(s)" would fail here
        write_chart(digest_at(plan_school), path)
    width, height = png_size(path)
    assert width == 960 and 300 <= height <= 600
    assert 5_000 < path.stat().st_size < 500_000


# --------------------------------------------------------------------------------------------
# /baocao (/report)
# --------------------------------------------------------------------------------------------

REFUSAL = (
    "Chỉ hiệu trưởng và phó hiệu trưởng xem được báo cáo tổng hợp, vì báo cáo có số liệu của "
    "mọi tổ/bộ phận. Xin thầy/cô gõ /viec để xem việc cá nhân và của tổ."
)


def _join(chat: ChatSchool, user_id: str, name: str) -> None:
    outcome = chat.core.handle(
        Incoming(Channel.TELEGRAM, user_id, user_id, text=f"/start {chat.codes[name]}")
    )
    assert f"Chào thầy/cô {name}!" in outcome.replies[0].text


def test_report_command_sends_the_digest_with_the_workbook_and_chart(
    school: ChatSchool,
) -> None:
    _join(school, "101", PRINCIPAL)
    outcome = school.core.handle(Incoming(Channel.TELEGRAM, "101", "101", text="/baocao"))
    *_, last = outcome.replies
    [reply] = outcome.replies  # one message
    assert reply.text.startswith(
        "📊 <b>Tuần 23/11–29/11/2026</b> — Trường THCS Thị Trấn 2\n"
        "Từ 00:00 23/11 đến 10:00 26/11: tiến độ chung 0% · xong 0/42 việc"
    )
    xlsx, png = last.files
    assert (xlsx.name, png.name) == ("bao-cao-tuan-2026-W48.xlsx", "tien-do-2026-W48.png")
    assert xlsx.parent == school.evidence_dir.parent / "reports" / "THCS-TT2" / "2026-W48"
    assert openpyxl.load_workbook(xlsx).sheetnames == SHEETS
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with school.session() as session:  # on demand: no digest is recorded
        assert session.exec(select(DigestLog)).all() == []
    english = school.core.handle(Incoming(Channel.TELEGRAM, "101", "101", text="/report"))
    assert english.replies[-1].files


def test_report_command_is_refused_to_teachers_and_in_groups(school: ChatSchool) -> None:
    _join(school, "106", TEACHER)
    _join(school, "101", PRINCIPAL)
    outcome = school.core.handle(Incoming(Channel.TELEGRAM, "106", "106", text="/baocao"))
    assert [(reply.text, reply.files) for reply in outcome.replies] == [(REFUSAL, ())]
    in_group = school.core.handle(
        Incoming(Channel.TELEGRAM, "101", "-100777", text="/baocao", is_group=True)
    )
    assert [reply.text for reply in in_group.replies] == [
        "Báo cáo tổng hợp có số liệu của mọi tổ/bộ phận nên chỉ gửi trong tin nhắn riêng. "
        "Thầy/cô vui lòng nhắn riêng /baocao cho bot."
    ]
    assert not (school.evidence_dir.parent / "reports").exists()


async def test_report_through_telegram(bot: TelegramBot) -> None:
    await bot.join(101, PRINCIPAL)
    await bot.join(106, TEACHER)
    sent = await bot.say(101, "/baocao")
    messages = [m for m in sent if m.get("plain_text")]
    assert len(messages) == 1 and messages[0]["plain_text"].startswith("📊 Tuần 23/11–29/11/2026")
    assert "Cần thầy/cô quyết" in texts(messages)
    documents = [m for m in sent if m["method"] == "sendDocument"]
    photos = [m for m in sent if m["method"] == "sendPhoto"]
    assert len(documents) == 1 and len(photos) == 1
    assert [p["document"] for method, p in bot.tg.calls if method == "sendDocument"][-1]
    assert texts(await bot.say(106, "/baocao")) == REFUSAL
