"""Running `dondoc run` processes and their heartbeats: how one instance knows another died."""

import os
import secrets
import socket
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import Session, col, select

from models import Instance
from services import outbox

FORGET_AFTER = timedelta(days=7)  # a stopped or dead instance's row is kept this long
POLLING_ROLES = ("all", "poll")


def instance_name() -> str:
    """Unique per process, readable in `dondoc status`: host, pid and a random tag (a pid is
    reused after a restart; the tag tells the two apart)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def register(session: Session, name: str, role: str, now: datetime) -> None:
    session.exec(delete(Instance).where(col(Instance.heartbeat_at) < now - FORGET_AFTER))
    session.merge(Instance(name=name, role=role, started_at=now, heartbeat_at=now))


def beat(session: Session, name: str, now: datetime) -> None:
    """The heartbeat, which also renews the lease of every row the instance is sending."""
    instance = session.get(Instance, name)
    if instance is not None:
        instance.heartbeat_at = now
    outbox.renew(session, name, now)


def stopped(session: Session, name: str, now: datetime) -> int:
    """A graceful stop: the rows still claimed go back to the others at once."""
    instance = session.get(Instance, name)
    if instance is not None:
        instance.stopped_at = now
    return outbox.release(session, name)


def alive(session: Session, now: datetime, dead_after: timedelta) -> list[Instance]:
    """The running instances, the longest running first."""
    return list(
        session.exec(
            select(Instance)
            .where(col(Instance.stopped_at).is_(None))
            .where(col(Instance.heartbeat_at) >= now - dead_after)
            .order_by(col(Instance.started_at), col(Instance.name))
        ).all()
    )


def poller(session: Session, now: datetime, dead_after: timedelta) -> str | None:
    """The instance that takes updates by polling: of those that may (roles all and poll), the
    one running longest. Telegram allows one getUpdates at a time per bot."""
    return next((i.name for i in alive(session, now, dead_after) if i.role in POLLING_ROLES), None)
