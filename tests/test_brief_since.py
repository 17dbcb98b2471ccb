"""Where a leader's first brief starts: the school day before, never a Sunday; what was overdue
before the plan arrived is counted as such, not told as newly overdue."""

from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from data import DEFAULT_PLAN
from handlers.context import ChatConfig
from models import BriefFrequency, Holiday, Member, Reminder, ReminderKind, School
from models.db import session_scope
from scheduler.preview import preview
from services.brief import brief_since
from services.people import import_people
from services.plan_files import read_plan
from services.plan_store import import_plan
from services.reminders import CalendarDefaults

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
PRINCIPAL = "Nguyễn Văn Hiếu"


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), HCM)


MONDAY = date(2026, 11, 30)
SATURDAY, SUNDAY = MONDAY - timedelta(days=2), MONDAY - timedelta(days=1)


def default_school(engine: Engine, tmp_path: Path, imported: datetime) -> None:
    """The default plan, imported at `imported`, and its principal."""
    people = tmp_path / "people.csv"
    people.write_text(f"name,unit,role,phone\n{PRINCIPAL},BGH,Hiệu trưởng,0900000001\n")
    with session_scope(engine) as session:
        import_plan(session, read_plan(DEFAULT_PLAN), now=imported)
        import_people(session, session.exec(select(School)).one(), people)


def principal(session: Session) -> Member:
    return session.exec(select(Member).where(Member.name == PRINCIPAL)).one()


def test_a_first_brief_starts_on_the_school_day_before(engine: Engine, tmp_path: Path) -> None:
    default_school(engine, tmp_path, at(MONDAY, 6))
    with session_scope(engine) as session:
        member = principal(session)
        # Monday: since Saturday's brief time (mon-sat, 07:30); late on Tuesday: since Monday's
        assert brief_since(session, member, at(MONDAY, 7, 35)) == at(SATURDAY, 7, 30)
        assert brief_since(session, member, at(MONDAY + timedelta(1), 8)) == at(MONDAY, 7, 30)
        # a holiday on Saturday: since Friday
        school = session.exec(select(School)).one()
        session.add(Holiday(school_id=school.id, day=SATURDAY, name="Nghỉ bù"))
        session.flush()
        assert brief_since(session, member, at(MONDAY, 7, 30)) == at(SATURDAY - timedelta(1), 7, 30)
        # a weekly brief: a week back
        member.brief = BriefFrequency.WEEKLY
        assert brief_since(session, member, at(MONDAY, 7, 30)) == at(MONDAY - timedelta(7), 7, 30)
        # a previous brief row, whatever its day: from it
        member.brief = BriefFrequency.DAILY
        session.add(
            Reminder(school_id=school.id, dedupe_key="brief:earlier", recipient_id=member.id,
                     kind=ReminderKind.BRIEF, occurrence=SUNDAY, due_at=at(SUNDAY, 9))
        )  # fmt: skip
        session.flush()
        assert brief_since(session, member, at(MONDAY, 7, 30)) == at(SUNDAY, 9)


def test_the_demo_mondays_brief_is_news_since_saturday(engine: Engine, tmp_path: Path) -> None:
    """As in the demo: the plan arrives on Monday at 06:00; the first brief at 07:30."""
    default_school(engine, tmp_path, at(MONDAY, 6))
    config = ChatConfig(evidence_dir=tmp_path / "evidence", reports_dir=tmp_path / "reports")
    text = preview(engine, at(MONDAY, 7, 35), config, CalendarDefaults())
    lines = text.splitlines()
    assert lines[1] == "📋 Tóm tắt cho thầy/cô — điểm mới từ 07:30 28/11/2026:"
    # a task overdue since Sunday came with the plan on Monday: counted, not told as new
    assert not any("⚠️" in line for line in lines), text
    assert any(line.startswith("Kế hoạch mới nhập có ") for line in lines), text
