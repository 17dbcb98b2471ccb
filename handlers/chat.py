"""Transport-neutral chat messages: what a channel adapter hands to the core and gets back."""

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

from models import Channel
from services.progress import IncomingFile


@dataclass(frozen=True)
class Incoming:
    channel: Channel
    user_id: str
    chat_id: str
    text: str = ""  # message text or a file's caption
    is_group: bool = False
    chat_title: str | None = None
    username: str | None = None
    reply_to: str | None = None  # id of the bot message this one replies to
    button: str | None = None  # payload of a pressed button
    files: tuple[IncomingFile, ...] = ()


@dataclass(frozen=True)
class Button:
    label: str
    payload: str


@dataclass(frozen=True)
class Reply:
    """One message to send. `text` uses the small HTML subset Telegram accepts (b, i, code);
    adapters of plain-text channels strip it. User text inside is already escaped."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    tasks: tuple[int, ...] = ()  # the tasks it is about; several are numbered 1, 2, … in the text
    expects: str | None = None  # "blocked": the answer to this message is a reason
    ask_reply: bool = False  # invite the user to answer (Telegram's ForceReply)
    files: tuple[Path, ...] = ()  # sent after the text: images as photos, others as documents


def reply_payload(reply: Reply) -> str:
    """A reply kept in the outbox to be sent later, as JSON."""
    return json.dumps(asdict(reply) | {"files": [str(path) for path in reply.files]})


def reply_of(payload: str) -> Reply:
    data = json.loads(payload)
    return Reply(
        text=data["text"],
        buttons=tuple(tuple(Button(**button) for button in row) for row in data["buttons"]),
        tasks=tuple(data["tasks"]),
        expects=data["expects"],
        ask_reply=data["ask_reply"],
        files=tuple(Path(path) for path in data["files"]),
    )


@dataclass(frozen=True)
class Download:
    file_id: str
    path: Path


@dataclass
class Outcome:
    replies: list[Reply] = field(default_factory=list)
    notice: str | None = None  # a short answer to a pressed button (a toast on Telegram)
    downloads: list[Download] = field(default_factory=list)


def split_text(text: str, limit: int) -> list[str]:
    """Cut a long message at line breaks so each part fits the channel's limit."""
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            cut = line.rfind(" ", 0, limit)
            cut = cut if cut > 0 else _outside_entity(line, limit)
            parts, current = _flush(parts, current), ""
            parts.append(line[:cut])
            line = line[cut:].lstrip()
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            parts, current = _flush(parts, current), line
        else:
            current = candidate
    return _flush(parts, current) or [""]


def _flush(parts: list[str], current: str) -> list[str]:
    return [*parts, current] if current else parts


def _outside_entity(line: str, limit: int) -> int:
    """A cut at `limit` that does not fall inside an HTML entity such as `&amp;`."""
    start = line.rfind("&", max(0, limit - 10), limit)
    return start if start > 0 and ";" not in line[start:limit] else limit


class DeliveryError(Exception):
    """A message could not be sent now; it may be tried again later."""


class RetryLater(DeliveryError):
    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry after {seconds} s")
        self.seconds = seconds


class Unreachable(DeliveryError):
    """The person blocked the bot or left the chat."""


class Undeliverable(DeliveryError):
    """The channel refuses this message for good; trying again will not help."""


class Sender(Protocol):
    """A channel's way to send a message the bot starts (a reminder, the digest)."""

    async def send(self, chat_id: str, reply: Reply) -> str:
        """Send and return the channel's message id; raise a DeliveryError on failure."""
        ...
