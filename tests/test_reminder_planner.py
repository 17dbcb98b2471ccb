"""The reminder planner against a small school and a controlled clock (no sleeping)."""

from datetime import date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models import (
    Channel,
    Member,
    ProgressUpdate,
    Reminder,
    ReminderKind,
    ReminderStatus,
    School,
    Snooze,
    Task,
    TaskAssignee,
    TaskStatus,
    Unit,
    UnitChat,
    UpdateSource,
)
from models.db import session_scope
from services.progress import record_progress
from services.reminders import CalendarDefaults, plan_all, plan_school
from tests.reminder_school import HCM, local, make_school


def plan(engine: Engine, now: datetime) -> list[tuple[str, str, str, datetime]]:
    """Plan at `now`; the new rows as (kind, task or unit, recipient, local due time)."""
    with session_scope(engine) as session:
        created = plan_all(session, now, CalendarDefaults())
        return sorted(describe(session, row) for row in created)


def last_run(engine: Engine, moment: datetime) -> None:
    """As if the planner had last run for the school at `moment`."""
    with session_scope(engine) as session:
        session.exec(select(School)).one().followed_up_at = moment


def describe(session: Session, row: Reminder) -> tuple[str, str, str, datetime]:
    subject = (
        session.get(Task, row.task_id).code
        if row.task_id
        else f"unit:{row.unit_id}"
        if row.unit_id
        else "—"
    )
    recipient = session.get(Member, row.recipient_id).name if row.recipient_id else "group"
    return row.kind.value, subject, recipient, row.due_at.astimezone(HCM)


def test_each_task_gets_its_latest_due_reminder_and_the_leaders_a_brief(
    reminder_school: Engine,
) -> None:
    monday = local(30, 7, 31, month=11)
    assert plan(reminder_school, monday) == sorted(
        [
            ("before_7d", "T.7", "Trưởng Văn Phòng", monday),
            ("before_1d", "T.1", "Trưởng Văn Phòng", monday),
            ("overdue", "T.OVER", "Trưởng Văn Phòng", monday),  # 20/11 + 5 × 2 days
            ("before_7d", "T.TCM", "Tổ Trưởng", monday),  # its moment (26/11) came before
            ("brief", "—", "Hiệu Trưởng", monday),  # T.OVER arrived overdue (the import)
            ("brief", "—", "Phó Hiệu Trưởng", monday),
        ]
    )  # the planner's first run: every row is due now, none was missed while the bot was down


def test_after_the_first_run_a_row_is_due_at_its_moment(reminder_school: Engine) -> None:
    plan(reminder_school, local(30, 7, 31, month=11))
    tuesday = plan(reminder_school, local(1, 7, 40))
    assert ("due_day", "T.1", "Trưởng Văn Phòng", local(1, 7, 30)) in tuesday


def test_planning_again_adds_nothing_even_from_a_new_process(reminder_school: Engine) -> None:
    first = plan(reminder_school, local(30, 8, month=11))
    assert first
    assert plan(reminder_school, local(30, 8, month=11)) == []
    assert plan(reminder_school, local(30, 8, 5, month=11)) == []


def test_the_morning_of_the_due_day_then_overdue_every_two_days(reminder_school: Engine) -> None:
    plan(reminder_school, local(30, 8, month=11))
    assert ("due_day", "T.1", "Trưởng Văn Phòng", local(1, 7, 30)) in plan(
        reminder_school, local(1, 8)
    )
    assert [r for r in plan(reminder_school, local(2, 8)) if r[1] == "T.1"] == []
    overdue = [r for r in plan(reminder_school, local(3, 8)) if r[1] == "T.1"]
    assert overdue == [("overdue", "T.1", "Trưởng Văn Phòng", local(3, 7, 30))]


def test_a_leaders_brief_is_at_most_once_a_day_and_only_with_news(reminder_school: Engine) -> None:
    def briefs(now: datetime) -> list[tuple[str, datetime]]:
        return [(r[2], r[3]) for r in plan(reminder_school, now) if r[0] == "brief"]

    assert len(briefs(local(30, 8, month=11))) == 2
    assert briefs(local(30, 15, month=11)) == []
    assert briefs(local(1, 8)) == []  # nothing new since Monday's
    assert briefs(local(1, 15)) == []  # Tuesday's was skipped, not postponed
    assert briefs(local(2, 8)) == [  # T.1 (due 01/12) is overdue since midnight
        ("Hiệu Trưởng", local(2, 7, 30)),
        ("Phó Hiệu Trưởng", local(2, 7, 30)),
    ]
    with session_scope(reminder_school) as session:
        skipped = session.exec(
            select(Reminder.dedupe_key, Reminder.status, Reminder.last_error)
            .where(Reminder.kind == ReminderKind.BRIEF, Reminder.occurrence == date(2026, 12, 1))
            .order_by(Reminder.dedupe_key)
        ).all()
    assert [(status, error) for _, status, error in skipped] == [
        (ReminderStatus.CANCELLED, "nothing new")
    ] * 2


