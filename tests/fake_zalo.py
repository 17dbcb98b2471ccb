"""A fake Zalo Bot API server on 127.0.0.1, for the Zalo client and channel in tests.

::

    async with FakeZalo() as zalo:
        api = ZaloBotApi(zalo.token, zalo.base_url)
        zalo.queue(zalo.text_update("u1", "/viec"))
        ...
        assert zalo.sent_to("u1")[-1]["text"] == "..."
        assert zalo.violations == []

Requests are ``POST /bot<token>/<method>`` with a JSON object (getMe also by GET). A wrong token
gets 401. Each method's parameters are checked as the real API would (required ones, types,
sendMessage text of 1 to 2,000 characters, chat ids that look like Zalo's string ids, setWebhook's
HTTPS URL and 8-256 character secret); a bad call gets 400 AND is recorded in ``violations``,
as are unknown methods (404), unknown parameters and bodies that are not a JSON object. Errors
that depend on state (getUpdates while a webhook is set, an injected ``fail_next``) get the same
answer but are not violations.

Updates: ``text_update``, ``image_update``, ``sticker_update`` and ``unsupported_update`` build
realistic ``{event_name, message}`` dicts (date in ms, string ids, ``chat.id`` = the user's id in
a private chat); ``queue`` hands them to getUpdates, which long-polls (at most
``max_long_poll`` seconds, whatever the bot asks) and answers ONE update
``{ok:true, result:{event_name, message}}``, or ``{ok:false, error_code:408, description:"Request
timeout"}`` when nothing came. ``deliver_webhook`` POSTs one to the URL given in setWebhook
instead, with the ``X-Bot-Api-Secret-Token`` header. ``photo_url(name, content)`` serves a photo
on the same server (as Zalo's CDN would, without the token).

Zalo misbehaving, on demand:
- ``fail_next(method, error_code, description, times=1, retry_after=None, chat_id=None)``: the
  next calls answer that error (429 with ``parameters.retry_after`` only if given).
- ``with zalo.outage(502):`` every API call answers that HTTP status (JSON body, or an HTML page
  with ``html=True``); ``with zalo.stall(seconds):`` every API call answers that much later.
- ``FakeZalo(errors_as_http_status=False)``: errors come with HTTP 200 and only the body says
  ``ok:false``/``error_code`` (the documentation leaves open which the real server does).

Deliberate differences from Zalo (whose documentation is thin):
- Any well-formed chat id is accepted; use ``fail_next(..., chat_id=...)`` for a chat that
  refuses (403) or does not exist (400).
- setWebhook accepts ``http://`` for 127.0.0.1 and localhost, so tests can receive deliveries.
- getUpdates while a webhook is set answers 400 (the real error code is undocumented).
- Updates are never delivered to the webhook by themselves; a test calls ``deliver_webhook``.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, TypedDict, TypeVar
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from tests.loopback import Fault, LoopbackServer

DEFAULT_TOKEN = "3141592653589793238:FAKE-zalo-secret-Xk2Lq9"
TEXT_LIMIT = 2000
SECRET_LENGTH = (8, 256)
MAX_LONG_POLL_SECONDS = 1.0
CHAT_ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z_.-]{0,63}")
CHAT_ACTIONS = frozenset({"typing", "upload_photo"})
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
SECRET_HEADER = "X-Bot-Api-Secret-Token"
POLL_TIMEOUT = "Request timeout"

EVENT_TEXT = "message.text.received"
EVENT_IMAGE = "message.image.received"
EVENT_STICKER = "message.sticker.received"
EVENT_VOICE = "message.voice.received"
EVENT_UNSUPPORTED = "message.unsupported.received"

DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    408: POLL_TIMEOUT,
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}

Params = dict[str, Any]
JsonDict = dict[str, Any]


# --------------------------------------------------------------------------------------------
# Parameter checks
# --------------------------------------------------------------------------------------------

Check = Callable[[object], str | None]  # what is wrong with a value, None when nothing


def _string(value: object) -> str | None:
    return None if isinstance(value, str) else f"must be a string, got {value!r}"


def _chat_id(value: object) -> str | None:
    if not isinstance(value, str):
        return f"must be a string chat id, got {value!r}"
    if not CHAT_ID.fullmatch(value):
        return f"is not a chat id: {value!r}"
    return None


def _text(value: object) -> str | None:
    if not isinstance(value, str):
        return f"must be a string, got {value!r}"
    if not value.strip():
        return "is empty"
    if len(value) > TEXT_LIMIT:
        return f"is longer than {TEXT_LIMIT} characters ({len(value)})"
    return None


def _caption(value: object) -> str | None:
    if not isinstance(value, str):
        return f"must be a string, got {value!r}"
    if len(value) > TEXT_LIMIT:
        return f"is longer than {TEXT_LIMIT} characters ({len(value)})"
    return None


def _http_url(value: object) -> str | None:
    if not isinstance(value, str):
        return f"must be a URL string, got {value!r}"
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return f"is not an http(s) URL: {value!r}"
    return None


def _webhook_url(value: object) -> str | None:
    if problem := _http_url(value):
        return problem
    assert isinstance(value, str)
    parts = urlsplit(value)
    if parts.scheme != "https" and parts.hostname not in LOOPBACK_HOSTS:
        return f"must be an HTTPS URL: {value!r}"
    return None


def _secret(value: object) -> str | None:
    low, high = SECRET_LENGTH
    if not isinstance(value, str) or not low <= len(value) <= high:
        return f"must be a string of {low} to {high} characters"
    return None


def _seconds(value: object) -> str | None:
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return None
    return f"must be a number of seconds, got {value!r}"


def _action(value: object) -> str | None:
    if value not in CHAT_ACTIONS:
        return f"must be one of {sorted(CHAT_ACTIONS)}, got {value!r}"
    return None


# method -> parameter -> (check, required)
METHODS: dict[str, dict[str, tuple[Check, bool]]] = {
    "getMe": {},
    "getUpdates": {"timeout": (_seconds, False)},
    "setWebhook": {"url": (_webhook_url, True), "secret_token": (_secret, True)},
    "deleteWebhook": {},
    "getWebhookInfo": {},
    "sendMessage": {"chat_id": (_chat_id, True), "text": (_text, True)},
    "sendPhoto": {
        "chat_id": (_chat_id, True),
        "photo": (_http_url, True),
        "caption": (_caption, False),
    },
    "sendSticker": {"chat_id": (_chat_id, True), "sticker": (_text, True)},
    "sendChatAction": {"chat_id": (_chat_id, True), "action": (_action, True)},
}
SENDING_METHODS = frozenset({"sendMessage", "sendPhoto", "sendSticker"})


def problems_of(method: str, params: Params) -> list[str]:
    """What the real API would refuse in these parameters ([] when nothing)."""
    spec = METHODS[method]
    problems = [f'unknown parameter "{name}"' for name in params if name not in spec]
    for name, (check, required) in spec.items():
        if name not in params:
            if required:
                problems.append(f'parameter "{name}" is required')
            continue
        if problem := check(params[name]):
            problems.append(f'parameter "{name}" {problem}')
    return problems


# --------------------------------------------------------------------------------------------
# Errors, records, faults
# --------------------------------------------------------------------------------------------


class ApiError(Exception):
    """An error answer; ``violation`` marks requests the real API would refuse as malformed."""

    def __init__(
        self,
        error_code: int,
        description: str,
        *,
        parameters: JsonDict | None = None,
        violation: bool = False,
        http_status: int | None = None,
    ) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters
        self.violation = violation
        self.http_status = http_status

    def payload(self) -> JsonDict:
        body: JsonDict = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


class SentMessage(TypedDict):
    """One message the bot sent."""

    method: str  # sendMessage, sendPhoto or sendSticker
    chat_id: str
    message_id: str
    text: str  # the text, or the photo's caption ("" when none)
    photo: str | None
    sticker: str | None
    date: int  # ms


class Delivery(TypedDict):
    update: JsonDict
    secret: str | None
    status: int


@dataclass
class _Failure:
    method: str
    chat_id: str | None
    error: ApiError
    remaining: int


@dataclass(kw_only=True, eq=False)
class Outage(Fault):
    """Every API call gets that HTTP status; the calls never reach the fake's Zalo."""

    status: int
    html: bool = False


