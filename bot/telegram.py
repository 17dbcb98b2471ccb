"""The Telegram channel: translates python-telegram-bot updates to the chat core and back."""

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable
from dataclasses import replace
from typing import Any

from telegram import (
    Bot,
    BotCommand,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyParameters,
    Update,
    User,
)
from telegram.constants import ChatType, MessageLimit, ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseRateLimiter,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.rate_limit import BULK, PriorityRateLimiter, retry_seconds
from handlers.chat import (
    Capabilities,
    DeliveryError,
    Incoming,
    Outcome,
    Reply,
    RetryLater,
    Undeliverable,
    Unreachable,
)
from handlers.core import COMMANDS, ChatCore
from messages import t
from messages.rich import Rich, html_line, plain, split
from models import Channel
from services.progress import IncomingFile

log = logging.getLogger(__name__)

GROUP_TYPES = (ChatType.GROUP, ChatType.SUPERGROUP)
PHOTO_SUFFIXES = (".png", ".jpg", ".jpeg")
NOTICE_LIMIT = 200  # answerCallbackQuery text
CONCURRENT_UPDATES = 64
MENTION_ROOM = 140  # characters kept for a person's name before a question in a group
CAPABILITIES = Capabilities(
    text_limit=MessageLimit.MAX_TEXT_LENGTH, markup=True, buttons=True, reply_to=True,
    files=True, editing=True, groups=True,
)  # fmt: skip


def build_application(
    core: ChatCore,
    *,
    token: str,
    base_url: str,
    base_file_url: str,
    rate_limiter: BaseRateLimiter | None = None,
) -> Application:
    # httpx logs every Bot API request at INFO, with the token in its URL: work for nothing on
    # every message, and a secret in the log.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLogger().level))
    application = (
        ApplicationBuilder()
        .token(token)
        .base_url(base_url)
        .base_file_url(base_file_url)
        .rate_limiter(rate_limiter or PriorityRateLimiter())
        .concurrent_updates(ChatByChat(CONCURRENT_UPDATES))
        .build()
    )
    channel = TelegramChannel(core)
    application.add_handler(CallbackQueryHandler(channel.on_button))
    application.add_handler(MessageHandler(filters.UpdateType.MESSAGE, channel.on_message))
    application.add_error_handler(channel.on_error)
    return application


async def set_command_menu(application: Application) -> None:
    """The command menu, Vietnamese by default and for Vietnamese users, English for English."""
    bot = application.bot
    for language, index in (("vi", 0), ("en", 1)):
        commands = [
            BotCommand(names[index], t(description, language))
            for *names, _, description in COMMANDS
        ]
        await bot.set_my_commands(commands, language_code=language)
        if language == "vi":
            await bot.set_my_commands(commands)


class ChatByChat(BaseUpdateProcessor):
    """Updates of different chats are handled at once (one person waiting out a 429 holds up
    no one else); a chat's own updates one after the other, in order."""

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self.locks: dict[int, asyncio.Lock] = {}
        self.waiting: Counter[int] = Counter()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        key = chat.id if chat else 0
        self.waiting[key] += 1
        try:
            async with self.locks.setdefault(key, asyncio.Lock()):
                await coroutine
        finally:
            self.waiting[key] -= 1
            if not self.waiting[key]:
                del self.waiting[key], self.locks[key]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""


class TelegramChannel:
    def __init__(self, core: ChatCore) -> None:
        self.core = core

    async def on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.message
        user = update.effective_user
        if message is None or user is None or user.is_bot:
            return
        text = message.text or message.caption or ""
        if for_another_bot(text, context.bot.username):
            return
        replied = message.reply_to_message
        reply_to = (
            str(replied.message_id)
            if replied and replied.from_user and replied.from_user.id == context.bot.id
            else None
        )
        incoming = Incoming(
            channel=Channel.TELEGRAM,
            user_id=str(user.id),
            chat_id=str(message.chat.id),
            text=text,
            is_group=message.chat.type in GROUP_TYPES,
            chat_title=message.chat.title,
            username=user.username,
            reply_to=reply_to,
            files=_files(message),
        )
        outcome = await asyncio.to_thread(self.core.handle, incoming)
        answer_to = message.message_id if incoming.is_group else None
        await self.deliver(context, message.chat.id, outcome, answer_to)

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None:
            return
        chat = query.message.chat if query.message else None
        chat_id = chat.id if chat else query.from_user.id
        incoming = Incoming(
            channel=Channel.TELEGRAM,
            user_id=str(query.from_user.id),
            chat_id=str(chat_id),
            is_group=bool(chat and chat.type in GROUP_TYPES),
            chat_title=chat.title if chat else None,
            username=query.from_user.username,
            button=query.data or "",
        )
        outcome = await asyncio.to_thread(self.core.handle, incoming)
        await query.answer(plain(outcome.notice or Rich())[:NOTICE_LIMIT] or None)
        # In a group, a question asked after a button press names who pressed it: Telegram's
        # selective ForceReply then opens the answer box for that person only.
        mention = query.from_user if incoming.is_group else None
        await self.deliver(context, chat_id, outcome, mention=mention)

    async def deliver(
        self,
        context: ContextTypes.DEFAULT_TYPE,
        chat_id: int,
        outcome: Outcome,
        answer_to: int | None = None,
        mention: User | None = None,
    ) -> None:
        """The one place that sends the core's replies on Telegram, then fetches evidence files.
        The messages sent about tasks are remembered in one go, even when a later one fails."""
        kept = False
        about_tasks: list[tuple[str, Reply]] = []
        try:
            for reply in outcome.replies:
                named = mention.mention_html() if mention is not None and reply.ask_reply else None
                if not kept:
                    try:
                        sent = await send_reply(
                            context.bot, chat_id, reply, answer_to, mention=named
                        )
                    except TelegramError as exc:
                        if not transient(exc):
                            raise
                        log.warning("an answer to %s waits in the outbox (%s)", chat_id, exc)
                        kept = True
                if kept:  # this one and the rest, in order, still answering the same message
                    later = replace(reply, answers=str(answer_to)) if answer_to else reply
                    await asyncio.to_thread(
                        self.core.keep_reply, Channel.TELEGRAM, str(chat_id), later
                    )
                elif reply.tasks:
                    about_tasks.append((str(sent.message_id), reply))
        finally:
            if about_tasks:
                await asyncio.to_thread(
                    self.core.remember_all, Channel.TELEGRAM, str(chat_id), about_tasks
                )
        for download in outcome.downloads:
            download.path.parent.mkdir(parents=True, exist_ok=True)
            telegram_file = await context.bot.get_file(download.file_id)
            await telegram_file.download_to_drive(download.path)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        error = context.error
        chat = update.effective_chat if isinstance(update, Update) else None
        if isinstance(error, Forbidden) and chat is not None:
            log.info("chat %s blocked the bot: marked unreachable", chat.id)
            await asyncio.to_thread(self.core.mark_unreachable, Channel.TELEGRAM, str(chat.id))
        elif isinstance(error, BadRequest):
            log.error("Telegram refused a request: %s", error)
        elif isinstance(error, RetryAfter | NetworkError):
            log.warning("Telegram unavailable for now (%s); the bot keeps running", error)
        elif isinstance(error, TelegramError):
            log.error("Telegram refused a request: %s", error)
        else:
            log.error("unexpected error", exc_info=error)


