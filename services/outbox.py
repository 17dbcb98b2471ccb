"""The outbox: claiming due reminder rows safely across processes, and recording what happened.

A row is claimed (status `sending`, `claimed_by`, `claim_version` + 1) before it is sent, and a
send, a retry or a failure is recorded only under that same claim (`Held`): a sweep whose claim
was taken over records nothing. A claim is a lease the sweep renews while it sends; a process
that dies leaves its rows claimed until the lease runs out or its heartbeat is seen to have
stopped, and another sweep claims them again. So a crash causes at most one duplicate, and
nothing is lost: a failed send is retried with growing pauses until the row is stale."""

import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, tuple_, update
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from models import (
    Channel,
    ChatIdentity,
    DeliveryFailure,
    Instance,
    Member,
    Reminder,
    ReminderKind,
    ReminderStatus,
    School,
    Unit,
)

LEASE = timedelta(minutes=2)
DEAD_AFTER = timedelta(seconds=30)  # an instance whose heartbeat is older is taken for dead
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(minutes=5)
# How long a reminder is worth sending after it fell due: a "due tomorrow" note until the day,
# the week's check-in and digest until the next one.
LIFETIME = {
    ReminderKind.BEFORE_7D: timedelta(days=5),
    ReminderKind.BEFORE_1D: timedelta(days=1),
    ReminderKind.DUE_DAY: timedelta(hours=16),
    ReminderKind.OVERDUE: timedelta(days=7),
    ReminderKind.ESCALATION: timedelta(days=7),
    ReminderKind.CHECKIN: timedelta(days=4),
    ReminderKind.DIGEST: timedelta(days=7),
    ReminderKind.ASSIGNED: timedelta(days=14),
    ReminderKind.BRIEF: timedelta(days=1),
    ReminderKind.KPI_RISK: timedelta(days=7),
    ReminderKind.REPLY: timedelta(days=1),
}
WAKE_ON_JOIN = (DeliveryFailure.NO_CHAT, DeliveryFailure.UNREACHABLE)


@dataclass(frozen=True)
class Held:
    """Rows claimed by `worker`, each under its claim version: the fencing token."""

    worker: str
    versions: dict[int, int]

    def only(self, ids: Sequence[int]) -> "Held":
        return Held(self.worker, {row_id: self.versions[row_id] for row_id in ids})

    @property
    def ids(self) -> list[int]:
        return list(self.versions)

    def __len__(self) -> int:
        return len(self.versions)


def stale_at(row: Reminder) -> datetime:
    return row.stale_at or row.due_at + LIFETIME[row.kind]


def _dead_instances(now: datetime, dead_after: timedelta):
    return select(Instance.name).where(
        or_(col(Instance.heartbeat_at) < now - dead_after, col(Instance.stopped_at).is_not(None))
    )


def _lapsed(now: datetime, dead_after: timedelta) -> ColumnElement[bool]:
    return and_(
        col(Reminder.status) == ReminderStatus.SENDING,
        or_(
            col(Reminder.claimed_at) < now - LEASE,
            col(Reminder.claimed_by).in_(_dead_instances(now, dead_after)),
        ),
    )


def _due(now: datetime) -> ColumnElement[bool]:
    return and_(col(Reminder.status) == ReminderStatus.PENDING, col(Reminder.due_at) <= now)


def claim_due(
    session: Session,
    now: datetime,
    worker: str,
    limit: int = 500,
    dead_after: timedelta = DEAD_AFTER,
) -> Held:
    """Claim up to `limit` rows for `worker`: lapsed claims (their lease ran out, or their
    instance's heartbeat is older than `dead_after`) first, then due rows in due order.
    Each kind is one index range scan (an OR of both would sort a whole backlog). On PostgreSQL
    concurrent sweeps skip each other's rows (FOR UPDATE SKIP LOCKED); on SQLite writers take
    turns and the guarded UPDATE only takes rows still claimable, so no row is claimed twice."""
    ids: list[int] = []
    for claimable, order in (
        (_lapsed(now, dead_after), col(Reminder.claimed_at)),
        (_due(now), col(Reminder.due_at)),
    ):
        if len(ids) < limit:
            ids += session.exec(
                select(Reminder.id)
                .where(claimable)
                .order_by(order, col(Reminder.id))
                .limit(limit - len(ids))
                .with_for_update(skip_locked=True)
            ).all()
    if not ids:
        return Held(worker, {})
    session.exec(
        update(Reminder)
        .where(col(Reminder.id).in_(ids), or_(_lapsed(now, dead_after), _due(now)))
        .values(
            status=ReminderStatus.SENDING,
            claimed_at=now,
            claimed_by=worker,
            claim_version=Reminder.claim_version + 1,
        )
        .execution_options(synchronize_session=False)
    )
    claimed = session.exec(
        select(Reminder.id, Reminder.claim_version)
        .where(col(Reminder.id).in_(ids), col(Reminder.claimed_by) == worker)
        .where(col(Reminder.claimed_at) == now, col(Reminder.status) == ReminderStatus.SENDING)
    ).all()
    return Held(worker, dict(claimed))


def _under(claim: Held) -> ColumnElement[bool]:
    return and_(
        tuple_(col(Reminder.id), col(Reminder.claim_version)).in_(list(claim.versions.items())),
        col(Reminder.claimed_by) == claim.worker,
        col(Reminder.status) == ReminderStatus.SENDING,
    )


