"""The official periodic report (/baocao thang|quy, dondoc report): the facts of a month or a
quarter classified with the Government's follow-up categories, the .docx in the layout of
Decree 30/2020/NĐ-CP opened again with python-docx, the command line, and the chat command on
Telegram (the file) and Zalo (a text summary)."""

import re
import shutil
import subprocess
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import docx
import pytest
from docx.shared import Pt
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models import Kpi, KpiValue, Member, School, Task, TaskStatus, UpdateSource
from models.db import session_scope
from services.people import import_people
from services.period_report import (
    Category,
    FuturePeriod,
    Period,
    PeriodKind,
    PeriodReport,
    compile_period_report,
    parse_period,
    period_of,
)
from services.plan_files import read_plan
from services.plan_store import import_plan
from services.progress import record_progress, undo_update
from services.report_docx import Letterhead, day_month, write_report
from tests.chat_school import PRINCIPAL, TEACHER
from tests.telegram_harness import TelegramBot, texts
from tests.zalo_harness import ZaloBot

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
PLAN = """
school:
  code: THCS-TT2
  name: Trường THCS Thị Trấn 2
  plan: "Kế hoạch số 28/KH-THCSTT2 ngày 29/01/2026 triển khai thực hiện Nghị quyết số 71-NQ/TW"
units:
  - {code: BGH, name: Ban giám hiệu}
  - {code: VP, name: Văn phòng}
  - {code: TCM, name: Tổ chuyên môn}
kpis:
  - {key: dropout, name: Tỷ lệ học sinh bỏ học, measure: "%", direction: "<=", target: 0.5,
     year: 2026}
  - {key: online, name: Dịch vụ công trực tuyến, measure: "%", direction: ">=", target: 90,
     year: 2027}
tasks:
  - {code: A.ONTIME, title: Nộp báo cáo tháng, unit: VP, deadline: 10/12/2026}
  - {code: A.EARLY, title: Rà soát hồ sơ, unit: VP, deadline: 20/11/2026}
  - {code: B.LATE, title: Số hoá hồ sơ, unit: VP, deadline: 05/12/2026}
  - {code: B.INTIME, title: Soạn chuyên đề STEM, unit: TCM, deadline: 15/01/2027}
  - {code: C.OVER, title: Sửa phòng thực hành, unit: TCM, deadline: 20/12/2026}
  - {code: C.LASTDAY, title: Tổng kết học kỳ, unit: BGH, deadline: 31/12/2026}
  - {code: D.WEEKLY, title: Báo cáo thứ Tư, unit: VP, recurrence: weekly:wed}
  - {code: E.ONGOING, title: Tuyên truyền Nghị quyết, unit: BGH, recurrence: ongoing}
  - {code: F.YEARLY, title: Tổng kết năm học, unit: BGH, recurrence: yearly:15/05}
  - {code: G.UNDONE, title: Kiểm tra nội bộ, unit: BGH, deadline: 03/12/2026}
  - {code: H.LATER, title: Dự giờ thao giảng, unit: TCM, deadline: 10/12/2026}
"""
PEOPLE = """name,unit,role,phone
Nguyễn Văn Hiếu,BGH,principal,0900000001
Trần Thị Mai,VP,unit_head,0900000003
Hoàng Thị Thu,TCM,unit_head,0900000005
"""
# What December 2026 must say, task by task (a weekly task once per occurrence reached).
EXPECTED = {
    Category.ON_TIME: ["A.EARLY", "D.WEEKLY", "A.ONTIME"],  # by due day: 20/11, 02/12, 10/12
    Category.LATE: ["B.LATE", "D.WEEKLY"],  # 05/12 done 12/12; 09/12 done 10/12
    Category.IN_TIME: ["C.LASTDAY", "B.INTIME", "F.YEARLY"],  # 31/12 is still within it
    Category.OVERDUE: ["G.UNDONE", "H.LATER", "D.WEEKLY", "C.OVER"],  # 03/12, 10/12, 16/12, 20/12
    Category.ONGOING: ["E.ONGOING"],
}
DECEMBER = Period(PeriodKind.MONTH, 2026, 12)
AFTER = datetime(2027, 1, 5, 10, 0, tzinfo=HCM)  # when December's report is asked for


def local(day: int, month: int = 12, year: int = 2026, hour: int = 9) -> datetime:
    return datetime(year, month, day, hour, tzinfo=HCM)


def _task(session: Session, code: str) -> Task:
    return session.exec(select(Task).where(Task.code == code)).one()


