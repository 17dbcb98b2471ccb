"""The education office's roll-up: a person of the office (role `office` in the people file,
in no unit) linked to several schools of one deployment gets, once a week, one line per school,
the schools needing attention first, with a workbook of them all; `/baocao` gives it at once and
`dondoc digest --all-schools` does the same for every school. The office sees only its schools.

Three schools share one database: A1 and A2 of district A, B1 of district B. Each district's
office person is listed by its schools, with no task anywhere."""

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.channels import CHANNELS
from handlers.chat import Incoming, Outcome
from handlers.context import ChatConfig, Personal
from handlers.core import ChatCore
from handlers.rollup import rollup_replies
from messages.rich import plain_line, split
from models import (
    Channel,
    ChatIdentity,
    Kpi,
    KpiValue,
    Member,
    Membership,
    Reminder,
    ReminderKind,
    School,
    Task,
    TaskStatus,
    UpdateSource,
)
from models.db import session_scope
from services.people import PeopleFileError, import_people
from services.permissions import load_actor
from services.progress import record_progress
from services.rollup import compile_rollup, office_schools, person_of
from tests.chat_school import Clock
from tests.conftest import Cli
from tests.plan_school import import_schools
from tests.sweep_rig import RecordingSender

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def local(day: int, hour: int, minute: int = 0, month: int = 12) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=HCM)


IMPORTED = local(1, 8, month=11)  # the plans came in a month ago
REPORTED = local(3, 9)  # Thursday's reports
NOW = local(4, 17)  # Friday 04/12/2026, after the digest time (Friday 16:30)

PLAN = """
school: {{code: {code}, name: {name}}}
units:
  - {{code: VP, name: Văn phòng}}
  - {{code: TCM, name: Tổ chuyên môn}}
  - {{code: BGH, name: Ban giám hiệu}}
{kpis}
tasks:
{tasks}
"""
SCHOOLS = {
    # a KPI at risk, a task overdue long past the escalation threshold, two silent units
    "A1": (
        "Trường THCS An Khánh",
        "kpis:\n  - {key: efficiency, name: Hiệu suất đào tạo, measure: '%', direction: '>=', "
        "target: 96, year: 2026}",
        "  - {code: A1.1, title: Số hoá hồ sơ An Khánh, unit: VP, deadline: 10/11/2026}\n"
        "  - {code: A1.2, title: Chuyên đề STEM An Khánh, unit: TCM, deadline: 20/12/2026}",
    ),
    # two tasks just overdue, both reported on this week: nothing to flag
    "A2": (
        "Trường TH An Phú",
        "",
        "  - {code: A2.1, title: Báo cáo sĩ số An Phú, unit: VP, deadline: 01/12/2026}\n"
        "  - {code: A2.2, title: Dự giờ An Phú, unit: TCM, deadline: 02/12/2026}",
    ),
    # nothing overdue, but one unit silent since its task came
    "B1": (
        "Trường THCS Bình Minh",
        "",
        "  - {code: B1.1, title: Hồ sơ thi đua Bình Minh, unit: VP, deadline: 20/12/2026}\n"
        "  - {code: B1.2, title: Kiểm tra nội bộ Bình Minh, unit: TCM, deadline: 25/12/2026}",
    ),
}
PEOPLE = {
    "A1": "name,unit,role,phone,xung_ho\n"
    "Hiệu Trưởng An Khánh,BGH,Hiệu trưởng,0901000001,thầy\n"
    "Tổ Trưởng An Khánh,VP,Tổ trưởng,0901000002,cô\n"
    "Nguyễn Thị Phòng,,Phòng GD&ĐT,0988000001,cô\n",
    "A2": "name,unit,role,phone\n"  # the same office person, her phone written another way
    "Hiệu Trưởng An Phú,BGH,principal,0902000001\n"
    "Tổ Trưởng Văn Phòng An Phú,VP,unit_head,0902000002\n"
    "Tổ Trưởng Chuyên Môn An Phú,TCM,unit_head,0902000003\n"
    "Nguyễn Thị Phòng,,office,+84 988 000 001\n",
    "B1": "name,unit,role,phone,xung_ho\n"
    "Hiệu Trưởng Bình Minh,BGH,Hiệu trưởng,0903000001,thầy\n"
    "Tổ Trưởng Bình Minh,VP,Tổ trưởng,0903000002,cô\n"
    "Trần Văn Huyện,,Chuyên viên phòng giáo dục,0988000002,thầy\n",
}
OFFICE_A, OFFICE_B = "Nguyễn Thị Phòng", "Trần Văn Huyện"
CHAT_A, CHAT_B = 7001, 7002
B_WORDS = ("Bình Minh", "B1")  # nothing of district B may reach district A's office


