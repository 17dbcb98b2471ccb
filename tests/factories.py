"""Small builders for rows the tests need."""

from datetime import date

from sqlmodel import Session

from models import Member, Membership, Role, School, Task, Unit


def make_school(session: Session, code: str = "S1", name: str = "Trường Thử") -> School:
    school = School(code=code, name=name)
    session.add(school)
    session.flush()
    return school


def make_unit(session: Session, school: School, code: str = "VP", name: str = "Văn phòng") -> Unit:
    unit = Unit(school_id=school.id, code=code, name=name)
    session.add(unit)
    session.flush()
    return unit


def make_member(
    session: Session, school: School, unit: Unit, name: str = "Lê Thị Hoa", role: Role = Role.STAFF
) -> Member:
    member = Member(school_id=school.id, name=name)
    session.add(member)
    session.flush()
    session.add(Membership(member_id=member.id, unit_id=unit.id, role=role))
    session.flush()
    return member


def make_task(
    session: Session, school: School, unit: Unit, code: str = "III.1.1", **values: object
) -> Task:
    values.setdefault("deadline", date(2026, 12, 31))
    task = Task(school_id=school.id, unit_id=unit.id, code=code, title="Nhiệm vụ thử", **values)
    session.add(task)
    session.flush()
    return task
