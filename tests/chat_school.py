"""A school with people, for chat tests: the default plan, six members, invitations, a clock."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.channels import CHANNELS
from data import DEFAULT_PLAN
from handlers.context import ChatConfig
from handlers.core import ChatCore
from models import Member, School, Task
from models.db import session_scope
from services.invitations import issue_invitations
from services.people import import_people
from services.plan_files import read_plan
from services.plan_store import import_plan

# Thursday 26/11/2026, 10:00 in Hồ Chí Minh City.
NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)

PEOPLE = """name,unit,role,phone
Nguyễn Văn Hiếu,BGH,Hiệu trưởng,0900000001
Phạm Thị Lan,BGH,Phó hiệu trưởng,0900000002
Trần Thị Mai,VANPHONG,Tổ trưởng/Trưởng bộ phận,0900000003
Lê Văn Nam,VANPHONG,Giáo viên/Nhân viên,0900000004
Hoàng Thị Thu,TCM,Tổ trưởng,0900000005
Đỗ Văn Bình,TCM,Giáo viên,0900000006
"""
PRINCIPAL, VICE, OFFICE_HEAD, OFFICE_STAFF, TCM_HEAD, TEACHER = (
    "Nguyễn Văn Hiếu",
    "Phạm Thị Lan",
    "Trần Thị Mai",
    "Lê Văn Nam",
    "Hoàng Thị Thu",
    "Đỗ Văn Bình",
)


@dataclass
class Clock:
    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class ChatSchool:
    engine: Engine
    codes: dict[str, str]  # name -> invitation code
    clock: Clock
    evidence_dir: Path
    core: ChatCore = field(init=False)

    def __post_init__(self) -> None:
        config = ChatConfig(
            evidence_dir=self.evidence_dir,
            reports_dir=self.evidence_dir.parent / "reports",
            channels=CHANNELS,
        )
        self.core = ChatCore(self.engine, config, clock=self.clock)

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def task(self, code: str) -> Task:
        with self.session() as session:
            return session.exec(select(Task).where(Task.code == code)).one()

    def member(self, name: str) -> Member:
        with self.session() as session:
            return session.exec(select(Member).where(Member.name == name)).one()


@pytest.fixture
def school(engine: Engine, tmp_path: Path) -> ChatSchool:
    people = tmp_path / "people.csv"
    people.write_text(PEOPLE, encoding="utf-8")
    with session_scope(engine) as session:
        import_plan(session, read_plan(DEFAULT_PLAN), now=NOW)
        target = session.exec(select(School)).one()
        import_people(session, target, people)
        issued = issue_invitations(session, target, now=NOW, ttl_days=14)
        codes = {item.member.name: item.code for item in issued}
    return ChatSchool(engine, codes, Clock(), tmp_path / "evidence")
