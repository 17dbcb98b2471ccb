"""A small async client of the Zalo Bot API (https://bot.zaloplatforms.com/docs), on httpx.

Every method is ``POST {base}/bot{token}/{method}`` with a JSON body; the answer is
``{ok, result, description?, error_code?}``. Errors become exceptions by their code (the body's
``error_code``, else the HTTP status)::

    400, 404           ZaloBadRequest
    401                ZaloUnauthorized   (the token is wrong or was reset)
    403                ZaloForbidden      (the person blocked the bot, or it may not write to them)
    429                ZaloRetryAfter     (.retry_after seconds)
    408, 5xx, network  ZaloNetworkError   (worth retrying later; getUpdates turns 408 into [])

The token is part of every URL, so it never goes into an exception's text or a log record: the
client installs a filter on the httpx and httpcore loggers that writes ``<token>`` in its place.
Splitting long texts and retrying are the caller's job.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeGuard
from urllib.parse import quote, urlsplit

import httpx

DEFAULT_BASE_URL = "https://bot-api.zaloplatforms.com"
MAX_TEXT_LENGTH = 2000  # sendMessage text and sendPhoto caption, in characters
DEFAULT_RETRY_AFTER = 5.0  # seconds, when a 429 does not say
SECRET_TOKEN_LENGTH = (8, 256)
REDACTED = "<token>"
MAX_ID_LENGTH = 256

EVENT_TEXT = "message.text.received"
EVENT_IMAGE = "message.image.received"
EVENT_STICKER = "message.sticker.received"
EVENT_VOICE = "message.voice.received"
EVENT_UNSUPPORTED = "message.unsupported.received"

HTTPX_LOGGERS = (
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.connection_pool",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
)

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------------------------
# Keeping the token out of logs and messages
# --------------------------------------------------------------------------------------------


class TokenFilter(logging.Filter):
    """Writes ``<token>`` for every known bot token in a record's message and traceback.

    Logger filters only see records logged on that very logger, hence one instance installed
    on httpx's logger and on each of httpcore's (``HTTPX_LOGGERS``).
    """

    def __init__(self) -> None:
        super().__init__()
        self._secrets: set[str] = set()

    def add(self, token: str) -> None:
        self._secrets.update({token, quote(token, safe="")})

    def redact(self, text: str) -> str:
        # Longest first, so that a token containing another one is replaced whole.
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to logging's own error report
            return True
        redacted = self.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


_TOKEN_FILTER = TokenFilter()


def install_token_filter(token: str, logger_names: Iterable[str] = HTTPX_LOGGERS) -> None:
    """Registers the token for redaction and puts the filter on the loggers (idempotent)."""
    _TOKEN_FILTER.add(token)
    for name in logger_names:
        logger = logging.getLogger(name)
        if _TOKEN_FILTER not in logger.filters:
            logger.addFilter(_TOKEN_FILTER)


def redact(text: str) -> str:
    """The text with every token a ZaloBotApi was created with replaced by ``<token>``."""
    return _TOKEN_FILTER.redact(text)


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


class ZaloError(Exception):
    """An error answer of the Zalo Bot API (or no usable answer at all)."""

    def __init__(self, description: str, code: int | None = None, *, method: str = "") -> None:
        self.description = redact(description)
        self.code = code
        self.method = method
        where = f"{method}: " if method else ""
        what = f"error {code}: " if code is not None else ""
        super().__init__(f"Zalo Bot API {where}{what}{self.description}")


class ZaloBadRequest(ZaloError):
    """400 or 404: the request was wrong (a bad chat id, a text too long, an unknown method)."""


class ZaloUnauthorized(ZaloError):
    """401: the token is wrong or was reset."""


class ZaloForbidden(ZaloError):
    """403: the person blocked the bot, or the bot may not write to them."""


class ZaloRetryAfter(ZaloError):
    """429: too many requests; try again after ``retry_after`` seconds."""

    def __init__(
        self,
        description: str,
        code: int | None = 429,
        *,
        method: str = "",
        retry_after: float = DEFAULT_RETRY_AFTER,
    ) -> None:
        super().__init__(description, code, method=method)
        self.retry_after = retry_after


class ZaloNetworkError(ZaloError):
    """No answer, a timeout, a 5xx, 408, or an answer that is not the API's JSON."""