@dataclass
class District:
    engine: Engine
    core: ChatCore
    clock: Clock
    codes: dict[tuple[str, str], str]  # (school code, name) -> invitation code
    folder: Path

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def say(self, user: int, text: str) -> Outcome:
        return self.core.handle(
            Incoming(channel=Channel.TELEGRAM, user_id=str(user), chat_id=str(user), text=text)
        )

    def member(self, school: str, name: str) -> Member:
        with self.session() as session:
            return session.exec(
                select(Member)
                .join(School, col(School.id) == col(Member.school_id))
                .where(School.code == school, Member.name == name)
            ).one()


def texts(outcome: Outcome) -> str:
    return "\n".join(reply.text for reply in outcome.replies)


def _report(session: Session, code: str, who: str, percent: int) -> None:
    task = session.exec(select(Task).where(Task.code == code)).one()
    member = session.exec(select(Member).where(Member.name == who)).one()
    record_progress(
        session, task, member, source=UpdateSource.COMMAND, now=REPORTED, percent=percent
    )


@pytest.fixture
def district(engine: Engine, tmp_path: Path) -> District:
    plans = {
        code: (PLAN.format(code=code, name=name, kpis=kpis, tasks=tasks), PEOPLE[code])
        for code, (name, kpis, tasks) in SCHOOLS.items()
    }
    codes = import_schools(engine, tmp_path, plans, IMPORTED, ttl_days=60)
    with session_scope(engine) as session:
        kpi = session.exec(select(Kpi).where(Kpi.key == "efficiency")).one()
        session.add(KpiValue(kpi_id=kpi.id, value=95.5, recorded_at=REPORTED))
        _report(session, "A2.1", "Tổ Trưởng Văn Phòng An Phú", 50)
        _report(session, "A2.2", "Tổ Trưởng Chuyên Môn An Phú", 40)
        _report(session, "B1.1", "Tổ Trưởng Bình Minh", 30)
    config = ChatConfig(
        evidence_dir=tmp_path / "evidence", reports_dir=tmp_path / "reports", channels=CHANNELS
    )
    clock = Clock(NOW)
    return District(engine, ChatCore(engine, config, clock=clock), clock, codes, tmp_path)


def _workbook_text(path: Path) -> tuple[list[str], str]:
    book = openpyxl.load_workbook(path, read_only=True)
    cells = [
        str(value)
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
        for value in row
        if value is not None
    ]
    names = list(book.sheetnames)
    book.close()
    return names, "\n".join(cells)


# --- the people file ----------------------------------------------------------------------------


def test_the_office_is_a_person_in_no_unit(district: District) -> None:
    with district.session() as session:
        office = session.exec(select(Member).where(col(Member.office).is_(True))).all()
        assert sorted((m.name, m.phone) for m in office) == [
            (OFFICE_A, "0988000001"),
            (OFFICE_A, "0988000001"),
            (OFFICE_B, "0988000002"),
        ]
        assert not session.exec(
            select(Membership).where(col(Membership.member_id).in_([m.id for m in office]))
        ).all()
        staff = session.exec(select(Member).where(col(Member.office).is_(False))).all()
        assert staff and all(not member.office for member in staff)


