"""The fake Bot API server works with the real python-telegram-bot and keeps to the spec."""

import asyncio
import html
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyParameters,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)
from telegram.helpers import escape_markdown

from tests.fake_telegram import (
    BotApiSpec,
    EntityParseError,
    FakeTelegram,
    TelegramLimits,
    parse_html,
    parse_markdown_v2,
    spec_path,
)

TOKEN = "123456:TEST-TOKEN"


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token=TOKEN) as fake:
        yield fake
        assert fake.violations == []


def build_app(tg: FakeTelegram, token: str = TOKEN) -> Application:
    return (
        ApplicationBuilder()
        .token(token)
        .base_url(tg.base_url)
        .base_file_url(tg.base_file_url)
        .build()
    )


@pytest.fixture
async def app(tg: FakeTelegram) -> AsyncIterator[Application]:
    application = build_app(tg)
    await application.initialize()
    yield application
    await application.shutdown()


def refused(description: str) -> pytest.RaisesExc[BadRequest]:
    """PTB raises BadRequest with "Bad Request: " stripped and the rest capitalize()d."""
    return pytest.raises(BadRequest, match=f"(?i){re.escape(description)}")


async def wait_until(condition: Callable[[], object], timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"not reached within {timeout} s")
        await asyncio.sleep(0.01)


async def greet(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None and update.effective_user is not None
    await update.effective_message.reply_text(f"Xin chào {update.effective_user.first_name}!")


def test_the_spec_ships_with_the_tests() -> None:
    assert spec_path() == Path(__file__).parent / "data" / "telegram-bot-api-10.1.json"
    assert BotApiSpec.load().version == "Bot API 10.1"


# ---- (a) connecting ---------------------------------------------------------------------------


async def test_ptb_initializes_against_the_fake(app: Application, tg: FakeTelegram) -> None:
    me = await app.bot.get_me()

    assert (me.id, me.username, me.is_bot) == (123456, "dondoc_test_bot", True)
    assert app.bot.username == "dondoc_test_bot"
    assert [method for method, _ in tg.calls] == ["getMe", "getMe"]


async def test_a_wrong_token_is_unauthorized(tg: FakeTelegram) -> None:
    with pytest.raises(InvalidToken):
        await build_app(tg, token="999:WRONG").initialize()


# ---- (b) and (c) commands --------------------------------------------------------------------


async def test_a_command_through_process_update(app: Application, tg: FakeTelegram) -> None:
    seen_args: list[list[str]] = []

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        seen_args.append(list(context.args or []))
        await greet(update, context)

    app.add_handler(CommandHandler("start", start))
    an = tg.user(42, "An", "an_nguyen", language_code="vi")

    for text in ("/start", "/start@dondoc_test_bot", "/start INVITE-7", "/start@other_bot"):
        await app.process_update(Update.de_json(tg.message_update(an, text), app.bot))

    assert seen_args == [[], [], ["INVITE-7"]]
    assert [sent["text"] for sent in tg.sent_to(42)] == ["Xin chào An!"] * 3
    # Message ids are per chat and shared by both sides: user 1, bot 2, user 3, ...
    assert [sent["message_id"] for sent in tg.sent] == [2, 4, 6]
    reply = tg.message(42, 2)
    assert reply["from"]["username"] == "dondoc_test_bot"
    assert reply["chat"] == {
        "id": 42,
        "type": "private",
        "first_name": "An",
        "username": "an_nguyen",
    }


async def test_a_command_through_real_polling(app: Application, tg: FakeTelegram) -> None:
    app.add_handler(CommandHandler("start", greet))
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1)
    try:
        update = tg.queue(tg.message_update(tg.user(7, "Bình"), "/start"))
        await wait_until(lambda: tg.sent_to(7))
    finally:
        await app.updater.stop()
        await app.stop()

    assert tg.last_text(7) == "Xin chào Bình!"
    assert tg.calls_of("deleteWebhook")
    # PTB confirmed the update on its way out: nothing is pending any more.
    assert tg.calls_of("getUpdates")[-1]["offset"] == update["update_id"] + 1
    assert (await app.bot.get_webhook_info()).pending_update_count == 0


