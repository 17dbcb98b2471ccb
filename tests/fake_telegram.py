"""A fake Telegram Bot API server on 127.0.0.1, checked against the Bot API spec.

The real python-telegram-bot library talks to it over loopback HTTP::

    async with FakeTelegram() as tg:
        app = (
            ApplicationBuilder()
            .token(tg.token)
            .base_url(tg.base_url)
            .base_file_url(tg.base_file_url)
            .build()
        )
        ...
        assert tg.violations == []

Every call is checked against the machine-readable Bot API description in
``tests/data/telegram-bot-api-10.1.json`` (its source and licence: ``tests/data/README.md``).
Calls that Telegram would refuse because of what the bot sent (an unknown method or parameter, a
missing or mistyped parameter, formatted text that does not parse, text that is empty or too long,
an invalid inline keyboard) get Telegram's error answer AND are recorded in ``violations``.
Errors that depend on state (editing a message that does not exist, answering a callback query
twice, an injected ``fail_next``) get the same answer as Telegram would give but are not
violations.

Telegram misbehaving, on demand (nothing of it by default):
- Flood limits: ``FakeTelegram(limits=TelegramLimits())`` (or ``tg.limits = ...``) refuses
  sending methods (``SENDING_METHODS``: sendMessage, sendPhoto, sendDocument, editMessageText...)
  over 30 a second in all, 1 a second per chat or 20 a minute per group, in sliding windows, with
  HTTP 429 "Too Many Requests: retry after N" and ``parameters.retry_after`` (PTB: RetryAfter).
  ``tg.flood_wait(seconds, chat_id=None)`` answers sends so until the time is up. The windows
  and waits run on ``timer`` (``time.monotonic`` unless a test gives its own).
  ``too_many_requests`` counts every 429 answered; ``send_times`` (per chat) and
  ``max_sends_in(window)`` tell the rate achieved; ``duplicates()`` the messages sent twice.
- Outages: ``with tg.outage(502):`` answers every call (``sending_only=True``: every send) with
  that status and Telegram's JSON body ("Bad Gateway"; PTB: NetworkError).
- A slow network: ``with tg.stall(seconds):`` delays calls; one whose client gave up meanwhile
  is dropped, unless ``handled=True``: then it was carried out at once and only its answer is
  late (PTB: TimedOut, though the message was sent).
- Two bot instances: with ``conflict_on_second_poller=True`` a getUpdates call ends the long
  poll in progress with 409 "Conflict: terminated by other getUpdates request; ...", as
  Telegram's server does (the poll that was waiting gets the 409, the newcomer goes on).

Deliberate differences from Telegram:
- With ``strict_html=True`` (the default) a ``&`` that starts no HTML entity is refused, as the
  Bot API documentation requires; Telegram's own parser quietly keeps it.
- Any integer chat id is accepted: a chat the fake has not seen is made up (private for positive
  ids, group or supergroup for negative ones). Use ``fail_next(..., error_code=400,
  description="Bad Request: chat not found")`` to test that path.
- Inline messages (``inline_message_id``) and webhook delivery are not simulated.
- Flood limits are exact: a send counts for exactly one second (a minute), refused sends do not
  count, and no burst is forgiven; Telegram's own accounting is looser and unpublished.
"""

from __future__ import annotations

import asyncio
import bisect
import copy
import itertools
import json
import math
import re
import string
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from http import HTTPStatus
from pathlib import Path
from typing import Any, TypedDict, TypeVar

from aiohttp import web

from tests.loopback import Fault as LoopbackFault
from tests.loopback import LoopbackServer

SPEC_FILE = "telegram-bot-api-10.1.json"
DEFAULT_TOKEN = "123456:TEST-TOKEN"
DEFAULT_USERNAME = "dondoc_test_bot"

MAX_LONG_POLL_SECONDS = 1.0
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
CALLBACK_ANSWER_LIMIT = 200

PARSE_MODES = frozenset({"HTML", "MarkdownV2", "Markdown"})
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
# Sent when allowed_updates is empty or was never given.
NOT_DELIVERED_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
POLL_CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
# The methods that put a message in a chat or change one: Telegram's flood limits count them.
SENDING_METHODS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendAudio",
        "sendVideo",
        "sendAnimation",
        "sendVoice",
        "sendVideoNote",
        "sendMediaGroup",
        "sendLocation",
        "sendVenue",
        "sendContact",
        "sendPoll",
        "sendDice",
        "sendSticker",
        "copyMessage",
        "copyMessages",
        "forwardMessage",
        "forwardMessages",
        "editMessageText",
        "editMessageCaption",
        "editMessageMedia",
        "editMessageReplyMarkup",
    }
)
GROUP_TYPES = frozenset({"group", "supergroup"})

Params = dict[str, Any]
JsonDict = dict[str, Any]


# --------------------------------------------------------------------------------------------
# The Bot API spec
# --------------------------------------------------------------------------------------------


def spec_path() -> Path:
    return Path(__file__).parent / "data" / SPEC_FILE


@dataclass(frozen=True)
class SpecField:
    name: str
    types: tuple[str, ...]
    required: bool
    constant: str | None = None  # the fixed "type" of a subtype, e.g. "chat" for ...ScopeChat


@dataclass(frozen=True)
class SpecMethod:
    name: str
    fields: dict[str, SpecField]
    returns: tuple[str, ...]


# 'Scope type, must be chat', 'Type of the reaction, always "emoji"'
_CONSTANT_DESCRIPTION = re.compile(r'(?:always|must be) "?([a-z_]+)"?$')
_DISCRIMINATORS = frozenset({"type", "status", "source"})


