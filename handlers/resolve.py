"""Which task a message means, the same on every channel, in this order: the codes written in
the text; the bot message it replies to (a message about several tasks numbers its lines, and
of those the only one still open is meant); the chat's current task (the last message the bot
sent this person about tasks, for a few hours); the person's only open task; otherwise the
person is asked, and what they wrote is kept.

Without a reply (Zalo, the console, a message typed anew), line numbers ("6 80%") refer to the
latest message with numbered lines, so a list is answered line after line even though the bot
confirms each answer in between; words without a number refer to the latest message."""

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import bindparam
from sqlmodel import col, select

from handlers.context import Known
from handlers.progress_text import Part, Reading
from models import BotMessage, Task, TaskStatus
from services.permissions import can_update
from services.tasks import find_shares, open_tasks, own_share

CURRENT_FOR = timedelta(hours=4)
IN_CHAT = (
    BotMessage.channel == bindparam("channel"),
    BotMessage.chat_id == bindparam("chat"),
)
LATEST = (
    select(BotMessage.message_id)
    .where(*IN_CHAT, col(BotMessage.sent_at) >= bindparam("since"))
    .order_by(col(BotMessage.sent_at).desc(), col(BotMessage.id).desc())
    .limit(1)
)  # the bot-message lookups are built once: some of them run on each message
LATEST_NUMBERED = LATEST.where(col(BotMessage.line) > 0)
MESSAGE = (
    select(BotMessage, Task)
    .join(Task, col(Task.id) == col(BotMessage.task_id))
    .where(
        *IN_CHAT,
        BotMessage.message_id == bindparam("message"),
        Task.school_id == bindparam("school"),
    )
    .order_by(col(BotMessage.line))
)


@dataclass(frozen=True)
class Thread:
    """The bot message a person answers, with its tasks in line order."""

    tasks: tuple[Task, ...]
    expects: str | None = None

    @property
    def lines(self) -> int:
        """How many numbered lines a reply may refer to (none in a message about one task)."""
        return len(self.tasks) if len(self.tasks) > 1 else 0


@dataclass
class Resolution:
    placed: list[tuple[Task, Part]]  # each statement with the task it is about
    unplaced: list[Part]  # statements naming no task the message context settles
    candidates: list[Task]  # the tasks to offer when asking which one was meant
    beyond: list[Part] = field(default_factory=list)  # line numbers the message does not have


def thread(ctx: Known, numbered: bool = False) -> Thread | None:
    """The replied-to bot message, else (in a private chat) the latest one about tasks; with
    `numbered`, the latest one with numbered lines, which line numbers refer to."""
    incoming = ctx.incoming
    if incoming.reply_to:
        replied = _message(ctx, incoming.reply_to)
        if replied is not None:
            return replied
    if incoming.is_group:
        return None
    params = {"channel": incoming.channel, "chat": incoming.chat_id, "since": ctx.now - CURRENT_FOR}
    latest = ctx.session.exec(LATEST_NUMBERED if numbered else LATEST, params=params).first()
    return _message(ctx, latest) if latest is not None else None


def _message(ctx: Known, message_id: str) -> Thread | None:
    incoming = ctx.incoming
    params = {
        "channel": incoming.channel,
        "chat": incoming.chat_id,
        "message": message_id,
        "school": ctx.school.id,
    }
    rows = ctx.session.exec(MESSAGE, params=params).all()
    if not rows:
        return None
    return Thread(tuple(task for _, task in rows), rows[0][0].expects)


def resolve(ctx: Known, reading: Reading, replied: Thread | None) -> Resolution:
    """Place each statement on its task: by code, by line number, by the message answered, or
    on the person's only open task; the rest stays unplaced, with the tasks to offer."""
    codes = [code for part in reading.parts for code in part.codes]
    shares = find_shares(ctx.session, ctx.school.id, codes)
    shared = _which_unit(ctx, shares)
    if shared:
        return Resolution([], list(reading.parts), shared)
    named = {code: own_share(rows, ctx.actor) for code, rows in shares.items()}
    placed: list[tuple[Task, Part]] = []
    unplaced: list[Part] = []
    beyond: list[Part] = []
    for part in reading.parts:
        if part.codes:
            placed += [(named[code], part) for code in part.codes if code in named]
        elif part.lines and (replied is None or max(part.lines) > replied.lines):
            beyond.append(part)
        elif part.lines and replied is not None:
            placed += [(replied.tasks[line - 1], part) for line in part.lines]
        else:
            unplaced.append(part)
    if beyond:
        return Resolution(placed, unplaced, list(replied.tasks) if replied else [], beyond)
    if not unplaced or placed or reading.unknown_codes or reading.ambiguous:
        return Resolution(placed, unplaced, [])
    if replied is not None and len(replied.tasks) == 1:
        return Resolution([(replied.tasks[0], part) for part in unplaced], [], [])
    still_open = [t for t in replied.tasks if t.status != TaskStatus.DONE] if replied else []
    if len(still_open) == 1:
        return Resolution([(still_open[0], part) for part in unplaced], [], [])
    if still_open:
        return Resolution([], unplaced, still_open)
    mine = open_tasks(ctx.session, ctx.actor, ctx.today)
    if len(mine) == 1 and not ctx.incoming.is_group:
        return Resolution([(mine[0], part) for part in unplaced], [], [])
    return Resolution([], unplaced, mine)


def _which_unit(ctx: Known, shares: dict[str, list[Task]]) -> list[Task]:
    """The units' rows of a task given to several, when the person may update more than one of
    them (a leader): the one meant is asked."""
    for rows in shares.values():
        mine = [task for task in rows if can_update(ctx.actor, task)]
        if len(mine) > 1:
            return mine
    return []
