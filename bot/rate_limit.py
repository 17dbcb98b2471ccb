"""Telegram's sending limits, kept by the bot so that it is not refused: 30 messages a second
overall, one a second per chat, 20 a minute per group. Answers to people go before reminders
(sent with `rate_limit_args=BULK`), and a 429 (RetryAfter) holds back its own chat only. An
answer is tried again after a short 429 (at most `longest_wait` seconds); after a longer one,
or too many, the error reaches the channel, which keeps the answer in the outbox.

PTB's AIORateLimiter knows no priority and, on a 429, pauses every request of the bot."""

import asyncio
import math
import time
import warnings
from collections import deque
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter
from telegram.warnings import PTBDeprecationWarning

BULK = "bulk"
JSONDict = dict[str, Any]


class Window:
    """At most `limit` events in any `period` seconds (Telegram counts in sliding windows). A
    send is counted from when it was let through, then from when Telegram answered it: Telegram
    received it in between, so the bot's window never ends before Telegram's does."""

    def __init__(self, limit: int, period: float) -> None:
        self.limit, self.period = limit, period
        self.times: deque[float] = deque()

    def wait(self, now: float) -> float:
        while self.times and self.times[0] <= now - self.period:
            self.times.popleft()
        return 0.0 if len(self.times) < self.limit else self.times[0] + self.period - now

    def add(self, now: float) -> None:
        self.times.append(now)

    def answered(self, sent: float, now: float) -> None:
        """The send let through at `sent` was answered at `now` (it is among the latest)."""
        for index in range(len(self.times) - 1, -1, -1):
            if self.times[index] == sent:
                self.times[index] = now
                return


class PriorityRateLimiter(BaseRateLimiter[str]):
    def __init__(
        self,
        *,
        per_second: int = 30,
        per_chat_per_second: int = 1,
        per_group_per_minute: int = 20,
        max_retries: int = 3,
        longest_wait: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.overall = Window(per_second, 1.0)
        self.per_chat, self.per_group = per_chat_per_second, per_group_per_minute
        self.max_retries, self.longest_wait = max_retries, longest_wait
        self.clock = clock
        self.chats: dict[int | str, Window] = {}
        self.held_until: dict[int | str, float] = {}
        self.answers_waiting = 0

    async def initialize(self) -> None:
        """Nothing to set up: the windows start empty."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: str | None,
    ) -> bool | JSONDict | list[JSONDict]:
        chat = data.get("chat_id")
        if chat is None:  # not a message to a chat (getUpdates, answerCallbackQuery, …)
            return await callback(*args, **kwargs)
        bulk = rate_limit_args == BULK
        retries = 0 if bulk else self.max_retries  # the outbox retries reminders later
        for attempt in range(retries + 1):
            sent = await self._turn(chat, bulk)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                self.held_until[chat] = self.clock() + retry_seconds(exc)
                if attempt == retries or retry_seconds(exc) > self.longest_wait:
                    raise
            finally:
                now = self.clock()
                self.overall.answered(sent, now)
                self.chats[chat].answered(sent, now)
        raise AssertionError("unreachable")

    async def _turn(self, chat: int | str, bulk: bool) -> float:
        """Wait until a message to `chat` fits every window and count it there, from the time
        returned; answers to people first. A chat held back by a 429: a reminder does not wait
        (the sweep goes on with other chats, the outbox tries the row again later), an answer
        waits if the hold is short."""
        held = self.held_until.get(chat, 0.0) - self.clock()
        if held > 0 and (bulk or held > self.longest_wait):
            raise RetryAfter(math.ceil(held))
        if held > 0:
            await asyncio.sleep(held)
        window = self.chats.get(chat)
        if window is None:
            group = str(chat).startswith("-")
            window = Window(self.per_group, 60.0) if group else Window(self.per_chat, 1.0)
            self.chats[chat] = window
        if not bulk:
            self.answers_waiting += 1
        try:
            while True:
                now = self.clock()
                wait = max(
                    self.overall.wait(now),
                    window.wait(now),
                    0.01 if bulk and self.answers_waiting else 0.0,
                )
                if wait <= 0:
                    self.overall.add(now)
                    window.add(now)
                    return now
                await asyncio.sleep(wait)
        finally:
            if not bulk:
                self.answers_waiting -= 1


def retry_seconds(error: RetryAfter) -> float:
    """The wait a 429 asks for. PTB 22 warns at each read that PTB 23 gives a timedelta: this
    reads either, so the warning says nothing here."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
