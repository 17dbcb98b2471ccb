"""Buttons on a channel that has none: the buttons of a message are listed under it, numbered,
and a person answers with the number. The latest message to a chat holds its choices (in the
database: any process may take the answer) for a few hours."""

import re
from dataclasses import replace
from datetime import datetime, timedelta

from sqlmodel import Session, col, delete, select

from handlers.chat import Button, Outcome, Reply
from handlers.context import Context
from messages import join_rich
from models import Channel, ChatChoice

CHOICES_FOR = timedelta(hours=4)  # as long as a chat's current task (handlers.resolve)
NUMBER = re.compile(r"(?:s[ốo]|ch[ọo]n|ph[ươu]{1,2}ng [áa]n)?\s*(\d{1,2})\s*[.)]?", re.IGNORECASE)


def for_channel(ctx: Context) -> Outcome:
    """The outcome as the channel of `ctx` can show it: where there are no buttons, a button's
    short answer is a message, and the buttons of each reply its numbered choices."""
    outcome = ctx.outcome
    if ctx.capabilities.buttons:
        return outcome
    replies = [offered(ctx, reply) for reply in outcome.replies]
    if outcome.notice:
        replies.insert(0, Reply(outcome.notice))
    return replace(outcome, replies=replies, notice=None)


def offered(ctx: Context, reply: Reply) -> Reply:
    """The reply for the channel `ctx` writes for: its buttons listed as numbered choices where
    there are no buttons. A bare number picks a choice; a number with words ("1 xong") still
    answers the numbered task lines a message may have."""
    if ctx.capabilities.buttons or not reply.buttons:
        return reply
    lines = [ctx.text("choices.prompt")] + [
        ctx.text("choices.line", number=number, label=button.label)
        for number, button in enumerate(flat(reply), 1)
    ]
    return replace(reply, text=join_rich([reply.text, join_rich(lines)], "\n\n"))


def flat(reply: Reply) -> list[Button]:
    return [button for row in reply.buttons for button in row]


def keep(
    session: Session, channel: Channel, chat_id: str, replies: list[Reply], now: datetime
) -> None:
    """The choices of the latest of `replies` that has any become the chat's; a message
    without them ends the earlier ones."""
    session.exec(delete(ChatChoice).where(col(ChatChoice.channel) == channel).where(
        col(ChatChoice.chat_id) == chat_id
    ))  # fmt: skip
    with_buttons = [reply for reply in replies if reply.buttons]
    if not with_buttons:
        return
    session.add_all(
        ChatChoice(
            channel=channel,
            chat_id=chat_id,
            number=number,
            label=button.label[:200],
            payload=button.payload,
            offered_at=now,
        )
        for number, button in enumerate(flat(with_buttons[-1]), 1)
    )


def picked(
    session: Session, channel: Channel, chat_id: str, text: str, now: datetime
) -> str | None:
    """The payload of the choice a bare number ("2", "số 2", "2.") picks, if the chat has it."""
    match = NUMBER.fullmatch(text.strip())
    if match is None:
        return None
    choice = session.exec(
        select(ChatChoice).where(
            ChatChoice.channel == channel,
            ChatChoice.chat_id == chat_id,
            ChatChoice.number == int(match.group(1)),
            col(ChatChoice.offered_at) >= now - CHOICES_FOR,
        )
    ).first()
    return choice.payload if choice is not None else None
