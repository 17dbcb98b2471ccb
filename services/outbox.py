"""The outbox: claiming due reminder rows safely across processes, and recording what happened.

A row is claimed (status `sending`) before it is sent and marked `sent` with the message id
after. A process that dies in between leaves the row claimed; once the lease runs out another
sweep claims it again. So a crash can cause at most one duplicate, and nothing is ever lost."""

from datetime import datetime, timedelta

from sqlalchemy import and_, or_, update
from sqlmodel import Session, col, select

from models import Channel, Reminder, ReminderStatus

LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 12


def _claimable(now: datetime):
    return or_(
        and_(Reminder.status == ReminderStatus.PENDING, col(Reminder.due_at) <= now),
        and_(Reminder.status == ReminderStatus.SENDING, col(Reminder.claimed_at) < now - LEASE),
    )


def claim_due(session: Session, now: datetime, worker: str, limit: int = 500) -> list[Reminder]:
    """Claim up to `limit` due rows for `worker`. On PostgreSQL concurrent sweeps skip each
    other's rows (FOR UPDATE SKIP LOCKED); on SQLite writers take turns and the guarded UPDATE
    only takes rows still claimable, so no row is claimed twice."""
    ids = session.exec(
        select(Reminder.id)
        .where(_claimable(now))
        .order_by(col(Reminder.due_at), col(Reminder.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if not ids:
        return []
    session.exec(
        update(Reminder)
        .where(col(Reminder.id).in_(ids), _claimable(now))
        .values(
            status=ReminderStatus.SENDING,
            claimed_at=now,
            claimed_by=worker,
            attempts=Reminder.attempts + 1,
        )
    )
    session.flush()
    session.expire_all()
    return list(
        session.exec(
            select(Reminder)
            .where(col(Reminder.id).in_(ids), Reminder.claimed_by == worker)
            .where(Reminder.claimed_at == now, Reminder.status == ReminderStatus.SENDING)
            .order_by(col(Reminder.due_at), col(Reminder.id))
        ).all()
    )


def mark_sent(
    session: Session,
    ids: list[int],
    *,
    channel: Channel,
    chat_id: str,
    message_id: str,
    now: datetime,
) -> None:
    session.exec(
        update(Reminder)
        .where(col(Reminder.id).in_(ids))
        .values(
            status=ReminderStatus.SENT,
            sent_at=now,
            channel=channel,
            chat_id=chat_id,
            message_id=message_id,
            last_error=None,
        )
    )


def retry_later(session: Session, ids: list[int], *, at: datetime, error: str) -> None:
    """Back to pending at `at` (a RetryAfter, a network error); too many tries: failed."""
    for row in session.exec(select(Reminder).where(col(Reminder.id).in_(ids))):
        row.status = (
            ReminderStatus.FAILED if row.attempts >= MAX_ATTEMPTS else ReminderStatus.PENDING
        )
        row.due_at, row.claimed_at, row.claimed_by, row.last_error = at, None, None, error


def mark_failed(session: Session, ids: list[int], error: str) -> None:
    session.exec(
        update(Reminder)
        .where(col(Reminder.id).in_(ids))
        .values(status=ReminderStatus.FAILED, last_error=error)
    )


def cancel(session: Session, ids: list[int], reason: str) -> None:
    session.exec(
        update(Reminder)
        .where(col(Reminder.id).in_(ids))
        .values(status=ReminderStatus.CANCELLED, last_error=reason)
    )
