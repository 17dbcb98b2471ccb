"""One person, several schools (a district's deployment): the same phone in two schools' people
files is one person with a role in each; their second invitation links the same chat account,
/truong switches the school commands act in, and a reply to a reminder acts in its task's school.

Two small schools share one database; messages go through the chat core as Telegram sends them.
"""

import re
import shlex
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from handlers.chat import Incoming, Outcome, Reply, Unreachable
from handlers.context import ChatConfig
from handlers.core import ChatCore
from models import (
    Channel,
    ChatIdentity,
    Member,
    Membership,
    ProgressUpdate,
    Reminder,
    ReminderKind,
    Role,
    School,
    Task,
    TaskStatus,
)
from models.db import session_scope
from scheduler.dispatch import Dispatcher
from services.invitations import issue_invitations
from tests.chat_school import NOW, Clock
from tests.conftest import Cli
from tests.plan_school import import_schools

PLAN = """
school: {{code: {code}, name: {name}}}
units:
  - {{code: VP, name: Văn phòng}}
  - {{code: BGH, name: Ban giám hiệu}}
tasks:
  - {{code: {task}, title: {title}, unit: VP, deadline: 15/12/2026}}
"""
SCHOOLS = {
    "HB": ("Trường THCS Hòa Bình", "HB.1", "Báo cáo sĩ số"),
    "LL": ("Trường THPT Lê Lợi", "LL.1", "Hồ sơ thi đua"),
}
PEOPLE = {
    "HB": "name,unit,role,phone\n"
    "Trần Thị Mai,VP,Tổ trưởng,0912000010\n"
    "Lê Văn Nam,VP,Nhân viên,0912000011\n"
    "Võ Văn Hùng,BGH,Hiệu trưởng,0912000012\n",
    "LL": "name,unit,role,phone,xung_ho\n"  # the same Mai, her phone written another way
    "Trần Thị Mai,VP,Tổ trưởng,+84 912 000 010,cô\n"
    "Phan Văn Tú,BGH,Hiệu trưởng,0912000020,thầy\n",
}
MAI, NAM, STRANGER = 42, 43, 99


@dataclass
class District:
    engine: Engine
    core: ChatCore
    clock: Clock
    codes: dict[tuple[str, str], str]  # (school code, name) -> invitation code

    def say(self, user: int, text: str, **extra: object) -> str:
        return texts(self.core.handle(incoming(user, text, **extra)))

    def join(self, user: int, school: str, name: str) -> str:
        return self.say(user, f"/start {self.codes[school, name]}")

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def task(self, code: str) -> Task:
        with self.session() as session:
            return session.exec(select(Task).where(Task.code == code)).one()

    def member(self, school: str, name: str) -> Member:
        with self.session() as session:
            return session.exec(
                select(Member)
                .join(School, School.id == Member.school_id)
                .where(School.code == school, Member.name == name)
            ).one()

    def identities(self, user: int) -> list[ChatIdentity]:
        with self.session() as session:
            query = select(ChatIdentity).where(ChatIdentity.external_user_id == str(user))
            return list(session.exec(query.order_by(ChatIdentity.id)))


def incoming(user: int, text: str = "", **extra: object) -> Incoming:
    return Incoming(
        channel=Channel.TELEGRAM, user_id=str(user), chat_id=str(user), text=text, **extra
    )


def texts(outcome: Outcome) -> str:
    return "\n".join(reply.text for reply in outcome.replies)


@pytest.fixture
def district(engine: Engine, tmp_path: Path) -> District:
    plans = {
        code: (PLAN.format(code=code, name=name, task=task, title=title), PEOPLE[code])
        for code, (name, task, title) in SCHOOLS.items()
    }
    codes = import_schools(engine, tmp_path, plans, NOW, ttl_days=14)
    config = ChatConfig(evidence_dir=tmp_path / "evidence", reports_dir=tmp_path / "reports")
    clock = Clock()
    return District(engine, ChatCore(engine, config, clock=clock), clock, codes)


def test_a_second_schools_invitation_links_the_same_account(district: District) -> None:
    first = district.join(MAI, "HB", "Trần Thị Mai")
    assert first.startswith("Chào thầy/cô Trần Thị Mai! Tài khoản đã được liên kết.")
    assert "/truong" not in first

    second = district.say(MAI, district.codes["LL", "Trần Thị Mai"])  # typed, not a link
    assert second.startswith("Chào cô Mai! Tài khoản đã được liên kết.")
    assert (
        "Cô hiện theo dõi 2 trường; các lệnh như /viec đang áp dụng cho <b>Trường THPT Lê Lợi"
        in (second)
    )
    assert "/truong — các trường của cô" in second  # the help says how to switch
    assert [i.member_id for i in district.identities(MAI)] == [
        district.member("HB", "Trần Thị Mai").id,
        district.member("LL", "Trần Thị Mai").id,
    ]
    assert "Tài khoản này đã liên kết với" in district.join(MAI, "LL", "Trần Thị Mai")
    assert district.say(MAI, "da xong 1 1").startswith("Tài khoản này đã liên kết với")