def _spec_fields(entry: JsonDict) -> dict[str, SpecField]:
    fields = {}
    for spec_field in entry.get("fields", []):
        constant = None
        if spec_field["name"] in _DISCRIMINATORS and spec_field["types"] == ["String"]:
            description = spec_field.get("description", "")
            if match := _CONSTANT_DESCRIPTION.search(description):
                constant = match.group(1)
        fields[spec_field["name"]] = SpecField(
            spec_field["name"], tuple(spec_field["types"]), spec_field["required"], constant
        )
    return fields


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_PRIMITIVES: dict[str, Callable[[object], bool]] = {
    "Integer": _is_int,
    "Float": lambda value: _is_int(value) or isinstance(value, float),
    "String": lambda value: isinstance(value, str),
    "Boolean": lambda value: isinstance(value, bool),
    "True": lambda value: value is True,
    # Inside JSON objects a file is referred to by file_id, URL or "attach://<part name>".
    "InputFile": lambda value: isinstance(value, str),
}


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request."""

    filename: str | None
    content_type: str | None
    data: bytes = field(repr=False)


class BotApiSpec:
    """Methods and types of the Bot API, with checks of values against them."""

    def __init__(self, data: JsonDict) -> None:
        self.version: str = data["version"]
        self._methods = {
            name.lower(): SpecMethod(name, _spec_fields(entry), tuple(entry.get("returns", [])))
            for name, entry in data["methods"].items()
        }
        self._types: dict[str, JsonDict] = data["types"]
        self._type_fields = {name: _spec_fields(entry) for name, entry in self._types.items()}

    @classmethod
    def load(cls, path: Path | None = None) -> BotApiSpec:
        return _load_spec(path or spec_path())

    def method(self, name: str) -> SpecMethod | None:
        """The method of that name; like Telegram, the name is case-insensitive."""
        return self._methods.get(name.lower())

    def check(self, value: object, type_expr: str, path: str = "value") -> list[str]:
        """What is wrong with a JSON value as an instance of a spec type ([] when nothing)."""
        if type_expr.startswith("Array of "):
            if not isinstance(value, list):
                return [f"{path}: expected {type_expr}"]
            item_type = type_expr.removeprefix("Array of ")
            return [
                problem
                for index, item in enumerate(value)
                for problem in self.check(item, item_type, f"{path}[{index}]")
            ]
        if type_expr in _PRIMITIVES:
            if _PRIMITIVES[type_expr](value):
                return []
            return [f"{path}: expected {type_expr}, got {value!r}"]
        spec_type = self._types.get(type_expr)
        if spec_type is None:
            return []  # not described by the spec: nothing to check against
        if "subtypes" in spec_type:
            return self.check_any(value, spec_type["subtypes"], path)
        if not isinstance(value, dict):
            return [f"{path}: expected a {type_expr} object, got {value!r}"]
        fields = self._type_fields[type_expr]
        if not fields:
            return []  # a placeholder type such as CallbackGame
        problems = [
            f"{path}.{key}: unknown field of {type_expr}" for key in value if key not in fields
        ]
        for spec_field in fields.values():
            field_path = f"{path}.{spec_field.name}"
            if spec_field.name not in value:
                if spec_field.required:
                    problems.append(f"{field_path}: required field of {type_expr} is missing")
                continue
            field_value = value[spec_field.name]
            if spec_field.constant is not None and field_value != spec_field.constant:
                problems.append(f'{field_path}: must be "{spec_field.constant}" in {type_expr}')
            else:
                problems += self.check_any(field_value, spec_field.types, field_path)
        return problems

    def check_any(self, value: object, type_exprs: Iterable[str], path: str) -> list[str]:
        """[] if the value is an instance of one of the types, else the closest miss's problems.

        A subtype whose "type" constant differs is the farthest miss of all.
        """
        misses = []
        for type_expr in type_exprs:
            problems = self.check(value, type_expr, path)
            if not problems:
                return []
            other_kind = any(': must be "' in problem for problem in problems)
            misses.append((other_kind, len(problems), problems))
        return min(misses, key=lambda miss: miss[:2])[2] if misses else []

    def decode(self, raw: object, types: tuple[str, ...], name: str) -> Any:
        """A request parameter (form string, file part or JSON value) as the spec type it is.

        Raises ValueError describing the problem when it is none of the allowed types.
        """
        closest: list[str] | None = None
        for type_expr in types:
            value, problems = self._decode_as(raw, type_expr, name)
            if not problems:
                return value
            if closest is None or len(problems) < len(closest):
                closest = problems
        raise ValueError("; ".join(closest or [f"{name}: cannot be decoded"]))

    def _decode_as(self, raw: object, type_expr: str, name: str) -> tuple[Any, list[str]]:
        if isinstance(raw, UploadedFile):
            if type_expr == "InputFile":
                return raw, []
            return raw, [f"{name}: expected {type_expr}, got a file upload"]
        if type_expr == "InputFile":
            return raw, [f"{name}: expected a file upload"]
        value = raw
        if isinstance(raw, str) and type_expr != "String":
            text = raw.strip()
            if type_expr == "Integer":
                if not re.fullmatch(r"-?\d+", text):
                    return raw, [f"{name}: expected Integer, got {raw!r}"]
                value = int(text)
            elif type_expr == "Float":
                try:
                    value = float(text)
                except ValueError:
                    return raw, [f"{name}: expected Float, got {raw!r}"]
            elif type_expr in ("Boolean", "True"):
                if text.lower() not in ("true", "false"):
                    return raw, [f"{name}: expected Boolean (true or false), got {raw!r}"]
                value = text.lower() == "true"
            else:
                try:
                    value = json.loads(raw)
                except ValueError:
                    return raw, [f"{name}: expected a JSON-serialized {type_expr}, got {raw!r}"]
        return value, self.check(value, type_expr, name)


@cache
def _load_spec(path: Path) -> BotApiSpec:
    return BotApiSpec(json.loads(path.read_text(encoding="utf-8")))


# --------------------------------------------------------------------------------------------
# Formatted text: HTML, MarkdownV2 and legacy Markdown parsed the way Telegram does
# --------------------------------------------------------------------------------------------


class EntityParseError(ValueError):
    """Formatted text Telegram would refuse with "can't parse entities"."""


@dataclass
class Formatted:
    """Text as the recipient sees it, with its entities (offsets in UTF-16 code units)."""

    text: str
    entities: list[JsonDict] = field(default_factory=list)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass
class _OpenEntity:
    kind: str
    argument: str
    utf16_start: int
    plain_start: int
    source_pos: int


class _EntityParser:
    """Shared bookkeeping: the plain text so far, its UTF-16 length, open and finished entities."""

    def __init__(self, source: str) -> None:
        self.src = source
        self.pos = 0
        self.plain: list[str] = []
        self.plain_len = 0
        self.utf16 = 0
        self.open: list[_OpenEntity] = []
        self.entities: list[JsonDict] = []

    def emit(self, chars: str) -> None:
        self.plain.append(chars)
        self.plain_len += len(chars)
        self.utf16 += utf16_len(chars)

    def byte_offset(self, pos: int) -> int:
        return len(self.src[:pos].encode())

    def here(self, kind: str, argument: str = "", source_pos: int | None = None) -> _OpenEntity:
        """An entity starting at the current point of the plain text."""
        start = self.pos if source_pos is None else source_pos
        return _OpenEntity(kind, argument, self.utf16, self.plain_len, start)

    def push(self, kind: str, argument: str = "", source_pos: int | None = None) -> None:
        self.open.append(self.here(kind, argument, source_pos))

    def add_entity(self, entity_type: str, opened: _OpenEntity, **extra: Any) -> None:
        length = self.utf16 - opened.utf16_start
        if length > 0:
            self.entities.append(
                {"type": entity_type, "offset": opened.utf16_start, "length": length, **extra}
            )

    def result(self) -> Formatted:
        entities = sorted(self.entities, key=lambda e: (e["offset"], -e["length"]))
        return Formatted("".join(self.plain), entities)


_HTML_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "code",
        "pre",
        "blockquote",
        "tg-emoji",
    }
)
_HTML_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
}
_NAMED_HTML_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def _decode_html_entity(text: str, pos: int) -> tuple[str | None, int]:
    """The character of the entity at text[pos] == "&" and the position after it (as tdlib)."""
    end = pos + 1
    if text.startswith("#", end):
        end += 1
        digits_of = string.digits
        base = 10
        if text[end : end + 1] in ("x", "X"):
            end += 1
            digits_of, base = string.hexdigits, 16
        digits_start = end
        while end < len(text) and text[end] in digits_of:
            end += 1
        code = int(text[digits_start:end], base) if end > digits_start else 0
        if code == 0 or code >= 0x10FFFF or end - pos >= 10:
            return None, pos
        char = chr(code)
    else:
        while end < len(text) and text[end] in string.ascii_letters:
            end += 1
        named = _NAMED_HTML_ENTITIES.get(text[pos + 1 : end])
        if named is None:
            return None, pos
        char = named
    if text.startswith(";", end):
        end += 1
    return char, end


class _HtmlParser(_EntityParser):
    """Telegram's HTML parse mode (a port of tdlib's parse_html, with the newer tags)."""

    def __init__(self, source: str, *, strict_ampersand: bool) -> None:
        super().__init__(source)
        self.strict_ampersand = strict_ampersand

    def parse(self) -> Formatted:
        while self.pos < len(self.src):
            char = self.src[self.pos]
            if char == "&":
                self._character_entity()
            elif char == "<" and self.src.startswith("</", self.pos):
                self._end_tag()
            elif char == "<":
                self._start_tag()
            else:
                self.emit(char)
                self.pos += 1
        if self.open:
            raise EntityParseError(
                f'Can\'t find end tag corresponding to start tag "{self.open[-1].kind}"'
            )
        for entity in self.entities:
            if entity["type"] == "code":
                entity.pop("language", None)
        return self.result()

    def _character_entity(self) -> None:
        char, end = _decode_html_entity(self.src, self.pos)
        if char is None:
            if self.strict_ampersand:
                raise EntityParseError(
                    f'Unescaped "&" at byte offset {self.byte_offset(self.pos)}: '
                    "write &amp; (the Bot API requires it; Telegram itself tolerates it)"
                )
            self.emit("&")
            self.pos += 1
        else:
            self.emit(char)
            self.pos = end

    def _start_tag(self) -> None:
        src, begin = self.src, self.pos
        offset = self.byte_offset(begin)
        i = begin + 1
        while i < len(src) and not src[i].isspace() and src[i] != ">":
            i += 1
        if i >= len(src):
            raise EntityParseError(f"Unclosed start tag at byte offset {offset}")
        tag = src[begin + 1 : i].lower()
        if tag not in _HTML_TAGS:
            raise EntityParseError(f'Unsupported start tag "{tag}" at byte offset {offset}')
        attributes: dict[str, str] = {}
        while True:
            while i < len(src) and src[i].isspace():
                i += 1
            if i >= len(src):
                raise EntityParseError(f"Unclosed start tag at byte offset {offset}")
            if src[i] == ">":
                i += 1
                break
            name_start = i
            while i < len(src) and not src[i].isspace() and src[i] not in "=>":
                i += 1
            name = src[name_start:i].lower()
            if not name:
                raise EntityParseError(
                    f'Empty attribute name in the tag "{tag}" at byte offset {offset}'
                )
            while i < len(src) and src[i].isspace():
                i += 1
            if not src.startswith("=", i):
                if tag == "blockquote" and name == "expandable":
                    attributes[name] = ""
                    continue
                raise EntityParseError(
                    "Expected equal sign in declaration of an attribute of the tag "
                    f'"{tag}" at byte offset {offset}'
                )
            attributes[name], i = self._attribute_value(i + 1, tag, offset)
        self.push(tag, self._tag_argument(tag, attributes, offset), begin)
        self.pos = i

    def _attribute_value(self, i: int, tag: str, offset: int) -> tuple[str, int]:
        src = self.src
        while i < len(src) and src[i].isspace():
            i += 1
        if i >= len(src):
            raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {offset}')
        if src[i] not in "'\"":
            token_start = i
            while i < len(src) and (src[i].isalnum() or src[i] in ".-"):
                i += 1
            if i < len(src) and not src[i].isspace() and src[i] != ">":
                raise EntityParseError(
                    f"Unexpected end of name token at byte offset {self.byte_offset(token_start)}"
                )
            return src[token_start:i].lower(), i
        quote = src[i]
        i += 1
        value: list[str] = []
        while i < len(src) and src[i] != quote:
            char, end = _decode_html_entity(src, i) if src[i] == "&" else (None, i)
            if char is None:
                value.append(src[i])
                i += 1
            else:
                value.append(char)
                i = end
        if i >= len(src):
            raise EntityParseError(f"Unclosed start tag at byte offset {offset}")
        return "".join(value), i + 1

    @staticmethod
    def _tag_argument(tag: str, attributes: dict[str, str], offset: int) -> str:
        if tag == "a":
            return attributes.get("href", "")
        if tag == "code":
            css_class = attributes.get("class", "")
            return css_class.removeprefix("language-") if css_class.startswith("language-") else ""
        if tag == "span" and attributes.get("class") != "tg-spoiler":
            raise EntityParseError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {offset}'
            )
        if tag == "tg-emoji":
            return attributes.get("emoji-id", "")
        if tag == "blockquote" and "expandable" in attributes:
            return "expandable"
        return ""

    def _end_tag(self) -> None:
        src, begin = self.src, self.pos
        offset = self.byte_offset(begin)
        if not self.open:
            raise EntityParseError(f"Unexpected end tag at byte offset {offset}")
        i = begin + 2
        while i < len(src) and not src[i].isspace() and src[i] != ">":
            i += 1
        name = src[begin + 2 : i].lower()
        while i < len(src) and src[i].isspace():
            i += 1
        if i >= len(src) or src[i] != ">":
            raise EntityParseError(f"Unclosed end tag at byte offset {offset}")
        opened = self.open[-1]
        if name and name != opened.kind:
            raise EntityParseError(
                f'Unmatched end tag at byte offset {offset}, expected "</{opened.kind}>", '
                f'found "</{name}>"'
            )
        self.open.pop()
        self.pos = i + 1
        self._finish(opened)

    def _finish(self, opened: _OpenEntity) -> None:
        tag, argument = opened.kind, opened.argument
        if tag in _HTML_ENTITY_TYPES:
            self.add_entity(_HTML_ENTITY_TYPES[tag], opened)
        elif tag == "a":
            url = argument or "".join(self.plain)[opened.plain_start :]
            self.add_entity("text_link", opened, url=url)
        elif tag == "code":
            self.add_entity("code", opened, **({"language": argument} if argument else {}))
        elif tag == "pre":
            last = self.entities[-1] if self.entities else None
            same_span = (
                last is not None
                and last["type"] == "code"
                and last["offset"] == opened.utf16_start
                and last["offset"] + last["length"] == self.utf16
            )
            if last is not None and same_span and "language" in last:
                self.entities.pop()
                self.add_entity("pre", opened, language=last["language"])
            else:
                self.add_entity("pre", opened)
        elif tag == "blockquote":
            kind = "expandable_blockquote" if argument == "expandable" else "blockquote"
            self.add_entity(kind, opened)
        elif tag == "tg-emoji":
            if not argument.isdigit():
                raise EntityParseError("Invalid custom emoji identifier specified")
            self.add_entity("custom_emoji", opened, custom_emoji_id=argument)


MARKDOWN_V2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MARKDOWN_V2_TOGGLES = (
    ("__", "underline"),
    ("||", "spoiler"),
    ("_", "italic"),
    ("*", "bold"),
    ("~", "strikethrough"),
)


class _MarkdownV2Parser(_EntityParser):
    """Telegram's MarkdownV2 parse mode: reserved characters must be escaped outside entities."""

    def parse(self) -> Formatted:
        src = self.src
        line_start = True
        while self.pos < len(src):
            char = src[self.pos]
            top = self.open[-1].kind if self.open else None
            emitted_before = self.plain_len
            if char == "\\" and self.pos + 1 < len(src) and 0 < ord(src[self.pos + 1]) <= 126:
                self.emit(src[self.pos + 1])
                self.pos += 2
            elif top in ("code", "pre"):
                self._inside_code(top)
            elif line_start and (char == ">" or src.startswith("**>", self.pos)):
                self.pos += 1 if char == ">" else 3  # a block quotation line
            elif self._toggle(top):
                pass
            elif char == "[" or src.startswith("![", self.pos):
                self.push("custom_emoji" if char == "!" else "text_link")
                self.pos += 1 if char == "[" else 2
            elif char == "]" and top in ("text_link", "custom_emoji"):
                self._end_link()
            elif char == "`":
                self._start_code()
            elif char in MARKDOWN_V2_RESERVED:
                raise EntityParseError(
                    f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
                )
            else:
                self.emit(char)
                self.pos += 1
            emitted = self.plain_len != emitted_before
            line_start = emitted and self.plain[-1].endswith("\n")
        if self.open:
            opened = self.open[-1]
            name = opened.kind.replace("_", " ").title().replace(" ", "")
            offset = self.byte_offset(opened.source_pos)
            raise EntityParseError(f"Can't find end of {name} entity at byte offset {offset}")
        return self.result()

    def _toggle(self, top: str | None) -> bool:
        """Opens or closes a bold/italic/underline/strikethrough/spoiler entity, if one is here."""
        for marker, kind in _MARKDOWN_V2_TOGGLES:
            if self.src.startswith(marker, self.pos):
                if top == kind:
                    self.add_entity(kind, self.open.pop())
                else:
                    self.push(kind)
                self.pos += len(marker)
                return True
        return False

    def _inside_code(self, top: str) -> None:
        if top == "pre" and self.src.startswith("```", self.pos):
            opened = self.open.pop()
            extra = {"language": opened.argument} if opened.argument else {}
            self.add_entity("pre", opened, **extra)
            self.pos += 3
        elif top == "code" and self.src[self.pos] == "`":
            self.add_entity("code", self.open.pop())
            self.pos += 1
        else:
            self.emit(self.src[self.pos])
            self.pos += 1

    def _start_code(self) -> None:
        if not self.src.startswith("```", self.pos):
            self.push("code")
            self.pos += 1
            return
        begin = self.pos
        self.pos += 3
        line_end = self.src.find("\n", self.pos)
        language = self.src[self.pos : line_end] if line_end >= 0 else ""
        if line_end >= 0 and not any(c.isspace() or c == "`" for c in language):
            self.pos = line_end + 1
        else:
            language = ""
        self.push("pre", language, begin)

    def _end_link(self) -> None:
        opened = self.open.pop()
        self.pos += 1
        if not self.src.startswith("(", self.pos):
            return  # "[text]" without a URL: plain text
        url: list[str] = []
        i = self.pos + 1
        while i < len(self.src) and self.src[i] != ")":
            if self.src[i] == "\\" and i + 1 < len(self.src):
                i += 1
            url.append(self.src[i])
            i += 1
        if i >= len(self.src):
            offset = self.byte_offset(self.pos)
            raise EntityParseError(f"Can't find end of a URL at byte offset {offset}")
        self.pos = i + 1
        target = "".join(url)
        if opened.kind == "custom_emoji":
            emoji_id = target.removeprefix("tg://emoji?id=")
            if emoji_id == target or not emoji_id.isdigit():
                raise EntityParseError("Invalid custom emoji identifier specified")
            self.add_entity("custom_emoji", opened, custom_emoji_id=emoji_id)
        else:
            self.add_entity("text_link", opened, url=target)