def test_an_office_row_names_no_unit_and_no_one_is_both(district: District) -> None:
    people = district.folder / "sai.csv"
    people.write_text(
        "name,unit,role,phone\nNguyễn Thị Phòng,VP,Phòng GD&ĐT,0988000001\n", encoding="utf-8"
    )
    with district.session() as session:
        school = session.exec(select(School).where(School.code == "A1")).one()
        with pytest.raises(PeopleFileError) as refused:
            import_people(session, school, people)
        assert "dòng 2: người của Phòng GD&ĐT không thuộc tổ/bộ phận nào" in str(
            refused.value.problems
        )
        people.write_text(
            "name,unit,role,phone\n"
            "Nguyễn Thị Phòng,,Phòng GD&ĐT,0988000001\n"
            "Nguyễn Thị Phòng,VP,Giáo viên,0988000001\n",
            encoding="utf-8",
        )
        with pytest.raises(PeopleFileError) as both:
            import_people(session, school, people)
        assert "vừa là người của Phòng GD&ĐT vừa thuộc một tổ/bộ phận" in str(both.value.problems)
        session.rollback()


def test_a_teacher_who_joins_the_office_leaves_their_unit(district: District) -> None:
    people = district.folder / "chuyen.csv"
    people.write_text(
        "name,unit,role,phone\nTổ Trưởng An Khánh,,chuyên viên phòng GD&ĐT,0901000002\n",
        encoding="utf-8",
    )
    with session_scope(district.engine) as session:
        school = session.exec(select(School).where(School.code == "A1")).one()
        summary = import_people(session, school, people)
    assert (summary.updated, summary.memberships) == (1, 0)
    moved = district.member("A1", "Tổ Trưởng An Khánh")
    with district.session() as session:
        assert moved.office
        assert not session.exec(select(Membership).where(Membership.member_id == moved.id)).all()


# --- the roll-up ----------------------------------------------------------------------------


def test_three_schools_each_once_in_order_of_need(district: District) -> None:
    with district.session() as session:
        schools = session.exec(select(School)).all()
        rollup = compile_rollup(session, schools, NOW, HCM)
    lines = [
        (
            line.code,
            line.attention,
            line.kpis_at_risk,
            line.long_overdue_tasks,
            line.silent_units,
            line.digest.totals.overdue,
        )
        for line in rollup.schools
    ]
    # A1: a KPI at risk, a unit long overdue, two silent units; B1: one silent unit; A2 has
    # more overdue tasks than B1 but nothing to flag, so it comes last
    assert lines == [("A1", 4, 1, 1, 2, 1), ("B1", 1, 0, 0, 1, 0), ("A2", 0, 0, 0, 0, 2)]
    assert rollup.needing_attention == 2
    assert rollup.week.label == "2026-W49"


def test_district_a_office_sees_a1_and_a2_and_nothing_of_b1(district: District) -> None:
    # she joins A1 only: her phone makes her A2's office person too
    joined = texts(district.say(CHAT_A, f"/start {district.codes['A1', OFFICE_A]}"))
    assert "Dành cho Phòng GD&ĐT" in joined and "/viec" not in joined
    with district.session() as session:
        her = person_of(session, district.member("A1", OFFICE_A))
        assert sorted(m.school_id for m in her) == sorted(
            district.member(code, OFFICE_A).school_id for code in ("A1", "A2")
        )
        assert [s.code for s in office_schools(session, her[0])] == ["A1", "A2"]

    outcome = district.say(CHAT_A, "/baocao")
    text = texts(outcome)
    assert text.count("Trường THCS An Khánh") == 1 and text.count("Trường TH An Phú") == 1
    assert text.index("An Khánh") < text.index("An Phú")  # A1 needs attention, A2 does not
    assert "🏫 <b>Tổng hợp tuần 30/11–06/12/2026</b> — 2 trường" in text
    assert "1. <b>Trường THCS An Khánh</b>: tiến độ 0%" in text
    assert "📉 1 chỉ số có nguy cơ không đạt" in text
    assert not any(word in text for word in B_WORDS)
    (workbook,) = outcome.replies[-1].files
    sheets, cells = _workbook_text(workbook)
    assert sheets == ["Các trường", "Quá hạn A1", "Quá hạn A2"]
    assert "A1.1" in cells and "A2.2" in cells
    assert not any(word in cells for word in B_WORDS)

    # district B's office person: B1 only
    district.say(CHAT_B, f"/start {district.codes['B1', OFFICE_B]}")
    theirs = district.say(CHAT_B, "/baocao")
    assert "Bình Minh" in texts(theirs) and "An Khánh" not in texts(theirs)
    sheets, cells = _workbook_text(theirs.replies[-1].files[0])
    assert sheets == ["Các trường", "Quá hạn B1"] and "An " not in cells