@dataclass(kw_only=True, eq=False)
class Stall(Fault):
    """Every API call is answered ``seconds`` late (after being carried out)."""

    seconds: float


FaultT = TypeVar("FaultT", bound=Fault)


def _json_response(body: JsonDict, status: int = 200) -> web.Response:
    return web.json_response(
        body, status=status, dumps=lambda data: json.dumps(data, ensure_ascii=False)
    )


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------

Handler = Callable[[Params], Awaitable[Any]]


class FakeZalo(LoopbackServer):
    """A Zalo Bot API server for tests: real HTTP on 127.0.0.1, checked, with recordings."""

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        bot_name: str = "Dondoc Test Bot",
        max_long_poll: float = MAX_LONG_POLL_SECONDS,
        errors_as_http_status: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``clock`` (seconds) dates messages; ``max_long_poll`` caps getUpdates' wait."""
        super().__init__()
        self.token = token
        self.bot_name = bot_name
        self.max_long_poll = max_long_poll
        self.errors_as_http_status = errors_as_http_status
        self._clock = clock
        self.bot_id = token.split(":", 1)[0]

        # What tests look at.
        self.calls: list[tuple[str, Params]] = []
        self.violations: list[str] = []
        self.sent: list[SentMessage] = []
        self.webhook: JsonDict | None = None  # {url, secret_token, updated_at}
        self.deliveries: list[Delivery] = []
        self.unauthorized = 0  # calls refused for a wrong token
        self.photos: dict[str, bytes] = {}
        self.photo_downloads: list[str] = []

        self._updates: deque[JsonDict] = deque()
        self._update_arrived = asyncio.Event()
        self._failures: list[_Failure] = []
        self._faults: list[Fault] = []
        self._serial = itertools.count(1)

        self._handlers: dict[str, Handler] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendSticker": self._send_sticker,
            "sendChatAction": self._send_chat_action,
        }

    def routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/photos/{name}", self._handle_photo)

    @property
    def base_url(self) -> str:
        """The API's base URL, for ``ZaloBotApi(token, base_url)`` (no ``/bot`` suffix)."""
        return f"http://127.0.0.1:{self.port}"

    # ---- what tests read ------------------------------------------------------------------

    def sent_to(self, chat_id: str) -> list[SentMessage]:
        return [sent for sent in self.sent if sent["chat_id"] == chat_id]

    def texts_to(self, chat_id: str) -> list[str]:
        return [sent["text"] for sent in self.sent_to(chat_id)]

    def calls_of(self, method: str) -> list[Params]:
        return [params for name, params in self.calls if name == method]

    @property
    def pending_updates(self) -> int:
        return len(self._updates)

    # ---- building and queueing updates ----------------------------------------------------

    def new_message_id(self) -> str:
        return f"{next(self._serial):032x}"

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    def _update(
        self,
        event_name: str,
        user_id: str,
        content: JsonDict,
        *,
        display_name: str,
        message_id: str | None,
        chat_id: str | None,
        group: bool,
    ) -> JsonDict:
        message: JsonDict = {
            "from": {"id": user_id, "display_name": display_name, "is_bot": False},
            "chat": {
                "id": user_id if chat_id is None else chat_id,
                "chat_type": "GROUP" if group else "PRIVATE",
            },
            **content,
            "message_id": message_id or self.new_message_id(),
            "date": self._now_ms(),
        }
        return {"event_name": event_name, "message": message}

    def text_update(
        self,
        user_id: str,
        text: str,
        *,
        display_name: str = "Cô Lan",
        message_id: str | None = None,
        chat_id: str | None = None,
        group: bool = False,
    ) -> JsonDict:
        """A ``message.text.received`` update from that user (not queued: see ``queue``)."""
        return self._update(
            EVENT_TEXT,
            user_id,
            {"text": text},
            display_name=display_name,
            message_id=message_id,
            chat_id=chat_id,
            group=group,
        )

    def image_update(
        self,
        user_id: str,
        photo_url: str,
        caption: str = "",
        *,
        display_name: str = "Cô Lan",
        message_id: str | None = None,
        photo_field: str = "photo_url",
    ) -> JsonDict:
        """A ``message.image.received`` update (``photo_field``: "photo_url" or "photo")."""
        content: JsonDict = {photo_field: photo_url}
        if caption:
            content["caption"] = caption
        return self._update(
            EVENT_IMAGE,
            user_id,
            content,
            display_name=display_name,
            message_id=message_id,
            chat_id=None,
            group=False,
        )

    def sticker_update(
        self, user_id: str, sticker: str = "sticker-1", *, display_name: str = "Cô Lan"
    ) -> JsonDict:
        return self._update(
            EVENT_STICKER,
            user_id,
            {"sticker": sticker},
            display_name=display_name,
            message_id=None,
            chat_id=None,
            group=False,
        )

    def unsupported_update(
        self, user_id: str, event_name: str = EVENT_UNSUPPORTED, *, display_name: str = "Cô Lan"
    ) -> JsonDict:
        """An update the bot cannot read (a voice message, a file...): no text, no photo."""
        return self._update(
            event_name,
            user_id,
            {},
            display_name=display_name,
            message_id=None,
            chat_id=None,
            group=False,
        )

    def queue(self, update: JsonDict) -> JsonDict:
        """Adds an update for getUpdates (each is handed out once, in order)."""
        self._updates.append(copy.deepcopy(update))
        self._update_arrived.set()
        return update

    def photo_url(self, name: str, content: bytes) -> str:
        """Serves ``content`` at a URL on this server (the server must be running)."""
        if not re.fullmatch(r"[\w.-]+", name):
            raise ValueError(f"not a simple file name: {name!r}")
        if not self.port:
            raise RuntimeError("start the FakeZalo first")
        self.photos[name] = content
        return f"{self.base_url}/photos/{name}"

    # ---- misbehaving on demand ------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        error_code: int,
        description: str | None = None,
        *,
        times: int = 1,
        retry_after: float | None = None,
        chat_id: str | None = None,
        http_status: int | None = None,
    ) -> None:
        """The next ``times`` calls of the method (to that chat, if given) answer that error.

        429 carries ``parameters.retry_after`` only if ``retry_after`` is given. The HTTP
        status is the error code (200 with ``errors_as_http_status=False``) unless given.
        """
        if method not in METHODS:
            raise ValueError(f"{method} is not a Zalo Bot API method")
        error = ApiError(
            error_code,
            description or DEFAULT_DESCRIPTIONS.get(error_code, f"Error {error_code}"),
            parameters={"retry_after": retry_after} if retry_after is not None else None,
            http_status=http_status,
        )
        self._failures.append(_Failure(method, chat_id, error, times))

    def outage(self, status: int = 502, *, html: bool = False) -> Outage:
        """Every API call gets that HTTP status until it ends (``with zalo.outage(): ...``).

        The body is the API's JSON error, or with ``html=True`` a gateway's HTML page. Calls
        never reach the fake's Zalo: they are counted in ``hits``, not in ``calls``.
        """
        HTTPStatus(status)  # refuses a status that does not exist
        return Outage(in_force=self._faults, status=status, html=html)

    def stall(self, seconds: float) -> Stall:
        """Every API call is carried out at once but answered ``seconds`` later."""
        return Stall(in_force=self._faults, seconds=seconds)

    # ---- webhook delivery -----------------------------------------------------------------

    async def deliver_webhook(
        self,
        update: JsonDict,
        secret: str | None = None,
        *,
        omit_secret: bool = False,
        timeout: float = 10.0,
    ) -> int:
        """POSTs ``{ok:true, result:update}`` to the webhook; the HTTP status it answered.

        The header carries the registered secret unless ``secret`` is given, or none at all
        with ``omit_secret=True``.
        """
        if self.webhook is None:
            raise RuntimeError("no webhook is set (setWebhook was not called)")
        sent_secret = None if omit_secret else secret or self.webhook["secret_token"]
        headers = {} if sent_secret is None else {SECRET_HEADER: sent_secret}
        body = json.dumps({"ok": True, "result": update}, ensure_ascii=False)
        headers["Content-Type"] = "application/json"
        client_timeout = aiohttp.ClientTimeout(total=timeout)
        async with (
            aiohttp.ClientSession(timeout=client_timeout) as session,
            session.post(self.webhook["url"], data=body.encode(), headers=headers) as response,
        ):
            await response.read()
            status = response.status
        self.deliveries.append(
            {"update": copy.deepcopy(update), "secret": sent_secret, "status": status}
        )
        return status

    # ---- HTTP -----------------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        stall = self._fault(Stall)
        outage = self._fault(Outage)
        if outage is not None:
            outage.hits += 1
            response = self._outage_response(outage)
        else:
            response = await self._answer(request, method)
        if stall is not None:
            stall.hits += 1
            await asyncio.sleep(stall.seconds)
        return response

    def _outage_response(self, outage: Outage) -> web.Response:
        phrase = HTTPStatus(outage.status).phrase
        if outage.html:
            page = f"<html><body><h1>{outage.status} {phrase}</h1></body></html>"
            return web.Response(status=outage.status, text=page, content_type="text/html")
        body = {"ok": False, "error_code": outage.status, "description": phrase}
        return _json_response(body, outage.status)

    async def _answer(self, request: web.Request, method: str) -> web.Response:
        if request.match_info["token"] != self.token:
            self.unauthorized += 1
            return self._refuse(method, ApiError(401, "Unauthorized"))
        try:
            params = await self._read_params(request, method)
        except ApiError as error:
            self.calls.append((method, {}))
            return self._refuse(method, error)
        self.calls.append((method, params))
        handler = self._handlers.get(method)
        try:
            if handler is None:
                raise ApiError(404, "Not Found: unknown method", violation=True)
            if problems := problems_of(method, params):
                raise ApiError(400, "Bad Request: " + "; ".join(problems), violation=True)
            self._inject_failure(method, params)
            result = await handler(params)
        except ApiError as error:
            return self._refuse(method, error)
        return _json_response({"ok": True, "result": result})

    async def _read_params(self, request: web.Request, method: str) -> Params:
        if request.method == "GET" and method == "getMe":
            return {}
        if request.method != "POST":
            raise ApiError(400, f"Bad Request: {request.method} is not allowed", violation=True)
        raw = await request.read()
        if not raw:
            return {}
        if request.content_type != "application/json":
            raise ApiError(400, f"Bad Request: content type {request.content_type}", violation=True)
        try:
            body = json.loads(raw)
        except ValueError as exc:
            raise ApiError(400, f"Bad Request: invalid JSON ({exc})", violation=True) from exc
        if not isinstance(body, dict):
            raise ApiError(400, "Bad Request: the body must be a JSON object", violation=True)
        return body

    def _refuse(self, method: str, error: ApiError) -> web.Response:
        if error.violation:
            self.violations.append(f"{method}: {error.description}")
        status = error.http_status
        if status is None:
            status = error.error_code if self.errors_as_http_status else 200
        return _json_response(error.payload(), status)

    def _inject_failure(self, method: str, params: Params) -> None:
        for failure in self._failures:
            if failure.method != method:
                continue
            if failure.chat_id is not None and failure.chat_id != params.get("chat_id"):
                continue
            failure.remaining -= 1
            if failure.remaining <= 0:
                self._failures.remove(failure)
            raise failure.error

    def _fault(self, kind: type[FaultT]) -> FaultT | None:
        for fault in reversed(self._faults):
            if isinstance(fault, kind):
                return fault
        return None

    async def _handle_photo(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        content = self.photos.get(name)
        if content is None:
            return web.Response(status=404, text="Not Found")
        self.photo_downloads.append(name)
        return web.Response(body=content, content_type="image/jpeg")

    # ---- methods --------------------------------------------------------------------------

    async def _get_me(self, params: Params) -> JsonDict:
        return {
            "id": self.bot_id,
            "account_name": f"bot.{self.bot_id}",
            "account_type": "BASIC",
            "display_name": self.bot_name,
            "can_join_groups": False,
        }

    async def _get_updates(self, params: Params) -> JsonDict:
        if self.webhook is not None:
            raise ApiError(400, "Bad Request: webhook is active; delete it before using getUpdates")
        timeout = min(float(params.get("timeout", 30)), self.max_long_poll)
        if not self._updates and timeout > 0:
            self._update_arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._update_arrived.wait(), timeout)
        if not self._updates:
            raise ApiError(408, POLL_TIMEOUT)
        return self._updates.popleft()

    def _webhook_result(self) -> JsonDict:
        url = self.webhook["url"] if self.webhook else ""
        updated_at = self.webhook["updated_at"] if self.webhook else self._now_ms()
        return {"url": url, "updated_at": updated_at}

    async def _set_webhook(self, params: Params) -> JsonDict:
        self.webhook = {
            "url": params["url"],
            "secret_token": params["secret_token"],
            "updated_at": self._now_ms(),
        }
        return self._webhook_result()

    async def _delete_webhook(self, params: Params) -> JsonDict:
        self.webhook = None
        return self._webhook_result()

    async def _get_webhook_info(self, params: Params) -> JsonDict:
        return self._webhook_result()

    def _record(self, method: str, params: Params, **content: str | None) -> JsonDict:
        sent: SentMessage = {
            "method": method,
            "chat_id": params["chat_id"],
            "message_id": self.new_message_id(),
            "text": str(params.get("text", params.get("caption", ""))),
            "photo": content.get("photo"),
            "sticker": content.get("sticker"),
            "date": self._now_ms(),
        }
        self.sent.append(sent)
        return {"message_id": sent["message_id"], "date": sent["date"]}

    async def _send_message(self, params: Params) -> JsonDict:
        return self._record("sendMessage", params)

    async def _send_photo(self, params: Params) -> JsonDict:
        return self._record("sendPhoto", params, photo=params["photo"])

    async def _send_sticker(self, params: Params) -> JsonDict:
        return self._record("sendSticker", params, sticker=params["sticker"])

    async def _send_chat_action(self, params: Params) -> bool:
        return True
