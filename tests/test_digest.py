"""The weekly digest: its numbers, the next period, the chat text, the workbook, the chart and
/baocao (/report), against a small school with a controlled clock."""

import re
import struct
import warnings
from datetime import date, datetime
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
    School,
    Task,
    TaskAssignee,
    TaskStatus,
    UpdateSource,
)
from models.db import session_scope
from services.digest import (
    Digest,
    DigestKpiStatus,
    compile_digest,
    digest_period,
    record_digest,
)
from services.digest_files import write_chart, write_workbook
from services.people import import_people
from services.permissions import load_actor
from services.plan_files import read_plan
from services.plan_store import import_plan
from services.progress import record_progress, undo_update
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
        return compile_digest(session, school, start=start or period_start, end=end, now=now)


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
    assert (digest.week, digest.start, digest.end, digest.today) == (
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


def test_per_unit_rows_count_open_done_overdue_and_the_last_report(plan_school: Engine) -> None:
    rows = [
        (row.code, row.open, row.done, row.overdue, row.last_report, row.progress)
        for row in digest_at(plan_school).units
    ]
    assert rows == [
        ("VP", 3, 1, 2, local(3, 8), 42.5),  # the undone 09:00 report is not the last
        ("TCM", 2, 0, 0, local(20, 9, month=11), 10.0),
        ("BGH", 1, 0, 1, local(3, 14), 30.0),
    ]  # CD has no tasks: no row


def test_overdue_and_due_soon_lists(plan_school: Engine) -> None:
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


def test_units_and_people_who_did_not_report(plan_school: Engine) -> None:
    digest = digest_at(plan_school)
    assert [unit.code for unit in digest.silent_units] == ["TCM"]
    assert [(p.name, p.units, p.tasks) for p in digest.silent_people] == [
        ("Nhân Viên", (), ("T.SOON",)),
        ("Tổ Trưởng", ("Tổ chuyên môn",), ()),
        ("Giáo Viên", (), ("T.TCM1",)),
    ]  # Trưởng Văn Phòng reported on T.OVER; Người Đã Nghỉ is no longer active


def test_every_kpi_with_its_latest_value_and_status(plan_school: Engine) -> None:
    kpis = [(k.key, k.target_year, k.value, k.status) for k in digest_at(plan_school).kpis]
    assert kpis == [
        ("old_target", 2025, 80, DigestKpiStatus.NOT_MET),  # the target year is past
        ("dropout", 2026, 0.4, DigestKpiStatus.MET),  # 0.7 came after the period's end
        ("efficiency", 2026, 95.5, DigestKpiStatus.AT_RISK),  # not met, this year
        ("facilities", 2026, 1, DigestKpiStatus.MET),
        ("online", 2027, 30, DigestKpiStatus.AT_RISK),  # not met, next year
        ("standard", 2028, None, DigestKpiStatus.NO_DATA),
        ("digital", 2030, 50, DigestKpiStatus.NOT_MET),  # more than a year away
    ]


def test_notes_blocked_first_then_newest_and_new_evidence(plan_school: Engine) -> None:
    digest = digest_at(plan_school)
    assert [(n.task_code, n.note, n.status, n.at) for n in digest.notes] == [
        ("T.BGH", "chờ hướng dẫn của Phòng GD&ĐT", TaskStatus.BLOCKED, local(3, 14)),
        ("T.OVER", "thiếu máy quét", TaskStatus.BLOCKED, local(1, 8)),
        ("T.OVER", "còn khối 9", TaskStatus.IN_PROGRESS, local(2, 10)),
        ("T.DONE", "đã nộp báo cáo", TaskStatus.DONE, local(1, 9)),
    ]
    assert digest.notes_total == 4
    assert [(e.code, e.count) for e in digest.evidence] == [("T.DONE", 2), ("T.BGH", 1)]
    assert digest.evidence_total == 3


def test_at_most_ten_notes(plan_school: Engine) -> None:
    with session_scope(plan_school) as session:
        for minute in range(12):
            _update(session, "T.SOON", "Nhân Viên", local(4, 9, minute), percent=minute,
                    note=f"ghi chú {minute}")  # fmt: skip
    digest = digest_at(plan_school)
    assert len(digest.notes) == 10 and digest.notes_total == 16
    assert [n.note for n in digest.notes[:3]] == [
        "chờ hướng dẫn của Phòng GD&ĐT",
        "thiếu máy quét",
        "ghi chú 11",
    ]


def test_an_update_after_a_digest_is_counted_in_the_next_one(plan_school: Engine) -> None:
    first = digest_at(plan_school)
    with session_scope(plan_school) as session:
        target = session.exec(select(School)).one()
        log = record_digest(session, target, first.week, first.start, first.end)
        again = record_digest(session, target, first.week, first.start, local(4, 18))
        assert again.id == log.id and again.period_end == NOW
        _update(session, "T.TCM1", "Giáo Viên", AFTER, percent=40, note="đã soạn xong")
    with Session(plan_school) as session:
        assert len(session.exec(select(DigestLog)).all()) == 1
    # The first digest's period, compiled again later, still leaves it out.
    with Session(plan_school) as session:
        target = session.exec(select(School)).one()
        late = compile_digest(session, target, start=MONDAY, end=NOW, now=local(4, 18))
    assert late.totals.updates == 5
    # On demand, the same evening: from the digest's end.
    evening = digest_at(plan_school, now=local(4, 18))
    assert (evening.start, evening.end, evening.totals.updates) == (NOW, local(4, 18), 1)
    assert [n.note for n in evening.notes] == ["đã soạn xong"]
    # Next week's digest: TCM reported, and so did Giáo Viên.
    friday = local(11, 16, 30)
    second = digest_at(plan_school, now=friday)
    assert (second.week, second.start, second.totals.updates) == ("2026-W50", NOW, 1)
    assert "TCM" not in [unit.code for unit in second.silent_units]
    assert "Giáo Viên" not in [person.name for person in second.silent_people]


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
        import_plan(session, read_plan(plan), now=NOW)
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
# The chat text
# --------------------------------------------------------------------------------------------


def rendered(engine: Engine, locale: str = "vi") -> str:
    with Session(engine) as session:
        ctx = context(session, locale=locale)
        return reports.render_digest(ctx, digest_at(engine))


def test_the_digest_reads_in_vietnamese(plan_school: Engine) -> None:
    text = rendered(plan_school)
    lines = text.split("\n")
    expected = [
        "<b>Báo cáo tuần 2026-W49</b> — Trường Báo Cáo",
        "Kỳ báo cáo: từ 00:00 30/11/2026 đến 16:30 04/12/2026",
        "Tiến độ chung: <b>31,4%</b> · hoàn thành 1/7 nhiệm vụ · quá hạn 3 · "
        "5 lượt cập nhật trong kỳ",
        "• <b>Văn phòng</b> 42,5%: 3 đang mở, 1 xong, 2 quá hạn; "
        "báo cáo gần nhất: 08:00 03/12/2026",
        "• <b>Tổ chuyên môn</b> 10%: 2 đang mở, 0 xong, 0 quá hạn; "
        "báo cáo gần nhất: 09:00 20/11/2026",
        "<b>Quá hạn (3)</b>",
        "• <b>T.OVER</b> Số hoá hồ sơ — Văn phòng — hạn 25/11/2026 (quá hạn 9 ngày) — 70%",
        "• <b>T.BGH</b> Kiểm tra nội bộ — Ban giám hiệu — hạn 01/12/2026 (quá hạn 3 ngày) — 30%",
        "• <b>T.REC</b> Báo cáo thứ Tư — Văn phòng — hạn 02/12/2026 (quá hạn 2 ngày) — 0%",
        "<b>Đến hạn trong 14 ngày tới (2)</b>",
        "• <b>T.SOON</b> Rà soát thiết bị — Văn phòng — hạn 10/12/2026 (còn 6 ngày) — 0%",
        "<b>Chưa báo cáo trong kỳ</b>",
        "Tổ/bộ phận: Tổ chuyên môn",
        "Cá nhân: Nhân Viên (việc T.SOON), Tổ Trưởng (phụ trách Tổ chuyên môn), "
        "Giáo Viên (việc T.TCM1)",
        "<b>Chỉ số so với mục tiêu</b>: 2 đạt · 2 có nguy cơ · 2 chưa đạt · 1 chưa có số liệu",
        "• Chỉ tiêu năm 2025: 80% (02/12/2026) — mục tiêu 2025: ≥ 90% — <b>chưa đạt</b>",
        "• Tỷ lệ học sinh bỏ học: 0,4% (02/12/2026) — mục tiêu 2026: ≤ 0,5% — <b>đạt</b>",
        "• Hiệu suất đào tạo: 95,5% (02/12/2026) — mục tiêu 2026: ≥ 96% — <b>có nguy cơ</b>",
        "• Cơ sở vật chất hiện đại: có (02/12/2026) — mục tiêu 2026: phải đạt — <b>đạt</b>",
        "• Dịch vụ công trực tuyến: 30% (3/10) (02/12/2026) — mục tiêu 2027: ≥ 90% — "
        "<b>có nguy cơ</b>",
        "• Trường chuẩn quốc gia — mục tiêu 2028: phải đạt — <i>chưa có số liệu</i>",
        "• Hồ sơ số: 50% (02/12/2026) — mục tiêu 2030: 100% — <b>chưa đạt</b>",
        "<b>Ghi chú đáng chú ý</b>",
        "• <b>T.BGH</b> · Phó Hiệu Trưởng, 14:00 03/12/2026: 30% (gặp vướng mắc) — "
        "<i>chờ hướng dẫn của Phòng GD&amp;ĐT</i>",
        "• <b>T.OVER</b> · Trưởng Văn Phòng, 08:00 01/12/2026: gặp vướng mắc — "
        "<i>thiếu máy quét</i>",
        "• <b>T.OVER</b> · Trưởng Văn Phòng, 10:00 02/12/2026: 60% (đang thực hiện) — "
        "<i>còn khối 9</i>",
        "• <b>T.DONE</b> · Trưởng Văn Phòng, 09:00 01/12/2026: 100% (hoàn thành) — "
        "<i>đã nộp báo cáo</i>",
        "<b>Minh chứng mới (3)</b>",
        "• <b>T.DONE</b> Nộp báo cáo tháng: 2 tệp",
        "• <b>T.BGH</b> Kiểm tra nội bộ: 1 tệp",
    ]
    assert [line for line in expected if line not in lines] == []
    assert text.endswith(
        "<i>Kèm theo: bảng tính Excel (nhiệm vụ, cập nhật trong kỳ, chỉ số) và biểu đồ "
        "tiến độ theo tổ/bộ phận.</i>"
    )
    assert set(re.findall(r"</?([a-z]+)", text)) <= {"b", "i", "code"}
    assert len(text) < 4096  # one Telegram message


def test_the_digest_in_english_uses_decimal_points(plan_school: Engine) -> None:
    lines = rendered(plan_school, "en").split("\n")
    assert (
        "Overall progress: <b>31.4%</b> · 1/7 tasks done · 3 overdue · 5 updates in the period"
    ) in lines
    assert "<b>KPIs against target</b>: 2 met · 2 at risk · 2 not met · 1 no data" in lines


def test_a_long_digest_is_split_between_sections() -> None:
    sections = [f"<b>Mục {n}</b>\n" + "\n".join(["• dòng khá dài " * 10] * 8) for n in range(9)]
    text = reports.Html("\n\n".join(sections))
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
    "Hạn",
    "Trạng thái",
    "Tiến độ (%)",
    "Cập nhật gần nhất",
]
UPDATE_HEADERS = [
    "Thời gian",
    "Mã",
    "Nhiệm vụ",
    "Người cập nhật",
    "Tiến độ (%)",
    "Trạng thái",
    "Ghi chú",
]
KPI_HEADERS = ["Mã", "Chỉ số", "Mục tiêu", "Năm", "Giá trị mới nhất", "Ngày ghi", "Đánh giá"]


