"""Targets as real plans write them: a range ("tỷ lệ học sinh lên lớp đạt 95–98%"), at least a
count ("có ít nhất 3 giáo viên đạt giáo viên dạy giỏi cấp huyện") and a target in words reported
as achieved or not ("đạt 1 giải Nhì cấp tỉnh"). Each is written in a plan file, imported, recorded
with /chiso by the principal, and read back in the reply, the projection and the digest; the plan
file survives export and import unchanged, and a bad target is refused at its line."""

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from handlers.chat import Incoming
from models import Channel, Direction, Kpi, Reminder, ReminderKind, School
from models.db import session_scope
from services.digest import compile_digest
from services.invitations import issue_invitations
from services.kpi_forecast import Outlook
from services.people import import_people
from services.plan_files import PlanFileError, dump_text, read_plan
from services.plan_files import write_workbook as write_plan_workbook
from services.plan_store import export_plan, import_plan
from tests.chat_school import ChatSchool, Clock
from tests.plan_school import plan_file

PLAN = """\
school: {code: THU, name: Trường Thử}
units:
  - {code: BGH, name: Ban giám hiệu}
kpis:
  # "Tỷ lệ học sinh lên lớp đạt 95–98%"
  - {key: len_lop, name: Tỷ lệ học sinh lên lớp, measure: "%", target: "95–98%", year: 2026}
  # "Có ít nhất 3 giáo viên đạt giáo viên dạy giỏi cấp huyện"
  - {key: gvdg, name: Giáo viên dạy giỏi cấp huyện, measure: giáo viên, direction: ">=",
     target: 3, year: 2026}
  # "Đạt 1 giải Nhì cấp tỉnh"
  - {key: giai_nhi, name: Giải học sinh giỏi cấp tỉnh, target: 1 giải Nhì cấp tỉnh, year: 2026}
"""
PEOPLE = "name,unit,role,phone\nHiệu Trưởng,BGH,principal,0900000001\n"
PRINCIPAL = "7001"


def at(day: str) -> datetime:
    """10:00 in Hồ Chí Minh City on `day` (dd/mm) of 2026."""
    return datetime.strptime(f"{day}/2026 03:00", "%d/%m/%Y %H:%M").replace(tzinfo=UTC)


def plain(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html).replace("&lt;", "<").replace("&gt;", ">")


@pytest.fixture
def plan_path(tmp_path: Path) -> Path:
    return plan_file(tmp_path, PLAN)


@pytest.fixture
def chat(engine: Engine, plan_path: Path, tmp_path: Path) -> ChatSchool:
    """The plan imported, its principal joined by chat on 01/10/2026."""
    people = tmp_path / "can-bo.csv"
    people.write_text(PEOPLE, encoding="utf-8")
    clock = Clock(at("01/10"))
    with session_scope(engine) as session:
        import_plan(session, read_plan(plan_path), now=clock.now)
        school = session.exec(select(School)).one()
        import_people(session, school, people)
        [issued] = issue_invitations(session, school, now=clock.now, ttl_days=14)
    chat = ChatSchool(engine, {}, clock, tmp_path / "evidence")
    say(chat, f"/start {issued.code}")
    return chat


def say(chat: ChatSchool, text: str, day: str | None = None) -> str:
    if day is not None:
        chat.clock.now = at(day)
    outcome = chat.core.handle(Incoming(Channel.TELEGRAM, PRINCIPAL, PRINCIPAL, text=text))
    return "\n".join(plain(reply.text) for reply in outcome.replies)


def test_the_plan_sentences_read_as_a_range_a_count_and_a_target_in_words(
    plan_path: Path,
) -> None:
    kpis = {kpi.key: kpi for kpi in read_plan(plan_path).kpis}
    assert (kpis["len_lop"].direction, kpis["len_lop"].bounds) == (Direction.BETWEEN, (95, 98))
    assert (kpis["gvdg"].direction, kpis["gvdg"].bounds) == (Direction.AT_LEAST, (3, None))
    worded = kpis["giai_nhi"]
    assert (worded.direction, worded.target, worded.target_text) == (
        Direction.YES_NO, True, "1 giải Nhì cấp tỉnh"
    )  # fmt: skip


