"""The console channel: chat with the core in a terminal. Plain text, buttons as numbered
choices, and no reply-to: the last task shown is the one a free-text answer is about."""

import uuid
from collections.abc import Callable

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from handlers.chat import Button, Capabilities, Incoming, Outcome, Reply
from handlers.core import ChatCore
from handlers.joining import looks_like_code
from messages import t
from messages.rich import plain
from models import Channel, Member
from models.base import utcnow
from models.db import session_scope
from services.invitations import normalize_code
from services.joining import is_issued, link_console
from services.people import named

QUIT = {"/thoat", "/quit", "/exit"}
CAPABILITIES = Capabilities(
    text_limit=1_000_000, markup=False, buttons=False, reply_to=False, files=True,
    editing=False, groups=False,
)  # fmt: skip


class ConsoleChannel:
    def __init__(self, core: ChatCore, user_id: str, write: Callable[[str], None] = print) -> None:
        self.core = core
        self.user_id = user_id
        self.write = write
        self.choices: list[Button] = []
        self.session_id = uuid.uuid4().hex  # message ids stay unique across sessions
        self.sent = 0

    def on_line(self, line: str) -> None:
        self.handle(self.incoming(text=line))

    def incoming(self, text: str = "") -> Incoming:
        return Incoming(
            channel=Channel.CONSOLE, user_id=self.user_id, chat_id=self.user_id, text=text
        )

    def handle(self, incoming: Incoming) -> Outcome:
        outcome = self.core.handle(incoming)
        sent = [(self.show(reply), reply) for reply in outcome.replies]
        self.core.remember_all(Channel.CONSOLE, self.user_id, sent)
        return outcome

    def show(self, reply: Reply) -> str:
        """Print a message from the bot; its buttons are its numbered choices (the core lists
        them in the text)."""
        self.sent += 1
        self.write(plain(reply.text))
        if reply.buttons:
            self.choices = [button for row in reply.buttons for button in row]
        for path in reply.files:
            self.write(t("console.file", path=path))
        return f"{self.session_id}-{self.sent}"

    def press(self, label: str) -> None:
        """Press the button with this label among the latest choices."""
        labels = [button.label for button in self.choices]
        self.on_line(str(labels.index(label) + 1))

    def run(self, read: Callable[[str], str] = input) -> None:
        self.write(t("console.intro"))
        while True:
            try:
                line = read("> ")
            except (EOFError, KeyboardInterrupt):
                return
            if line.strip().lower() in QUIT:
                return
            if line.strip():
                self.on_line(line)


class UnknownPerson(Exception):
    pass


def console_user(engine: Engine, who: str) -> tuple[str, str | None]:
    """The console user id for `--as`, and the first line to send (a joining code, if given).
    A member's name comes first, so a short name typed without diacritics is not a code."""
    with session_scope(engine) as session:
        members = session.exec(select(Member).where(Member.active).order_by(col(Member.id))).all()
        matches = named(members, who)
        if len(matches) > 1:
            raise UnknownPerson(t("console.ambiguous_person", who=who))
        if matches:
            return link_console(session, matches[0], utcnow()), None
        if looks_like_code(who) and is_issued(session, who):
            return f"code-{normalize_code(who)}", f"/start {who.strip()}"
        names = ", ".join(m.name for m in members[:3]) or "—"
        raise UnknownPerson(t("console.unknown_person", who=who, names=names))


class ConsoleSender:
    """The console channel's sender: messages the bot starts are shown in that person's console."""

    def __init__(self, channels: dict[str, ConsoleChannel]) -> None:
        self.channels = channels

    async def send(self, chat_id: str, reply: Reply) -> str:
        return self.channels[chat_id].show(reply)
