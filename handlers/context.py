"""What a handler works with: the incoming message, who sent it, the database, the clock."""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel import Session

from handlers.chat import Button, Capabilities, Incoming, Outcome, Reply
from messages import Rich, addressing, escape, h
from models import Channel, ChatIdentity, Member, School
from services.permissions import Actor


@dataclass(frozen=True)
class ChatConfig:
    evidence_dir: Path
    reports_dir: Path = Path("./data/reports")
    default_timezone: str = "Asia/Ho_Chi_Minh"
    # what each channel of the process can do, as its adapter declares it
    channels: Mapping[Channel, Capabilities] = field(default_factory=dict)

    def capabilities(self, channel: Channel | None) -> Capabilities:
        """What `channel` can do; everything for no channel (printed by the CLI)."""
        return self.channels.get(channel, ANYWHERE) if channel else ANYWHERE


# What a message is written for when it goes to no channel (printed by the CLI): everything.
ANYWHERE = Capabilities(
    text_limit=1_000_000, markup=True, buttons=True, reply_to=True, files=True, editing=True,
    groups=True,
)  # fmt: skip


@dataclass
class Context:
    """`incoming` is None when the bot speaks first (reminders, the digest). The subclasses below
    say what is known for sure: `Known` for a linked person's message."""

    session: Session
    now: datetime
    config: ChatConfig
    incoming: Incoming | None = None
    identity: ChatIdentity | None = None
    member: Member | None = None
    actor: Actor | None = None
    school: School | None = None
    channel: Channel | None = None  # where the bot speaks first (the incoming message says else)
    outcome: Outcome = field(default_factory=Outcome)
    _you: tuple[Member | None, str, dict[str, Rich]] | None = field(
        default=None, init=False, repr=False
    )

    @property
    def locale(self) -> str:
        return self.member.locale if self.member else "vi"

    @property
    def capabilities(self) -> Capabilities:
        """What the channel this is written for can do."""
        channel = self.incoming.channel if self.incoming is not None else self.channel
        return self.config.capabilities(channel)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.school.timezone if self.school else self.config.default_timezone)

    @property
    def today(self) -> date:
        return self.now.astimezone(self.tz).date()

    def text(self, key: str, /, **params: object) -> Rich:
        """A catalogue text for the person spoken to; `{you}`/`{You}` address them ("thầy",
        "cô", or "thầy/cô" when the people file does not say), `{you_name}` by name."""
        return h(key, self.locale, **self._addressing(), **params)

    def _addressing(self) -> dict[str, Rich]:
        """`addressing`, escaped, worked out once per person spoken to and language."""
        member, locale = self.member, self.locale
        if self._you is None or self._you[0] is not member or self._you[1] != locale:
            words = addressing(member, locale)
            self._you = (member, locale, {name: escape(word) for name, word in words.items()})
        return self._you[2]

    def say(self, key: str, /, **params: object) -> None:
        self.outcome.replies.append(Reply(self.text(key, **params)))

    def say_rich(self, text: Rich) -> None:
        self.outcome.replies.append(Reply(text))

    def send(self, reply: Reply) -> None:
        self.outcome.replies.append(reply)

    def button(self, key: str, payload: str) -> Button:
        return Button(str(self.text(key)), payload)


@dataclass(kw_only=True)
class InSchool(Context):
    """The bot speaks in a school: a reminder (to a person or a unit's group chat), the digest."""

    school: School = field()

    def archive(self, *parts: str) -> Path:
        """<reports dir>/<school code, path-safe>/<parts>, created: where the school's reports,
        workbooks and evidence zips are kept."""
        folder = self.config.reports_dir.joinpath(
            re.sub(r"[^0-9A-Za-z_-]", "_", self.school.code), *parts
        )
        folder.mkdir(parents=True, exist_ok=True)
        return folder


@dataclass(kw_only=True)
class Personal(InSchool):
    """The bot speaks to a known person, in one of their schools: a brief, a check-in."""

    member: Member = field()
    actor: Actor = field()


@dataclass(kw_only=True)
class Chat(Context):
    """A message came in; from a stranger while `member` is None."""

    incoming: Incoming = field()


@dataclass(kw_only=True)
class Known(Personal, Chat):
    """A linked person's message, in the school it acts in (`handlers.schools.act_as`): what
    every handler works with once the sender is authorised."""

    incoming: Incoming = field()  # Chat's, which Personal's base fields would hide
    identity: ChatIdentity = field()