def parse_markdown_legacy(text: str) -> Formatted:
    """The legacy Markdown parse mode: *bold*, _italic_, `code`, ```pre```, [text](url)."""
    parser = _EntityParser(text)
    kinds = {"*": "bold", "_": "italic", "`": "code"}
    while parser.pos < len(text):
        pos = parser.pos
        char = text[pos]
        if char == "\\" and text[pos + 1 : pos + 2] in ("_", "*", "`", "["):
            parser.emit(text[pos + 1])
            parser.pos += 2
            continue
        if char not in "_*`[":
            parser.emit(char)
            parser.pos += 1
            continue
        marker = "```" if text.startswith("```", pos) else "]" if char == "[" else char
        end = text.find(marker, pos + (3 if marker == "```" else 1))
        if end < 0:
            raise EntityParseError(
                f"Can't find end of the entity starting at byte offset {parser.byte_offset(pos)}"
            )
        opened = parser.here("entity")
        if marker == "```":
            parser.emit(text[pos + 3 : end])
            parser.add_entity("pre", opened)
            parser.pos = end + 3
        elif marker == "]":
            parser.emit(text[pos + 1 : end])
            url_end = text.find(")", end + 2) if text.startswith("(", end + 1) else -1
            if url_end >= 0:
                parser.add_entity("text_link", opened, url=text[end + 2 : url_end])
                parser.pos = url_end + 1
            else:
                parser.pos = end + 1
        else:
            parser.emit(text[pos + 1 : end])
            parser.add_entity(kinds[char], opened)
            parser.pos = end + 1
    return parser.result()


