"""The Zalo Bot API client against the fake Zalo server (and a few hand-made answers)."""

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.zalo_api import (
    MAX_TEXT_LENGTH,
    TokenFilter,
    ZaloBadRequest,
    ZaloBotApi,
    ZaloError,
    ZaloForbidden,
    ZaloMessage,
    ZaloNetworkError,
    ZaloRetryAfter,
    ZaloUnauthorized,
    parse_update,
)
from tests.fake_zalo import FakeZalo

USER = "7b1c2d3e4f5a6b7c"


@pytest.fixture
async def zalo() -> AsyncIterator[FakeZalo]:
    async with FakeZalo() as fake:
        yield fake
        assert fake.violations == []


@pytest.fixture
async def api(zalo: FakeZalo) -> AsyncIterator[ZaloBotApi]:
    async with ZaloBotApi(zalo.token, zalo.base_url, timeout=5.0) as client:
        yield client


@asynccontextmanager
async def serve(
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
) -> AsyncIterator[str]:
    """A one-route server on 127.0.0.1 answering every path with the handler; its base URL."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


def answering(body: bytes | str, status: int = 200, content_type: str = "application/json"):
    async def handler(request: web.Request) -> web.Response:
        text = body if isinstance(body, str) else body.decode()
        return web.Response(status=status, text=text, content_type=content_type)

    return handler


# --------------------------------------------------------------------------------------------
# Sending and receiving
# --------------------------------------------------------------------------------------------


async def test_get_me(api: ZaloBotApi, zalo: FakeZalo) -> None:
    me = await api.get_me()
    assert me["id"] == zalo.bot_id
    assert me["display_name"] == "Dondoc Test Bot"


async def test_send_message_is_recorded_and_returns_its_id(api: ZaloBotApi, zalo: FakeZalo) -> None:
    message_id = await api.send_message(USER, "Xin chào")
    assert message_id
    assert zalo.sent_to(USER) == [
        {
            "method": "sendMessage",
            "chat_id": USER,
            "message_id": message_id,
            "text": "Xin chào",
            "photo": None,
            "sticker": None,
            "date": zalo.sent[0]["date"],
        }
    ]
    assert zalo.calls_of("sendMessage") == [{"chat_id": USER, "text": "Xin chào"}]


async def test_text_of_exactly_2000_characters_is_sent(api: ZaloBotApi, zalo: FakeZalo) -> None:
    await api.send_message(USER, "ă" * MAX_TEXT_LENGTH)
    assert len(zalo.sent_to(USER)[0]["text"]) == 2000


@pytest.mark.parametrize("text", ["", "x" * (MAX_TEXT_LENGTH + 1)])
async def test_text_outside_1_to_2000_characters_is_refused_before_sending(
    api: ZaloBotApi, zalo: FakeZalo, text: str
) -> None:
    with pytest.raises(ValueError, match="1 to 2000"):
        await api.send_message(USER, text)
    assert zalo.calls_of("sendMessage") == []


async def test_send_photo_sticker_and_chat_action(api: ZaloBotApi, zalo: FakeZalo) -> None:
    photo = zalo.photo_url("chart.jpg", b"\xff\xd8 jpeg")
    first = await api.send_photo(USER, photo, caption="Biểu đồ tuần")
    second = await api.send_photo(USER, photo)
    await api.send_sticker(USER, "sticker-9")
    await api.send_chat_action(USER)
    assert first != second
    sent = zalo.sent_to(USER)
    assert [(s["method"], s["text"], s["photo"]) for s in sent[:2]] == [
        ("sendPhoto", "Biểu đồ tuần", photo),
        ("sendPhoto", "", photo),
    ]
    assert zalo.calls_of("sendPhoto")[1] == {"chat_id": USER, "photo": photo}
    assert sent[2]["sticker"] == "sticker-9"
    assert zalo.calls_of("sendChatAction") == [{"chat_id": USER, "action": "typing"}]


async def test_a_queued_text_update_comes_back_as_a_message(
    api: ZaloBotApi, zalo: FakeZalo
) -> None:
    update = zalo.queue(zalo.text_update(USER, "/viec", display_name="Thầy Nam"))
    [message] = await api.get_updates(timeout=1)
    date_ms = update["message"]["date"]
    assert message == ZaloMessage(
        event_name="message.text.received",
        message_id=update["message"]["message_id"],
        date=datetime.fromtimestamp(date_ms / 1000, UTC),
        user_id=USER,
        display_name="Thầy Nam",
        is_bot=False,
        chat_id=USER,
        is_group=False,
        text="/viec",
    )
    assert message.date.tzinfo is UTC
    assert zalo.calls_of("getUpdates") == [{"timeout": "1"}]


async def test_updates_come_one_per_call_in_order(api: ZaloBotApi, zalo: FakeZalo) -> None:
    for text in ("một", "hai", "ba"):
        zalo.queue(zalo.text_update(USER, text))
    texts = [message.text for _ in range(3) for message in await api.get_updates(timeout=1)]
    assert texts == ["một", "hai", "ba"]
    assert await api.get_updates(timeout=0) == []


@pytest.mark.parametrize("photo_field", ["photo_url", "photo"])
async def test_an_image_update_gives_the_photo_url_and_the_caption_as_text(
    api: ZaloBotApi, zalo: FakeZalo, photo_field: str
) -> None:
    url = zalo.photo_url("evidence.jpg", b"jpeg")
    zalo.queue(zalo.image_update(USER, url, "III.4.2 xong", photo_field=photo_field))
    zalo.queue(zalo.sticker_update(USER, "sticker-3"))
    zalo.queue(zalo.unsupported_update(USER, "message.voice.received"))
    [image] = await api.get_updates(timeout=1)
    [sticker] = await api.get_updates(timeout=1)
    [voice] = await api.get_updates(timeout=1)
    assert (image.event_name, image.photo_url, image.text) == (
        "message.image.received",
        url,
        "III.4.2 xong",
    )
    assert (sticker.event_name, sticker.sticker, sticker.text) == (
        "message.sticker.received",
        "sticker-3",
        "",
    )
    assert (voice.event_name, voice.text, voice.photo_url) == ("message.voice.received", "", None)


async def test_a_group_message(api: ZaloBotApi, zalo: FakeZalo) -> None:
    zalo.queue(zalo.text_update(USER, "chào cả tổ", chat_id="g-42", group=True))
    [message] = await api.get_updates(timeout=1)
    assert (message.chat_id, message.user_id, message.is_group) == ("g-42", USER, True)


@pytest.mark.parametrize("as_http_status", [True, False])
async def test_nothing_new_408_is_an_empty_list(as_http_status: bool) -> None:
    async with (
        FakeZalo(max_long_poll=0.2, errors_as_http_status=as_http_status) as zalo,
        ZaloBotApi(zalo.token, zalo.base_url) as api,
    ):
        assert await api.get_updates(timeout=30) == []
        assert zalo.violations == []


async def test_a_long_poll_outlasts_the_client_timeout() -> None:
    """The read timeout of getUpdates is the poll's timeout plus the client's."""
    async with (
        FakeZalo(max_long_poll=1.0) as zalo,
        ZaloBotApi(zalo.token, zalo.base_url, timeout=0.3) as api,
    ):
        assert await api.get_updates(timeout=1) == []


async def test_an_update_arriving_during_the_long_poll_ends_it(
    api: ZaloBotApi, zalo: FakeZalo
) -> None:
    poll = asyncio.create_task(api.get_updates(timeout=30))
    await asyncio.sleep(0.1)
    assert not poll.done()
    zalo.queue(zalo.text_update(USER, "xong 80%"))
    [message] = await asyncio.wait_for(poll, 2)
    assert message.text == "xong 80%"


async def test_a_list_result_is_read_whole_and_malformed_updates_are_skipped() -> None:
    good = {
        "event_name": "message.text.received",
        "message": {
            "message_id": "m1",
            "date": 1750316131602,
            "from": {"id": "u1", "display_name": "An", "is_bot": False},
            "chat": {"id": "u1", "chat_type": "PRIVATE"},
            "text": "một",
        },
    }
    body = json.dumps({"ok": True, "result": [good, {"event_name": "x"}, good]})
    async with serve(answering(body)) as base, ZaloBotApi("1:secret", base) as api:
        messages = await api.get_updates(timeout=0)
    assert [message.text for message in messages] == ["một", "một"]


async def test_get_updates_while_a_webhook_is_set_is_refused(
    api: ZaloBotApi, zalo: FakeZalo
) -> None:
    await api.set_webhook("https://school.example/zalo", "s3cret-s3cret")
    with pytest.raises(ZaloBadRequest, match="webhook"):
        await api.get_updates(timeout=0)


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("as_http_status", [True, False])
@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (400, ZaloBadRequest),
        (404, ZaloBadRequest),
        (403, ZaloForbidden),
        (429, ZaloRetryAfter),
        (500, ZaloNetworkError),
        (502, ZaloNetworkError),
        (409, ZaloError),
    ],
)
async def test_error_answers_become_their_exceptions(
    code: int, kind: type[ZaloError], as_http_status: bool
) -> None:
    async with (
        FakeZalo(errors_as_http_status=as_http_status) as zalo,
        ZaloBotApi(zalo.token, zalo.base_url) as api,
    ):
        zalo.fail_next("sendMessage", code, "what Zalo said")
        with pytest.raises(ZaloError) as caught:
            await api.send_message(USER, "chào")
        assert type(caught.value) is kind
        assert (caught.value.code, caught.value.description) == (code, "what Zalo said")
        assert "sendMessage" in str(caught.value)
        assert zalo.token not in str(caught.value)
        await api.send_message(USER, "chào")  # only the next call failed
        assert len(zalo.sent) == 1


async def test_a_blocked_chat_only(api: ZaloBotApi, zalo: FakeZalo) -> None:
    zalo.fail_next("sendMessage", 403, "user blocked the bot", chat_id="blocker", times=2)
    await api.send_message(USER, "chào")
    for _ in range(2):
        with pytest.raises(ZaloForbidden):
            await api.send_message("blocker", "chào")
    await api.send_message("blocker", "chào")


@pytest.mark.parametrize(("given", "expected"), [(12, 12.0), (0.5, 0.5), (None, 5.0)])
async def test_429_retry_after_from_parameters_else_5_seconds(
    api: ZaloBotApi, zalo: FakeZalo, given: float | None, expected: float
) -> None:
    zalo.fail_next("sendMessage", 429, retry_after=given)
    with pytest.raises(ZaloRetryAfter) as caught:
        await api.send_message(USER, "chào")
    assert caught.value.retry_after == expected


async def test_a_wrong_token_is_unauthorized(zalo: FakeZalo) -> None:
    token = "999:not-the-bot-token"
    async with ZaloBotApi(token, zalo.base_url) as api:
        with pytest.raises(ZaloUnauthorized) as caught:
            await api.get_me()
    assert caught.value.code == 401
    assert token not in str(caught.value)
    assert zalo.unauthorized == 1


@pytest.mark.parametrize(("status", "html"), [(502, False), (503, True), (500, False)])
async def test_an_outage_is_a_network_error(
    api: ZaloBotApi, zalo: FakeZalo, status: int, html: bool
) -> None:
    with zalo.outage(status, html=html) as outage:
        with pytest.raises(ZaloNetworkError) as caught:
            await api.send_message(USER, "chào")
        with pytest.raises(ZaloNetworkError):
            await api.get_updates(timeout=0)
    assert outage.hits == 2
    assert caught.value.code == status
    await api.send_message(USER, "chào")  # over
    assert zalo.calls_of("sendMessage") == [{"chat_id": USER, "text": "chào"}]


@pytest.mark.parametrize(
    ("body", "status", "content_type", "kind", "match"),
    [
        ("<html>portal</html>", 200, "text/html", ZaloNetworkError, "not the API's JSON"),
        ("<html>gateway</html>", 504, "text/html", ZaloNetworkError, "not the API's JSON"),
        ("Not Found", 404, "text/plain", ZaloBadRequest, "Not Found"),
        ("Too Many", 429, "text/plain", ZaloRetryAfter, "Too Many Requests"),
        ('{"ok": true, "result": [1]}', 200, "application/json", ZaloNetworkError, "unexpected"),
        ('{"result": {}}', 200, "application/json", ZaloNetworkError, "not the API's JSON"),
        ('{"ok": false}', 200, "application/json", ZaloError, "OK"),
    ],
)
async def test_answers_that_are_not_the_apis_json(
    body: str, status: int, content_type: str, kind: type[ZaloError], match: str
) -> None:
    async with (
        serve(answering(body, status, content_type)) as base,
        ZaloBotApi("1:secret", base) as api,
    ):
        with pytest.raises(ZaloError, match=match) as caught:
            await api.get_me()
    assert type(caught.value) is kind


async def test_a_closed_server_is_a_network_error() -> None:
    zalo = FakeZalo()
    await zalo.start()
    base_url = zalo.base_url
    await zalo.stop()
    async with ZaloBotApi(zalo.token, base_url) as api:
        with pytest.raises(ZaloNetworkError) as caught:
            await api.send_message(USER, "chào")
    assert zalo.token not in str(caught.value)
    assert caught.value.code is None


async def test_a_slow_answer_is_a_network_error(zalo: FakeZalo) -> None:
    async with ZaloBotApi(zalo.token, zalo.base_url, timeout=0.2) as api:
        with zalo.stall(1.0), pytest.raises(ZaloNetworkError, match="Timeout"):
            await api.send_message(USER, "chào")


async def test_the_fake_records_calls_the_real_api_would_refuse(
    api: ZaloBotApi, zalo: FakeZalo
) -> None:
    """The fake's own checks: what the client's checks keep from happening."""
    with pytest.raises(ZaloBadRequest):
        await api._call("sendMessage", {"chat_id": 12345, "text": "x"})
    with pytest.raises(ZaloBadRequest):
        await api._call("sendMessage", {"chat_id": USER, "text": "x" * 2001, "parse_mode": "x"})
    with pytest.raises(ZaloBadRequest):
        await api._call("setWebhook", {"url": "http://school.example/zalo", "secret_token": "x"})
    with pytest.raises(ZaloBadRequest):
        await api._call("sendMesage", {"chat_id": USER, "text": "x"})
    assert zalo.violations == [
        'sendMessage: Bad Request: parameter "chat_id" must be a string chat id, got 12345',
        'sendMessage: Bad Request: unknown parameter "parse_mode"; '
        'parameter "text" is longer than 2000 characters (2001)',
        'setWebhook: Bad Request: parameter "url" must be an HTTPS URL: '
        "'http://school.example/zalo'; parameter \"secret_token\" must be a string of 8 to 256 "
        "characters",
        "sendMesage: Not Found: unknown method",
    ]
    zalo.violations.clear()


# --------------------------------------------------------------------------------------------
# The token stays secret
# --------------------------------------------------------------------------------------------


async def test_the_token_is_in_no_log_record_and_no_exception(
    caplog: pytest.LogCaptureFixture, zalo: FakeZalo
) -> None:
    for name in ("httpx", "httpcore", "bot.zalo_api"):
        caplog.set_level(logging.DEBUG, logger=name)
    errors: list[ZaloError] = []
    async with ZaloBotApi(zalo.token, zalo.base_url, timeout=0.3) as api:
        await api.get_me()
        await api.send_message(USER, "chào")
        assert await api.get_updates(timeout=0) == []
        zalo.fail_next("sendMessage", 400, f"bad token {zalo.token} in the description")
        zalo.fail_next("getMe", 429)
        for call in (lambda: api.send_message(USER, "x"), api.get_me):
            with pytest.raises(ZaloError) as caught:
                await call()
            errors.append(caught.value)
        with zalo.stall(1.0), pytest.raises(ZaloNetworkError) as timed_out:
            await api.get_me()
        errors.append(timed_out.value)
        base_url = zalo.base_url
        await zalo.stop()
    async with ZaloBotApi(zalo.token, base_url) as api:
        with pytest.raises(ZaloNetworkError) as refused:
            await api.get_me()
        errors.append(refused.value)
        try:
            raise RuntimeError("boom") from refused.value
        except RuntimeError:
            logging.getLogger("httpx").exception("failed at %s/bot%s/getMe", base_url, zalo.token)

    secrets = (zalo.token, quote(zalo.token, safe=""), zalo.token.split(":", 1)[1])
    assert any("<token>" in record.getMessage() for record in caplog.records)
    assert any(record.name == "httpx" for record in caplog.records)
    assert any(record.name.startswith("httpcore") for record in caplog.records)
    for record in caplog.records:
        for secret in secrets:
            assert secret not in record.getMessage(), record
            assert secret not in (record.exc_text or "")
    for secret in secrets:
        assert secret not in caplog.text
        for error in errors:
            assert secret not in str(error)
            assert secret not in repr(error)
            assert secret not in error.description
    assert "<token>" in errors[0].description


async def test_the_token_filter_is_installed_once(zalo: FakeZalo) -> None:
    for _ in range(2):
        await ZaloBotApi(zalo.token, zalo.base_url).aclose()
    for name in ("httpx", "httpcore", "httpcore.http11", "httpcore.connection"):
        filters = logging.getLogger(name).filters
        assert sum(isinstance(f, TokenFilter) for f in filters) == 1


def test_a_malformed_token_is_refused_without_showing_it() -> None:
    for token in ("", " 1:abc", "1:a/b"):
        with pytest.raises(ValueError) as caught:
            ZaloBotApi(token)
        assert token.strip() == "" or token not in str(caught.value)
    assert "1:a/b" not in repr(ZaloBotApi("1:ab"))


# --------------------------------------------------------------------------------------------
# Webhook
# --------------------------------------------------------------------------------------------


async def test_webhook_set_info_delete(api: ZaloBotApi, zalo: FakeZalo) -> None:
    assert (await api.get_webhook_info())["url"] == ""
    result = await api.set_webhook("https://school.example/zalo", "s3cret-s3cret")
    assert result["url"] == "https://school.example/zalo"
    assert (await api.get_webhook_info())["url"] == "https://school.example/zalo"
    assert zalo.webhook is not None
    assert zalo.webhook["secret_token"] == "s3cret-s3cret"
    await api.delete_webhook()
    assert (await api.get_webhook_info())["url"] == ""
    assert await api.get_updates(timeout=0) == []  # polling works again


@pytest.mark.parametrize(("url", "secret"), [("", "s3cret-s3cret"), ("https://x", "short")])
async def test_webhook_parameters_are_checked_before_sending(
    api: ZaloBotApi, zalo: FakeZalo, url: str, secret: str
) -> None:
    with pytest.raises(ValueError):
        await api.set_webhook(url, secret)
    assert zalo.calls_of("setWebhook") == []


async def test_webhook_delivery_carries_the_secret_and_the_wrapped_update(
    api: ZaloBotApi, zalo: FakeZalo
) -> None:
    received: list[tuple[str | None, Any]] = []

    async def receiver(request: web.Request) -> web.Response:
        secret = request.headers.get("X-Bot-Api-Secret-Token")
        received.append((secret, await request.json()))
        return web.Response(status=200 if secret == "s3cret-s3cret" else 403)

    async with serve(receiver) as base:
        await api.set_webhook(f"{base}/zalo/webhook", "s3cret-s3cret")
        update = zalo.text_update(USER, "/start ABC123")
        assert await zalo.deliver_webhook(update) == 200
        assert await zalo.deliver_webhook(update, secret="wrong-secret") == 403
        assert await zalo.deliver_webhook(update, omit_secret=True) == 403
    assert [secret for secret, _ in received] == ["s3cret-s3cret", "wrong-secret", None]
    body = received[0][1]
    assert body == {"ok": True, "result": update}
    message = parse_update(body)
    assert message is not None
    assert (message.text, message.user_id) == ("/start ABC123", USER)
    assert [delivery["status"] for delivery in zalo.deliveries] == [200, 403, 403]


# --------------------------------------------------------------------------------------------
# Downloading photos
# --------------------------------------------------------------------------------------------


async def test_download_writes_the_photo(api: ZaloBotApi, zalo: FakeZalo, tmp_path: Path) -> None:
    content = bytes(range(256)) * 40
    url = zalo.photo_url("p.jpg", content)
    target = tmp_path / "evidence.jpg"
    assert await api.download(url, target, max_bytes=len(content)) == len(content)
    assert target.read_bytes() == content
    assert list(tmp_path.iterdir()) == [target]


async def test_download_over_the_limit_leaves_nothing(
    api: ZaloBotApi, zalo: FakeZalo, tmp_path: Path
) -> None:
    url = zalo.photo_url("big.jpg", b"x" * 10_000)
    with pytest.raises(ZaloBadRequest, match="larger than 9999 bytes"):
        await api.download(url, tmp_path / "big.jpg", max_bytes=9_999)
    assert list(tmp_path.iterdir()) == []


async def test_download_over_the_limit_without_a_declared_length(
    api: ZaloBotApi, tmp_path: Path
) -> None:
    async def chunked(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        for _ in range(10):
            await response.write(b"y" * 1000)
        await response.write_eof()
        return response

    target = tmp_path / "photo.jpg"
    target.write_bytes(b"older")
    async with serve(chunked) as base:
        assert await api.download(f"{base}/p", tmp_path / "ok.jpg", max_bytes=10_000) == 10_000
        with pytest.raises(ZaloBadRequest):
            await api.download(f"{base}/p", target, max_bytes=5_000)
    assert target.read_bytes() == b"older"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["ok.jpg", "photo.jpg"]


async def test_download_of_a_missing_or_unreachable_photo(
    api: ZaloBotApi, zalo: FakeZalo, tmp_path: Path
) -> None:
    with pytest.raises(ZaloBadRequest):
        await api.download(f"{zalo.base_url}/photos/nothing.jpg", tmp_path / "a", 1000)
    with pytest.raises(ZaloBadRequest):
        await api.download("file:///etc/passwd", tmp_path / "a", 1000)
    url = zalo.photo_url("p.jpg", b"jpeg")
    await zalo.stop()
    with pytest.raises(ZaloNetworkError):
        await api.download(url, tmp_path / "a", 1000)
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------------------------
# parse_update
# --------------------------------------------------------------------------------------------


def valid_update() -> dict[str, Any]:
    return {
        "event_name": "message.text.received",
        "message": {
            "message_id": "2d7d1b8d",
            "date": 1750316131602,
            "from": {"id": "u1", "display_name": "Cô Lan", "is_bot": False},
            "chat": {"id": "u1", "chat_type": "PRIVATE"},
            "text": "/viec",
        },
    }


def test_parse_update_bare_and_wrapped() -> None:
    bare = parse_update(valid_update())
    assert bare is not None
    assert parse_update({"ok": True, "result": valid_update()}) == bare
    assert bare.date == datetime(2025, 6, 19, 6, 55, 31, 602000, tzinfo=UTC)
    assert (bare.message_id, bare.user_id, bare.chat_id, bare.text) == (
        "2d7d1b8d",
        "u1",
        "u1",
        "/viec",
    )


def test_parse_update_tolerates_numbers_for_ids_and_missing_optional_fields() -> None:
    update = valid_update()
    message = update["message"]
    message["message_id"], message["from"]["id"], message["chat"]["id"] = 5, 6, 7
    del message["from"]["display_name"], message["from"]["is_bot"], message["chat"]["chat_type"]
    del update["event_name"]
    parsed = parse_update(update)
    assert parsed is not None
    assert (parsed.message_id, parsed.user_id, parsed.chat_id) == ("5", "6", "7")
    assert (parsed.display_name, parsed.is_bot, parsed.is_group) == ("", False, False)
    assert parsed.event_name == "message.text.received"  # told by the content


REQUIRED_PATHS = [
    ("message",),
    ("message", "message_id"),
    ("message", "date"),
    ("message", "from"),
    ("message", "from", "id"),
    ("message", "chat"),
    ("message", "chat", "id"),
]
ID_VALUES: list[Any] = [None, True, [], {}, "", "  ", 1.5, "x" * 300]
OBJECT_VALUES: list[Any] = [None, True, [], "", 3, "x"]
CONTENT_VALUES: list[Any] = [3, True, [], {}, ["x"], {"url": "x"}]
WRONG_VALUES: dict[tuple[str, ...], list[Any]] = {
    ("event_name",): [True, [], {}, 3, ""],
    ("message",): OBJECT_VALUES,
    ("message", "message_id"): ID_VALUES,
    ("message", "date"): [None, True, [], {}, "", "soon", "-5", -1, float("inf"), 10**30],
    ("message", "from"): OBJECT_VALUES,
    ("message", "from", "id"): ID_VALUES,
    ("message", "from", "display_name"): CONTENT_VALUES,
    ("message", "from", "is_bot"): [None, "false", 0, 1, []],
    ("message", "chat"): OBJECT_VALUES,
    ("message", "chat", "id"): ID_VALUES,
    ("message", "chat", "chat_type"): [None, 3, True, []],
    **{("message", key): CONTENT_VALUES for key in ("text", "caption", "photo_url", "photo")},
    ("message", "sticker"): CONTENT_VALUES,
}


def _set(update: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for key in path[:-1]:
        update = update[key]
    update[path[-1]] = value


def _delete(update: dict[str, Any], path: tuple[str, ...]) -> None:
    for key in path[:-1]:
        update = update[key]
    del update[path[-1]]


@pytest.mark.parametrize("path", REQUIRED_PATHS, ids="/".join)
def test_parse_update_without_a_required_field_is_none(path: tuple[str, ...]) -> None:
    update = valid_update()
    _delete(update, path)
    assert parse_update(update) is None
    assert parse_update({"ok": True, "result": update}) is None


@pytest.mark.parametrize("path", list(WRONG_VALUES), ids="/".join)
def test_parse_update_with_a_wrong_type_is_none(path: tuple[str, ...]) -> None:
    for value in WRONG_VALUES[path]:
        update = valid_update()
        _set(update, path, value)
        assert parse_update(update) is None, (path, value)
        assert parse_update({"ok": True, "result": update}) is None, (path, value)


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        "message",
        42,
        [],
        [valid_update()],
        {},
        {"ok": True},
        {"ok": True, "result": None},
        {"ok": True, "result": [valid_update()]},
        {"ok": False, "error_code": 408, "description": "Request timeout"},
        {"event_name": "message.text.received", "message": "hi"},
        {"event_name": "message.text.received", "message": []},
        {**valid_update(), "message": {**valid_update()["message"], "date": "yesterday"}},
        {**valid_update(), "message": {**valid_update()["message"], "date": 10**30}},
        {**valid_update(), "message": {**valid_update()["message"], "date": float("nan")}},
        {**valid_update(), "message": {**valid_update()["message"], "photo_url": 3}},
        {**valid_update(), "message": {**valid_update()["message"], "caption": ["x"]}},
    ],
)
def test_parse_update_of_malformed_shapes_is_none(data: object) -> None:
    assert parse_update(data) is None


UPDATE_KEYS = ["ok", "result", "event_name", "message", "message_id", "date", "from", "chat"]
MESSAGE_KEYS = ["id", "text", "photo_url", "photo", "caption", "sticker", "is_bot", "chat_type"]
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(UPDATE_KEYS + MESSAGE_KEYS), children, max_size=6)
    ),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(JSON)
def test_parse_update_never_raises(data: object) -> None:
    parsed = parse_update(data)
    assert parsed is None or isinstance(parsed, ZaloMessage)
    if parsed is not None:
        assert parsed.date.tzinfo is UTC
        assert parsed.message_id and parsed.user_id and parsed.chat_id


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(list(WRONG_VALUES)), JSON), max_size=3))
def test_parse_update_of_a_mutated_update_never_raises(
    changes: list[tuple[tuple[str, ...], object]],
) -> None:
    update = valid_update()
    for path, value in changes:
        # A parent may have been replaced by a non-object by an earlier change.
        with contextlib.suppress(KeyError, TypeError, IndexError):
            _set(update, path, value)
    parsed = parse_update(update)
    if parsed is not None:
        assert all(isinstance(getattr(parsed, name), str) for name in ("text", "display_name"))
        assert parsed.photo_url is None or isinstance(parsed.photo_url, str)
        assert isinstance(parsed.is_bot, bool) and isinstance(parsed.is_group, bool)
