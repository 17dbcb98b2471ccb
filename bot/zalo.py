"""The Zalo channel: translates Zalo Bot API messages to the chat core and back. Zalo has no
buttons, no reply-to and no files to send: the core offers numbered choices, the chat's latest
message stands for the replied one, and the digest says where its workbook is."""

import asyncio
import contextlib
import hmac
import json
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlparse

from tornado.httpserver import HTTPServer
from tornado.web import Application, RequestHandler

from bot.zalo_api import (
    MAX_TEXT_LENGTH,
    ZaloBotApi,
    ZaloError,
    ZaloForbidden,
    ZaloMessage,
    ZaloNetworkError,
    ZaloRetryAfter,
    ZaloUnauthorized,
    parse_update,
)
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
from handlers.core import ChatCore
from messages.rich import plain_line, split
from models import Channel
from services.progress import IncomingFile

log = logging.getLogger(__name__)

CAPABILITIES = Capabilities(
    text_limit=MAX_TEXT_LENGTH, markup=False, buttons=False, reply_to=False, files=False,
    editing=False, groups=False,
)  # fmt: skip
POLL_SECONDS = 30  # getUpdates' long poll
MAX_PHOTO_BYTES = 20 * 1024 * 1024  # as Telegram lets a bot download
MAX_BODY_BYTES = 64 * 1024  # a webhook update is a few hundred bytes
SECRET_HEADER = "X-Bot-Api-Secret-Token"
BACKOFF = (1.0, 60.0)  # seconds between failed polls: from, doubling up to


def transient(error: ZaloError) -> bool:
    """Worth trying again later: a 429, a timeout, a network or server error."""
    return isinstance(error, ZaloRetryAfter | ZaloNetworkError)


async def send_reply(api: ZaloBotApi, chat_id: str, reply: Reply) -> str:
    """The one place that sends a message on Zalo: plain text in parts of 2,000 characters cut
    between lines (the choices, already in the text, come last). Returns the last part's id."""
    message_id = ""
    for part in split(reply.text, CAPABILITIES.text_limit, plain_line):
        if part.strip():
            message_id = await api.send_message(chat_id, part)
    if reply.files:
        log.info("Zalo cannot send files: %d not sent to %s", len(reply.files), chat_id)
    return message_id


@dataclass
class ZaloChannel:
    core: ChatCore
    api: ZaloBotApi
    locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    waiting: Counter[str] = field(default_factory=Counter)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def take(self, message: ZaloMessage) -> None:
        """Handle a message in the background (a webhook is answered at once); a chat's own
        messages one after the other, in order; different chats at once."""
        task = asyncio.get_running_loop().create_task(self._in_order(message))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _in_order(self, message: ZaloMessage) -> None:
        chat = message.chat_id
        self.waiting[chat] += 1
        try:
            async with self.locks.setdefault(chat, asyncio.Lock()):
                await self.on_message(message)
        except Exception:
            log.exception("could not answer Zalo message %s", message.message_id)
        finally:
            self.waiting[chat] -= 1
            if not self.waiting[chat]:  # nobody else of this chat waits: forget its lock
                del self.waiting[chat], self.locks[chat]

    async def on_message(self, message: ZaloMessage) -> None:
        if message.is_bot or message.is_group:  # groups are beta on Zalo: one-to-one only
            return
        photo = (
            IncomingFile("photo", f"zalo-{message.message_id}", f"zalo-{message.message_id}",
                         None, "image/jpeg")
            if message.photo_url
            else None
        )  # fmt: skip
        incoming = Incoming(
            channel=Channel.ZALO,
            user_id=message.user_id,
            chat_id=message.chat_id,
            text=message.text,
            username=message.display_name,
            files=(photo,) if photo else (),
            message_id=message.message_id,
        )
        outcome = await asyncio.to_thread(self.core.handle, incoming)
        await self.deliver(message.chat_id, outcome)
        for download in outcome.downloads:
            assert message.photo_url is not None  # the only file a Zalo message brings
            download.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                await self.api.download(message.photo_url, download.path, MAX_PHOTO_BYTES)
            except ZaloError as exc:
                log.warning("could not fetch the photo of Zalo message %s: %s",
                            message.message_id, exc)  # fmt: skip

    async def deliver(self, chat_id: str, outcome: Outcome) -> None:
        """Send the core's replies; one Zalo will not take now waits in the outbox with the rest
        after it. Every message sent is remembered: its tasks, and its numbered choices."""
        sent: list[tuple[str, Reply]] = []
        kept = False
        try:
            for reply in outcome.replies:
                if not kept:
                    try:
                        sent.append((await send_reply(self.api, chat_id, reply), reply))
                        continue
                    except ZaloForbidden:
                        await asyncio.to_thread(self.core.mark_unreachable, Channel.ZALO, chat_id)
                        return
                    except ZaloError as exc:
                        if not transient(exc):
                            log.error("Zalo refused an answer to %s: %s", chat_id, exc)
                            return
                        log.warning("an answer to %s waits in the outbox (%s)", chat_id, exc)
                        kept = True
                await asyncio.to_thread(self.core.keep_reply, Channel.ZALO, chat_id, reply)
        finally:
            if sent:
                await asyncio.to_thread(self.core.remember_all, Channel.ZALO, chat_id, sent)

    async def poll(self, stop: asyncio.Event) -> None:
        """Long-poll until `stop`: each update is handled as it comes; failures back off."""
        wait = BACKOFF[0]
        while not stop.is_set():
            try:
                messages = await self.api.get_updates(timeout=POLL_SECONDS)
            except ZaloRetryAfter as exc:
                await _pause(stop, exc.retry_after)
                continue
            except ZaloError as exc:
                level = logging.ERROR if isinstance(exc, ZaloUnauthorized) else logging.WARNING
                log.log(level, "getting Zalo updates failed (%s); retrying in %.0f s", exc, wait)
                await _pause(stop, wait)
                wait = min(wait * 2, BACKOFF[1])
                continue
            wait = BACKOFF[0]
            for message in messages:
                self.take(message)

    async def drain(self) -> None:
        """Let the messages being handled finish."""
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