def _member(session: Session, name: str) -> Member:
    return session.exec(select(Member).where(Member.name == name)).one()


def _report(session: Session, code: str, who: str, at: datetime, **change: object):
    return record_progress(
        session, _task(session, code), _member(session, who), source=UpdateSource.COMMAND,
        now=at, **change,
    )  # fmt: skip


def _occurrence_done(session: Session, at: datetime, then: date) -> None:
    """D.WEEKLY's occurrence under way is done at `at`; the planner moves it on to `then`."""
    task = _task(session, "D.WEEKLY")
    _report(session, "D.WEEKLY", "Trần Thị Mai", at, status=TaskStatus.DONE)
    task.occurrence = then
    record_progress(
        session, task, None, source=UpdateSource.SYSTEM, now=at + timedelta(hours=12),
        status=TaskStatus.TODO, percent=0,
    )  # fmt: skip


@pytest.fixture
def report_school(engine: Engine, tmp_path: Path) -> Engine:
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN, encoding="utf-8")
    people = tmp_path / "people.csv"
    people.write_text(PEOPLE, encoding="utf-8")
    with session_scope(engine) as session:
        import_plan(session, read_plan(plan), now=local(1, 11))
        school = session.exec(select(School)).one()
        import_people(session, school, people)
        _task(session, "D.WEEKLY").occurrence = date(2026, 12, 2)
        mai, thu = "Trần Thị Mai", "Hoàng Thị Thu"
        _report(session, "A.EARLY", mai, local(15, 11), status=TaskStatus.DONE)
        _report(session, "B.LATE", mai, local(20, 11), percent=20, note="ghi chú tháng 11")
        _report(session, "A.ONTIME", mai, local(8), status=TaskStatus.DONE)
        _report(session, "B.LATE", mai, local(3), percent=60, note="đang   số hoá\nhồ sơ")
        _report(session, "B.LATE", mai, local(12), status=TaskStatus.DONE, note="đã nộp bản cuối")
        _report(session, "B.INTIME", thu, local(14), percent=40)
        _report(session, "C.OVER", thu, local(18), percent=30, note="chờ kinh phí sửa chữa")
        _report(session, "E.ONGOING", "Nguyễn Văn Hiếu", local(10), percent=50)
        update = _report(session, "G.UNDONE", "Nguyễn Văn Hiếu", local(2), status=TaskStatus.DONE)
        undo_update(session, update, _member(session, "Nguyễn Văn Hiếu"), local(4))
        _report(session, "H.LATER", thu, local(3, 1, 2027), status=TaskStatus.DONE)
        _occurrence_done(session, local(2), date(2026, 12, 9))  # on time
        _occurrence_done(session, local(10), date(2026, 12, 16))  # a day late; 16/12 never done
        kpis = {kpi.key: kpi for kpi in session.exec(select(Kpi)).all()}
        session.add(KpiValue(kpi_id=kpis["dropout"].id, value=0.4, recorded_at=local(10)))
        session.add(KpiValue(kpi_id=kpis["online"].id, value=95, recorded_at=local(2, 1, 2027)))
    return engine


def compiled(engine: Engine, period: Period = DECEMBER, now: datetime = AFTER) -> PeriodReport:
    with Session(engine) as session:
        school = session.exec(select(School)).one()
        return compile_period_report(session, school, period, now)


def codes(report: PeriodReport) -> dict[Category, list[str]]:
    return {category: [e.task.code for e in report.of(category)] for category in Category}


# --- periods -----------------------------------------------------------------------------------


def test_periods_are_typed_as_months_and_quarters() -> None:
    assert parse_period("2026-12") == DECEMBER
    assert parse_period(" 2026-q4 ") == Period(PeriodKind.QUARTER, 2026, 4)
    for wrong in ("2026-13", "2026-Q5", "12/2026", "2026", "tháng 12"):
        with pytest.raises(ValueError):
            parse_period(wrong)
    quarter = parse_period("2026-Q4")
    assert (quarter.first_day, quarter.last_day, quarter.label) == (
        date(2026, 10, 1), date(2026, 12, 31), "2026-Q4",
    )  # fmt: skip
    assert DECEMBER.next == Period(PeriodKind.MONTH, 2027, 1)
    assert DECEMBER.starts(HCM) == datetime(2026, 12, 1, tzinfo=HCM)
    assert DECEMBER.ends(HCM) == datetime(2027, 1, 1, tzinfo=HCM)
    february = date(2027, 2, 10)
    assert period_of(PeriodKind.MONTH, february) == Period(PeriodKind.MONTH, 2027, 2)
    assert period_of(PeriodKind.MONTH, february, 11) == Period(PeriodKind.MONTH, 2026, 11)
    assert period_of(PeriodKind.QUARTER, february) == Period(PeriodKind.QUARTER, 2027, 1)
    assert day_month(date(2027, 1, 5)) == ("05", "01")
    assert day_month(date(2026, 3, 15)) == ("15", "3")  # the decree's zeros: days < 10, months 1-2


