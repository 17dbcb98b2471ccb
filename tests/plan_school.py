"""A school made from a plan file and a staff list written in the test, as a school would write
them: the shared set-up of the plan-file tests."""

from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from handlers.chat import Incoming
from handlers.context import ChatConfig
from handlers.core import ChatCore
from models import Channel, ChatIdentity, Member, School
from models.db import session_scope
from services.invitations import issue_invitations
from services.people import import_people
from services.plan_files import dump_text, read_plan, write_workbook
from services.plan_store import export_plan, import_plan


def plan_file(folder: Path, text: str, name: str = "ke-hoach.yaml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def import_school(engine: Engine, plan: Path, people: str, now: datetime) -> Engine:
    """The plan imported at `now`, then the staff list (CSV text) beside it."""
    staff = plan_file(plan.parent, people, "can-bo.csv")
    with session_scope(engine) as session:
        import_plan(session, read_plan(plan), now=now)
        import_people(session, session.exec(select(School)).one(), staff)
    return engine


def import_schools(
    engine: Engine, folder: Path, schools: dict[str, tuple[str, str]], now: datetime, ttl_days: int
) -> dict[tuple[str, str], str]:
    """Several schools on one database, each from its plan and staff list (text): their
    invitation codes by (school code, member name)."""
    codes: dict[tuple[str, str], str] = {}
    for code, (plan, people) in schools.items():
        path = plan_file(folder, plan, f"{code}.yaml")
        staff = plan_file(folder, people, f"{code}.csv")
        with session_scope(engine) as session:
            import_plan(session, read_plan(path), now=now)
            school = session.exec(select(School).where(School.code == code)).one()
            import_people(session, school, staff)
            issued = issue_invitations(session, school, now=now, ttl_days=ttl_days)
            codes |= {(code, item.member.name): item.code for item in issued}
    return codes


def exported_again(engine: Engine, folder: Path, fmt: str) -> Path:
    """The school's plan exported as a `fmt` file (yaml, json or xlsx), for reading back."""
    with Session(engine) as session:
        plan = export_plan(session, session.exec(select(School)).one())
    path = folder / f"again.{fmt}"
    if fmt == "xlsx":
        write_workbook(plan, path)
    else:
        path.write_text(dump_text(plan, fmt), encoding="utf-8")
    return path


def people_in(people: str) -> list[str]:
    """The names of a staff list (CSV text): their chat ids are their places in it."""
    return [line.split(",")[0] for line in people.splitlines()[1:]]


def link_chats(engine: Engine, people: str) -> None:
    """Each person of the staff list linked to a Telegram chat of their own."""
    with session_scope(engine) as session:
        for chat, name in enumerate(people_in(people), 1):
            member = session.exec(select(Member).where(Member.name == name)).one()
            session.add(ChatIdentity(member_id=member.id, channel=Channel.TELEGRAM,
                                     external_user_id=str(chat), chat_id=str(chat)))  # fmt: skip


def say(engine: Engine, people: str, name: str, text: str, at: datetime) -> str:
    """What the bot answers `name` (of the staff list) who writes `text` at `at`."""
    chat = str(people_in(people).index(name) + 1)
    core = ChatCore(engine, ChatConfig(evidence_dir=Path("/nonexistent")), clock=lambda: at)
    outcome = core.handle(Incoming(Channel.TELEGRAM, chat, chat, text=text))
    return "\n".join(str(reply.text) for reply in outcome.replies)
