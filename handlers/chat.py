"""Transport-neutral chat messages: what a channel adapter hands to the core and gets back."""

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

from messages import Rich
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
    message_id: str | None = None  # given by channels that may deliver a message twice


@dataclass(frozen=True)
class Capabilities:
    """What a channel can do, declared once by its adapter; the chat core and the sweep write
    each message for the channel it goes to."""

    text_limit: int  # characters in one message; longer texts are sent in parts
    markup: bool  # bold, italic and code are shown as such
    buttons: bool  # else the buttons are offered as numbered choices
    reply_to: bool  # a person can answer a given message (else the chat's latest is meant)
    files: bool  # the bot can send documents (the digest's workbook)
    editing: bool  # a sent message can be changed
    groups: bool  # a unit's group chat can be linked


@dataclass(frozen=True)
class Button:
    label: str
    payload: str


@dataclass(frozen=True)
class Reply:
    """One message to send, in the bot's own format (`messages.rich`), which each channel
    renders. On a channel without buttons they are offered as numbered choices."""

    text: Rich
    buttons: tuple[tuple[Button, ...], ...] = ()
    tasks: tuple[int, ...] = ()  # the tasks it is about; several are numbered 1, 2, … in the text
    expects: str | None = None  # "blocked": the answer to this message is a reason
    ask_reply: bool = False  # invite the user to answer (a reply box, where the channel has one)
    files: tuple[Path, ...] = ()  # sent after the text: images as photos, others as documents
    answers: str | None = None  # the channel's id of the message it answers, when sent later


def reply_payload(reply: Reply) -> str:
    """A reply kept in the outbox to be sent later, as JSON."""
    return json.dumps(asdict(reply) | {"files": [str(path) for path in reply.files]})


def reply_of(payload: str) -> Reply:
    data = json.loads(payload)
    return Reply(
        text=Rich(data["text"]),
        buttons=tuple(tuple(Button(**button) for button in row) for row in data["buttons"]),
        tasks=tuple(data["tasks"]),
        expects=data["expects"],
        ask_reply=data["ask_reply"],
        files=tuple(Path(path) for path in data["files"]),
        answers=data.get("answers"),  # not in answers kept before it was added
    )


@dataclass(frozen=True)
class Download:
    file_id: str
    path: Path


@dataclass
class Outcome:
    replies: list[Reply] = field(default_factory=list)
    notice: Rich | None = None  # a short answer to a pressed button (a toast, where there is one)
    downloads: list[Download] = field(default_factory=list)


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