def test_a_reminder_due_on_a_holiday_waits_for_the_next_school_day(reminder_school: Engine) -> None:
    plan(reminder_school, local(7, 8))
    rows = [r for r in plan(reminder_school, local(9, 8)) if r[1] == "T.HOL"]
    # Due day 08/12 is a holiday: the due-day reminder waits until 09/12 06:30.
    assert rows == [("due_day", "T.HOL", "Tổ Trưởng", local(9, 6, 30))]


def test_quiet_hours_delay_reminders_to_the_next_allowed_moment(
    engine: Engine, tmp_path: Path
) -> None:
    late = make_school(engine, tmp_path, '{reminders: {at: "22:15"}}')
    last_run(late, local(24, 20, month=11))
    monday_night = plan(late, local(30, 23, month=11))  # 22:15 falls in quiet hours 21:00–06:30
    assert all(not (time(6, 30) > r[3].time() or r[3].time() >= time(21)) for r in monday_night)
    assert [r for r in monday_night if r[1] == "T.7"] == []
    # T.1's week-ahead reminder (24/11 22:15) went out the next morning at 06:30.
    assert [r for r in monday_night if r[1] == "T.1"] == [
        ("before_7d", "T.1", "Trưởng Văn Phòng", local(25, 6, 30, month=11))
    ]
    tuesday = plan(late, local(1, 6, 31))
    assert ("before_7d", "T.7", "Trưởng Văn Phòng", local(1, 6, 30)) in tuesday
    assert ("before_1d", "T.1", "Trưởng Văn Phòng", local(1, 6, 30)) in tuesday


def test_without_quiet_hours_the_late_time_is_kept(engine: Engine, tmp_path: Path) -> None:
    late = make_school(engine, tmp_path, '{quiet_hours: "", reminders: {at: "22:15"}}')
    last_run(late, local(30, 22, month=11))
    assert ("before_1d", "T.1", "Trưởng Văn Phòng", local(30, 22, 15, month=11)) in plan(
        late, local(30, 23, month=11)
    )


def test_sunday_is_not_a_working_day(reminder_school: Engine) -> None:
    plan(reminder_school, local(5, 12))  # Saturday
    sunday = plan(reminder_school, local(6, 12))
    assert sunday == []
    monday = plan(reminder_school, local(7, 8))
    assert ("due_day", "T.7", "Trưởng Văn Phòng", local(7, 7, 30)) in monday


def test_a_snoozed_reminder_waits_until_the_snooze_ends(reminder_school: Engine) -> None:
    with session_scope(reminder_school) as session:
        task = session.exec(select(Task).where(Task.code == "T.1")).one()
        head = session.exec(select(Member).where(Member.name == "Trưởng Văn Phòng")).one()
        session.add(Snooze(member_id=head.id, task_id=task.id, until=local(30, 15, month=11)))
    rows = [r for r in plan(reminder_school, local(30, 8, month=11)) if r[1] == "T.1"]
    assert rows == [("before_1d", "T.1", "Trưởng Văn Phòng", local(30, 15, month=11))]


def test_an_assigned_task_reminds_the_assignee_not_the_head(reminder_school: Engine) -> None:
    with session_scope(reminder_school) as session:
        task = session.exec(select(Task).where(Task.code == "T.7")).one()
        member = session.exec(select(Member.id).where(Member.name == "Nhân Viên")).one()
        session.add(TaskAssignee(task_id=task.id, member_id=member))
    rows = [r for r in plan(reminder_school, local(30, 8, month=11)) if r[1] == "T.7"]
    assert [r[2] for r in rows] == ["Nhân Viên"]


def test_done_tasks_get_no_reminders(reminder_school: Engine) -> None:
    with session_scope(reminder_school) as session:
        task = session.exec(select(Task).where(Task.code == "T.OVER")).one()
        record_progress(
            session, task, None, source=UpdateSource.COMMAND, now=local(29, 9, month=11),
            status=TaskStatus.DONE,
        )  # fmt: skip
    assert [r for r in plan(reminder_school, local(30, 8, month=11)) if r[1] == "T.OVER"] == []