def _retry_after(parameters: object) -> float:
    if isinstance(parameters, dict):
        value = parameters.get("retry_after")
        if _is_number(value) and math.isfinite(value) and value >= 0:
            return float(value)
    return DEFAULT_RETRY_AFTER


def error_for(
    code: int | None, description: str, *, method: str = "", parameters: object = None
) -> ZaloError:
    """The exception for an error answer with that code."""
    if code == HTTPStatus.TOO_MANY_REQUESTS:
        return ZaloRetryAfter(
            description, code, method=method, retry_after=_retry_after(parameters)
        )
    kinds: dict[int, type[ZaloError]] = {
        400: ZaloBadRequest,
        404: ZaloBadRequest,
        401: ZaloUnauthorized,
        403: ZaloForbidden,
        408: ZaloNetworkError,
    }
    if code is not None and code >= 500:
        return ZaloNetworkError(description, code, method=method)
    kind = kinds.get(code, ZaloError) if code is not None else ZaloError
    return kind(description, code, method=method)


# --------------------------------------------------------------------------------------------
# Updates
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ZaloMessage:
    """A message someone sent the bot, from an update (getUpdates or the webhook)."""

    event_name: str
    message_id: str
    date: datetime  # aware, UTC
    user_id: str
    display_name: str
    is_bot: bool
    chat_id: str
    is_group: bool  # chat_type GROUP (groups are beta on Zalo)
    text: str  # the text, or the caption of a photo; "" when none
    photo_url: str | None = None
    sticker: str | None = None