async def test_get_updates_long_polls_and_honours_offset(
    app: Application, tg: FakeTelegram
) -> None:
    user = tg.user(5)
    first = tg.queue(tg.message_update(user, "một"))
    second = tg.queue(tg.message_update(user, "hai"))

    updates = await app.bot.get_updates(timeout=0)
    assert [u.update_id for u in updates] == [first["update_id"], second["update_id"]]
    updates = await app.bot.get_updates(offset=second["update_id"], timeout=0)
    assert [u.message.text for u in updates if u.message] == ["hai"]

    waiting = asyncio.create_task(app.bot.get_updates(offset=second["update_id"] + 1, timeout=5))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    third = tg.queue(tg.message_update(user, "ba"))
    updates = await asyncio.wait_for(waiting, 2)
    assert [u.update_id for u in updates] == [third["update_id"]]

    started = asyncio.get_running_loop().time()
    assert await app.bot.get_updates(offset=third["update_id"] + 1, timeout=30) == ()
    assert asyncio.get_running_loop().time() - started < 2  # the wait is capped at 1 s


async def test_get_updates_conflicts_with_a_webhook(app: Application, tg: FakeTelegram) -> None:
    await app.bot.set_webhook("https://example.org/hook", secret_token="s3cret")
    assert (await app.bot.get_webhook_info()).url == "https://example.org/hook"
    with pytest.raises(Conflict):
        await app.bot.get_updates()
    await app.bot.delete_webhook()
    assert await app.bot.get_updates() == ()


# ---- (d) formatted text ----------------------------------------------------------------------


async def test_html_must_be_escaped(app: Application, tg: FakeTelegram) -> None:
    raw = "Tiến độ <b>& chỉ số"
    with refused("can't parse entities"):
        await app.bot.send_message(42, raw, parse_mode=ParseMode.HTML)
    assert len(tg.violations) == 1 and "can't parse entities" in tg.violations[0]
    tg.violations.clear()

    text = f"<b>Báo cáo</b>: {html.escape(raw)}"
    message = await app.bot.send_message(42, text, parse_mode=ParseMode.HTML)

    assert tg.last_text(42) == text
    assert tg.last_text(42, plain=True) == message.text == f"Báo cáo: {raw}"
    assert [(e.type, e.offset, e.length) for e in message.entities] == [("bold", 0, 7)]
    assert message.text_html == text
    assert tg.sent[0]["parse_mode"] == "HTML"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("<b>đậm", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<div>x</div>", 'Unsupported start tag "div" at byte offset 0'),
        ('<span class="x">s</span>', 'Tag "span" must have class "tg-spoiler"'),
        ("Tom & Jerry", 'Unescaped "&" at byte offset 4'),
        ("<b", "Unclosed start tag at byte offset 0"),
    ],
)
def test_html_that_telegram_refuses(text: str, error: str) -> None:
    with pytest.raises(EntityParseError, match=re.escape(error)):
        parse_html(text)


def test_html_entities_are_measured_in_utf16() -> None:
    formatted = parse_html(
        '<b>Đậm</b> &lt;3 &amp; <a href="https://x.org/?a=1&amp;b=2">link</a> '
        '<span class="tg-spoiler">s</span> <pre><code class="language-python">x = 1</code></pre>'
        " 😀<i>nghiêng</i> &#65;&#x42;"
    )

    assert formatted.text == "Đậm <3 & link s x = 1 😀nghiêng AB"
    assert formatted.entities == [
        {"type": "bold", "offset": 0, "length": 3},
        {"type": "text_link", "offset": 9, "length": 4, "url": "https://x.org/?a=1&b=2"},
        {"type": "spoiler", "offset": 14, "length": 1},
        {"type": "pre", "offset": 16, "length": 5, "language": "python"},
        {"type": "italic", "offset": 24, "length": 7},  # 😀 is two UTF-16 code units
    ]
    assert parse_html("Tom & Jerry", strict_ampersand=False).text == "Tom & Jerry"


async def test_markdown_v2_reserved_characters(app: Application, tg: FakeTelegram) -> None:
    with refused("Character '.' is reserved"):
        await app.bot.send_message(42, "Hạn: 25.12!", parse_mode=ParseMode.MARKDOWN_V2)
    tg.violations.clear()

    text = "*Hạn:* " + escape_markdown("25.12 (thứ Năm)!", version=2)
    message = await app.bot.send_message(42, text, parse_mode=ParseMode.MARKDOWN_V2)

    assert message.text == "Hạn: 25.12 (thứ Năm)!"
    assert parse_markdown_v2("_a_ __u__ ||s|| [x](https://e.org/a\\)b) `c.d`").entities == [
        {"type": "italic", "offset": 0, "length": 1},
        {"type": "underline", "offset": 2, "length": 1},
        {"type": "spoiler", "offset": 4, "length": 1},
        {"type": "text_link", "offset": 6, "length": 1, "url": "https://e.org/a)b"},
        {"type": "code", "offset": 8, "length": 3},
    ]
    with pytest.raises(EntityParseError, match="Can't find end of Bold entity at byte offset 0"):
        parse_markdown_v2("*không đóng")


async def test_text_length_counts_after_parsing(app: Application, tg: FakeTelegram) -> None:
    await app.bot.send_message(42, "<b>" + "x" * 4096 + "</b>", parse_mode=ParseMode.HTML)
    with refused("message is too long"):
        await app.bot.send_message(42, "x" * 4097)
    with refused("message text is empty"):
        await app.bot.send_message(42, "<b> </b>", parse_mode=ParseMode.HTML)
    assert len(tg.violations) == 2
    tg.violations.clear()


# ---- (e) buttons -----------------------------------------------------------------------------


async def test_a_button_press_is_answered_and_edits_the_message(
    app: Application, tg: FakeTelegram
) -> None:
    async def ask(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        keyboard = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton("Xong ✅", callback_data="done:17"),
                    InlineKeyboardButton("Để sau", callback_data="later:17"),
                ]
            ]
        )
        await update.message.reply_text("Nhiệm vụ 17 xong chưa?", reply_markup=keyboard)

    async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None and query.message is not None
        await query.answer("Đã ghi nhận")
        await query.edit_message_text(f"Đã chọn: {query.data}")

    app.add_handler(CommandHandler("task", ask))
    app.add_handler(CallbackQueryHandler(on_button))
    an = tg.user(42, "An")
    await app.process_update(Update.de_json(tg.message_update(an, "/task"), app.bot))
    asked = tg.sent[-1]
    assert asked["reply_markup"] == {
        "inline_keyboard": [
            [
                {"text": "Xong ✅", "callback_data": "done:17"},
                {"text": "Để sau", "callback_data": "later:17"},
            ]
        ]
    }

    press = tg.callback_update(an, "done:17", asked["message_id"])
    assert press["callback_query"]["message"]["text"] == "Nhiệm vụ 17 xong chưa?"
    await app.process_update(Update.de_json(press, app.bot))

    query_id = press["callback_query"]["id"]
    assert tg.answers == [{"callback_query_id": query_id, "text": "Đã ghi nhận"}]
    edited = tg.sent[-1]
    assert (edited["method"], edited["message_id"]) == ("editMessageText", asked["message_id"])
    assert edited["text"] == "Đã chọn: done:17" and edited["reply_markup"] is None
    assert "reply_markup" not in tg.message(42, asked["message_id"])  # keyboard gone
    with pytest.raises(ValueError, match="no button"):
        tg.callback_update(an, "done:17", asked["message_id"])
    with refused("query is too old"):
        await app.bot.answer_callback_query(query_id)
    with refused("message is not modified"):
        await app.bot.edit_message_text("Đã chọn: done:17", 42, asked["message_id"])