def test_the_workbook_has_three_sheets_with_frozen_headers_and_real_dates(
    plan_school: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "out" / "bao-cao.xlsx"
    with Session(plan_school) as session:
        write_workbook(digest_at(plan_school), session, path)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Nhiệm vụ", "Cập nhật trong tuần", "Chỉ số"]
    assert book.sheetnames == [t(f"xlsx.digest.sheet.{s}") for s in ("tasks", "updates", "kpis")]
    tasks, updates, kpis = (book[name] for name in book.sheetnames)
    for sheet, headers, wide in (
        (tasks, TASK_HEADERS, "B"),
        (updates, UPDATE_HEADERS, "C"),
        (kpis, KPI_HEADERS, "B"),
    ):
        assert [cell.value for cell in sheet[1]] == headers
        assert all(cell.font.bold for cell in sheet[1])
        assert sheet.freeze_panes == "A2"
        assert sheet.column_dimensions[wide].width >= 40  # the titles
        assert sheet.column_dimensions["A"].width >= 12
    assert (tasks.max_row, updates.max_row, kpis.max_row) == (8, 6, 8)

    over = [cell.value for cell in tasks[3]]
    assert over == [
        "T.OVER",
        "Số hoá hồ sơ",
        "Văn phòng",
        datetime(2026, 11, 25),
        "đang thực hiện (quá hạn)",
        70,
        datetime(2026, 12, 3, 8, 0),  # local time, without a zone
    ]
    assert tasks["D3"].number_format == "DD/MM/YYYY"
    assert tasks["G3"].number_format == "DD/MM/YYYY HH:MM"
    assert tasks["G4"].value is None  # T.SOON: never reported
    assert tasks["D5"].value == datetime(2026, 12, 2)  # T.REC's occurrence

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
    assert rows["dropout"] == [
        "dropout",
        "Tỷ lệ học sinh bỏ học",
        "≤ 0,5%",
        2026,
        0.4,
        datetime(2026, 12, 2),
        "đạt",
    ]
    assert rows["facilities"][4] == "có"
    assert rows["standard"][4:] == [None, None, "chưa có số liệu"]
    assert rows["online"][6] == "có nguy cơ"
    assert kpis["F3"].number_format == "DD/MM/YYYY"


def test_user_text_in_the_workbook_is_never_a_formula(plan_school: Engine, tmp_path: Path) -> None:
    with session_scope(plan_school) as session:
        _update(session, "T.SOON", "Nhân Viên", local(4, 9), percent=10,
                note="=HYPERLINK(\"http://x\")\x07 hết")  # fmt: skip
    path = tmp_path / "bao-cao.xlsx"
    with Session(plan_school) as session:
        write_workbook(digest_at(plan_school), session, path)
    sheet = openpyxl.load_workbook(path)["Cập nhật trong tuần"]
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
    assert outcome.replies[0].text.startswith(
        "<b>Báo cáo tuần 2026-W48</b> — Trường THCS Thị Trấn 2\n"
        "Kỳ báo cáo: từ 00:00 23/11/2026 đến 10:00 26/11/2026"
    )
    assert all(len(reply.text) <= 4096 for reply in outcome.replies)
    xlsx, png = last.files
    assert (xlsx.name, png.name) == ("bao-cao-tuan-2026-W48.xlsx", "tien-do-2026-W48.png")
    assert xlsx.parent == school.evidence_dir.parent / "reports" / "THCS-TT2" / "2026-W48"
    assert openpyxl.load_workbook(xlsx).sheetnames == ["Nhiệm vụ", "Cập nhật trong tuần", "Chỉ số"]
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
    assert messages and messages[0]["plain_text"].startswith("Báo cáo tuần 2026-W48")
    assert "Chỉ số so với mục tiêu" in texts(messages)
    documents = [m for m in sent if m["method"] == "sendDocument"]
    photos = [m for m in sent if m["method"] == "sendPhoto"]
    assert len(documents) == 1 and len(photos) == 1
    assert [p["document"] for method, p in bot.tg.calls if method == "sendDocument"][-1]
    assert texts(await bot.say(106, "/baocao")) == REFUSAL


def test_a_long_note_with_line_breaks_reads_on_one_line(plan_school: Engine) -> None:
    with session_scope(plan_school) as session:
        _update(session, "T.SOON", "Nhân Viên", local(4, 9), percent=10,
                note="dòng một\n\n<b>dòng hai</b> " + "x" * 400)  # fmt: skip
    line = next(line for line in rendered(plan_school).split("\n") if "dòng một" in line)
    assert line.startswith(
        "• <b>T.SOON</b> · Nhân Viên, 09:00 04/12/2026: 10% (đang thực hiện) — "
        "<i>dòng một &lt;b&gt;dòng hai&lt;/b&gt; xxx"
    )
    assert line.endswith("x…</i>") and len(line) < 400
