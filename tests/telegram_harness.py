"""The real python-telegram-bot application of dondoc, talking HTTP to the fake Bot API server."""

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from telegram import Update
from telegram.ext import Application

from bot.rate_limit import PriorityRateLimiter
from bot.telegram import build_application
from tests.chat_school import ChatSchool, Clock
from tests.fake_telegram import FakeTelegram, SentMessage

GROUP = -100_777


@dataclass
class TelegramBot:
    app: Application
    tg: FakeTelegram
    school: ChatSchool

    async def feed(self, update: dict) -> list[SentMessage]:
        """Process one update as PTB does and return what the bot sent in answer."""
        before = len(self.tg.sent)
        await self.app.process_update(Update.de_json(update, self.app.bot))
        return self.tg.sent[before:]

    async def say(
        self, user_id: int, text: str | None = None, **message: object
    ) -> list[SentMessage]:
        return await self.feed(self.tg.message_update(self.tg.user(user_id), text, **message))

    async def reply(self, user_id: int, to: SentMessage, text: str) -> list[SentMessage]:
        return await self.say(
            user_id, text, chat_id=to["chat_id"], reply_to_message_id=to["message_id"]
        )

    async def press(
        self, user_id: int, to: SentMessage, data: str, *, check_button: bool = True
    ) -> list[SentMessage]:
        update = self.tg.callback_update(
            self.tg.user(user_id),
            data,
            to["message_id"],
            chat_id=to["chat_id"],
            check_button=check_button,
        )
        return await self.feed(update)

    async def join(self, user_id: int, name: str) -> None:
        sent = await self.say(user_id, f"/start {self.school.codes[name]}")
        assert f"Chào thầy/cô {name}!" in sent[0]["plain_text"], sent

    async def open_task(self, user_id: int, code: str, chat_id: int | None = None) -> SentMessage:
        """/viec CODE, returning the task message (the one with the buttons)."""
        sent = await self.say(
            user_id,
            f"/viec {code}",
            **({"chat_id": chat_id, "chat_type": "supergroup"} if chat_id else {}),
        )
        return next(m for m in sent if m["reply_markup"])

    def answers(self) -> list[str]:
        return [
            params.get("text", "")
            for method, params in self.tg.calls
            if method == "answerCallbackQuery"
        ]


def buttons(message: SentMessage) -> list[tuple[str, str]]:
    keyboard = (message["reply_markup"] or {}).get("inline_keyboard", [])
    return [(button["text"], button["callback_data"]) for row in keyboard for button in row]


def texts(sent: list[SentMessage]) -> str:
    return "\n".join(message["plain_text"] for message in sent)


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake
        assert fake.violations == []


def unlimited(max_retries: int, clock: Clock | None = None) -> PriorityRateLimiter:
    """The bot's own limiter with Telegram's limits lifted: tests send faster than 1/s a chat.
    On the school's `clock`, a 429's retry_after runs out when the test moves the clock on."""
    many = 10**6
    return PriorityRateLimiter(
        per_second=many, per_chat_per_second=many, per_group_per_minute=many,
        max_retries=max_retries, **({"clock": lambda: clock.now.timestamp()} if clock else {}),
    )  # fmt: skip


@pytest.fixture
async def bot(tg: FakeTelegram, school: ChatSchool) -> AsyncIterator[TelegramBot]:
    app = build_application(
        school.core,
        token=tg.token,
        base_url=tg.base_url,
        base_file_url=tg.base_file_url,
        rate_limiter=unlimited(max_retries=0, clock=school.clock),
    )
    await app.initialize()
    yield TelegramBot(app, tg, school)
    await app.shutdown()