@pytest.mark.parametrize(
    ("button", "error"),
    [
        (InlineKeyboardButton("Dài", callback_data="x" * 65), "BUTTON_DATA_INVALID"),
        (InlineKeyboardButton("Rỗng", callback_data=""), "BUTTON_DATA_INVALID"),
        (
            InlineKeyboardButton("Hai", callback_data="a", url="https://e.org"),
            "exactly one action",
        ),
        (InlineKeyboardButton("Không"), "text buttons are unallowed"),
    ],
)
async def test_invalid_inline_buttons_are_refused(
    app: Application, tg: FakeTelegram, button: InlineKeyboardButton, error: str
) -> None:
    with refused(error):
        await app.bot.send_message(42, "Chọn", reply_markup=InlineKeyboardMarkup([[button]]))
    assert len(tg.violations) == 1
    tg.violations.clear()
    assert tg.sent == []


async def test_callback_data_of_64_bytes_is_fine(app: Application, tg: FakeTelegram) -> None:
    data = "đ" * 32  # 64 bytes in UTF-8
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("OK", callback_data=data)]])
    message = await app.bot.send_message(42, "Chọn", reply_markup=keyboard)
    assert tg.callback_update(tg.user(42), data, message.message_id)


async def test_replies_carry_the_quoted_message(app: Application, tg: FakeTelegram) -> None:
    an = tg.user(42, "An")
    reminder = await app.bot.send_message(42, "Nhắc việc: nộp báo cáo")

    update = Update.de_json(
        tg.message_update(an, "Đã nộp", reply_to_message_id=reminder.message_id), app.bot
    )
    assert update.message is not None and update.message.reply_to_message is not None
    assert update.message.reply_to_message.text == "Nhắc việc: nộp báo cáo"
    assert update.message.reply_to_message.from_user.is_bot

    answer = await update.message.reply_text("Cảm ơn!", do_quote=True)
    assert answer.reply_to_message is not None
    assert answer.reply_to_message.message_id == update.message.message_id
    with refused("message to be replied not found"):
        await app.bot.send_message(42, "?", reply_parameters=ReplyParameters(999))


# ---- (f) files -------------------------------------------------------------------------------


async def test_get_file_downloads_the_registered_bytes(
    app: Application, tg: FakeTelegram, tmp_path: Path
) -> None:
    tg.add_file("photo-1", b"\xff\xd8 jpeg bytes", "photos/x.jpg")

    file = await app.bot.get_file("photo-1")
    saved = await file.download_to_drive(tmp_path / "x.jpg")

    assert file.file_path == f"{tg.base_file_url}{TOKEN}/photos/x.jpg"
    assert saved.read_bytes() == b"\xff\xd8 jpeg bytes"

    update = Update.de_json(
        tg.message_update(tg.user(42), photo="photo-1", caption="Minh chứng"), app.bot
    )
    assert update.message is not None and update.message.caption == "Minh chứng"
    photo_file = await update.message.photo[-1].get_file()
    assert bytes(await photo_file.download_as_bytearray()) == b"\xff\xd8 jpeg bytes"
    with refused("invalid file_id"):
        await app.bot.get_file("nope")


async def test_documents_and_photos_are_uploaded_and_sent(
    app: Application, tg: FakeTelegram
) -> None:
    report = await app.bot.send_document(
        42,
        document=b"ma,ten\n1,Lan\n",
        filename="bao-cao.csv",
        caption="<b>Báo cáo</b> tuần",
        parse_mode=ParseMode.HTML,
    )
    assert report.document is not None and report.document.file_name == "bao-cao.csv"
    assert report.caption == "Báo cáo tuần"
    downloaded = await (await app.bot.get_file(report.document.file_id)).download_as_bytearray()
    assert bytes(downloaded) == b"ma,ten\n1,Lan\n"

    tg.add_file("evidence", b"png")
    photo = await app.bot.send_photo(42, photo="evidence")
    assert photo.photo[-1].file_id == "evidence"
    assert [(s["method"], s["file_id"]) for s in tg.sent] == [
        ("sendDocument", report.document.file_id),
        ("sendPhoto", "evidence"),
    ]
    with refused("wrong file identifier"):
        await app.bot.send_photo(42, photo="unknown-id")

    update = Update.de_json(
        tg.message_update(tg.user(42), document=("doc-9", "ke-hoach.xlsx", "application/x")),
        app.bot,
    )
    assert update.message is not None and update.message.document is not None
    assert update.message.document.file_name == "ke-hoach.xlsx"


