from datetime import UTC, date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, StatementError
from sqlmodel import Session, select

from models import (
    Channel,
    ChatIdentity,
    Invitation,
    Kpi,
    KpiValue,
    Member,
    Membership,
    ProgressUpdate,
    Reminder,
    ReminderKind,
    Role,
    Task,
    TaskStatus,
    Unit,
    UpdateSource,
)
from services.reminders import task_key
from tests.factories import make_member, make_school, make_task, make_unit

HCM = timezone(timedelta(hours=7))


def test_datetimes_are_stored_utc_and_come_back_aware(session: Session) -> None:
    school = make_school(session)
    unit = make_unit(session, school)
    task = make_task(session, school, unit)
    local = datetime(2026, 12, 1, 8, 0, tzinfo=HCM)
    session.add(
        ProgressUpdate(
            task_id=task.id,
            created_at=local,
            percent=50,
            status=TaskStatus.IN_PROGRESS,
            source=UpdateSource.COMMAND,
        )
    )
    session.commit()
    session.expunge_all()

    stored = session.exec(select(ProgressUpdate)).one()
    assert stored.created_at.tzinfo is not None
    assert stored.created_at == local
    assert stored.created_at.utcoffset() == timedelta(0)
    assert stored.created_at.hour == 1


def test_naive_datetimes_are_refused(session: Session) -> None:
    school = make_school(session)
    unit = make_unit(session, school)
    task = make_task(session, school, unit)
    session.add(
        ProgressUpdate(
            task_id=task.id,
            created_at=datetime(2026, 12, 1, 8, 0),
            status=TaskStatus.TODO,
            source=UpdateSource.COMMAND,
        )
    )
    with pytest.raises(StatementError):
        session.flush()


def test_unit_codes_are_unique_per_school_only(session: Session) -> None:
    first, second = make_school(session, "A"), make_school(session, "B")
    make_unit(session, first, "VP")
    make_unit(session, second, "VP")
    session.commit()
    session.add(Unit(school_id=first.id, code="VP", name="Trùng"))
    with pytest.raises(IntegrityError):
        session.flush()


def test_task_codes_are_unique_per_school(session: Session) -> None:
    school = make_school(session)
    unit = make_unit(session, school)
    make_task(session, school, unit, "III.4.2")
    session.commit()
    with pytest.raises(IntegrityError):
        make_task(session, school, unit, "III.4.2")


@pytest.mark.parametrize("progress", [-1, 101])
def test_task_progress_stays_within_0_and_100(session: Session, progress: int) -> None:
    school = make_school(session)
    unit = make_unit(session, school)
    with pytest.raises(IntegrityError):
        make_task(session, school, unit, progress=progress)


def test_a_task_needs_a_deadline_or_a_recurrence(session: Session) -> None:
    school = make_school(session)
    unit = make_unit(session, school)
    make_task(session, school, unit, "A", deadline=None, recurrence="monthly:25")
    with pytest.raises(IntegrityError):
        make_task(session, school, unit, "B", deadline=None, recurrence=None)


def test_foreign_keys_are_enforced(session: Session) -> None:
    school = make_school(session)
    session.add(
        Task(school_id=school.id, unit_id=999_999, code="X", title="x", deadline=date.today())
    )
    with pytest.raises(IntegrityError):
        session.flush()


def test_enum_columns_refuse_unknown_values(session: Session) -> None:
    school = make_school(session)
    unit = make_unit(session, school)
    member = make_member(session, school, unit)
    session.commit()
    with pytest.raises(IntegrityError):
        session.execute(
            sa.text("UPDATE membership SET role = 'janitor' WHERE member_id = :id"),
            {"id": member.id},
        )


def test_a_member_can_belong_to_several_units_with_different_roles(session: Session) -> None:
    school = make_school(session)
    office, union = make_unit(session, school, "VP"), make_unit(session, school, "CD", "Công đoàn")
    member = make_member(session, school, office, role=Role.UNIT_HEAD)
    session.add(Membership(member_id=member.id, unit_id=union.id, role=Role.STAFF))
    session.commit()
    roles = dict(session.exec(select(Membership.unit_id, Membership.role)).all())
    assert roles == {office.id: Role.UNIT_HEAD, union.id: Role.STAFF}