def test_the_guides_example_of_one_person_in_two_schools_imports_and_links_one_account(
    cli: Cli, engine: Engine, tmp_path: Path
) -> None:
    """docs/plan-format.md shows two schools' staff lists with the same phone, written two ways,
    and the commands to import them: done as it says, cô Mai has a role in each school and both
    invitations link her one chat account."""
    guide = (Path(__file__).parents[1] / "docs" / "plan-format.md").read_text(encoding="utf-8")
    section = guide.split("## Một người ở nhiều trường\n")[1].split("\n## ")[0]
    files = re.findall(r"`([\w-]+\.csv)`:\n\n```csv\n(.*?)```", section, flags=re.DOTALL)
    assert len(files) == 2
    for name, text in files:
        (tmp_path / name).write_text(text, encoding="utf-8")
    for code, (name, task, title) in SCHOOLS.items():
        plan = tmp_path / f"{code}.yaml"
        plan.write_text(PLAN.format(code=code, name=name, task=task, title=title), "utf-8")
        cli("plan", "import", plan, "--school", code)
    commands = re.findall(r"^dondoc (people import .*)$", section, flags=re.MULTILINE)
    assert len(commands) == 2
    for command in commands:
        cli(*shlex.split(command))
    with Session(engine) as session:
        mai = {
            school.code: (member.phone, membership.role)
            for member, membership, school in session.exec(
                select(Member, Membership, School)
                .where(Membership.member_id == Member.id, School.id == Member.school_id)
                .where(Member.name == "Trần Thị Mai")
            )
        }
        assert mai == {"HB": ("0912000010", Role.UNIT_HEAD), "LL": ("0912000010", Role.STAFF)}
        codes = {}
        for school in session.exec(select(School)):
            for item in issue_invitations(session, school, now=NOW, ttl_days=14):
                if item.member.name == "Trần Thị Mai":
                    codes[school.code] = item.code
        session.commit()
    config = ChatConfig(evidence_dir=tmp_path / "evidence", reports_dir=tmp_path / "reports")
    core = ChatCore(engine, config, clock=Clock())
    assert "đã được liên kết" in texts(core.handle(incoming(MAI, f"/start {codes['HB']}")))
    second = texts(core.handle(incoming(MAI, f"/start {codes['LL']}")))
    assert "đã được liên kết" in second and "một người khác" not in second
    with Session(engine) as session:
        linked = session.exec(
            select(School.code)
            .join(Member, Member.school_id == School.id)
            .join(ChatIdentity, ChatIdentity.member_id == Member.id)
            .where(ChatIdentity.external_user_id == str(MAI))
            .order_by(School.code)
        ).all()
    assert linked == ["HB", "LL"]


def test_tasks_follow_the_current_school_and_truong_switches(district: District) -> None:
    district.join(MAI, "HB", "Trần Thị Mai")
    district.join(MAI, "LL", "Trần Thị Mai")
    shown = district.say(MAI, "/viec")
    assert "LL.1" in shown and "HB.1" not in shown

    listing = district.say(MAI, "/truong")
    assert listing == (
        "Cô đang theo dõi 2 trường:\n"
        "1. Trường THCS Hòa Bình\n"
        "2. <b>Trường THPT Lê Lợi</b> — đang làm việc\n"
        "Để chuyển trường, cô gõ /truong <i>số</i> hoặc một phần tên trường, ví dụ: /truong 2."
    )
    assert district.say(MAI, "/truong 1").startswith("Đã chuyển sang <b>Trường THCS Hòa Bình</b>.")
    shown = district.say(MAI, "/viec")
    assert "HB.1" in shown and "LL.1" not in shown
    district.say(MAI, "/xong HB.1")
    assert district.task("HB.1").status == TaskStatus.DONE
    district.say(MAI, "/xong LL.1")  # no such task in Hòa Bình: nothing recorded
    assert district.task("LL.1").status != TaskStatus.DONE

    assert "Trường THPT Lê Lợi" in district.say(MAI, "/truong le loi")
    assert "LL.1" in district.say(MAI, "/viec")
    assert "khớp với “3”" in district.say(MAI, "/truong 3")
    assert "khớp với “Trường”" in district.say(MAI, "/truong Trường")  # both names match


def test_someone_in_one_school_is_told_so(district: District) -> None:
    district.join(NAM, "HB", "Lê Văn Nam")
    assert district.say(NAM, "/truong 2").startswith(
        "Thầy/cô thuộc một trường: <b>Trường THCS Hòa Bình</b>."
    )
    assert district.say(STRANGER, "/truong").startswith("Xin chào thầy/cô! Đây là hệ thống")


def test_two_people_of_one_school_on_one_account_are_refused(district: District) -> None:
    district.join(MAI, "HB", "Trần Thị Mai")
    refused = district.join(MAI, "HB", "Lê Văn Nam")
    assert refused.startswith("Tài khoản này đã liên kết với một người khác trong trường.")
    assert len(district.identities(MAI)) == 1
    assert "Chào thầy/cô Lê Văn Nam!" in district.join(NAM, "HB", "Lê Văn Nam")  # code unused