# --- the facts ---------------------------------------------------------------------------------


def test_every_task_is_classified_as_it_stood_at_the_end_of_the_period(
    report_school: Engine,
) -> None:
    report = compiled(report_school)
    assert report.complete and report.as_of == date(2026, 12, 31)
    assert codes(report) == EXPECTED
    assert report.counts == {category: len(found) for category, found in EXPECTED.items()}
    assert report.followed == 12
    late = {e.task.code: (e.due, e.done_on, e.days_late) for e in report.of(Category.LATE)}
    assert late == {
        "B.LATE": (date(2026, 12, 5), date(2026, 12, 12), 7),
        "D.WEEKLY": (date(2026, 12, 9), date(2026, 12, 10), 1),
    }
    [yearly] = [e for e in report.of(Category.IN_TIME) if e.task.code == "F.YEARLY"]
    assert yearly.due == date(2027, 5, 15)  # no occurrence in December: the next one, once
    # done in December: A.ONTIME, B.LATE and two weekly occurrences (not A.EARLY, in November)
    assert report.done_in_period == 4
    assert (report.plan_number, report.issuer_code) == ("28/KH-THCSTT2", "THCSTT2")
    assert report.principal == "Nguyễn Văn Hiếu"
    # the KPIs as of the end: January's value is not there yet
    values = {item.key: item.value for item in report.kpis}
    assert values == {"dropout": 0.4, "online": None}
    # the units' notes of the period, the latest per task, quoted as one line
    assert [(n.code, n.unit, n.who, n.note) for n in report.notes] == [
        ("B.LATE", "Văn phòng", "Trần Thị Mai", "đã nộp bản cuối"),
        ("C.OVER", "Tổ chuyên môn", "Hoàng Thị Thu", "chờ kinh phí sửa chữa"),
    ]


def test_the_quarter_and_the_month_under_way(report_school: Engine) -> None:
    quarter = compiled(report_school, parse_period("2026-Q4"))
    assert codes(quarter) == EXPECTED  # the history began in November
    assert quarter.done_in_period == 5  # with A.EARLY, done in November
    assert [n.note for n in quarter.notes] == ["đã nộp bản cuối", "chờ kinh phí sửa chữa"]
    november = compiled(report_school, parse_period("2026-11"))
    assert [n.note for n in november.notes] == ["ghi chú tháng 11"]  # the latest per task
    january = compiled(report_school, parse_period("2027-01"))
    assert not january.complete and january.as_of == date(2027, 1, 5)
    found = codes(january)
    assert "H.LATER" in found[Category.LATE]  # done on 03/01
    assert "C.LASTDAY" in found[Category.OVERDUE]
    with pytest.raises(FuturePeriod):
        compiled(report_school, parse_period("2027-02"))


# --- the document ------------------------------------------------------------------------------


def paragraphs(document: docx.document.Document) -> list[str]:
    return [p.text for p in document.paragraphs]


def cell_texts(table) -> list[list[str]]:
    return [[cell.text for cell in row.cells] for row in table.rows]


