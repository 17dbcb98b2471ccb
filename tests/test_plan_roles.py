"""Tasks a plan gives to a role, not a unit, written from the plans' own sentences:

- "Hiệu trưởng phụ trách chung, chỉ đạo xây dựng kế hoạch cụ thể": the principal's in person;
- "Phó Hiệu trưởng phụ trách chuyên môn chỉ đạo các tổ đổi mới phương pháp dạy học": the vice
  principals';
- "giáo viên theo dõi sĩ số, vận động học sinh có nguy cơ bỏ học": every teacher of the group;
- "giáo viên chủ nhiệm lớp 9 tư vấn cho học sinh, cha mẹ học sinh lựa chọn học THPT hoặc các lớp
  nghề" (GVCN): a homeroom teacher is a teacher of the group ("Giáo viên"), in the plan file and
  in the people file alike.
"""

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models import Member, Membership, Reminder, Role, School, Task, TaskStatus
from models.db import session_scope
from services.brief import compile_brief
from services.plan_files import PlanFileError, read_plan
from services.reminders import CalendarDefaults, plan_all
from tests.plan_school import exported_again, import_school, link_chats, plan_file
from tests.plan_school import say as say_as

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
PLAN = """
school: {code: THU, name: Trường Thử}
units:
  - {code: BGH, name: Ban giám hiệu}
  - {code: TO_TOAN, name: Tổ Toán – Tin}
tasks:
  - {code: V.1, title: Chỉ đạo xây dựng kế hoạch cụ thể, unit: BGH, role: Hiệu trưởng,
     deadline: 10/12/2026}
  - {code: V.2, title: Chỉ đạo các tổ đổi mới phương pháp dạy học, unit: BGH,
     role: Phó hiệu trưởng, deadline: 10/12/2026}
  - {code: V.3, title: "Theo dõi sĩ số, vận động học sinh có nguy cơ bỏ học", unit: TO_TOAN,
     role: giáo viên, deadline: 10/12/2026}
"""
PEOPLE = """name,unit,role,phone
Cô Hiệu Trưởng,BGH,Hiệu trưởng,0900000001
Thầy Phó Hiệu Trưởng,BGH,Phó hiệu trưởng,0900000002
Tổ Trưởng Toán,TO_TOAN,Tổ trưởng,0900000003
Giáo Viên Một,TO_TOAN,Giáo viên,0900000004
Giáo Viên Hai,TO_TOAN,Giáo viên,0900000005
"""


def local(day: int, hour: int = 9) -> datetime:
    return datetime(2026, 12, day, hour, tzinfo=HCM)


@pytest.fixture
def plan_path(tmp_path: Path) -> Path:
    return plan_file(tmp_path, PLAN)


@pytest.fixture
def school(engine: Engine, plan_path: Path) -> Engine:
    import_school(engine, plan_path, PEOPLE, now=local(1))
    link_chats(engine, PEOPLE)
    return engine


def say(engine: Engine, name: str, text: str, at: datetime) -> str:
    return say_as(engine, PEOPLE, name, text, at)


@pytest.mark.parametrize("fmt", ["yaml", "json", "xlsx"])
def test_roles_survive_export_and_import(
    school: Engine, plan_path: Path, tmp_path: Path, fmt: str
) -> None:
    read = read_plan(plan_path)
    assert [task.role for task in read.tasks] == ["principal", "vice_principal", "staff"]
    assert read_plan(exported_again(school, tmp_path, fmt)).tasks == read.tasks


def test_the_card_names_the_role_and_who_holds_it(school: Engine) -> None:
    card = say(school, "Thầy Phó Hiệu Trưởng", "/viec V.1", local(2))
    assert "Phụ trách: Hiệu trưởng (Cô Hiệu Trưởng)" in card


def test_every_teacher_of_the_group_carries_a_task_given_to_teachers(school: Engine) -> None:
    with session_scope(school) as session:
        plan_all(session, local(9, hour=8), CalendarDefaults())  # the day before: 10/12
        reminded = {
            session.get(Member, row.recipient_id).name
            for row in session.exec(select(Reminder))
            if row.task_id is not None and session.get(Task, row.task_id).code == "V.3"
        }
    assert reminded == {"Giáo Viên Một", "Giáo Viên Hai"}
    assert "Đã ghi cho" in say(school, "Giáo Viên Hai", "/xong V.3", local(9))
    with Session(school) as session:
        task = session.exec(select(Task).where(Task.code == "V.3")).one()
    assert task.status == TaskStatus.DONE