def test_chat_identity_links_an_account_to_a_member_once(session: Session) -> None:
    """An account may hold one member per school (checked when joining); never one twice."""
    school = make_school(session)
    unit = make_unit(session, school)
    first = make_member(session, school, unit, "A")
    second = make_member(session, school, unit, "B")
    session.add(
        ChatIdentity(
            member_id=first.id, channel=Channel.TELEGRAM, external_user_id="42", chat_id="42"
        )
    )
    session.add(
        ChatIdentity(member_id=second.id, channel=Channel.ZALO, external_user_id="42", chat_id="42")
    )
    session.commit()
    session.add(
        ChatIdentity(
            member_id=first.id, channel=Channel.TELEGRAM, external_user_id="42", chat_id="7"
        )
    )
    with pytest.raises(IntegrityError):
        session.flush()


def test_invitation_hashes_are_unique(session: Session) -> None:
    school = make_school(session)
    unit = make_unit(session, school)
    member = make_member(session, school, unit)
    expires = datetime(2026, 12, 10, tzinfo=UTC)
    session.add(Invitation(member_id=member.id, code_hash="a" * 64, expires_at=expires))
    session.commit()
    session.add(Invitation(member_id=member.id, code_hash="a" * 64, expires_at=expires))
    with pytest.raises(IntegrityError):
        session.flush()


def test_kpi_is_unique_per_key_and_year_and_values_need_positive_denominator(
    session: Session,
) -> None:
    school = make_school(session)
    for year in (2026, 2030):
        session.add(
            Kpi(
                school_id=school.id,
                key="pcgd",
                name="PCGD",
                direction=">=",
                target=3,
                target_year=year,
            )
        )
    session.commit()
    kpi = session.exec(select(Kpi).where(Kpi.target_year == 2026)).one()
    session.add(KpiValue(kpi_id=kpi.id, value=0.48, numerator=3, denominator=620))
    session.commit()
    session.add(KpiValue(kpi_id=kpi.id, value=0, numerator=0, denominator=0))
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()
    session.add(
        Kpi(school_id=school.id, key="pcgd", name="x", direction=">=", target=3, target_year=2026)
    )
    with pytest.raises(IntegrityError):
        session.flush()


def test_a_reminder_is_unique_per_task_recipient_kind_and_occurrence(session: Session) -> None:
    school = make_school(session)
    unit = make_unit(session, school)
    member = make_member(session, school, unit)
    task = make_task(session, school, unit)
    due = datetime(2026, 12, 24, 1, 0, tzinfo=UTC)
    occurrence = date(2026, 12, 31)

    def reminder(lead: str, kind: ReminderKind) -> Reminder:
        key = task_key(task.id, str(member.id), lead, occurrence)
        return Reminder(
            school_id=school.id, dedupe_key=key, task_id=task.id, recipient_id=member.id,
            kind=kind, occurrence=occurrence, due_at=due,
        )  # fmt: skip

    session.add(reminder("before_7d", ReminderKind.BEFORE_7D))
    session.add(reminder("before_1d", ReminderKind.BEFORE_1D))
    session.commit()
    session.add(reminder("before_7d", ReminderKind.BEFORE_7D))
    with pytest.raises(IntegrityError):
        session.flush()


def test_deleting_a_school_removes_its_rows_but_not_other_schools(session: Session) -> None:
    doomed, kept = make_school(session, "A"), make_school(session, "B")
    for school in (doomed, kept):
        unit = make_unit(session, school)
        make_member(session, school, unit)
    session.commit()
    session.delete(doomed)
    session.commit()
    assert [m.school_id for m in session.exec(select(Member))] == [kept.id]
    assert [u.school_id for u in session.exec(select(Unit))] == [kept.id]