def test_a_range_is_met_from_its_lower_to_its_upper_bound(chat: ChatSchool) -> None:
    assert say(chat, "/chiso len_lop 96") == (
        "Đã ghi Tỷ lệ học sinh lên lớp: 96%\nMục tiêu 2026: từ 95% đến 98% — đạt"
    )
    assert say(chat, "/chiso len_lop 95").endswith("từ 95% đến 98% — đạt")
    assert say(chat, "/chiso len_lop 98,0").endswith("từ 95% đến 98% — đạt")
    assert say(chat, "/chiso len_lop 94,9").endswith("từ 95% đến 98% — chưa đạt")
    assert say(chat, "/chiso len_lop 98,5").endswith("từ 95% đến 98% — chưa đạt")  # above it


def test_a_range_is_at_risk_when_its_projection_leaves_it_upwards(chat: ChatSchool) -> None:
    say(chat, "/chiso len_lop 96", "01/10")
    # one point in 28 days; 63 more days to 31/12: 97 + 63 / 28 = 99,25, above the range
    assert say(chat, "/chiso len_lop 97", "29/10") == (
        "Đã ghi Tỷ lệ học sinh lên lớp: 97%\nMục tiêu 2026: từ 95% đến 98% — đạt\n"
        "Dự báo đến 31/12/2026: 99,25% — có nguy cơ không đạt mục tiêu từ 95% đến 98%"
    )
    with Session(chat.engine) as session:
        assert (
            len(session.exec(select(Reminder).where(Reminder.kind == ReminderKind.KPI_RISK)).all())
            == 1
        )
    # back inside: 96, 97, 96,5 on days −91, −63, −35: slope 14 / 1.568 a day, 96,5 + 63 × that
    assert say(chat, "/chiso len_lop 96,5", "26/11").splitlines()[-1] == (
        "Dự báo đến 31/12/2026: 97,06% — đạt mục tiêu từ 95% đến 98%"
    )


def test_at_least_a_count_of_teachers_reads_in_teachers(chat: ChatSchool) -> None:
    assert say(chat, "/chiso gvdg 2") == (
        "Đã ghi Giáo viên dạy giỏi cấp huyện: 2 giáo viên\n"
        "Mục tiêu 2026: ít nhất 3 giáo viên — chưa đạt"
    )
    assert say(chat, "/chiso gvdg 3").endswith("ít nhất 3 giáo viên — đạt")
    assert "ít nhất 3 giáo viên; mới nhất 3 giáo viên" in say(chat, "/chiso")


@pytest.mark.parametrize(
    ("answer", "value", "status"),
    [("chưa", "không", "chưa đạt"), ("không", "không", "chưa đạt"), ("đạt", "có", "đạt"),
     ("có", "có", "đạt"), ("chưa đạt", "không", "chưa đạt")],
)  # fmt: skip
def test_a_target_in_words_is_reported_achieved_or_not(
    chat: ChatSchool, answer: str, value: str, status: str
) -> None:
    assert say(chat, f"/chiso giai_nhi {answer}") == (
        f"Đã ghi Giải học sinh giỏi cấp tỉnh: {value}\n"
        f"Mục tiêu 2026: 1 giải Nhì cấp tỉnh — {status}"
    )


def test_a_target_in_words_takes_only_achieved_or_not(chat: ChatSchool) -> None:
    assert "chỉ nhận có hoặc không" in say(chat, "/chiso giai_nhi 2")


def test_the_digest_counts_them_and_says_which_are_at_risk(chat: ChatSchool) -> None:
    say(chat, "/chiso len_lop 96", "01/10")
    say(chat, "/chiso len_lop 97", "29/10")
    say(chat, "/chiso gvdg 3", "29/10")
    say(chat, "/chiso giai_nhi chưa", "29/10")
    chat.clock.now = at("30/10")
    with Session(chat.engine) as session:
        school = session.exec(select(School)).one()
        digest = compile_digest(session, school, start=at("26/10"), end=at("30/10"))
    outlooks = {item.key: (item.outlook, item.projected) for item in digest.kpis}
    assert outlooks == {
        "len_lop": (Outlook.AT_RISK, 99.25),
        "gvdg": (Outlook.MET, 3),
        "giai_nhi": (Outlook.AT_RISK, 0),
    }
    report = say(chat, "/baocao")
    assert (
        "• 📉 Tỷ lệ học sinh lên lớp: 97% (29/10), dự báo 99,25% vào 31/12/2026 — "
        "có nguy cơ không đạt mục tiêu từ 95% đến 98%"
    ) in report
    lines = report.splitlines()
    prize = next(line for line in lines if "1 giải Nhì cấp tỉnh" in line)
    assert prize.endswith(  # not "không, dự báo không": nothing to project for a yes/no
        ": chưa đạt (29/10), hạn 31/12/2026 — có nguy cơ không đạt mục tiêu 1 giải Nhì cấp tỉnh"
    )
    assert "Chỉ số: 1 đạt · 2 có nguy cơ không đạt · 0 chưa đạt; 0 chỉ số chưa có số liệu" in report