def test_the_office_has_no_task_to_see_or_update(district: District) -> None:
    district.say(CHAT_A, f"/start {district.codes['A1', OFFICE_A]}")
    for text in ("/viec", "/capnhat A1.1 50", "/xong A1.1", "/giao A1.1", "A1.1 xong"):
        answer = texts(district.say(CHAT_A, text))
        assert answer.startswith("Cô là người của Phòng GD&ĐT nên không có nhiệm vụ"), text
        assert "/baocao" in answer
    with district.session() as session:
        assert session.exec(select(Task).where(Task.code == "A1.1")).one().progress == 0
    assert "Dành cho Phòng GD&ĐT" in texts(district.say(CHAT_A, "/huongdan"))


def test_a_channel_without_files_gets_the_roll_up_cut_to_its_size_and_a_note(
    district: District,
) -> None:
    small = replace(CHANNELS[Channel.ZALO], text_limit=200)
    config = ChatConfig(
        evidence_dir=district.folder / "evidence",
        reports_dir=district.folder / "reports",
        channels={Channel.ZALO: small},
    )
    with district.session() as session:
        member = session.get_one(Member, district.member("A2", OFFICE_A).id)
        school = session.get_one(School, member.school_id)
        ctx = Personal(
            session=session, now=NOW, config=config, school=school, member=member,
            actor=load_actor(session, member), channel=Channel.ZALO,
        )  # fmt: skip
        replies = rollup_replies(ctx)
    roll_up, _note = replies
    parts = split(roll_up.text, small.text_limit, plain_line)  # as the channel sends it
    assert len(parts) > 1 and all(len(part) <= 200 for part in parts)
    assert not any(reply.files for reply in replies)
    assert "không gửi được tệp" in replies[-1].text
    whole = "\n".join(reply.text for reply in replies)
    assert whole.count("An Khánh") == 1 and "Bình Minh" not in whole


# --- delivery ---------------------------------------------------------------------------------


def _link(district: District, user: int, school: str, name: str) -> None:
    with session_scope(district.engine) as session:
        member = district.member(school, name)
        session.add(ChatIdentity(member_id=member.id, channel=Channel.TELEGRAM,
                                 external_user_id=str(user), chat_id=str(user)))  # fmt: skip