def _set(session: Session, claim: Held, **values: object) -> int:
    if not claim.versions:
        return 0
    result = session.exec(
        update(Reminder)
        .where(_under(claim))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def hold(session: Session, claim: Held, now: datetime) -> bool:
    """Renew the lease of these rows; False if any of them is no longer ours (not to be sent)."""
    return _set(session, claim, claimed_at=now) == len(claim.versions)


def renew(session: Session, worker: str, now: datetime) -> None:
    """Renew the lease of every row `worker` holds, and its heartbeat."""
    session.exec(
        update(Reminder)
        .where(col(Reminder.claimed_by) == worker, col(Reminder.status) == ReminderStatus.SENDING)
        .values(claimed_at=now)
        .execution_options(synchronize_session=False)
    )


def release(session: Session, worker: str) -> int:
    """Give back every row `worker` holds, unsent, as it was: a graceful stop."""
    result = session.exec(
        update(Reminder)
        .where(col(Reminder.claimed_by) == worker, col(Reminder.status) == ReminderStatus.SENDING)
        .values(status=ReminderStatus.PENDING, claimed_at=None, claimed_by=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def mark_sent(
    session: Session,
    claim: Held,
    *,
    channel: Channel,
    chat_id: str,
    message_id: str,
    now: datetime,
) -> int:
    return _set(
        session,
        claim,
        status=ReminderStatus.SENT,
        sent_at=now,
        channel=channel,
        chat_id=chat_id,
        message_id=message_id,
        last_error=None,
        failure=None,
    )


def postpone(session: Session, claim: Held, *, until: datetime, reason: str) -> None:
    """Back to pending at `until` (a snooze): not a failed attempt."""
    _set(
        session,
        claim,
        status=ReminderStatus.PENDING,
        due_at=until,
        claimed_at=None,
        claimed_by=None,
        last_error=reason,
    )


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, … up to 5 min between tries, each drawn from its upper half so that
    rows failed together do not all come back together."""
    ceiling = min(LONGEST_RETRY, FIRST_RETRY * 2 ** min(10, max(0, attempts - 1)))
    return ceiling * random.uniform(0.5, 1.0)


def retry_later(
    session: Session, claim: Held, *, now: datetime, error: str, after: timedelta | None = None
) -> int:
    """A failed try: pending again after `after` (a RetryAfter) or a growing pause; a row whose
    next try would come after it is stale fails as expired. Returns how many expired."""
    expired = 0
    for row in session.exec(select(Reminder).where(_under(claim))):
        row.attempts += 1
        row.stale_at = stale_at(row)
        row.due_at = now + (after if after is not None else backoff(row.attempts))
        row.claimed_at, row.claimed_by, row.last_error = None, None, error
        row.status = ReminderStatus.PENDING
        if row.due_at >= row.stale_at:
            row.status, row.failure = ReminderStatus.FAILED, DeliveryFailure.EXPIRED
            expired += 1
    return expired


def mark_failed(session: Session, claim: Held, failure: DeliveryFailure, error: str) -> None:
    for row in session.exec(select(Reminder).where(_under(claim))):
        row.stale_at = stale_at(row)
        row.status, row.failure, row.last_error = ReminderStatus.FAILED, failure, error


def cancel(session: Session, claim: Held, reason: str) -> None:
    _set(session, claim, status=ReminderStatus.CANCELLED, last_error=reason)


def keep_reply(
    session: Session, channel: Channel, chat_id: str, payload: str, now: datetime
) -> Reminder:
    """An answer to a person that the channel would not take now: sent later like a reminder."""
    member_id = session.exec(
        select(ChatIdentity.member_id).where(
            ChatIdentity.channel == channel, ChatIdentity.chat_id == chat_id
        )
    ).first()
    member = session.get(Member, member_id) if member_id else None
    row = Reminder(
        school_id=member.school_id if member else None,
        dedupe_key=f"reply:{uuid.uuid4().hex}",
        kind=ReminderKind.REPLY,
        occurrence=now.date(),
        due_at=now + FIRST_RETRY,
        channel=channel,
        chat_id=chat_id,
        payload=payload,
    )
    session.add(row)
    return row


@dataclass(frozen=True)
class Failure:
    """A reminder that ended failed: why, and for whom (a person, or a unit's group chat)."""

    cause: DeliveryFailure
    school: str | None
    member: str | None
    unit: str | None


def failures(
    session: Session, since: datetime, until: datetime | None = None, school_id: int | None = None
) -> list[Failure]:
    """Rows that ended failed from `since` (to `until`), by the time of their last try: the
    claim a failure was recorded under, else their due time (expired while waiting)."""
    when = func.coalesce(Reminder.claimed_at, Reminder.due_at)
    query = (
        select(Reminder.failure, School.name, Member.name, Unit.name)
        .join(School, col(School.id) == col(Reminder.school_id), isouter=True)
        .join(Member, col(Member.id) == col(Reminder.recipient_id), isouter=True)
        .join(Unit, col(Unit.id) == col(Reminder.unit_id), isouter=True)
        .where(col(Reminder.status) == ReminderStatus.FAILED, col(Reminder.failure).is_not(None))
        .where(when >= since)
        .order_by(col(Reminder.id))
    )
    if until is not None:
        query = query.where(when < until)
    if school_id is not None:
        query = query.where(col(Reminder.school_id) == school_id)
    return [Failure(*row) for row in session.exec(query).all()]


def wake(session: Session, member_id: int, now: datetime) -> int:
    """A person who had no chat with the bot (or had blocked it) is reachable now: what they
    were owed and is not stale yet goes out with the next sweep."""
    result = session.exec(
        update(Reminder)
        .where(
            col(Reminder.recipient_id) == member_id,
            col(Reminder.status) == ReminderStatus.FAILED,
            col(Reminder.failure).in_(WAKE_ON_JOIN),
            col(Reminder.stale_at) > now,
        )
        .values(status=ReminderStatus.PENDING, due_at=now, failure=None, last_error=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount
