"""Zalo's webhook: only Zalo (with the secret) is heard, at once, and a message delivered twice
is answered once."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from bot.zalo import MAX_BODY_BYTES, ZaloChannel, ZaloWebhook
from bot.zalo_api import ZaloBotApi
from models import Channel
from services import received
from tests.chat_school import OFFICE_HEAD, ChatSchool
from tests.fake_zalo import FakeZalo
from tests.processes import wait_until
from tests.sweep_rig import Rig

SECRET = "truong-tt2-bi-mat"


@dataclass
class Hooked:
    zalo: FakeZalo
    channel: ZaloChannel
    server: ZaloWebhook
    school: ChatSchool

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}/zalo/hook"


@pytest.fixture
async def hooked(school: ChatSchool) -> AsyncIterator[Hooked]:
    async with FakeZalo() as zalo, ZaloBotApi(zalo.token, zalo.base_url) as api:
        channel = ZaloChannel(school.core, api)
        server = ZaloWebhook("https://truong.example/zalo/hook", SECRET, "127.0.0.1", 0,
                             channel.take)  # fmt: skip
        hooked = Hooked(zalo, channel, server, school)
        await api.set_webhook(hooked.url, SECRET)
        try:
            yield hooked
        finally:
            await server.stop()
            await channel.drain()
        assert zalo.violations == []


async def test_an_update_with_the_secret_is_answered(hooked: Hooked) -> None:
    update = hooked.zalo.text_update("zl1", hooked.school.codes[OFFICE_HEAD])
    assert await hooked.zalo.deliver_webhook(update) == 200
    await wait_until(lambda: len(hooked.zalo.texts_to("zl1")) >= 2, 10)
    assert hooked.zalo.texts_to("zl1")[0].startswith("Chào thầy/cô Trần Thị Mai")


async def test_the_webhook_answers_before_the_message_is_handled(hooked: Hooked) -> None:
    update = hooked.zalo.text_update("zl1", hooked.school.codes[OFFICE_HEAD])
    with hooked.zalo.stall(1.0):  # Zalo's API is slow to take the bot's answer
        assert await hooked.zalo.deliver_webhook(update) == 200
        assert hooked.zalo.texts_to("zl1") == []  # acknowledged first, answered after
        await wait_until(lambda: len(hooked.zalo.texts_to("zl1")) >= 1, 10)


@pytest.mark.parametrize("secret", ["sai-bi-mat-roi", SECRET + "x", None])
async def test_a_wrong_or_missing_secret_is_refused(hooked: Hooked, secret: str | None) -> None:
    update = hooked.zalo.text_update("zl1", hooked.school.codes[OFFICE_HEAD])
    status = await hooked.zalo.deliver_webhook(update, secret, omit_secret=secret is None)
    assert status == 403
    await asyncio.sleep(0.2)
    await hooked.channel.drain()
    assert hooked.zalo.texts_to("zl1") == []


async def test_a_message_delivered_twice_is_answered_once(hooked: Hooked) -> None:
    update = hooked.zalo.text_update("zl1", "/huongdan")
    for _ in range(3):
        assert await hooked.zalo.deliver_webhook(update) == 200
    await wait_until(lambda: len(hooked.zalo.texts_to("zl1")) >= 1, 10)
    await hooked.channel.drain()
    assert len(hooked.zalo.texts_to("zl1")) == 1


async def test_a_body_that_is_not_an_update_or_too_big_is_refused(hooked: Hooked) -> None:
    headers = {"X-Bot-Api-Secret-Token": SECRET}
    async with httpx.AsyncClient() as client:
        bad = await client.post(hooked.url, content=b"{not json", headers=headers)
        empty = await client.post(hooked.url, json={"ok": True, "result": {}}, headers=headers)
        big = await client.post(hooked.url, content=b"x" * (MAX_BODY_BYTES + 1), headers=headers)
    assert (bad.status_code, empty.status_code) == (400, 400)
    assert big.status_code == 413
    assert hooked.zalo.sent == []


async def test_a_chats_messages_are_handled_in_the_order_they_came(hooked: Hooked) -> None:
    """Acknowledged at once, handled after: three messages sent in a burst still act in order
    (the card, then its second choice, then the 75% of that)."""
    zalo = hooked.zalo
    assert (
        await zalo.deliver_webhook(zalo.text_update("zl1", hooked.school.codes[OFFICE_HEAD])) == 200
    )
    await wait_until(lambda: len(zalo.texts_to("zl1")) >= 2, 10)
    for text in ("/viec III.4.2", "2", "số 3"):
        assert await zalo.deliver_webhook(zalo.text_update("zl1", text)) == 200
    await wait_until(lambda: hooked.school.task("III.4.2").progress == 75, 10)
    await hooked.channel.drain()
    assert hooked.channel.locks == {}  # nothing kept for a chat that is done


def test_the_ids_of_messages_older_than_a_day_are_forgotten_at_a_heartbeat(rig: Rig) -> None:
    """The ids kept to drop a second delivery do not pile up: each heartbeat forgets those a
    day old (a channel delivers twice within minutes, not days)."""
    assert received.first_time(rig.engine, Channel.ZALO, "m1", rig.clock())
    assert not received.first_time(rig.engine, Channel.ZALO, "m1", rig.clock())
    rig.clock.advance(hours=23)
    rig.follow_up.register("all")
    rig.follow_up.heartbeat()
    assert not received.first_time(rig.engine, Channel.ZALO, "m1", rig.clock())
    rig.clock.advance(hours=2)
    rig.follow_up.heartbeat()
    assert received.first_time(rig.engine, Channel.ZALO, "m1", rig.clock())