def test_the_docx_has_the_administrative_layout_and_the_numbers(
    report_school: Engine, tmp_path: Path
) -> None:
    report = compiled(report_school)
    head = Letterhead(parent="UBND xã Tân An Hội", place="Tân An Hội")
    path = write_report(report, tmp_path / "bc.docx", issued=date(2027, 1, 5), letterhead=head)
    document = docx.Document(str(path))

    section = document.sections[0]
    measured = [section.page_width, section.page_height, section.top_margin,
                section.bottom_margin, section.left_margin, section.right_margin]  # fmt: skip
    assert [round(length.mm) for length in measured if length is not None] == [
        210,
        297,
        20,
        20,
        30,
        15,
    ]  # A4; the decree's margins: top and bottom 20-25, left 30-35, right 15-20 mm
    normal = document.styles["Normal"]
    assert normal.font.name == "Times New Roman" and normal.font.size == Pt(14)

    header, *_, closing = document.tables
    (body, motto), (number, dated) = cell_texts(header)
    assert body.splitlines()[:2] == ["UBND XÃ TÂN AN HỘI", "TRƯỜNG THCS THỊ TRẤN 2"]
    assert motto.splitlines()[:2] == [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
    ]  # fmt: skip
    assert re.fullmatch(r"Số: +/BC-THCSTT2", number)
    assert dated == "Tân An Hội, ngày 05 tháng 01 năm 2027"
    school_cell = header.rows[0].cells[0].paragraphs
    assert school_cell[1].runs[0].bold and not school_cell[0].runs[0].bold
    assert header.rows[1].cells[1].paragraphs[0].runs[0].italic

    text = paragraphs(document)
    assert "BÁO CÁO" in text
    assert (
        "Kết quả thực hiện Kế hoạch số 28/KH-THCSTT2 ngày 29/01/2026 triển khai thực hiện Nghị "
        "quyết số 71-NQ/TW, tháng 12 năm 2026"
    ) in text
    for heading in ("I. KHÁI QUÁT CHUNG", "II. KẾT QUẢ THỰC HIỆN NHIỆM VỤ",
                    "III. KẾT QUẢ THỰC HIỆN CÁC CHỈ TIÊU", "IV. Ý KIẾN CỦA CÁC TỔ, BỘ PHẬN",
                    "V. PHƯƠNG HƯỚNG, NHIỆM VỤ KỲ TỚI"):  # fmt: skip
        assert heading in text
    assert "1. Đã hoàn thành đúng hạn: 3 nhiệm vụ" in text
    assert "2. Đã hoàn thành nhưng quá hạn: 2 nhiệm vụ" in text
    assert "3. Chưa hoàn thành, còn trong hạn: 3 nhiệm vụ" in text
    assert "4. Chưa hoàn thành, đã quá hạn: 4 nhiệm vụ" in text
    assert any(line.startswith("5. Nhiệm vụ thường xuyên") and line.endswith(": 1 nhiệm vụ")
               for line in text)  # fmt: skip
    assert (
        "- B.LATE: Số hoá hồ sơ (Văn phòng; hạn 05/12/2026; hoàn thành ngày 12/12/2026, trễ 7 "
        "ngày)."
    ) in text
    assert (
        "- C.OVER: Sửa phòng thực hành (Tổ chuyên môn; hạn 20/12/2026, quá hạn 11 ngày; đã thực "
        "hiện 30%)."
    ) in text
    assert (
        "- D.WEEKLY: Báo cáo thứ Tư (hằng tuần vào thứ Tư) (Văn phòng; hạn 02/12/2026; hoàn "
        "thành ngày 02/12/2026)."
    ) in text
    assert (
        "- E.ONGOING: Tuyên truyền Nghị quyết (Ban giám hiệu; thường xuyên; đã thực hiện 50%)."
        in text
    )
    # the table of counts against the fixture, with the share of each
    counts = next(t for t in document.tables if cell_texts(t)[0][1] == "Nội dung")
    rows = {row[1]: row[2:] for row in cell_texts(counts)[1:]}
    assert rows["Đã hoàn thành đúng hạn"] == ["3", "25%"]
    assert rows["Đã hoàn thành nhưng quá hạn"] == ["2", "16,7%"]
    assert rows["Chưa hoàn thành, còn trong hạn"] == ["3", "25%"]
    assert rows["Chưa hoàn thành, đã quá hạn"] == ["4", "33,3%"]
    assert rows["Tổng số theo dõi theo thời hạn"] == ["12", "100%"]
    kpis = next(t for t in document.tables if cell_texts(t)[0][1] == "Chỉ tiêu")
    assert cell_texts(kpis)[1:] == [
        ["1", "Tỷ lệ học sinh bỏ học", "không quá 0,5% (năm 2026)", "0,4% (ngày 10/12/2026)",
         "đạt"],
        ["2", "Dịch vụ công trực tuyến", "ít nhất 90% (năm 2027)", "chưa có số liệu",
         "chưa có số liệu"],
    ]  # fmt: skip
    assert cell_texts(kpis)[0][3] == "Kết quả đến 31/12/2026"
    assert "- Văn phòng, nhiệm vụ B.LATE (Trần Thị Mai, ngày 12/12/2026): “đã nộp bản cuối”" in text
    quote = next(p for p in document.paragraphs if "chờ kinh phí" in p.text)
    assert quote.runs[-1].italic
    assert (
        "- Tập trung hoàn thành ngay 4 nhiệm vụ đã quá hạn: G.UNDONE, H.LATER, D.WEEKLY, C.OVER."
        in text
    )
    assert any(line.endswith("./.") for line in text)

    (recipients, signature) = cell_texts(closing)[0]
    assert recipients.splitlines() == [
        "Nơi nhận:", "- UBND xã Tân An Hội (b/c);", "- Ban giám hiệu;", "- Các tổ, bộ phận;",
        "- Lưu: VT.",
    ]  # fmt: skip
    lines = [line for line in signature.splitlines() if line]
    assert lines == ["HIỆU TRƯỞNG", "Nguyễn Văn Hiếu"]
    assert document.core_properties.author == "Trường THCS Thị Trấn 2"