def parse_html(text: str, *, strict_ampersand: bool = True) -> Formatted:
    return _HtmlParser(text, strict_ampersand=strict_ampersand).parse()


def parse_markdown_v2(text: str) -> Formatted:
    return _MarkdownV2Parser(text).parse()


_BOT_COMMAND = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")


def bot_command_entities(text: str) -> list[JsonDict]:
    """The bot_command entities Telegram adds to a user's text ("/start", "/start@bot")."""
    return [
        {
            "type": "bot_command",
            "offset": utf16_len(text[: match.start()]),
            "length": utf16_len(match.group()),
        }
        for match in _BOT_COMMAND.finditer(text)
    ]


# --------------------------------------------------------------------------------------------
# Errors, records and small value types
# --------------------------------------------------------------------------------------------


class ApiError(Exception):
    """An error answer of the Bot API; ``violation`` marks requests that broke the spec."""

    def __init__(
        self,
        error_code: int,
        description: str,
        *,
        parameters: JsonDict | None = None,
        violation: bool = False,
    ) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters
        self.violation = violation

    @classmethod
    def bad_request(cls, detail: str, *, violation: bool = True) -> ApiError:
        return cls(400, f"Bad Request: {detail}", violation=violation)

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
    """One sent or edited message, as the bot asked for it."""

    method: str
    chat_id: int
    message_id: int
    text: str | None  # the text (or caption) exactly as the bot sent it, markup included
    plain_text: str | None  # what the user sees: the text after entity parsing
    parse_mode: str | None
    reply_markup: JsonDict | None  # decoded, any kind of keyboard
    file_id: str | None  # for sendDocument / sendPhoto


@dataclass(frozen=True)
class FakeUser:
    """A Telegram user who writes to the bot in tests."""

    id: int
    first_name: str
    username: str | None = None
    last_name: str | None = None
    language_code: str | None = None

    def to_dict(self) -> JsonDict:
        user: JsonDict = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        optional = {
            "last_name": self.last_name,
            "username": self.username,
            "language_code": self.language_code,
        }
        user.update({key: value for key, value in optional.items() if value is not None})
        return user

    def private_chat(self) -> JsonDict:
        chat: JsonDict = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.last_name is not None:
            chat["last_name"] = self.last_name
        if self.username is not None:
            chat["username"] = self.username
        return chat


@dataclass
class FakeFile:
    """A file the fake can hand out through getFile and /file/bot<token>/<file_path>."""

    file_id: str
    file_unique_id: str
    data: bytes = field(repr=False)
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None

    def as_file(self) -> JsonDict:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
            "file_path": self.file_path,
        }

    def as_document(self) -> JsonDict:
        document = {"file_id": self.file_id, "file_unique_id": self.file_unique_id}
        if self.file_name is not None:
            document["file_name"] = self.file_name
        if self.mime_type is not None:
            document["mime_type"] = self.mime_type
        return {**document, "file_size": len(self.data)}

    def as_photo(self) -> list[JsonDict]:
        size = {"file_id": self.file_id, "file_unique_id": self.file_unique_id}
        return [{**size, "width": 800, "height": 600, "file_size": len(self.data)}]


@dataclass
class _Failure:
    method: str
    chat_id: int | str | None
    error: ApiError
    remaining: int


@dataclass(frozen=True)
class TelegramLimits:
    """Telegram's flood limits on sending methods; None turns one off.

    Windows slide: an accepted send counts for one second (a minute for the group limit) from
    the moment the fake's timer read when it was accepted; refused sends do not count.
    """

    per_second: int | None = 30  # the bot's sends to all chats
    per_chat_per_second: int | None = 1  # sends to one chat, private or group
    per_group_per_minute: int | None = 20  # sends to one group or supergroup

    def __post_init__(self) -> None:
        for name in ("per_second", "per_chat_per_second", "per_group_per_minute"):
            limit = getattr(self, name)
            if limit is not None and limit < 1:
                raise ValueError(f"{name} must be at least 1 or None, got {limit}")


@dataclass(kw_only=True, eq=False)
class Fault(LoopbackFault):
    """A fault of every call, or (``sending_only``) of the calls that send."""

    sending_only: bool = False

    def covers(self, method: str) -> bool:
        return not self.sending_only or method in SENDING_METHODS


@dataclass(kw_only=True, eq=False)
class Outage(Fault):
    """Every call it covers gets that HTTP status and never reaches the fake's Telegram."""

    status: int


@dataclass(kw_only=True, eq=False)
class Stall(Fault):
    """Calls it covers wait ``seconds``: before Telegram sees them, or (``handled``) after."""

    seconds: float
    handled: bool = False


@dataclass(kw_only=True, eq=False)
class FloodWait(Fault):
    """Sends (to one chat, or to all) get 429 until the timer reaches ``until``."""

    chat_id: int | None
    until: float


FaultT = TypeVar("FaultT", bound=Fault)


def window_wait(times: list[float], limit: int, window: float, now: float) -> float:
    """Seconds until one more send fits: at most ``limit`` of ``times`` within ``window``."""
    start = bisect.bisect_right(times, now - window)
    over = len(times) - start - limit
    return 0.0 if over < 0 else times[start + over] + window - now


def _inline_markup(markup: object) -> JsonDict | None:
    """The part of reply_markup Telegram keeps on the message: an inline keyboard only."""
    if isinstance(markup, dict) and "inline_keyboard" in markup:
        return markup
    return None


def _check_inline_keyboard(markup: JsonDict) -> None:
    for row in markup.get("inline_keyboard", []):
        for button in row:
            actions = [name for name in BUTTON_ACTIONS if name in button]
            if not button.get("text"):
                raise ApiError.bad_request("BUTTON_TEXT_INVALID: inline button text is empty")
            if not actions:
                raise ApiError.bad_request("text buttons are unallowed in the inline keyboard")
            if len(actions) > 1:
                raise ApiError.bad_request(
                    f"inline keyboard button {button['text']!r} must have exactly one action "
                    f"field, got {', '.join(actions)}"
                )
            data = button.get("callback_data")
            if data is not None and not 1 <= len(data.encode()) <= CALLBACK_DATA_LIMIT:
                raise ApiError.bad_request("BUTTON_DATA_INVALID")


def _scope_key(scope: JsonDict | None) -> str:
    """A command scope as a key: default, all_private_chats, chat:<id>, chat_member:<id>:<id>."""
    if not scope:
        return "default"
    ids = [str(scope[key]) for key in ("chat_id", "user_id") if key in scope]
    return ":".join([scope["type"], *ids])


def _without_reply(message: JsonDict) -> JsonDict:
    """A message as it appears in reply_to_message (Telegram does not nest replies further)."""
    quoted = copy.deepcopy(message)
    quoted.pop("reply_to_message", None)
    return quoted