def test_another_school_is_never_seen_through_the_switch(district: District) -> None:
    district.join(MAI, "HB", "Trần Thị Mai")
    district.join(NAM, "HB", "Lê Văn Nam")
    for user in (MAI, NAM):
        assert "Lê Lợi" not in district.say(user, "/truong Lê Lợi")
        assert "Hồ sơ thi đua" not in district.say(user, "/viec LL.1")
    other = district.task("LL.1").id
    assert district.core.handle(incoming(NAM, button=f"d:{other}")).notice == (
        "Nút này đã cũ. Gõ /viec để xem việc hiện tại."
    )
    assert district.task("LL.1").status != TaskStatus.DONE


def reminder(district: District, school: str, code: str) -> None:
    with session_scope(district.engine) as session:
        task = session.exec(select(Task).where(Task.code == code)).one()
        session.add(
            Reminder(
                school_id=task.school_id,
                dedupe_key=f"test:{code}",
                task_id=task.id,
                recipient_id=district.member(school, "Trần Thị Mai").id,
                kind=ReminderKind.BEFORE_7D,
                occurrence=date(2026, 12, 15),
                due_at=district.clock.now,
            )
        )


@dataclass
class Sender:
    sent: list[tuple[str, Reply]]
    refuse: bool = False

    async def send(self, chat_id: str, reply: Reply) -> str:
        if self.refuse:
            raise Unreachable("blocked")
        self.sent.append((chat_id, reply))
        return str(9000 + len(self.sent))


def dispatcher(district: District, sender: Sender) -> Dispatcher:
    core = district.core
    return Dispatcher(
        district.engine, core.config, {Channel.TELEGRAM: sender}, core.remember,
        core.mark_unreachable, clock=district.clock, pacing=0,
    )  # fmt: skip


async def test_reminders_of_both_schools_reach_the_chat_and_replies_act_in_their_school(
    district: District,
) -> None:
    district.join(MAI, "HB", "Trần Thị Mai")
    district.join(MAI, "LL", "Trần Thị Mai")  # current school: Lê Lợi
    reminder(district, "HB", "HB.1")
    reminder(district, "LL", "LL.1")
    sender = Sender([])
    assert (await dispatcher(district, sender).sweep()).messages == 2
    assert sorted(chat for chat, _ in sender.sent) == [str(MAI), str(MAI)]
    hoa_binh = next(str(9001 + i) for i, (_, r) in enumerate(sender.sent) if "HB.1" in r.text)

    answer = district.say(MAI, "xong", reply_to=hoa_binh)
    assert "HB.1" in answer
    assert district.task("HB.1").status == TaskStatus.DONE
    with district.session() as session:
        update = session.exec(select(ProgressUpdate)).one()
    assert update.member_id == district.member("HB", "Trần Thị Mai").id
    assert "LL.1" in district.say(MAI, "/viec")  # still acting in Lê Lợi otherwise

    lam = district.task("LL.1").id
    district.core.handle(incoming(MAI, button=f"p:{lam}:50"))
    assert district.task("LL.1").progress == 50


async def test_plain_text_after_a_reminder_answers_it_unless_the_school_was_switched_since(
    district: District,
) -> None:
    """Channels without reply-to (Zalo): the reminder just received is the task meant."""
    district.join(MAI, "HB", "Trần Thị Mai")
    district.join(MAI, "LL", "Trần Thị Mai")
    district.clock.advance(minutes=5)
    reminder(district, "HB", "HB.1")
    await dispatcher(district, Sender([])).sweep()
    district.say(MAI, "80%")
    assert district.task("HB.1").progress == 80

    district.say(MAI, "/truong 2")
    district.say(MAI, "xong")  # Lê Lợi's only open task of hers, not the Hòa Bình reminder
    assert (district.task("HB.1").progress, district.task("LL.1").status) == (
        80,
        TaskStatus.DONE,
    )


async def test_a_blocked_chat_and_its_return_count_for_every_school(district: District) -> None:
    district.join(MAI, "HB", "Trần Thị Mai")
    district.join(MAI, "LL", "Trần Thị Mai")
    reminder(district, "HB", "HB.1")
    await dispatcher(district, Sender([], refuse=True)).sweep()
    assert all(i.unreachable_at is not None for i in district.identities(MAI))

    district.say(MAI, "/viec")
    assert all(i.unreachable_at is None for i in district.identities(MAI))


def test_the_schema_keeps_one_link_per_member_and_account(district: District) -> None:
    district.join(MAI, "HB", "Trần Thị Mai")
    with district.session() as session:
        session.add(
            ChatIdentity(
                member_id=district.member("HB", "Trần Thị Mai").id,
                channel=Channel.TELEGRAM,
                external_user_id=str(MAI),
                chat_id=str(MAI),
                linked_at=datetime(2026, 11, 26, tzinfo=NOW.tzinfo),
            )
        )
        with pytest.raises(IntegrityError):
            session.commit()