def test_without_a_letterhead_the_school_heads_the_document(
    report_school: Engine, tmp_path: Path
) -> None:
    report = compiled(report_school, parse_period("2027-01"))
    path = write_report(report, tmp_path / "bc.docx", issued=date(2027, 1, 5))
    document = docx.Document(str(path))
    (body, _), (_, dated) = cell_texts(document.tables[0])
    assert body.splitlines()[0] == "TRƯỜNG THCS THỊ TRẤN 2"
    assert dated == "……………, ngày 05 tháng 01 năm 2027"
    assert "(số liệu tính đến 10:00 ngày 05/01/2027)" in paragraphs(document)
    recipients = cell_texts(document.tables[-1])[0][0]
    assert "(b/c)" not in recipients


# --- the command line --------------------------------------------------------------------------


def test_dondoc_report_writes_the_docx(
    cli, report_school: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.cli.utcnow", lambda: AFTER)
    out = tmp_path / "out"
    result = cli("report", "--period", "2026-Q4", "--out", out, "--place", "Tân An Hội",
                 "--parent", "UBND xã Tân An Hội")  # fmt: skip
    lines = result.output.splitlines()
    assert lines[0] == "📄 Báo cáo quý IV năm 2026 — Trường THCS Thị Trấn 2"
    assert "• Chưa hoàn thành, đã quá hạn: 4" in lines
    assert lines[-1] == f"Đã ghi tệp: {out / 'bao-cao-2026-Q4.docx'}"
    document = docx.Document(str(out / "bao-cao-2026-Q4.docx"))
    assert cell_texts(document.tables[0])[1][1] == "Tân An Hội, ngày 05 tháng 01 năm 2027"
    assert any(p.text.endswith("quý IV năm 2026") for p in document.paragraphs)


def test_the_plan_files_letterhead_heads_the_report_and_survives_excel(
    cli, report_school: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The school writes its letterhead once, in the plan file (or its Excel form): every
    report carries it; a flag on the command line still wins for one report."""
    letterhead = "  settings:\n    letterhead: {parent: UBND XÃ TÂN AN HỘI, place: Tân An Hội}\n"
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN.replace("units:\n", letterhead + "units:\n", 1), encoding="utf-8")
    cli("plan", "import", plan)
    workbook = tmp_path / "ke-hoach.xlsx"
    cli("plan", "export", "--format", "xlsx", "--out", workbook)
    cli("plan", "import", workbook)  # back from Excel: the same letterhead
    monkeypatch.setattr("bot.cli.utcnow", lambda: AFTER)
    out = tmp_path / "out"
    cli("report", "--period", "2026-12", "--out", out)
    document = docx.Document(str(out / "bao-cao-2026-12.docx"))
    (body, _), (_, dated) = cell_texts(document.tables[0])
    assert body.splitlines()[:2] == ["UBND XÃ TÂN AN HỘI", "TRƯỜNG THCS THỊ TRẤN 2"]
    assert dated == "Tân An Hội, ngày 05 tháng 01 năm 2027"
    cli("report", "--period", "2026-12", "--out", out, "--place", "Thị trấn")
    document = docx.Document(str(out / "bao-cao-2026-12.docx"))
    assert cell_texts(document.tables[0])[1][1].startswith("Thị trấn, ngày 05")


@pytest.mark.parametrize("period", ["2026-13", "12/2026", "Q4"])
def test_dondoc_report_says_how_to_write_a_period(cli, report_school: Engine, period: str) -> None:
    result = cli("report", "--period", period, expect=2)
    assert (
        f"Kỳ báo cáo '{period}' không đúng; hãy ghi tháng dạng 2026-12 hoặc quý dạng 2026-Q4."
        in result.output
    )


def test_dondoc_report_refuses_a_period_to_come(
    cli, report_school: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.cli.utcnow", lambda: AFTER)
    result = cli("report", "--period", "2027-Q2", expect=2)
    assert "Kỳ 2027-Q2 chưa bắt đầu nên chưa có báo cáo." in result.output


# --- chat --------------------------------------------------------------------------------------


def said(sent: list) -> str:
    return texts([message for message in sent if message.get("plain_text")])


async def test_telegram_principal_receives_the_month_as_a_word_file(bot: TelegramBot) -> None:
    await bot.join(101, PRINCIPAL)
    await bot.join(106, TEACHER)
    sent = await bot.say(101, "/baocao thang")
    summary = said(sent)
    assert summary.startswith("📄 Báo cáo tháng 11 năm 2026 — Trường THCS Thị Trấn 2\n")
    assert "Số liệu đến 10:00 ngày 26/11/2026" in summary
    assert "• Đã hoàn thành đúng hạn: 0" in summary
    assert "tệp Word đính kèm" in summary
    documents = [p for method, p in bot.tg.calls if method == "sendDocument"]
    assert len(documents) == 1
    folder = bot.school.evidence_dir.parent / "reports" / "THCS-TT2" / "2026-11"
    report = docx.Document(str(folder / "bao-cao-2026-11.docx"))
    assert "BÁO CÁO" in paragraphs(report)
    # the quarter, a past month by its number, and words that are not a period
    assert "quý IV năm 2026" in said(await bot.say(101, "/baocao quý"))
    assert "tháng 10 năm 2026" in said(await bot.say(101, "/baocao thang 10"))
    wrong = said(await bot.say(101, "/baocao nam"))
    assert wrong.startswith("Báo cáo định kỳ: gõ /baocao thang (tháng này)")
    assert "Chỉ hiệu trưởng và phó hiệu trưởng" in said(await bot.say(106, "/baocao thang"))
    assert len([1 for method, _ in bot.tg.calls if method == "sendDocument"]) == 3


async def test_zalo_principal_receives_a_text_summary(zalo_bot: ZaloBot) -> None:
    await zalo_bot.join(PRINCIPAL)
    answer = "\n".join(await zalo_bot.say(PRINCIPAL, "/baocao quy"))
    assert answer.startswith("📄 Báo cáo quý IV năm 2026 — Trường THCS Thị Trấn 2")
    for name in ("Đã hoàn thành đúng hạn", "Đã hoàn thành nhưng quá hạn",
                 "Chưa hoàn thành, còn trong hạn", "Chưa hoàn thành, đã quá hạn"):  # fmt: skip
        assert f"• {name}: " in answer
    assert "Kênh này không gửi được tệp: báo cáo đầy đủ (bao-cao-2026-Q4.docx)" in answer
    with session_scope(zalo_bot.school.engine) as session:
        school = session.exec(select(School)).one()
        report = compile_period_report(
            session, school, Period(PeriodKind.QUARTER, 2026, 4), zalo_bot.school.clock()
        )
    assert f"• Chưa hoàn thành, đã quá hạn: {report.counts[Category.OVERDUE]}" in answer
    assert f"• Chưa hoàn thành, còn trong hạn: {report.counts[Category.IN_TIME]}" in answer


# --- rendered once, to be seen -----------------------------------------------------------------


@pytest.mark.slow
def test_the_docx_renders_to_pdf_with_libreoffice(report_school: Engine, tmp_path: Path) -> None:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip(
            "LibreOffice is not installed (Debian: apt-get install libreoffice-writer-nogui)"
        )
    report = compiled(report_school)
    path = write_report(report, tmp_path / "bao-cao.docx", issued=date(2027, 1, 5),
                        letterhead=Letterhead(place="Tân An Hội"))  # fmt: skip
    started = time.monotonic()
    subprocess.run(
        [soffice, "--headless", f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}",
         "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    pdf = tmp_path / "bao-cao.pdf"
    assert pdf.read_bytes().startswith(b"%PDF-"), time.monotonic() - started
    if shutil.which("pdftotext") is None:
        assert re.search(rb"/Type\s*/Page\b", pdf.read_bytes())
        return
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    assert "BÁO CÁO" in text
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text
    assert "Nơi nhận:" in text and "HIỆU TRƯỞNG" in text
    assert "Tân An Hội, ngày 05 tháng 01 năm 2027" in text