# ---- (g) injected failures -------------------------------------------------------------------


# PTB's own RetryAfter.__init__ reads its deprecated int-valued retry_after.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_injected_failures_raise_ptb_errors(app: Application, tg: FakeTelegram) -> None:
    tg.fail_next(
        "sendMessage", error_code=429, description="Too Many Requests: retry after 1", retry_after=1
    )
    with pytest.raises(RetryAfter, match="Retry in 1"):
        await app.bot.send_message(42, "x")

    tg.fail_next(
        "sendMessage",
        error_code=403,
        description="Forbidden: bot was blocked by the user",
        chat_id=43,
    )
    await app.bot.send_message(42, "chat 42 is not affected")
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await app.bot.send_message(43, "x")
    await app.bot.send_message(43, "only the next call failed")

    tg.fail_next(
        "sendChatAction", error_code=400, description="Bad Request: chat not found", times=2
    )
    for _ in range(2):
        with refused("chat not found"):
            await app.bot.send_chat_action(42, "typing")
    assert await app.bot.send_chat_action(42, "typing")

    assert [s["text"] for s in tg.sent] == ["chat 42 is not affected", "only the next call failed"]


# ---- (h) commands menu -----------------------------------------------------------------------


async def test_commands_are_stored_per_scope_and_language(
    app: Application, tg: FakeTelegram
) -> None:
    vietnamese = [BotCommand("start", "Bắt đầu"), BotCommand("tasks", "Việc của tôi")]
    english = [BotCommand("start", "Start"), BotCommand("tasks", "My tasks")]
    await app.bot.set_my_commands(vietnamese, language_code="vi")
    await app.bot.set_my_commands(english, language_code="en")
    await app.bot.set_my_commands([BotCommand("report", "Báo cáo")], scope=BotCommandScopeChat(-5))

    assert tg.commands[("default", "vi")] == [
        {"command": "start", "description": "Bắt đầu"},
        {"command": "tasks", "description": "Việc của tôi"},
    ]
    assert set(tg.commands) == {("default", "vi"), ("default", "en"), ("chat:-5", "")}
    assert await app.bot.get_my_commands(language_code="en") == tuple(english)
    assert await app.bot.get_my_commands() == ()

    await app.bot.delete_my_commands(language_code="en")
    assert ("default", "en") not in tg.commands
    with refused("BOT_COMMAND_INVALID"):
        await app.bot.set_my_commands([BotCommand("Bao-Cao", "x")])
    tg.violations.clear()


# ---- (i) spec violations ---------------------------------------------------------------------


async def test_spec_violations_are_refused_and_recorded(app: Application, tg: FakeTelegram) -> None:
    with refused('parameter "chat_id" is required'):
        await app.bot._post("sendMessage", {"text": "x"})
    assert tg.violations == ['sendMessage: Bad Request: parameter "chat_id" is required']
    assert tg.calls[-1] == ("sendMessage", {"text": "x"})

    with refused('unknown parameter "colour"'):
        await app.bot.send_message(42, "x", api_kwargs={"colour": "red"})
    with refused("message_id: expected Integer"):
        await app.bot._post("deleteMessage", {"chat_id": 42, "message_id": "abc"})
    with refused("disable_notification: expected Boolean"):
        await app.bot._post(
            "sendMessage", {"chat_id": 42, "text": "x", "disable_notification": "yes"}
        )
    with refused("reply_markup.inline_keyboard[0][0].colour: unknown field"):
        await app.bot._post(
            "sendMessage",
            {
                "chat_id": 42,
                "text": "x",
                "reply_markup": {"inline_keyboard": [[{"text": "a", "url": "u", "colour": 1}]]},
            },
        )
    with refused("scope.chat_id: required field of BotCommandScopeChat is missing"):
        await app.bot._post("setMyCommands", {"commands": [], "scope": {"type": "chat"}})
    with pytest.raises(EndPointNotFound):
        await app.bot.do_api_request("sendTelepathy")

    assert len(tg.violations) == 7
    assert tg.violations[-1] == "sendTelepathy: Not Found: method not found"
    assert tg.sent == []
    tg.violations.clear()