def test_a_recurring_task_moves_on_once_done_and_past(reminder_school: Engine) -> None:
    plan(reminder_school, local(30, 8, month=11))
    with session_scope(reminder_school) as session:
        task = session.exec(select(Task).where(Task.code == "T.REC")).one()
        assert task.occurrence == date(2026, 12, 2)
        record_progress(
            session, task, None, source=UpdateSource.COMMAND, now=local(1, 10),
            status=TaskStatus.DONE,
        )  # fmt: skip
    assert [
        r for r in plan(reminder_school, local(2, 8)) if r[1] == "T.REC"
    ] == []  # done: no due-day
    plan(reminder_school, local(3, 8))
    with session_scope(reminder_school) as session:
        task = session.exec(select(Task).where(Task.code == "T.REC")).one()
        assert (task.occurrence, task.status, task.progress) == (
            date(2026, 12, 9),
            TaskStatus.TODO,
            0,
        )
        history = session.exec(
            select(ProgressUpdate)
            .where(ProgressUpdate.task_id == task.id)
            .order_by(ProgressUpdate.id)
        ).all()
        assert [(u.source, u.status) for u in history] == [
            (UpdateSource.COMMAND, TaskStatus.DONE),
            (UpdateSource.SYSTEM, TaskStatus.TODO),
        ]
        assert history[-1].note == "Chuyển sang kỳ mới, hạn 09/12/2026."


def test_an_undone_recurring_occurrence_stays_and_turns_overdue(reminder_school: Engine) -> None:
    plan(reminder_school, local(30, 8, month=11))
    rows = [r for r in plan(reminder_school, local(4, 8)) if r[1] == "T.REC"]
    assert rows == [("overdue", "T.REC", "Trưởng Văn Phòng", local(4, 7, 30))]


def test_the_weekly_check_in_asks_heads_of_units_that_did_not_report(
    reminder_school: Engine,
) -> None:
    with session_scope(reminder_school) as session:
        task = session.exec(select(Task).where(Task.code == "T.7")).one()
        record_progress(
            session, task, None, source=UpdateSource.COMMAND, now=local(1, 10), percent=30
        )
    assert [r for r in plan(reminder_school, local(3, 8, 59)) if r[0] == "checkin"] == []
    rows = [r for r in plan(reminder_school, local(3, 9, 1)) if r[0] == "checkin"]
    assert [(r[2], r[3]) for r in rows] == [("Tổ Trưởng", local(3, 9))]  # VP reported, TCM not


def test_the_digest_is_due_on_friday_afternoon_for_the_leaders(reminder_school: Engine) -> None:
    assert [r for r in plan(reminder_school, local(4, 16, 29)) if r[0] == "digest"] == []
    rows = [r for r in plan(reminder_school, local(4, 16, 31)) if r[0] == "digest"]
    assert [(r[2], r[3]) for r in rows] == [
        ("Hiệu Trưởng", local(4, 16, 30)),
        ("Phó Hiệu Trưởng", local(4, 16, 30)),
    ]


def test_after_three_days_down_each_task_gets_one_reminder_not_a_replay(
    reminder_school: Engine,
) -> None:
    last_run(reminder_school, local(30, 7, month=11))
    rows = plan(reminder_school, local(30, 8, month=11) + timedelta(days=3))  # Thursday 03/12
    per_task_and_person = [(r[1], r[2]) for r in rows if r[0] not in ("brief", "checkin")]
    assert len(per_task_and_person) == len(set(per_task_and_person))
    assert ("overdue", "T.1", "Trưởng Văn Phòng", local(3, 7, 30)) in rows
    with session_scope(reminder_school) as session:
        kinds = session.exec(select(Reminder.kind).where(Reminder.task_id.is_not(None))).all()
    assert ReminderKind.BEFORE_1D not in kinds  # superseded while the bot was down


def test_a_school_may_also_remind_in_the_units_linked_group(engine: Engine, tmp_path: Path) -> None:
    school = make_school(engine, tmp_path, "{group_reminders: true}")
    with session_scope(school) as session:
        office = session.exec(select(Unit).where(Unit.code == "VP")).one()
        session.add(
            UnitChat(unit_id=office.id, channel=Channel.TELEGRAM, chat_id="-100", title="Tổ VP")
        )
    rows = plan(school, local(30, 7, 31, month=11))
    to_group = sorted(r[1] for r in rows if r[2] == "group")
    assert to_group == ["T.1", "T.7", "T.OVER"]
    assert ("overdue", "T.OVER", "Trưởng Văn Phòng", local(30, 7, 31, month=11)) in rows


def test_a_weekly_task_turned_ongoing_after_its_week_was_done_does_not_stop_the_planner(
    reminder_school: Engine,
) -> None:
    with session_scope(reminder_school) as session:
        task = session.exec(select(Task).where(Task.code == "T.REC")).one()
        task.recurrence, task.status = "ongoing", TaskStatus.DONE  # a re-import made it undated
        task.occurrence = date(2026, 11, 25)  # the Wednesday it was done for
    with session_scope(reminder_school) as session:
        school = session.exec(select(School)).one()
        planned = plan_school(session, school, local(30, 7, 31, month=11), CalendarDefaults())
    assert planned  # the school's other tasks are followed up as before
    with session_scope(reminder_school) as session:
        task = session.exec(select(Task).where(Task.code == "T.REC")).one()
    assert (task.status, task.occurrence) == (TaskStatus.DONE, None)