def _json_response(body: JsonDict, status: int = 200) -> web.Response:
    return web.json_response(
        body, status=status, dumps=lambda data: json.dumps(data, ensure_ascii=False)
    )


async def _read_params(request: web.Request) -> Params:
    """Query string plus body: form-encoded, multipart (file parts as UploadedFile) or JSON."""
    params: Params = dict(request.query)
    if request.method != "POST" or not request.can_read_body:
        return params
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError as exc:
            raise ApiError.bad_request(f"invalid JSON body: {exc}") from exc
        if not isinstance(body, dict):
            raise ApiError.bad_request("the JSON body must be an object")
        params.update(body)
        return params
    form = await request.post()
    for key, value in form.items():
        if isinstance(value, web.FileField):
            params[key] = UploadedFile(value.filename, value.content_type, value.file.read())
        else:
            params[key] = value if isinstance(value, str) else value.decode()
    return params


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------

Handler = Callable[[Params], Awaitable[Any]]


class FakeTelegram(LoopbackServer):
    """A Bot API server for tests: real HTTP on 127.0.0.1, spec-checked, with recordings."""

    client_max_size = MAX_UPLOAD_BYTES
    shutdown_timeout = 2.0

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        username: str = DEFAULT_USERNAME,
        first_name: str = "Dondoc Test Bot",
        spec: BotApiSpec | None = None,
        strict_html: bool = True,
        clock: Callable[[], float] = time.time,
        limits: TelegramLimits | None = None,
        timer: Callable[[], float] = time.monotonic,
        conflict_on_second_poller: bool = False,
    ) -> None:
        """``clock`` dates messages; ``timer`` (seconds) measures rate limits and flood waits.

        ``limits`` (also settable later as ``self.limits``) turns Telegram's flood limits on;
        ``conflict_on_second_poller`` makes a getUpdates call end a long poll in progress with
        409 Conflict, as Telegram does when two bot instances poll.
        """
        super().__init__()
        self.token = token
        self.username = username
        self.spec = spec or BotApiSpec.load()
        self.strict_html = strict_html
        self.limits = limits
        self.conflict_on_second_poller = conflict_on_second_poller
        self._clock = clock
        self._timer = timer
        self.bot_user: JsonDict = {
            "id": int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": first_name,
            "username": username,
        }

        # What tests look at.
        self.calls: list[tuple[str, Params]] = []
        self.violations: list[str] = []
        self.sent: list[SentMessage] = []
        self.deleted: list[tuple[int, int]] = []
        self.answers: list[Params] = []
        self.commands: dict[tuple[str, str], list[JsonDict]] = {}
        self.webhook: Params | None = None
        self.files: dict[str, FakeFile] = {}
        self.too_many_requests = 0  # 429 answers given, whatever their cause
        self.send_times: dict[int, list[float]] = {}  # per chat: timer at each accepted send

        # Telegram's side of the conversation.
        self._chats: dict[int, JsonDict] = {}
        self._messages: dict[tuple[int, int], JsonDict] = {}
        self._sent_as: dict[tuple[int, int], tuple[str | None, str | None]] = {}
        self._last_message_id: dict[int, int] = {}
        self._updates: list[JsonDict] = []
        self._update_ids = itertools.count(1)
        self._last_queued_id = 0
        self._update_arrived = asyncio.Event()
        self._allowed_updates: list[str] = []
        self._open_callback_queries: set[str] = set()
        self._failures: list[_Failure] = []
        self._faults: list[Fault] = []
        self._send_log: list[float] = []  # timer at each accepted send, all chats
        self._waiting_poll: asyncio.Event | None = None
        self._serial = itertools.count(1)

        self._handlers: dict[str, Handler] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "sendDocument": self._send_document,
            "sendPhoto": self._send_photo,
            "sendChatAction": self._send_chat_action,
            "getFile": self._get_file,
            "getChat": self._get_chat,
        }

    def routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{file_path:.+}", self._handle_file)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    # ---- what tests read ------------------------------------------------------------------

    def sent_to(self, chat_id: int) -> list[SentMessage]:
        return [sent for sent in self.sent if sent["chat_id"] == chat_id]

    def last_text(self, chat_id: int, *, plain: bool = False) -> str | None:
        """The text (or caption) of the latest message sent or edited in that chat.

        As the bot sent it (markup included), or with ``plain=True`` as the user sees it.
        """
        sent = self.sent_to(chat_id)
        if not sent:
            raise LookupError(f"nothing was sent to chat {chat_id}")
        return sent[-1]["plain_text" if plain else "text"]

    def calls_of(self, method: str) -> list[Params]:
        return [params for name, params in self.calls if name == method]

    def duplicates(self) -> dict[tuple[int, str], int]:
        """(chat id, text as sent) of new messages sent more than once, with their counts.

        Edits are not new messages; a photo or document counts by its caption, if any.
        """
        counts = Counter(
            (sent["chat_id"], sent["text"])
            for sent in self.sent
            if sent["method"].startswith("send") and sent["text"] is not None
        )
        return {key: count for key, count in counts.items() if count > 1}

    def max_sends_in(self, window: float, chat_id: int | None = None) -> int:
        """The most accepted sends (to that chat, or to all) within any ``window`` seconds."""
        times = self._send_log if chat_id is None else self.send_times.get(chat_id, [])
        return max(
            (bisect.bisect_left(times, start + window) - i for i, start in enumerate(times)),
            default=0,
        )

    def message(self, chat_id: int, message_id: int) -> JsonDict:
        """A message as Telegram holds it now (after edits), as a Message dict."""
        try:
            return copy.deepcopy(self._messages[(chat_id, message_id)])
        except KeyError:
            raise LookupError(f"no message {message_id} in chat {chat_id}") from None

    # ---- what tests arrange ---------------------------------------------------------------

    def add_file(
        self,
        file_id: str,
        data: bytes,
        file_path: str | None = None,
        file_unique_id: str | None = None,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
    ) -> FakeFile:
        """Registers a file for getFile and for download from base_file_url."""
        fake_file = FakeFile(
            file_id=file_id,
            file_unique_id=file_unique_id or f"{file_id}-unique",
            data=data,
            file_path=file_path or f"documents/{file_id}",
            file_name=file_name,
            mime_type=mime_type,
        )
        self.files[file_id] = fake_file
        return fake_file

    def fail_next(
        self,
        method: str,
        error_code: int,
        description: str | None = None,
        *,
        retry_after: int | None = None,
        chat_id: int | str | None = None,
        times: int = 1,
    ) -> None:
        """Makes the next ``times`` calls of a method (to one chat, if given) fail like that.

        429 gets ``parameters.retry_after`` (1 s unless given); PTB raises RetryAfter for it,
        Forbidden for 403 and BadRequest for 400.
        """
        spec_method = self.spec.method(method)
        if spec_method is None:
            raise ValueError(f"{method} is not a Bot API method")
        if error_code == 429 and retry_after is None:
            retry_after = 1
        defaults = {
            400: "Bad Request",
            403: "Forbidden: bot was blocked by the user",
            429: f"Too Many Requests: retry after {retry_after}",
            500: "Internal Server Error",
            502: "Bad Gateway",
        }
        error = ApiError(
            error_code,
            description or defaults.get(error_code, f"Error {error_code}"),
            parameters={"retry_after": retry_after} if retry_after is not None else None,
        )
        self._failures.append(_Failure(spec_method.name, chat_id, error, times))

    def outage(self, status: int = 502, *, sending_only: bool = False) -> Outage:
        """Every call (or every sending method's) gets that HTTP status until the outage ends.

        The answer is Telegram's JSON error (502: "Bad Gateway"; PTB raises NetworkError). The
        calls never reach the fake's Telegram: they are not in ``calls``, only in ``hits``.
        Use as ``with tg.outage(): ...`` or keep it and call ``end()``.
        """
        HTTPStatus(status)  # refuses a status that does not exist
        return Outage(in_force=self._faults, status=status, sending_only=sending_only)

    def stall(self, seconds: float, *, sending_only: bool = False, handled: bool = False) -> Stall:
        """Calls take ``seconds`` longer until the stall ends (a slow network).

        By default a call waits before Telegram sees it and is dropped if the client gave up
        meanwhile (PTB raises TimedOut; nothing was sent). With ``handled=True`` Telegram
        carries it out at once and only the answer is late: a client that times out has had
        its message delivered anyway, so a retry sends it twice (see ``duplicates``).
        """
        return Stall(
            in_force=self._faults, seconds=seconds, sending_only=sending_only, handled=handled
        )

    def flood_wait(self, seconds: float, chat_id: int | None = None) -> FloodWait:
        """Sends (to that chat, or to all) get 429 "retry after N" until ``seconds`` elapse.

        N is the whole seconds left, at least 1; the timer given to the fake measures them.
        """
        return FloodWait(
            in_force=self._faults,
            sending_only=True,
            chat_id=chat_id,
            until=self._timer() + seconds,
        )

    def user(
        self,
        user_id: int,
        first_name: str = "Tester",
        username: str | None = None,
        *,
        last_name: str | None = None,
        language_code: str | None = None,
    ) -> FakeUser:
        """A user; their private chat with the bot (id = user id) becomes known to the fake."""
        user = FakeUser(user_id, first_name, username, last_name, language_code)
        self._chats[user_id] = user.private_chat()
        return user

    def message_update(
        self,
        user: FakeUser,
        text: str | None = None,
        *,
        chat_id: int | None = None,
        chat_type: str = "private",
        chat_title: str | None = None,
        reply_to_message_id: int | None = None,
        photo: str | None = None,
        document: tuple[str, str, str] | None = None,
        caption: str | None = None,
    ) -> JsonDict:
        """An Update with a message from the user (not queued: see ``queue``).

        ``photo`` is a file_id, ``document`` is (file_id, file_name, mime_type); files not added
        with ``add_file`` are registered empty. Commands in the text (and caption) get their
        bot_command entities, as Telegram adds them.
        """
        if text is None and photo is None and document is None:
            raise ValueError("a message needs text, a photo or a document")
        chat = self._chat_of_update(user, chat_id, chat_type, chat_title)
        message: JsonDict = {
            "message_id": self._next_message_id(chat["id"]),
            "from": user.to_dict(),
            "chat": dict(chat),
            "date": self._now(),
        }
        if reply_to_message_id is not None:
            quoted = self._messages.get((chat["id"], reply_to_message_id))
            if quoted is None:
                raise LookupError(f"no message {reply_to_message_id} in chat {chat['id']}")
            message["reply_to_message"] = _without_reply(quoted)
        if text is not None:
            message["text"] = text
            if entities := bot_command_entities(text):
                message["entities"] = entities
        if photo is not None:
            message["photo"] = self._file_for_update(photo).as_photo()
        if document is not None:
            file_id, file_name, mime_type = document
            fake_file = self._file_for_update(file_id)
            fake_file.file_name, fake_file.mime_type = file_name, mime_type
            message["document"] = fake_file.as_document()
        if caption is not None:
            message["caption"] = caption
            if entities := bot_command_entities(caption):
                message["caption_entities"] = entities
        self._messages[(chat["id"], message["message_id"])] = message
        return self._new_update(message=copy.deepcopy(message))

    def callback_update(
        self,
        user: FakeUser,
        data: str,
        message_id: int,
        *,
        chat_id: int | None = None,
        check_button: bool = True,
    ) -> JsonDict:
        """An Update for the user pressing a button of a message the bot sent.

        The callback query carries the message as it is now, like Telegram. Unless
        ``check_button`` is False the message must have a button with that callback_data.
        """
        chat_id = user.id if chat_id is None else chat_id
        message = self._messages.get((chat_id, message_id))
        if message is None:
            raise LookupError(f"the bot sent no message {message_id} to chat {chat_id}")
        if message["from"]["id"] != self.bot_user["id"]:
            raise ValueError(f"message {message_id} in chat {chat_id} is not the bot's")
        if check_button:
            keyboard = (message.get("reply_markup") or {}).get("inline_keyboard", [])
            offered = [button.get("callback_data") for row in keyboard for button in row]
            if data not in offered:
                raise ValueError(
                    f"message {message_id} has no button with callback_data {data!r}: {offered}"
                )
        query_id = str(4_000_000_000 + next(self._serial))
        self._open_callback_queries.add(query_id)
        return self._new_update(
            callback_query={
                "id": query_id,
                "from": user.to_dict(),
                "message": copy.deepcopy(message),
                "chat_instance": str(-abs(chat_id) - 7_000_000),
                "data": data,
            }
        )

    def queue(self, update: JsonDict) -> JsonDict:
        """Adds an update for getUpdates; it gets a new update_id unless its own is newer."""
        if update.get("update_id", 0) <= self._last_queued_id:
            update = {**update, "update_id": self._fresh_update_id()}
        self._last_queued_id = update["update_id"]
        self._updates.append(update)
        self._update_arrived.set()
        return update

    # ---- HTTP -----------------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.Response:
        requested = request.match_info["method"]
        known = self.spec.method(requested)
        method_name = known.name if known is not None else requested
        stall = self._fault(Stall, method_name)
        if stall is not None:
            stall.hits += 1
            if not stall.handled:
                await asyncio.sleep(stall.seconds)
                if request.transport is None or request.transport.is_closing():
                    return web.Response(status=408)  # the client gave up: Telegram saw nothing
        outage = self._fault(Outage, method_name)
        if outage is not None:
            outage.hits += 1
            error = ApiError(outage.status, HTTPStatus(outage.status).phrase)
            response = self._refuse(method_name, error)
        else:
            response = await self._answer(request, requested)
        if stall is not None and stall.handled:
            await asyncio.sleep(stall.seconds)
        return response

    async def _answer(self, request: web.Request, requested: str) -> web.Response:
        if request.match_info["token"] != self.token:
            return _json_response(ApiError(401, "Unauthorized").payload(), 401)
        try:
            raw = await _read_params(request)
        except ApiError as error:
            self.calls.append((requested, {}))
            return self._refuse(requested, error)
        method = self.spec.method(requested)
        if method is None:
            self.calls.append((requested, raw))
            return self._refuse(
                requested, ApiError(404, "Not Found: method not found", violation=True)
            )
        params, problems = self._decode(method, raw)
        self.calls.append((method.name, params))
        try:
            if problems:
                raise ApiError.bad_request("; ".join(problems))
            self._check_common(params)
            self._inject_failure(method.name, params)
            handler = self._handlers.get(method.name)
            if handler is None:
                raise ApiError(
                    501,
                    f"Not Implemented: FakeTelegram does not implement {method.name}",
                    violation=True,
                )
            chat = self._throttle(method.name, params)
            result = await handler(params)
        except ApiError as error:
            return self._refuse(method.name, error)
        if chat is not None:
            now = self._timer()
            self._send_log.append(now)
            self.send_times.setdefault(chat["id"], []).append(now)
        for problem in self.spec.check_any(result, method.returns, "result"):
            self.violations.append(f"{method.name}: FakeTelegram answered off-spec: {problem}")
        return _json_response({"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.Response:
        path = request.match_info["file_path"]
        found = next((f for f in self.files.values() if f.file_path == path), None)
        if request.match_info["token"] != self.token or found is None:
            return _json_response(ApiError(404, "Not Found").payload(), 404)
        return web.Response(body=found.data, content_type="application/octet-stream")

    def _refuse(self, method: str, error: ApiError) -> web.Response:
        if error.violation:
            self.violations.append(f"{method}: {error.description}")
        if error.error_code == HTTPStatus.TOO_MANY_REQUESTS:
            self.too_many_requests += 1
        return _json_response(error.payload(), error.error_code)

    def _decode(self, method: SpecMethod, raw: Params) -> tuple[Params, list[str]]:
        """Parameters decoded to their spec types, and what is wrong with them."""
        problems = [
            f'parameter "{name}" is required'
            for name, spec_field in method.fields.items()
            if spec_field.required and name not in raw
        ]
        attached = {
            name
            for value in raw.values()
            if isinstance(value, str)
            for name in re.findall(r"attach://([\w.-]+)", value)
        }
        params: Params = {}
        for name, value in raw.items():
            params[name] = value
            spec_field = method.fields.get(name)
            if spec_field is None:
                if not (isinstance(value, UploadedFile) and name in attached):
                    problems.append(f'unknown parameter "{name}"')
                continue
            try:
                params[name] = self.spec.decode(value, spec_field.types, name)
            except ValueError as exc:
                problems.append(str(exc))
        return params, problems

    def _check_common(self, params: Params) -> None:
        parse_mode = params.get("parse_mode")
        if parse_mode is not None and parse_mode not in PARSE_MODES:
            raise ApiError.bad_request(f"unsupported parse_mode {parse_mode!r}")
        markup = _inline_markup(params.get("reply_markup"))
        if markup is not None:
            _check_inline_keyboard(markup)

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

    # ---- faults and flood limits ----------------------------------------------------------

    def _fault(self, kind: type[FaultT], method: str) -> FaultT | None:
        """The latest fault of that kind in force for the method."""
        for fault in reversed(self._faults):
            if isinstance(fault, kind) and fault.covers(method):
                return fault
        return None

    def _throttle(self, method: str, params: Params) -> JsonDict | None:
        """The chat of a send, after checking flood waits and limits (429 when over)."""
        if method not in SENDING_METHODS or "chat_id" not in params:
            return None
        chat = self._chat(params["chat_id"])
        now = self._timer()
        wait = max(self._flood_wait_left(chat["id"], now), self._limit_wait(chat, now))
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            raise ApiError(
                429,
                f"Too Many Requests: retry after {seconds}",
                parameters={"retry_after": seconds},
            )
        return chat

    def _flood_wait_left(self, chat_id: int, now: float) -> float:
        left = 0.0
        for fault in [fault for fault in self._faults if isinstance(fault, FloodWait)]:
            if fault.until <= now:
                fault.end()
            elif fault.chat_id in (None, chat_id):
                fault.hits += 1
                left = max(left, fault.until - now)
        return left

    def _limit_wait(self, chat: JsonDict, now: float) -> float:
        if self.limits is None:
            return 0.0
        in_chat = self.send_times.get(chat["id"], [])
        checks = [
            (self._send_log, self.limits.per_second, 1.0),
            (in_chat, self.limits.per_chat_per_second, 1.0),
        ]
        if chat["type"] in GROUP_TYPES:
            checks.append((in_chat, self.limits.per_group_per_minute, 60.0))
        return max(
            (
                window_wait(times, limit, window, now)
                for times, limit, window in checks
                if limit is not None
            ),
            default=0.0,
        )

    # ---- state helpers --------------------------------------------------------------------

    def _now(self) -> int:
        return int(self._clock())

    def _next_message_id(self, chat_id: int) -> int:
        self._last_message_id[chat_id] = self._last_message_id.get(chat_id, 0) + 1
        return self._last_message_id[chat_id]

    def _fresh_update_id(self) -> int:
        return next(self._update_ids)

    def _new_update(self, **content: JsonDict) -> JsonDict:
        update = {"update_id": self._fresh_update_id(), **content}
        if problems := self.spec.check(update, "Update", "update"):
            raise AssertionError(f"FakeTelegram built an off-spec update: {problems}")
        return update

    def _chat(self, chat_id: int | str) -> JsonDict:
        """The chat a request names; unknown integer ids are made up, unknown @names are not."""
        if isinstance(chat_id, str):
            name = chat_id.removeprefix("@")
            for chat in self._chats.values():
                if chat.get("username") == name:
                    return chat
            raise ApiError.bad_request("chat not found", violation=False)
        if chat_id not in self._chats:
            if chat_id > 0:
                self._chats[chat_id] = {
                    "id": chat_id,
                    "type": "private",
                    "first_name": f"User {chat_id}",
                }
            else:
                kind = "supergroup" if chat_id <= -1_000_000_000_000 else "group"
                self._chats[chat_id] = {"id": chat_id, "type": kind, "title": f"Chat {chat_id}"}
        return self._chats[chat_id]

    def _chat_of_update(
        self, user: FakeUser, chat_id: int | None, chat_type: str, title: str | None
    ) -> JsonDict:
        if chat_type == "private":
            if chat_id not in (None, user.id):
                raise ValueError("a private chat's id is the user's id")
            chat = user.private_chat()
        elif chat_id is None:
            raise ValueError(f"a {chat_type} chat needs a chat_id")
        elif title is None and chat_id in self._chats:
            chat = self._chats[chat_id]
        else:
            chat = {"id": chat_id, "type": chat_type, "title": title or f"Chat {chat_id}"}
        self._chats[chat["id"]] = chat
        return chat

    def _file_for_update(self, file_id: str) -> FakeFile:
        if file_id not in self.files:
            self.add_file(file_id, b"")
        return self.files[file_id]

    def _format(
        self, text: str, parse_mode: str | None, entities: list[JsonDict] | None, *, caption: bool
    ) -> Formatted:
        try:
            if parse_mode == "HTML":
                formatted = parse_html(text, strict_ampersand=self.strict_html)
            elif parse_mode == "MarkdownV2":
                formatted = parse_markdown_v2(text)
            elif parse_mode == "Markdown":
                formatted = parse_markdown_legacy(text)
            else:
                formatted = Formatted(text, list(entities or []))
        except EntityParseError as exc:
            raise ApiError.bad_request(f"can't parse entities: {exc}") from exc
        if caption:
            if len(formatted.text) > CAPTION_LIMIT:
                raise ApiError.bad_request("message caption is too long")
        elif not formatted.text.strip():
            raise ApiError.bad_request("message text is empty")
        elif len(formatted.text) > TEXT_LIMIT:
            raise ApiError.bad_request("message is too long")
        return formatted

    def _caption(self, params: Params) -> JsonDict:
        if "caption" not in params:
            return {}
        formatted = self._format(
            params["caption"],
            params.get("parse_mode"),
            params.get("caption_entities"),
            caption=True,
        )
        content: JsonDict = {"caption": formatted.text} if formatted.text else {}
        if formatted.entities:
            content["caption_entities"] = formatted.entities
        return content

    def _reply_target(self, chat_id: int, reply: JsonDict | None) -> JsonDict | None:
        if not reply:
            return None
        target_chat = self._chat(reply["chat_id"])["id"] if "chat_id" in reply else chat_id
        quoted = self._messages.get((target_chat, reply["message_id"]))
        if quoted is not None:
            return _without_reply(quoted)
        if reply.get("allow_sending_without_reply"):
            return None
        raise ApiError.bad_request("message to be replied not found", violation=False)

    def _post(self, chat: JsonDict, params: Params, content: JsonDict) -> JsonDict:
        """Stores a new message from the bot and returns it."""
        reply_to = self._reply_target(chat["id"], params.get("reply_parameters"))
        message: JsonDict = {
            "message_id": self._next_message_id(chat["id"]),
            "from": dict(self.bot_user),
            "chat": dict(chat),
            "date": self._now(),
        }
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        message.update(content)
        markup = _inline_markup(params.get("reply_markup"))
        if markup is not None:
            message["reply_markup"] = markup
        self._messages[(chat["id"], message["message_id"])] = message
        return message

    def _record(
        self,
        method: str,
        message: JsonDict,
        *,
        text: str | None,
        parse_mode: str | None,
        reply_markup: JsonDict | None,
        file_id: str | None = None,
    ) -> JsonDict:
        key = (message["chat"]["id"], message["message_id"])
        self._sent_as[key] = (text, parse_mode)
        self.sent.append(
            SentMessage(
                method=method,
                chat_id=key[0],
                message_id=key[1],
                text=text,
                plain_text=message.get("text", message.get("caption")),
                parse_mode=parse_mode,
                reply_markup=copy.deepcopy(reply_markup),
                file_id=file_id,
            )
        )
        return copy.deepcopy(message)

    def _editable(self, params: Params) -> tuple[tuple[int, int], JsonDict]:
        if "inline_message_id" in params:
            raise ApiError.bad_request("inline messages are not simulated by FakeTelegram")
        if "chat_id" not in params or "message_id" not in params:
            raise ApiError.bad_request("message identifier is not specified")
        key = (self._chat(params["chat_id"])["id"], params["message_id"])
        message = self._messages.get(key)
        if message is None:
            raise ApiError.bad_request("message to edit not found", violation=False)
        if message["from"]["id"] != self.bot_user["id"]:
            raise ApiError.bad_request("message can't be edited", violation=False)
        return key, message

    def _media(self, value: UploadedFile | str, folder: str) -> FakeFile:
        if isinstance(value, UploadedFile):
            serial = next(self._serial)
            suffix = Path(value.filename or "").suffix
            return self.add_file(
                f"fake-{folder}-{serial}",
                value.data,
                f"{folder}/file_{serial}{suffix}",
                file_name=value.filename,
                mime_type=value.content_type,
            )
        if value in self.files:
            return self.files[value]
        if value.startswith(("http://", "https://")):
            serial = next(self._serial)
            name = value.rstrip("/").rsplit("/", 1)[-1] or None
            return self.add_file(
                f"fake-{folder}-{serial}", b"", f"{folder}/file_{serial}", file_name=name
            )
        raise ApiError.bad_request("wrong file identifier/HTTP URL specified", violation=False)

    # ---- methods --------------------------------------------------------------------------

    async def _get_me(self, params: Params) -> JsonDict:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, params: Params) -> list[JsonDict]:
        if self.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        if "allowed_updates" in params:
            self._allowed_updates = list(params["allowed_updates"])
        offset = params.get("offset", 0)
        if offset < 0:
            self._updates = self._updates[offset:]
        elif offset > 0:  # confirms every update before it
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if self.conflict_on_second_poller and self._waiting_poll is not None:
            self._waiting_poll.set()  # Telegram ends the long poll in progress with 409
        timeout = params.get("timeout", 0)
        if not self._updates and timeout > 0:
            await self._long_poll(min(timeout, MAX_LONG_POLL_SECONDS))
        self._updates = [u for u in self._updates if self._is_allowed(u)]
        limit = min(max(params.get("limit", 100), 1), 100)
        return copy.deepcopy(self._updates[:limit])

    async def _long_poll(self, seconds: float) -> None:
        """Waits for an update; 409 if another getUpdates call ends the wait (when opted in)."""
        self._update_arrived.clear()
        terminated = asyncio.Event()
        if self.conflict_on_second_poller:
            self._waiting_poll = terminated
        waits = {
            asyncio.ensure_future(self._update_arrived.wait()),
            asyncio.ensure_future(terminated.wait()),
        }
        try:
            await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()
            if self._waiting_poll is terminated:
                self._waiting_poll = None
        if terminated.is_set():
            raise ApiError(409, POLL_CONFLICT)

    def _is_allowed(self, update: JsonDict) -> bool:
        kind = next(key for key in update if key != "update_id")
        if self._allowed_updates:
            return kind in self._allowed_updates
        return kind not in NOT_DELIVERED_BY_DEFAULT

    async def _set_webhook(self, params: Params) -> bool:
        if params.get("drop_pending_updates"):
            self._updates.clear()
        if not params["url"]:
            self.webhook = None
            return True
        if "allowed_updates" in params:
            self._allowed_updates = list(params["allowed_updates"])
        self.webhook = {key: value for key, value in params.items() if key != "certificate"}
        return True

    async def _delete_webhook(self, params: Params) -> bool:
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self.webhook = None
        return True

    async def _get_webhook_info(self, params: Params) -> JsonDict:
        info: JsonDict = {
            "url": self.webhook["url"] if self.webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook:
            info["max_connections"] = self.webhook.get("max_connections", 40)
            if self._allowed_updates:
                info["allowed_updates"] = list(self._allowed_updates)
        return info

    def _commands_key(self, params: Params) -> tuple[str, str]:
        language_code = params.get("language_code", "")
        if language_code and not re.fullmatch(r"[a-z]{2}", language_code):
            raise ApiError.bad_request(f"invalid language code {language_code!r}")
        return _scope_key(params.get("scope")), language_code

    async def _set_my_commands(self, params: Params) -> bool:
        commands = params["commands"]
        if len(commands) > 100:
            raise ApiError.bad_request("BOT_COMMANDS_TOO_MUCH")
        for command in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", command["command"]):
                raise ApiError.bad_request(f"BOT_COMMAND_INVALID: {command['command']!r}")
            if not 1 <= len(command["description"].strip()) <= 256:
                raise ApiError.bad_request(
                    f"BOT_COMMAND_DESCRIPTION_INVALID: {command['description']!r}"
                )
        key = self._commands_key(params)
        if commands:
            self.commands[key] = copy.deepcopy(commands)
        else:
            self.commands.pop(key, None)
        return True

    async def _get_my_commands(self, params: Params) -> list[JsonDict]:
        return copy.deepcopy(self.commands.get(self._commands_key(params), []))

    async def _delete_my_commands(self, params: Params) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    async def _send_message(self, params: Params) -> JsonDict:
        chat = self._chat(params["chat_id"])
        formatted = self._format(
            params["text"], params.get("parse_mode"), params.get("entities"), caption=False
        )
        content: JsonDict = {"text": formatted.text}
        if formatted.entities:
            content["entities"] = formatted.entities
        message = self._post(chat, params, content)
        return self._record(
            "sendMessage",
            message,
            text=params["text"],
            parse_mode=params.get("parse_mode"),
            reply_markup=params.get("reply_markup"),
        )

    async def _edit_message_text(self, params: Params) -> JsonDict:
        if "text" not in params:
            raise ApiError.bad_request("message text is empty")
        formatted = self._format(
            params["text"], params.get("parse_mode"), params.get("entities"), caption=False
        )
        _, message = self._editable(params)
        if "text" not in message:
            raise ApiError.bad_request("there is no text in the message to edit", violation=False)
        markup = _inline_markup(params.get("reply_markup"))
        unchanged = (
            message["text"] == formatted.text
            and message.get("entities", []) == formatted.entities
            and message.get("reply_markup") == markup
        )
        if unchanged:
            raise ApiError(400, NOT_MODIFIED)
        message["text"] = formatted.text
        _set_or_drop(message, "entities", formatted.entities or None)
        _set_or_drop(message, "reply_markup", markup)
        message["edit_date"] = self._now()
        return self._record(
            "editMessageText",
            message,
            text=params["text"],
            parse_mode=params.get("parse_mode"),
            reply_markup=params.get("reply_markup"),
        )

    async def _edit_message_reply_markup(self, params: Params) -> JsonDict:
        key, message = self._editable(params)
        markup = _inline_markup(params.get("reply_markup"))
        if message.get("reply_markup") == markup:
            raise ApiError(400, NOT_MODIFIED)
        _set_or_drop(message, "reply_markup", markup)
        message["edit_date"] = self._now()
        text, parse_mode = self._sent_as.get(key, (None, None))
        return self._record(
            "editMessageReplyMarkup",
            message,
            text=text,
            parse_mode=parse_mode,
            reply_markup=params.get("reply_markup"),
        )

    async def _delete_message(self, params: Params) -> bool:
        key = (self._chat(params["chat_id"])["id"], params["message_id"])
        if self._messages.pop(key, None) is None:
            raise ApiError.bad_request("message to delete not found", violation=False)
        self._sent_as.pop(key, None)
        self.deleted.append(key)
        return True

    async def _answer_callback_query(self, params: Params) -> bool:
        if len(params.get("text", "")) > CALLBACK_ANSWER_LIMIT:
            raise ApiError.bad_request("MESSAGE_TOO_LONG: callback answer text over 200")
        query_id = params["callback_query_id"]
        if query_id not in self._open_callback_queries:
            raise ApiError.bad_request(
                "query is too old and response timeout expired or query ID is invalid",
                violation=False,
            )
        self._open_callback_queries.remove(query_id)
        self.answers.append(dict(params))
        return True

    async def _send_document(self, params: Params) -> JsonDict:
        return self._send_media("sendDocument", params, "document", "documents")

    async def _send_photo(self, params: Params) -> JsonDict:
        return self._send_media("sendPhoto", params, "photo", "photos")

    def _send_media(self, method: str, params: Params, kind: str, folder: str) -> JsonDict:
        chat = self._chat(params["chat_id"])
        caption = self._caption(params)
        fake_file = self._media(params[kind], folder)
        media = fake_file.as_photo() if kind == "photo" else fake_file.as_document()
        message = self._post(chat, params, {kind: media, **caption})
        return self._record(
            method,
            message,
            text=params.get("caption"),
            parse_mode=params.get("parse_mode"),
            reply_markup=params.get("reply_markup"),
            file_id=fake_file.file_id,
        )

    async def _send_chat_action(self, params: Params) -> bool:
        self._chat(params["chat_id"])
        if params["action"] not in CHAT_ACTIONS:
            raise ApiError.bad_request("wrong parameter action in request")
        return True

    async def _get_file(self, params: Params) -> JsonDict:
        fake_file = self.files.get(params["file_id"])
        if fake_file is None:
            raise ApiError.bad_request("invalid file_id", violation=False)
        if len(fake_file.data) > MAX_DOWNLOAD_BYTES:
            raise ApiError.bad_request("file is too big", violation=False)
        return fake_file.as_file()

    async def _get_chat(self, params: Params) -> JsonDict:
        return {
            **self._chat(params["chat_id"]),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }


def _set_or_drop(message: JsonDict, key: str, value: object) -> None:
    if value is None:
        message.pop(key, None)
    else:
        message[key] = value