class ZaloSender:
    """Sends the messages the bot starts (reminders, the digest) and says why one failed."""

    def __init__(self, api: ZaloBotApi) -> None:
        self.api = api

    async def send(self, chat_id: str, reply: Reply) -> str:
        try:
            return await send_reply(self.api, chat_id, reply)
        except ZaloRetryAfter as exc:
            raise RetryLater(exc.retry_after) from exc
        except ZaloForbidden as exc:
            raise Unreachable(str(exc)) from exc
        except ZaloError as exc:
            if transient(exc) or isinstance(exc, ZaloUnauthorized):
                raise DeliveryError(str(exc)) from exc
            raise Undeliverable(str(exc)) from exc


class _WebhookHandler(RequestHandler):
    def initialize(self, secret: str, take: Callable[[ZaloMessage], None]) -> None:
        self.secret = secret
        self.take = take

    async def post(self) -> None:
        given = self.request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            log.warning("a Zalo webhook call with a wrong secret was refused")
            self.set_status(403)
            return
        if len(self.request.body) > MAX_BODY_BYTES:
            self.set_status(413)
            return
        try:
            message = parse_update(json.loads(self.request.body))
        except ValueError:
            message = None
        if message is None:
            self.set_status(400)
            return
        self.take(message)  # answered at once; handled in the background
        self.write({"ok": True})


def _unlogged(handler: RequestHandler) -> None:
    if handler.get_status() >= 400:
        log.info("Zalo webhook answered %d", handler.get_status())


class ZaloWebhook:
    """Zalo's webhook on `listen:port`, at the path of its public URL. Answers at once: the
    message is handled after; a wrong secret gets 403, a body over 64 KB 413."""

    def __init__(
        self, url: str, secret: str, listen: str, port: int, take: Callable[[ZaloMessage], None]
    ) -> None:
        path = urlparse(url).path or "/"
        application = Application(
            [(path, _WebhookHandler, {"secret": secret, "take": take})],
            log_function=_unlogged,
        )
        # far larger bodies are cut off by the server; a little larger ones get 413
        self.server = HTTPServer(application, max_body_size=4 * MAX_BODY_BYTES)
        self.server.listen(port, listen)
        sockets = list(self.server._sockets.values())
        self.port: int = sockets[0].getsockname()[1] if sockets else port

    async def stop(self) -> None:
        self.server.stop()
        await self.server.close_all_connections()