class _Malformed(Exception):
    pass


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _identifier(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.strip() and len(value) <= MAX_ID_LENGTH:
        return value
    raise _Malformed


def _date(value: object) -> datetime:
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if not _is_number(value) or value < 0:
        raise _Malformed
    try:
        return datetime.fromtimestamp(value / 1000, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise _Malformed from exc


def _optional_str(container: dict[str, Any], *keys: str) -> str | None:
    """The first of the keys present and not null; it must be a string."""
    for key in keys:
        value = container.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            raise _Malformed
        return value
    return None


def _object(value: object) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Malformed
    return value


def _event_name(update: dict[str, Any], message: dict[str, Any]) -> str:
    name = update.get("event_name")
    if isinstance(name, str) and name:
        return name
    if name is not None:
        raise _Malformed
    # No event name: tell it by the content.
    if message.get("photo_url") is not None or message.get("photo") is not None:
        return EVENT_IMAGE
    if message.get("sticker") is not None:
        return EVENT_STICKER
    if message.get("text") is not None:
        return EVENT_TEXT
    return EVENT_UNSUPPORTED


def _parse(data: object) -> ZaloMessage:
    update = _object(data)
    if "message" not in update and isinstance(update.get("result"), dict):
        update = update["result"]  # the webhook's wrapper {ok, result: {...}}
    message = _object(update.get("message"))
    sender = _object(message.get("from"))
    chat = _object(message.get("chat"))
    is_bot = sender.get("is_bot", False)
    chat_type = chat.get("chat_type", "PRIVATE")
    if not isinstance(is_bot, bool) or not isinstance(chat_type, str):
        raise _Malformed
    text = _optional_str(message, "text")
    caption = _optional_str(message, "caption")
    return ZaloMessage(
        event_name=_event_name(update, message),
        message_id=_identifier(message.get("message_id")),
        date=_date(message.get("date")),
        user_id=_identifier(sender.get("id")),
        display_name=_optional_str(sender, "display_name", "name") or "",
        is_bot=is_bot,
        chat_id=_identifier(chat.get("id")),
        is_group=chat_type.upper() == "GROUP",
        text=text if text is not None else caption or "",
        photo_url=_optional_str(message, "photo_url", "photo"),
        sticker=_optional_str(message, "sticker"),
    )


def parse_update(data: object) -> ZaloMessage | None:
    """The message of an update, bare ``{event_name, message}`` or the webhook's
    ``{ok, result: {...}}``; None when it is malformed (never raises)."""
    try:
        return _parse(data)
    except Exception:  # _Malformed, or whatever odd input did
        return None


# --------------------------------------------------------------------------------------------
# The client
# --------------------------------------------------------------------------------------------


def _check_text(name: str, text: str, *, allow_empty: bool = False) -> None:
    if not isinstance(text, str):
        raise TypeError(f"{name} must be a str, got {type(text).__name__}")
    if len(text) > MAX_TEXT_LENGTH or (not text and not allow_empty):
        raise ValueError(f"{name} must be 1 to {MAX_TEXT_LENGTH} characters, got {len(text)}")


def _check_chat_id(chat_id: str) -> None:
    if not isinstance(chat_id, str) or not chat_id.strip():
        raise ValueError(f"chat_id must be a non-empty str, got {chat_id!r}")


def _message_id(result: object) -> str:
    """The message id of a send's result ("" if the API did not give one)."""
    if isinstance(result, dict):
        value = result.get("message_id")
        if isinstance(value, str | int) and not isinstance(value, bool):
            return str(value)
    return ""


class ZaloBotApi:
    """The Zalo Bot API for one bot token. Use as ``async with ZaloBotApi(token) as api:``."""

    def __init__(
        self, token: str, base_url: str = DEFAULT_BASE_URL, *, timeout: float = 10.0
    ) -> None:
        if not isinstance(token, str) or not token or token != token.strip() or "/" in token:
            raise ValueError("the Zalo bot token is empty or malformed")
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, got {timeout}")
        install_token_filter(token)
        self._token = token
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(timeout), follow_redirects=False)

    def __repr__(self) -> str:
        return f"ZaloBotApi(base_url={self.base_url!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    # ---- the methods --------------------------------------------------------------------

    async def get_me(self) -> dict[str, Any]:
        return self._object("getMe", await self._call("getMe"))

    async def get_updates(self, timeout: int = 30) -> list[ZaloMessage]:
        """Long-polls up to ``timeout`` seconds; [] when nothing came (the API's 408).

        The API hands out one update per call (no offset: an update is gone once answered);
        a list is accepted too. Malformed updates are logged and skipped.
        """
        if timeout < 0:
            raise ValueError(f"timeout must not be negative, got {timeout}")
        try:
            result = await self._call(
                "getUpdates", {"timeout": str(timeout)}, read_timeout=timeout + self.timeout
            )
        except ZaloError as error:
            if error.code == HTTPStatus.REQUEST_TIMEOUT:
                return []
            raise
        if result is None:
            return []
        messages = []
        for item in result if isinstance(result, list) else [result]:
            message = parse_update(item)
            if message is None:
                log.warning("Zalo getUpdates: skipped a malformed update")
            else:
                messages.append(message)
        return messages

    async def send_message(self, chat_id: str, text: str) -> str:
        """Sends a plain text of 1 to 2,000 characters; the message id."""
        _check_chat_id(chat_id)
        _check_text("text", text)
        result = await self._call("sendMessage", {"chat_id": chat_id, "text": text})
        return _message_id(result)

    async def send_photo(self, chat_id: str, photo_url: str, caption: str = "") -> str:
        """Sends the photo at that URL with an optional caption; the message id."""
        _check_chat_id(chat_id)
        _check_text("caption", caption, allow_empty=True)
        if not isinstance(photo_url, str) or not photo_url:
            raise ValueError("photo_url must be a non-empty str")
        params = {"chat_id": chat_id, "photo": photo_url}
        if caption:
            params["caption"] = caption
        return _message_id(await self._call("sendPhoto", params))

    async def send_sticker(self, chat_id: str, sticker: str) -> str:
        _check_chat_id(chat_id)
        if not isinstance(sticker, str) or not sticker:
            raise ValueError("sticker must be a non-empty str")
        result = await self._call("sendSticker", {"chat_id": chat_id, "sticker": sticker})
        return _message_id(result)

    async def send_chat_action(self, chat_id: str, action: str = "typing") -> None:
        _check_chat_id(chat_id)
        await self._call("sendChatAction", {"chat_id": chat_id, "action": action})

    async def set_webhook(self, url: str, secret_token: str) -> dict[str, Any]:
        """Sends updates to ``url`` (HTTPS) with the header X-Bot-Api-Secret-Token.

        While a webhook is set, getUpdates does not work.
        """
        low, high = SECRET_TOKEN_LENGTH
        if not isinstance(url, str) or not url:
            raise ValueError("url must be a non-empty str")
        if not isinstance(secret_token, str) or not low <= len(secret_token) <= high:
            raise ValueError(f"secret_token must be {low} to {high} characters")
        result = await self._call("setWebhook", {"url": url, "secret_token": secret_token})
        return result if isinstance(result, dict) else {}

    async def delete_webhook(self) -> dict[str, Any]:
        result = await self._call("deleteWebhook")
        return result if isinstance(result, dict) else {}

    async def get_webhook_info(self) -> dict[str, Any]:
        return self._object("getWebhookInfo", await self._call("getWebhookInfo"))

    async def download(self, url: str, path: Path, max_bytes: int) -> int:
        """Streams a file (a message's ``photo_url``) to ``path``; the number of bytes.

        More than ``max_bytes`` raises ZaloBadRequest; on any error no file is left at
        ``path`` (a file already there stays as it was).
        """
        if max_bytes < 0:
            raise ValueError(f"max_bytes must not be negative, got {max_bytes}")
        if urlsplit(url).scheme not in ("http", "https"):
            raise ZaloBadRequest("not an http(s) URL", method="download")
        part = path.with_name(f".{path.name}.part")
        try:
            async with self._client.stream("GET", url, follow_redirects=True) as response:
                if response.status_code >= 400:
                    phrase = response.reason_phrase or "HTTP error"
                    raise error_for(response.status_code, phrase, method="download")
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > max_bytes:
                    raise self._too_big(max_bytes)
                size = 0
                with part.open("wb") as file:
                    async for chunk in response.aiter_bytes():
                        size += len(chunk)
                        if size > max_bytes:
                            raise self._too_big(max_bytes)
                        file.write(chunk)
            part.replace(path)
            return size
        except httpx.HTTPError as exc:
            error = ZaloNetworkError(_describe(exc), method="download")
            log.warning("%s", error)
            raise error from _safe_cause(exc)
        finally:
            part.unlink(missing_ok=True)

    # ---- HTTP ---------------------------------------------------------------------------

    @staticmethod
    def _too_big(max_bytes: int) -> ZaloBadRequest:
        error = ZaloBadRequest(f"the file is larger than {max_bytes} bytes", method="download")
        log.warning("%s", error)
        return error

    @staticmethod
    def _object(method: str, result: object) -> dict[str, Any]:
        if not isinstance(result, dict):
            raise ZaloNetworkError(f"unexpected result {type(result).__name__}", method=method)
        return result

    async def _call(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        read_timeout: float | None = None,
    ) -> Any:
        """The ``result`` of a successful call; raises the ZaloError for anything else."""
        url = f"{self.base_url}/bot{self._token}/{method}"
        timeout = httpx.Timeout(self.timeout, read=read_timeout or self.timeout)
        try:
            response = await self._client.post(url, json=params or {}, timeout=timeout)
        except httpx.HTTPError as exc:
            error = ZaloNetworkError(_describe(exc), method=method)
            log.warning("%s", error)
            raise error from _safe_cause(exc)
        try:
            return self._result(method, response)
        except ZaloError as error:
            if error.code == HTTPStatus.REQUEST_TIMEOUT and method == "getUpdates":
                log.debug("%s", error)
            elif isinstance(error, ZaloRetryAfter):
                log.info("%s (retry after %s s)", error, error.retry_after)
            else:
                log.warning("%s", error)
            raise

    @staticmethod
    def _result(method: str, response: httpx.Response) -> Any:
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("ok"), bool):
            if body["ok"]:
                return body.get("result")
            code = body.get("error_code")
            if not isinstance(code, int) or isinstance(code, bool):
                code = status if status >= 400 else None
            description = body.get("description")
            if not isinstance(description, str) or not description:
                description = _phrase(status)
            raise error_for(code, description, method=method, parameters=body.get("parameters"))
        # Not the API's JSON: a proxy's error page, a captive portal, a truncated answer.
        if 400 <= status < 500:
            raise error_for(status, _phrase(status), method=method)
        raise ZaloNetworkError(
            f"HTTP {status} with an answer that is not the API's JSON",
            status if status >= 400 else None,
            method=method,
        )


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"


def _describe(exc: httpx.HTTPError) -> str:
    detail = redact(str(exc))
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


def _safe_cause(exc: BaseException) -> BaseException | None:
    """The exception to chain from, unless its text would show the token."""
    return None if redact(str(exc)) != str(exc) else exc
