"""The bot's sending limiter: Telegram's limits kept, answers to people before reminders, a 429
holding back only its own chat."""

import asyncio
import time

import pytest
from telegram.error import RetryAfter

from bot.rate_limit import BULK, PriorityRateLimiter, Window, retry_seconds


class Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[float, str]] = []
        self.refusals: dict[str, list[float]] = {}

    async def send(self, label: str) -> bool:
        refusals = self.refusals.get(label)
        if refusals:
            raise RetryAfter(refusals.pop(0))
        self.sent.append((time.monotonic(), label))
        return True


async def request(
    limiter: PriorityRateLimiter, recorder: Recorder, chat: int, label: str, bulk: bool = False
) -> bool | dict | list:
    return await limiter.process_request(
        recorder.send, (label,), {}, "sendMessage", {"chat_id": chat}, BULK if bulk else None
    )


def test_a_sliding_window_counts_the_last_period_only() -> None:
    window = Window(2, 1.0)
    window.add(0.0)
    window.add(0.5)
    assert window.wait(0.9) == pytest.approx(0.1)
    assert window.wait(1.0) == 0.0


async def test_answers_to_people_go_before_reminders_already_waiting() -> None:
    limiter = PriorityRateLimiter(per_second=5, per_chat_per_second=100)
    recorder = Recorder()
    reminders = [
        asyncio.create_task(request(limiter, recorder, 1000 + n, f"reminder {n}", bulk=True))
        for n in range(8)
    ]
    await asyncio.sleep(0.05)  # the first five reminders fill this second's window
    answer = asyncio.create_task(request(limiter, recorder, 7, "answer"))
    await asyncio.gather(answer, *reminders)
    order = [label for _, label in recorder.sent]
    assert order.index("answer") == 5  # the first free slot, ahead of three waiting reminders


async def test_a_429_holds_back_its_own_chat_only() -> None:
    limiter = PriorityRateLimiter(max_retries=3)
    recorder = Recorder()
    recorder.refusals["to Nam"] = [1.0]
    start = time.monotonic()
    nam = asyncio.create_task(request(limiter, recorder, 1, "to Nam"))
    await asyncio.sleep(0.01)
    await request(limiter, recorder, 2, "to Mai")
    mai_done = time.monotonic() - start
    await nam
    sent = dict((label, at - start) for at, label in recorder.sent)
    assert mai_done < 0.5 and sent["to Mai"] < 0.5
    assert sent["to Nam"] >= 1.0  # waited out its own retry_after, then went through


async def test_reminders_are_not_retried_by_the_limiter_the_outbox_does_it() -> None:
    limiter = PriorityRateLimiter(max_retries=3)
    recorder = Recorder()
    recorder.refusals["reminder"] = [5.0]
    with pytest.raises(RetryAfter):
        await request(limiter, recorder, 1, "reminder", bulk=True)
    assert recorder.sent == []


async def test_one_message_a_second_per_chat_and_twenty_a_minute_per_group() -> None:
    limiter = PriorityRateLimiter(per_group_per_minute=2)
    recorder = Recorder()
    start = time.monotonic()
    await asyncio.gather(*(request(limiter, recorder, 5, f"private {n}") for n in range(2)))
    await asyncio.gather(*(request(limiter, recorder, -100, f"group {n}") for n in range(2)))
    private = [at - start for at, label in recorder.sent if label.startswith("private")]
    assert private[1] - private[0] >= 0.99
    third = asyncio.create_task(request(limiter, recorder, -100, "group 2"))
    await asyncio.sleep(0.2)
    assert not third.done()  # the group's minute is full
    third.cancel()


async def test_a_reminder_to_a_chat_held_back_by_a_429_does_not_hold_up_the_sweep() -> None:
    limiter = PriorityRateLimiter()
    recorder = Recorder()
    recorder.refusals["answer"] = [30.0]
    with pytest.raises(RetryAfter):
        await request(limiter, recorder, 1, "answer")
    start = time.monotonic()
    with pytest.raises(RetryAfter) as held:
        await request(limiter, recorder, 1, "reminder", bulk=True)
    await request(limiter, recorder, 2, "reminder to another chat", bulk=True)
    assert time.monotonic() - start < 0.5
    assert 29 <= retry_seconds(held.value) <= 30
