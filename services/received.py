"""Messages a channel delivered, by id, for channels that may deliver one twice (a webhook
retried, several instances behind one address): the database says which delivery was first."""

from datetime import datetime, timedelta

from sqlalchemy import delete, insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from models import Channel, ReceivedMessage

KEPT_FOR = timedelta(days=1)  # a channel delivers a message twice within minutes, not days


def first_time(engine: Engine, channel: Channel, message_id: str, now: datetime) -> bool:
    """Record the message; False if it was recorded before."""
    try:
        with engine.begin() as connection:
            connection.execute(
                insert(ReceivedMessage).values(
                    channel=channel, message_id=message_id, received_at=now
                )
            )
    except IntegrityError:
        return False
    return True


def forget_old(session: Session, now: datetime) -> None:
    """Drop the ids of messages older than KEPT_FOR (done with each heartbeat)."""
    session.exec(delete(ReceivedMessage).where(col(ReceivedMessage.received_at) < now - KEPT_FOR))