def test_a_teacher_cannot_report_on_the_principals_task(school: Engine) -> None:
    answer = say(school, "Giáo Viên Một", "/xong V.1", local(2))
    assert "Đã ghi" not in answer


def test_the_leaders_brief_brings_the_tasks_of_their_own_role(school: Engine) -> None:
    with Session(school) as session:
        target = session.exec(select(School)).one()
        briefs = {}
        for name in ("Cô Hiệu Trưởng", "Thầy Phó Hiệu Trưởng"):
            member = session.exec(select(Member).where(Member.name == name)).one()
            brief = compile_brief(session, target, member, local(9, hour=0), local(9, hour=8))
            briefs[name] = {item.task.code for item in brief.items}
    assert "V.1" in briefs["Cô Hiệu Trưởng"] and "V.1" not in briefs["Thầy Phó Hiệu Trưởng"]
    assert "V.2" in briefs["Thầy Phó Hiệu Trưởng"] and "V.2" not in briefs["Cô Hiệu Trưởng"]


def test_an_unknown_role_is_refused_with_the_roles_to_write(tmp_path: Path) -> None:
    with pytest.raises(PlanFileError) as refused:
        read_plan(plan_file(tmp_path, PLAN.replace("role: giáo viên", "role: trưởng ban")))
    assert (
        "không rõ vai trò 'trưởng ban'; hãy ghi Hiệu trưởng, Phó hiệu trưởng, Tổ trưởng hoặc "
        "Giáo viên."
    ) in str(refused.value)


HOMEROOM_TASKS = """
  - {code: V.4, title: "Tư vấn cho học sinh lựa chọn học THPT hoặc học nghề", unit: TO_TOAN,
     role: giáo viên chủ nhiệm, deadline: 10/12/2026}
  - {code: V.5, title: Họp cha mẹ học sinh lớp 9, unit: TO_TOAN, role: GVCN, deadline: 10/12/2026}
"""
HOMEROOM_PLAN = PLAN.rstrip("\n") + HOMEROOM_TASKS
HOMEROOM_PEOPLE = PEOPLE + "Cô Chủ Nhiệm,TO_TOAN,giáo viên chủ nhiệm,0900000006\n"
HOMEROOM_PEOPLE += "Thầy Chủ Nhiệm,TO_TOAN,GVCN,0900000007\n"


@pytest.mark.parametrize("fmt", ["yaml", "json", "xlsx"])
def test_a_homeroom_teachers_task_is_a_teachers_task_in_the_plan_and_the_people_file(
    engine: Engine, tmp_path: Path, fmt: str
) -> None:
    path = plan_file(tmp_path, HOMEROOM_PLAN)
    read = read_plan(path)
    assert {task.code: task.role for task in read.tasks}["V.4"] == "staff"
    assert {task.code: task.role for task in read.tasks}["V.5"] == "staff"
    import_school(engine, path, HOMEROOM_PEOPLE, now=local(1))
    with Session(engine) as session:
        roles = {
            session.get(Member, row.member_id).name: row.role
            for row in session.exec(select(Membership))
        }
    assert roles["Cô Chủ Nhiệm"] == roles["Thầy Chủ Nhiệm"] == Role.STAFF
    assert read_plan(exported_again(engine, tmp_path, fmt)).tasks == read.tasks


def test_the_homeroom_teachers_are_reminded_of_it_and_report_on_it(
    engine: Engine, tmp_path: Path
) -> None:
    import_school(engine, plan_file(tmp_path, HOMEROOM_PLAN), HOMEROOM_PEOPLE, now=local(1))
    link_chats(engine, HOMEROOM_PEOPLE)
    with session_scope(engine) as session:
        plan_all(session, local(9, hour=8), CalendarDefaults())  # the day before: 10/12
        reminded = {
            session.get(Member, row.recipient_id).name
            for row in session.exec(select(Reminder))
            if row.task_id is not None and session.get(Task, row.task_id).code == "V.4"
        }
    assert {"Cô Chủ Nhiệm", "Thầy Chủ Nhiệm"} <= reminded
    answer = say_as(engine, HOMEROOM_PEOPLE, "Thầy Chủ Nhiệm", "/xong V.5", local(9))
    assert "Đã ghi cho" in answer
    card = say_as(engine, HOMEROOM_PEOPLE, "Cô Chủ Nhiệm", "/viec V.4", local(9))
    assert "Phụ trách: Giáo viên" in card and "Cô Chủ Nhiệm" in card