async def test_methods_the_fake_lacks_are_violations(app: Application, tg: FakeTelegram) -> None:
    with pytest.raises(NetworkError, match="does not implement sendSticker"):
        await app.bot.send_sticker(42, "sticker-id")
    assert tg.violations == [
        "sendSticker: Not Implemented: FakeTelegram does not implement sendSticker"
    ]
    tg.violations.clear()


async def test_other_implemented_methods(app: Application, tg: FakeTelegram) -> None:
    tg.user(42, "An", "an_nguyen")
    chat = await app.bot.get_chat(42)
    assert (chat.id, chat.type, chat.username) == (42, "private", "an_nguyen")
    assert (await app.bot.get_chat("@an_nguyen")).id == 42

    message = await app.bot.send_message(42, "tạm")
    assert await app.bot.delete_message(42, message.message_id)
    assert tg.deleted == [(42, message.message_id)]
    with refused("message to delete not found"):
        await app.bot.delete_message(42, message.message_id)
    with refused("wrong parameter action"):
        await app.bot.send_chat_action(42, "dancing")
    tg.violations.clear()

    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="a")]])
    sent = await app.bot.send_message(42, "x", reply_markup=keyboard)
    edited = await app.bot.edit_message_reply_markup(42, sent.message_id, reply_markup=None)
    assert edited.reply_markup is None
    assert tg.sent[-1]["method"] == "editMessageReplyMarkup" and tg.sent[-1]["text"] == "x"


# ---- (j) Telegram misbehaving: flood limits, outages, stalls, competing pollers --------------

GROUP = -1_001_234_567_890
# PTB's own RetryAfter.__init__ reads its deprecated int-valued retry_after.
ptb_retry_after = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