@pytest.mark.asyncio
async def test_one_roll_up_per_office_person_per_week_delivered_once(district: District) -> None:
    from scheduler.dispatch import Dispatcher
    from scheduler.jobs import FollowUp
    from services.reminders import CalendarDefaults

    _link(district, CHAT_A, "A1", OFFICE_A)
    _link(district, CHAT_A, "A2", OFFICE_A)  # linked in both schools: still one person
    _link(district, CHAT_B, "B1", OFFICE_B)
    sender = RecordingSender()
    dispatcher = Dispatcher(
        district.engine, district.core.config, {Channel.TELEGRAM: sender},
        district.core.remember, district.core.mark_unreachable, clock=district.clock,
        worker="w1", pacing=0,
    )  # fmt: skip
    follow_up = FollowUp(district.engine, dispatcher, CalendarDefaults(), clock=district.clock)

    district.clock.now = local(4, 16)  # before the digest time: no roll-up yet
    follow_up.plan()
    district.clock.now = NOW
    follow_up.plan()
    follow_up.plan()  # planning again adds nothing
    office_ids = {
        district.member(school, name).id
        for school, name in (("A1", OFFICE_A), ("A2", OFFICE_A), ("B1", OFFICE_B))
    }
    with district.session() as session:
        rows = session.exec(
            select(Reminder).where(col(Reminder.recipient_id).in_(office_ids))
        ).all()
        rollups = session.exec(select(Reminder).where(Reminder.kind == ReminderKind.ROLLUP)).all()
    assert {row.kind for row in rows} == {ReminderKind.ROLLUP}  # no task reminder, brief, …
    assert sorted(row.dedupe_key for row in rollups) == [
        "rollup:p0988000001:2026-11-30",
        "rollup:p0988000002:2026-11-30",
    ]

    await dispatcher.sweep()
    await dispatcher.sweep()
    to_a = [reply for chat, reply in sender.sent if chat == str(CHAT_A)]
    to_b = [reply for chat, reply in sender.sent if chat == str(CHAT_B)]
    assert len(to_a) == len(to_b) == 1
    assert "An Khánh" in to_a[0].text and "An Phú" in to_a[0].text
    assert not any(word in to_a[0].text for word in B_WORDS)
    assert to_a[0].files and to_a[0].files[0].name == "tong-hop-cac-truong-2026-W49.xlsx"
    assert "Bình Minh" in to_b[0].text and "An " not in to_b[0].text

    district.clock.now = NOW + timedelta(days=7)  # the next week: one more each
    follow_up.plan()
    follow_up.plan()
    await dispatcher.sweep()
    assert len([chat for chat, _ in sender.sent if chat == str(CHAT_A)]) == 2


# --- the command line -------------------------------------------------------------------------


def test_the_command_line_rolls_up_every_school(
    district: District, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.cli.utcnow", lambda: NOW.astimezone(UTC))
    out = tmp_path / "tong-hop"
    result = cli("digest", "--all-schools", "--out", out)
    text = result.output
    assert "Tổng hợp tuần 30/11–06/12/2026 — 3 trường" in text
    positions = [text.index(name) for name in ("An Khánh", "Bình Minh", "An Phú")]
    assert positions == sorted(positions)
    assert all(text.count(SCHOOLS[code][0]) == 1 for code in SCHOOLS)
    workbook = out / "tong-hop-cac-truong-2026-W49.xlsx"
    assert f"Tệp Excel tổng hợp: {workbook}" in text
    book = openpyxl.load_workbook(workbook, read_only=True)
    assert book.sheetnames == ["Các trường", "Quá hạn A1", "Quá hạn B1", "Quá hạn A2"]
    rows = [row for row in book["Các trường"].iter_rows(min_row=2, values_only=True)]
    assert [(row[0], row[1], row[6], row[8], row[10]) for row in rows] == [
        (1, "A1", 1, 2, 1),
        (2, "B1", 0, 1, 0),
        (3, "A2", 2, 0, 0),
    ]
    overdue = [row for row in book["Quá hạn A1"].iter_rows(min_row=2, values_only=True)]
    assert [(row[0], row[5]) for row in overdue] == [("A1.1", 24)]
    book.close()
    cli("digest", "--all-schools", "--school", "A1", expect=2)


def test_done_tasks_count_in_the_roll_up(district: District) -> None:
    with session_scope(district.engine) as session:
        task = session.exec(select(Task).where(Task.code == "A2.1")).one()
        record_progress(session, task, None, source=UpdateSource.COMMAND, now=REPORTED,
                        status=TaskStatus.DONE)  # fmt: skip
    with district.session() as session:
        schools = session.exec(select(School).where(School.code == "A2")).all()
        (line,) = compile_rollup(session, schools, NOW, HCM).schools
    assert (line.digest.totals.done, line.digest.totals.tasks, line.digest.totals.overdue) == (
        1,
        2,
        1,
    )
