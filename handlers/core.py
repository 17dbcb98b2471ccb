"""The chat core: one entry point for every channel. Parse, authorize, call domain code, reply."""

import logging
import unicodedata
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from handlers import (
    assign,
    brief,
    buttons,
    choices,
    evidence,
    evidence_folder,
    groups,
    joining,
    kpis,
    linking,
    progress,
    reports,
    rollup,
    schools,
    tasks,
)
from handlers.chat import Incoming, Outcome, Reply, reply_payload
from handlers.context import Chat, ChatConfig, Known
from messages import h
from models import BotMessage, Channel, ChatIdentity
from models.base import utcnow
from models.db import session_scope
from services import accounts, outbox, received

log = logging.getLogger(__name__)

Handler = Callable[[Known, str], None]

# (Vietnamese name, English alias, handler, catalogue key of the menu description)
COMMANDS: list[tuple[str, str, Handler, str]] = [
    ("viec", "tasks", tasks.show_tasks, "menu.tasks"),
    ("capnhat", "update", progress.update_command, "menu.update"),
    ("xong", "done", progress.done_command, "menu.done"),
    ("vuong", "blocked", progress.blocked_command, "menu.blocked"),
    ("giao", "assign", assign.assign_command, "menu.assign"),
    ("chiso", "kpi", kpis.kpi_command, "menu.kpi"),
    ("baocao", "report", reports.report_command, "menu.report"),
    ("minhchung", "evidence", evidence_folder.evidence_command, "menu.evidence"),
    ("tomtat", "brief", brief.brief_command, "tomtat.menu"),
    ("lienket", "link", groups.link_command, "menu.link"),
    ("truong", "school", schools.school_command, "truong.menu"),
    ("kenh", "channel", linking.channel_command, "kenh.menu"),
    ("ngonngu", "language", joining.set_language, "menu.language"),
    ("huongdan", "help", joining.show_help, "menu.help"),
]
HANDLERS: dict[str, Handler] = {"start": joining.start}
for vietnamese, english, handler, _ in COMMANDS:
    HANDLERS[vietnamese] = HANDLERS[english] = handler
REMEMBER = insert(BotMessage)


def _clean(text: str) -> str:
    """Composed Unicode (Vietnamese keyboards may send "có" as o + U+0301), and no NUL, which
    PostgreSQL text cannot hold."""
    return unicodedata.normalize("NFC", text).replace("\x00", "")


def cleaned(incoming: Incoming) -> Incoming:
    files = tuple(
        replace(
            file,
            file_id=_clean(file.file_id),
            file_unique_id=file.file_unique_id and _clean(file.file_unique_id),
            file_name=file.file_name and _clean(file.file_name),
            mime_type=file.mime_type and _clean(file.mime_type),
        )
        for file in incoming.files
    )
    return replace(
        incoming,
        text=_clean(incoming.text),
        files=files,
        reply_to=incoming.reply_to and _clean(incoming.reply_to),
        button=incoming.button and _clean(incoming.button),
    )


def split_command(text: str) -> tuple[str | None, str]:
    """'/capnhat@dondoc_bot III.4.2 60' -> ('capnhat', 'III.4.2 60'); other text -> (None, '')."""
    if not text.startswith("/"):
        return None, ""
    head, _, args = text[1:].partition(" ")
    name = head.split("@", 1)[0].strip().lower()
    return (name or None), args.strip()