async def send_reply(
    bot: Bot,
    chat_id: int,
    reply: Reply,
    answer_to: int | None = None,
    *,
    bulk: bool = False,
    mention: str | None = None,
) -> Message:
    """The one place that sends a message on Telegram: the text as Telegram's HTML (split at
    4096 characters, the buttons under the last part), then any files. Returns the (last) text
    message. `bulk`: a reminder, which waits behind answers to people. `mention`: a person
    named first (HTML), whom a selective question is for."""
    limit = BULK if bulk else None
    if answer_to is None and reply.answers:
        answer_to = int(reply.answers)
    room = CAPABILITIES.text_limit - (MENTION_ROOM if mention else 0)
    parts = split(reply.text, room, html_line)
    if mention is not None:
        parts[0] = f"{mention} {parts[0]}"
    sent = None
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        # the bot is an ExtBot, which takes rate_limit_args for our limiter; PTB's default types
        # (Bot, ExtBot[None]) cannot say so
        sent = await bot.send_message(  # type: ignore[call-arg]
            chat_id,
            part,
            parse_mode=ParseMode.HTML,
            reply_markup=_markup(reply) if last else None,
            reply_parameters=(
                ReplyParameters(answer_to, allow_sending_without_reply=True)
                if answer_to and index == 0
                else None
            ),
            rate_limit_args=limit,
        )
    assert sent is not None  # split gives one part at least
    for path in reply.files:
        with path.open("rb") as content:
            if path.suffix.lower() in PHOTO_SUFFIXES:
                await bot.send_photo(  # type: ignore[call-arg]  # as send_message
                    chat_id, content, filename=path.name, rate_limit_args=limit
                )
            else:
                await bot.send_document(  # type: ignore[call-arg]  # as send_message
                    chat_id, content, filename=path.name, rate_limit_args=limit
                )
    return sent


class TelegramSender:
    """Sends the messages the bot starts (reminders, the digest) and says why one failed."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send(self, chat_id: str, reply: Reply) -> str:
        try:
            message = await send_reply(self.bot, int(chat_id), reply, bulk=True)
        except RetryAfter as exc:
            raise RetryLater(retry_seconds(exc)) from exc
        except Forbidden as exc:
            raise Unreachable(str(exc)) from exc
        except BadRequest as exc:
            raise Undeliverable(str(exc)) from exc
        except (NetworkError, TelegramError) as exc:
            raise DeliveryError(str(exc)) from exc
        return str(message.message_id)


def for_another_bot(text: str, username: str) -> bool:
    """'/viec@other_bot': Telegram gives every bot in a group the commands addressed to others."""
    command = text.split(maxsplit=1)[0] if text.startswith("/") else ""
    _, at, addressee = command.partition("@")
    return bool(at) and addressee.casefold() != username.casefold()


def transient(error: TelegramError) -> bool:
    """Worth trying again later: a 429, a timeout, a network or server error (not a refusal)."""
    return isinstance(error, RetryAfter) or (
        isinstance(error, NetworkError) and not isinstance(error, BadRequest)
    )


def _files(message: Message) -> tuple[IncomingFile, ...]:
    files = []
    if message.photo:
        photo = message.photo[-1]  # the largest size
        files.append(
            IncomingFile(
                "photo", photo.file_id, photo.file_unique_id, None, "image/jpeg", photo.file_size
            )
        )
    if message.document:
        doc = message.document
        files.append(
            IncomingFile(
                "document",
                doc.file_id,
                doc.file_unique_id,
                doc.file_name,
                doc.mime_type,
                doc.file_size,
            )
        )
    return tuple(files)


def _markup(reply: Reply) -> InlineKeyboardMarkup | ForceReply | None:
    if reply.buttons:
        return InlineKeyboardMarkup(
            [
                [InlineKeyboardButton(b.label, callback_data=b.payload) for b in row]
                for row in reply.buttons
            ]
        )
    if reply.ask_reply:
        return ForceReply(selective=True)
    return None