class ManualTimer:
    """The fake's timer for flood limits and waits; it moves only when a test moves it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def timer() -> ManualTimer:
    return ManualTimer()


@pytest.fixture
async def timed(timer: ManualTimer) -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token=TOKEN, timer=timer) as fake:
        yield fake
        assert fake.violations == []


@pytest.fixture
async def bot(timed: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=timed.base_url) as ptb_bot:
        yield ptb_bot


def retry_after(seconds: int) -> pytest.RaisesExc[RetryAfter]:
    return pytest.raises(RetryAfter, match=f"Retry in {seconds} seconds$")


async def post_raw(tg: FakeTelegram, method: str, **form: str) -> tuple[int, object]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{tg.base_url}{TOKEN}/{method}", data=form) as response,
    ):
        return response.status, await response.json()


@ptb_retry_after
async def test_a_flood_wait_reaches_ptb_as_retry_after(
    bot: Bot, timed: FakeTelegram, timer: ManualTimer
) -> None:
    timed.flood_wait(7, chat_id=42)

    with retry_after(7):
        await bot.send_message(42, "x")
    await bot.send_message(43, "another chat is not affected")
    assert await post_raw(timed, "sendMessage", chat_id="42", text="x") == (
        429,
        {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 7",
            "parameters": {"retry_after": 7},
        },
    )
    timer.now += 2.5
    with retry_after(5):  # whole seconds left, rounded up
        await bot.send_message(42, "x")
    timer.now += 4.5
    await bot.send_message(42, "after the wait")

    everyone = timed.flood_wait(30)
    with retry_after(30):
        await bot.send_message(43, "x")
    assert await bot.get_me()  # only sends are held back
    everyone.end()
    await bot.send_message(43, "ended early")

    timed.fail_next("sendMessage", error_code=429, retry_after=2)
    with retry_after(2):
        await bot.send_message(43, "x")
    assert timed.too_many_requests == 5  # every 429, injected ones too
    assert [s["text"] for s in timed.sent] == [
        "another chat is not affected",
        "after the wait",
        "ended early",
    ]


async def test_limits_are_off_unless_asked(bot: Bot, timed: FakeTelegram) -> None:
    for number in range(5):
        await bot.send_message(42, f"{number}")
    assert timed.too_many_requests == 0
    assert timed.max_sends_in(1.0, chat_id=42) == 5


@ptb_retry_after
async def test_limits_allow_30_sends_a_second_and_refuse_the_31st(
    bot: Bot, timed: FakeTelegram, timer: ManualTimer
) -> None:
    timed.limits = TelegramLimits()
    for chat_id in range(1, 31):
        await bot.send_message(chat_id, "Nhắc việc")
    assert timed.too_many_requests == 0
    with retry_after(1):
        await bot.send_message(31, "Nhắc việc")

    timer.now += 0.999
    with retry_after(1):
        await bot.send_message(31, "Nhắc việc")
    timer.now += 0.001  # the window slides: the first 30 sends no longer count
    await bot.send_message(31, "Nhắc việc")
    assert timed.too_many_requests == 2
    assert timed.max_sends_in(1.0) == 30
    assert timed.send_times[31] == [1001.0]


@ptb_retry_after
async def test_limits_allow_one_send_a_second_per_chat(
    bot: Bot, timed: FakeTelegram, timer: ManualTimer
) -> None:
    timed.limits = TelegramLimits()
    first = await bot.send_message(42, "một")
    with retry_after(1):
        await bot.send_message(42, "hai")
    with retry_after(1):  # edits count like sends
        await bot.edit_message_text("một (sửa)", 42, first.message_id)
    await bot.send_message(43, "another chat is not affected")
    timer.now += 0.5
    with retry_after(1):
        await bot.send_message(42, "hai")
    for step in range(1, 11):  # one a second is fine, edits included
        timer.now = 1000.0 + step
        if step % 2:
            await bot.send_message(42, f"tin {step}")
        else:
            await bot.edit_message_text(f"sửa {step}", 42, first.message_id)

    assert timed.too_many_requests == 3
    assert timed.send_times[42] == [1000.0 + step for step in range(11)]
    assert timed.max_sends_in(1.0, chat_id=42) == 1


@ptb_retry_after
async def test_limits_allow_twenty_sends_a_minute_per_group(
    bot: Bot, timed: FakeTelegram, timer: ManualTimer
) -> None:
    timed.limits = TelegramLimits()
    for _ in range(20):
        await bot.send_message(GROUP, "Nhắc tổ")
        await bot.send_message(42, "private chats have no per-minute limit")
        timer.now += 1.0
    assert timed.too_many_requests == 0

    with retry_after(40):  # the first of the 20 leaves the window at 1060
        await bot.send_message(GROUP, "Nhắc tổ")
    await bot.send_message(42, "private chats have no per-minute limit")
    timer.now = 1059.5
    with retry_after(1):
        await bot.send_message(GROUP, "Nhắc tổ")
    timer.now = 1060.0
    await bot.send_message(GROUP, "Nhắc tổ")

    assert timed.too_many_requests == 2
    assert timed.max_sends_in(60.0, chat_id=GROUP) == 20
    assert len(timed.send_times[42]) == 21


async def test_an_outage_raises_network_error_then_recovers(bot: Bot, timed: FakeTelegram) -> None:
    with timed.outage() as outage:
        for call in (bot.send_message(42, "x"), bot.get_me(), bot.get_updates()):
            with pytest.raises(NetworkError, match=r"^Bad Gateway$") as raised:
                await call
            assert raised.type is NetworkError  # not one of its subclasses
        assert await post_raw(timed, "getMe") == (
            502,
            {"ok": False, "error_code": 502, "description": "Bad Gateway"},
        )
    assert outage.hits == 4
    assert timed.calls_of("sendMessage") == []  # Telegram never saw them

    await bot.send_message(42, "back")
    sends_down = timed.outage(503, sending_only=True)
    assert (await bot.get_me()).username == "dondoc_test_bot"
    with pytest.raises(NetworkError, match="Service Unavailable"):
        await bot.send_message(42, "x")
    sends_down.end()
    await bot.send_message(42, "back again")
    assert [s["text"] for s in timed.sent] == ["back", "back again"]


async def test_a_stall_times_out_and_the_answer_may_be_lost(bot: Bot, timed: FakeTelegram) -> None:
    with timed.stall(0.3) as stall:
        with pytest.raises(TimedOut):
            await bot.send_message(42, "Nhắc việc", read_timeout=0.1)
        await asyncio.sleep(0.4)  # the request wakes up at 0.3 s and finds the client gone
    assert stall.hits == 1
    assert timed.sent == []  # the client gave up before Telegram saw it

    with timed.stall(0.3, sending_only=True, handled=True):
        started = asyncio.get_running_loop().time()
        await bot.get_me()
        assert asyncio.get_running_loop().time() - started < 0.2
        with pytest.raises(TimedOut):
            await bot.send_message(42, "Nhắc việc", read_timeout=0.1)
    await bot.send_message(42, "Nhắc việc")  # the bot retries: Telegram had it already

    assert timed.duplicates() == {(42, "Nhắc việc"): 2}


async def test_a_second_poller_ends_the_long_poll_with_conflict() -> None:
    async with (
        FakeTelegram(token=TOKEN, conflict_on_second_poller=True) as tg,
        Bot(TOKEN, base_url=tg.base_url) as first,
        Bot(TOKEN, base_url=tg.base_url) as second,
    ):
        waiting = asyncio.create_task(first.get_updates(timeout=1))
        await wait_until(lambda: tg.calls_of("getUpdates"))  # recorded once it waits
        taking_over = asyncio.create_task(second.get_updates(timeout=1))
        with pytest.raises(Conflict, match="terminated by other getUpdates request"):
            await asyncio.wait_for(waiting, 0.5)

        # Each new poll ends the one waiting: two instances both see Conflict in turn.
        again = asyncio.create_task(first.get_updates(timeout=1))
        with pytest.raises(Conflict, match="only one bot instance is running"):
            await asyncio.wait_for(taking_over, 0.5)
        update = tg.queue(tg.message_update(tg.user(5), "xin chào"))
        assert [u.update_id for u in await asyncio.wait_for(again, 0.5)] == [update["update_id"]]
        assert tg.violations == []


async def test_without_the_flag_pollers_do_not_conflict(tg: FakeTelegram) -> None:
    async with Bot(TOKEN, base_url=tg.base_url) as first, Bot(TOKEN, base_url=tg.base_url) as other:
        waiting = asyncio.create_task(first.get_updates(timeout=1))
        await wait_until(lambda: tg.calls_of("getUpdates"))
        assert await other.get_updates(timeout=0) == ()
        tg.queue(tg.message_update(tg.user(5), "xin chào"))
        assert len(await asyncio.wait_for(waiting, 0.5)) == 1


async def test_duplicates_lists_messages_sent_twice(app: Application, tg: FakeTelegram) -> None:
    tg.add_file("evidence", b"png")
    reminder = await app.bot.send_message(42, "Nhắc việc: nộp báo cáo")
    await app.bot.send_message(43, "Nhắc việc: nộp báo cáo")
    await app.bot.send_photo(42, "evidence", caption="Minh chứng")
    await app.bot.send_photo(42, "evidence")
    await app.bot.send_photo(42, "evidence")  # no caption: not compared
    await app.bot.edit_message_text("Nhắc việc (sửa)", 42, reminder.message_id)
    await app.bot.edit_message_text("Nhắc việc: nộp báo cáo", 42, reminder.message_id)
    assert tg.duplicates() == {}  # edits are not new messages

    await app.bot.send_message(42, "Nhắc việc: nộp báo cáo")
    await app.bot.send_message(42, "Nhắc việc: nộp báo cáo")
    await app.bot.send_photo(42, "evidence", caption="Minh chứng")
    assert tg.duplicates() == {(42, "Nhắc việc: nộp báo cáo"): 3, (42, "Minh chứng"): 2}