class ChatCore:
    def __init__(self, engine: Engine, config: ChatConfig, clock: Callable[[], datetime] = utcnow):
        self.engine = engine
        self.config = config
        self.clock = clock

    def handle(self, incoming: Incoming) -> Outcome:
        """Never raises: an unexpected error is logged, rolled back and answered politely."""
        incoming = cleaned(incoming)
        try:
            if incoming.message_id is not None and not received.first_time(
                self.engine, incoming.channel, incoming.message_id, self.clock()
            ):
                log.info("%s message %s came again: dropped", incoming.channel, incoming.message_id)
                return Outcome()
            with session_scope(self.engine) as session:
                ctx = self._context(session, self._picked(session, incoming))
                route(ctx)
                return choices.for_channel(ctx)
        except Exception:
            log.exception("could not handle %s message from %s", incoming.channel, incoming.user_id)
            return Outcome([Reply(h("error.internal"))], notice=h("error.internal"))

    def _picked(self, session: Session, incoming: Incoming) -> Incoming:
        """On a channel without buttons, a bare number that picks one of the chat's numbered
        choices is that button's press."""
        if self.config.capabilities(incoming.channel).buttons or incoming.button or incoming.files:
            return incoming
        payload = choices.picked(
            session, incoming.channel, incoming.chat_id, incoming.text, self.clock()
        )
        return incoming if payload is None else replace(incoming, button=payload, text="")

    def _context(self, session: Session, incoming: Incoming) -> Chat:
        """Who writes, and in which of their schools: see `schools.acting`."""
        ctx = Chat(session=session, incoming=incoming, now=self.clock(), config=self.config)
        account = accounts.links(session, incoming.channel, incoming.user_id)
        if account:
            ctx = schools.act_as(ctx, schools.acting(session, incoming, account, ctx.now))
            if not incoming.is_group:
                for link in account:
                    if link.identity.unreachable_at is not None:  # they wrote: reachable again
                        link.identity.unreachable_at = None
                        outbox.wake(session, link.identity.member_id, ctx.now)
        return ctx

    def keep_reply(self, channel: Channel, chat_id: str, reply: Reply) -> None:
        """An answer the channel would not take now waits in the outbox: never dropped."""
        with session_scope(self.engine) as session:
            outbox.keep_reply(session, channel, chat_id, reply_payload(reply), self.clock())

    def remember(self, channel: Channel, chat_id: str, message_id: str, reply: Reply) -> None:
        """Record a sent message about tasks, so replies and buttons under it find them: one
        row for a single task, numbered rows (1, 2, …) for a message listing several."""
        self.remember_all(channel, chat_id, [(message_id, reply)])

    def remember_all(self, channel: Channel, chat_id: str, sent: list[tuple[str, Reply]]) -> None:
        """`remember` for the messages sent in answer to one update, in one transaction."""
        rows = [
            {
                "channel": channel,
                "chat_id": chat_id,
                "message_id": message_id,
                "line": number if len(reply.tasks) > 1 else 0,
                "task_id": task_id,
                "expects": reply.expects,
                "sent_at": self.clock(),
            }
            for message_id, reply in sent
            for number, task_id in enumerate(reply.tasks, 1)
        ]
        if rows:
            with self.engine.begin() as connection:
                connection.execute(REMEMBER, rows)
        if not self.config.capabilities(channel).buttons:
            with session_scope(self.engine) as session:
                choices.keep(session, channel, chat_id, [reply for _, reply in sent], self.clock())

    def mark_unreachable(self, channel: Channel, chat_id: str) -> None:
        """The user blocked the bot: stop counting on this chat until they write again."""
        with session_scope(self.engine) as session:
            for identity in _identities_in(session, channel, chat_id):
                identity.unreachable_at = identity.unreachable_at or self.clock()


def _identities_in(session: Session, channel: Channel, chat_id: str) -> list[ChatIdentity]:
    query = select(ChatIdentity).where(
        ChatIdentity.channel == channel, ChatIdentity.chat_id == chat_id
    )
    return list(session.exec(query))


def route(ctx: Chat) -> None:
    incoming = ctx.incoming
    command, args = split_command(incoming.text.strip()) if not incoming.button else (None, "")
    if not isinstance(ctx, Known):
        joining.stranger(ctx, command, args)
        return
    if ctx.member.office and rollup.office_message(ctx, command, args):
        return  # the education office's: no task; /baocao is their roll-up
    if incoming.button:
        buttons.on_button(ctx, incoming.button)
        return
    if command is not None:
        handler = HANDLERS.get(command)
        if handler is None:
            ctx.say("command.unknown", command=command)
        else:
            handler(ctx, args)
        return
    if incoming.files:
        evidence.on_files(ctx)
    elif joining.looks_like_code(incoming.text) and not incoming.is_group:
        joining.hint(ctx)
    elif incoming.text.strip():
        progress.on_text(ctx)
    elif not incoming.is_group:
        joining.hint(ctx)