@pytest.mark.parametrize("fmt", ["yaml", "json", "xlsx"])
def test_they_survive_export_and_import_unchanged(
    chat: ChatSchool, plan_path: Path, tmp_path: Path, fmt: str
) -> None:
    with Session(chat.engine) as session:
        exported = export_plan(session, session.exec(select(School)).one())
    path = tmp_path / f"again.{fmt}"
    if fmt == "xlsx":
        write_plan_workbook(exported, path)
    else:
        path.write_text(dump_text(exported, fmt), encoding="utf-8")
    assert read_plan(path).kpis == read_plan(plan_path).kpis
    if fmt == "yaml":
        text = path.read_text(encoding="utf-8")
        assert "  direction: between\n  target: 95-98\n" in text
        assert "  direction: yes_no\n  target: true\n  target_text: 1 giải Nhì cấp tỉnh" in text
    with session_scope(chat.engine) as session:
        import_plan(session, read_plan(path), now=at("02/10"))
    with Session(chat.engine) as session:
        rows = session.exec(select(Kpi).order_by(Kpi.key)).all()
        stored = [(k.key, k.direction, k.target, k.target_max, k.target_text) for k in rows]
    assert stored == [
        ("giai_nhi", Direction.YES_NO, 1, None, "1 giải Nhì cấp tỉnh"),
        ("gvdg", Direction.AT_LEAST, 3, None, None),
        ("len_lop", Direction.BETWEEN, 95, 98, None),
    ]


@pytest.mark.parametrize(
    "written", ["95-98", "95 - 98 %", "95–98%", "từ 95 đến 98", "từ 95% đến 98%", "tu 95 den 98"]
)
def test_a_range_may_be_written_as_plans_write_it(tmp_path: Path, written: str) -> None:
    path = tmp_path / "ke-hoach.yaml"
    path.write_text(PLAN.replace('target: "95–98%"', f'target: "{written}"'), encoding="utf-8")
    assert read_plan(path).kpis[0].bounds == (95, 98)


def test_a_range_with_decimals_and_the_between_direction_given(tmp_path: Path) -> None:
    path = tmp_path / "ke-hoach.yaml"
    path.write_text(
        PLAN.replace('target: "95–98%"', 'direction: between, target: "0,5-1,5"'), encoding="utf-8"
    )
    assert read_plan(path).kpis[0].bounds == (0.5, 1.5)


@pytest.mark.parametrize(
    ("change", "needle", "message"),
    [
        (
            ('target: "95–98%"', 'target: "98–95%"'),
            "98–95%",
            "(kpis[0].target): khoảng mục tiêu '98–95%' có số đầu lớn hơn số sau; ghi số nhỏ "
            "trước, ví dụ 95-98.",
        ),
        (
            ('target: "95–98%"', 'direction: ">=", target: "95–98%"'),
            "key: len_lop",
            "(kpis[0]): mục tiêu 95-98 là một khoảng: ghi direction: between hoặc bỏ direction.",
        ),
        (
            ('target: "95–98%"', "direction: between, target: 95"),
            "key: len_lop",
            "(kpis[0]): direction: between cần mục tiêu là một khoảng, ví dụ 95-98, không phải 95.",
        ),
        (
            ('target: "95–98%"', "target: 95"),
            "key: len_lop",
            "(kpis[0]): mục tiêu 95 là một số: cần ghi direction (<=, >=, <, >, =).",
        ),
        (
            ("target: 1 giải Nhì cấp tỉnh", 'direction: ">=", target: 1 giải Nhì cấp tỉnh'),
            "key: giai_nhi",
            "(kpis[2].target): mục tiêu '1 giải Nhì cấp tỉnh' không hợp lệ",
        ),
    ],
)
def test_a_bad_target_is_refused_at_its_line(
    cli, engine: Engine, tmp_path: Path, change: tuple[str, str], needle: str, message: str
) -> None:
    text = PLAN.replace(*change)
    path = tmp_path / "ke-hoach.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PlanFileError) as refused:
        read_plan(path)
    [line] = [n for n, written in enumerate(text.splitlines(), 1) if needle in written]
    assert f"dòng {line} {message}" in str(refused.value)
    output = cli("plan", "import", path, expect=2).output
    assert f"dòng {line} {message}" in output
    with Session(engine) as session:
        assert session.exec(select(Kpi)).all() == []
