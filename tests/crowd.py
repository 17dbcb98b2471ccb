"""A school with many people linked on Telegram, each owed one reminder due now: what the
resilience tests send while processes crash, stop and compete."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from models import (
    Channel,
    ChatIdentity,
    Member,
    Membership,
    Reminder,
    ReminderKind,
    ReminderStatus,
    Role,
    School,
    Task,
    TaskAssignee,
    Unit,
)
from models.db import session_scope

FIRST_CHAT = 700_000
CODE = "GV."
SCHOOL_ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


def owe_reminders(engine: Engine, people: int, now: datetime) -> list[int]:
    """`people` teachers of the school's office, each with a task due tomorrow and its reminder
    due a minute ago, as the planner would have written it. Returns their chat ids."""
    tomorrow = (now.astimezone(SCHOOL_ZONE) + timedelta(days=1)).date()
    with session_scope(engine) as session:
        school = session.exec(select(School)).one()
        office = session.exec(select(Unit).where(Unit.code == "VANPHONG")).one()
        members = [Member(school_id=school.id, name=f"Giáo viên {n:04}") for n in range(people)]
        session.add_all(members)
        session.flush()
        tasks = [
            Task(
                school_id=school.id,
                unit_id=office.id,
                code=f"{CODE}{n}",
                deadline=tomorrow,
                title=f"Nộp kế hoạch bài dạy số {n}",
            )
            for n in range(people)
        ]
        session.add_all(tasks)
        session.flush()
        for n, (member, task) in enumerate(zip(members, tasks, strict=True)):
            chat = str(FIRST_CHAT + n)
            session.add(Membership(member_id=member.id, unit_id=office.id, role=Role.STAFF))
            session.add(
                ChatIdentity(
                    member_id=member.id,
                    channel=Channel.TELEGRAM,
                    external_user_id=chat,
                    chat_id=chat,
                    linked_at=now,
                )
            )
            session.add(TaskAssignee(task_id=task.id, member_id=member.id, assigned_at=now))
            session.add(
                Reminder(
                    school_id=school.id,
                    dedupe_key=f"task:{task.id}:{member.id}:before_1d:{tomorrow}",
                    task_id=task.id,
                    unit_id=office.id,
                    recipient_id=member.id,
                    kind=ReminderKind.BEFORE_1D,
                    occurrence=tomorrow,
                    due_at=now - timedelta(minutes=1),
                )
            )
    return [FIRST_CHAT + n for n in range(people)]


def statuses(engine: Engine) -> dict[ReminderStatus, int]:
    with session_scope(engine) as session:
        rows = session.exec(
            select(Reminder.status).join(Task).where(col(Task.code).startswith(CODE))
        ).all()
    return {status: rows.count(status) for status in set(rows)}
