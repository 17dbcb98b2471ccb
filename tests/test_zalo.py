"""Teachers on Zalo: the same bot as on Telegram, by text alone. Zalo has no buttons, no
reply-to and sends no files: choices are numbered, the latest message is the one answered."""

import asyncio
from pathlib import Path

from sqlmodel import select

from models import Attachment, ProgressUpdate, Reminder, ReminderStatus, TaskStatus
from models.db import session_scope
from tests.chat_school import OFFICE_HEAD, PRINCIPAL, TEACHER
from tests.zalo_harness import ZaloBot

DIGITAL = "III.4.2"


def one(texts: list[str]) -> str:
    assert len(texts) == 1, texts
    return texts[0]


async def test_joining_by_typing_the_code_alone_or_after_start(zalo_bot: ZaloBot) -> None:
    welcome, help_text = await zalo_bot.join(OFFICE_HEAD)
    assert "/kenh" in help_text and "/lienket" not in help_text  # no groups on Zalo
    assert welcome.startswith("Chào thầy/cô Trần Thị Mai")
    assert "<b>" not in welcome and "&amp;" not in welcome  # plain text, never markup
    code = zalo_bot.school.codes[TEACHER]
    assert (await zalo_bot.say(TEACHER, f"/start {code}"))[0].startswith("Chào thầy/cô Đỗ Văn Bình")
    assert [a.channel.value for a in zalo_bot.accounts(TEACHER)] == ["zalo"]


async def test_a_stranger_sees_nothing_of_the_school(zalo_bot: ZaloBot) -> None:
    answer = one(await zalo_bot.say("Người Lạ", "/viec"))
    assert "III." not in answer and "mã" in answer  # asked for an invitation code


async def test_buttons_become_numbered_choices_answered_by_number(zalo_bot: ZaloBot) -> None:
    await zalo_bot.join(OFFICE_HEAD)
    card = one(await zalo_bot.say(OFFICE_HEAD, f"/viec {DIGITAL}"))
    assert card.startswith(f"{DIGITAL} — Nâng cao chất lượng hồ sơ số")
    assert card.endswith(
        "Thầy/cô trả lời bằng số để chọn:\n1. ✅ Hoàn thành\n2. 📈 Cập nhật tiến độ\n"
        "3. ⏰ Nhắc lại sau\n4. ⚠️ Gặp vướng mắc"
    )
    percents = one(await zalo_bot.say(OFFICE_HEAD, "2"))
    assert "\n3. 75%" in percents
    confirmation = one(await zalo_bot.say(OFFICE_HEAD, "số 3"))
    assert "Tiến độ 75%" in confirmation
    assert zalo_bot.task(DIGITAL).progress == 75
    undo = confirmation.rsplit("\n", 1)[-1]
    assert undo.startswith("1. ↩️")  # the confirmation's own choice: undo
    await zalo_bot.say(OFFICE_HEAD, "1")
    assert zalo_bot.task(DIGITAL).progress != 75


async def test_a_number_no_message_offered_is_not_taken_for_a_choice(zalo_bot: ZaloBot) -> None:
    await zalo_bot.join(OFFICE_HEAD)
    await zalo_bot.say(OFFICE_HEAD, f"/viec {DIGITAL}")
    zalo_bot.school.clock.advance(hours=5)  # the choices have lapsed
    answer = "\n".join(await zalo_bot.say(OFFICE_HEAD, "2"))
    assert zalo_bot.task(DIGITAL).progress == 0
    assert "75%" not in answer  # not the progress choices of the card shown 5 hours ago


async def test_every_command_works_by_text(zalo_bot: ZaloBot) -> None:
    await zalo_bot.join(OFFICE_HEAD)
    assert "Việc đang mở" in one(await zalo_bot.say(OFFICE_HEAD, "/viec"))
    updated = "\n".join(await zalo_bot.say(OFFICE_HEAD, f"/capnhat {DIGITAL} 60 đã số hóa 6A"))
    assert "60%" in updated and zalo_bot.task(DIGITAL).progress == 60
    await zalo_bot.say(OFFICE_HEAD, f"/vuong {DIGITAL} chờ máy quét")
    assert zalo_bot.task(DIGITAL).status == TaskStatus.BLOCKED
    await zalo_bot.say(OFFICE_HEAD, f"/xong {DIGITAL}")
    assert zalo_bot.task(DIGITAL).status == TaskStatus.DONE
    assert "Cách dùng" in "\n".join(await zalo_bot.say(OFFICE_HEAD, "/huongdan"))
    assert "Chỉ hiệu trưởng" in "\n".join(await zalo_bot.say(OFFICE_HEAD, "/chiso dropout 1"))
    await zalo_bot.join(PRINCIPAL)
    report = await zalo_bot.say(PRINCIPAL, "/baocao")
    assert report[0].startswith("📊 Tuần 23/11–29/11/2026")
    assert "Kênh này không gửi được tệp" in report[-1]  # no workbook on Zalo: said where it is
    assert all(len(text) <= 2000 for text in report)


async def test_after_a_reminder_a_plain_answer_updates_its_task(zalo_bot: ZaloBot) -> None:
    await zalo_bot.join(OFFICE_HEAD)
    zalo_bot.owe(OFFICE_HEAD, DIGITAL)
    assert (await zalo_bot.sweep()).sent == 1
    [reminder] = zalo_bot.zalo.texts_to(zalo_bot.user(OFFICE_HEAD))[-1:]
    assert DIGITAL in reminder and "trả lời bằng số" in reminder  # it names its task
    await zalo_bot.say(OFFICE_HEAD, "dc 80% r ạ")
    assert zalo_bot.task(DIGITAL).progress == 80


async def test_a_photo_is_stored_as_evidence_of_its_task(zalo_bot: ZaloBot) -> None:
    await zalo_bot.join(OFFICE_HEAD)
    url = zalo_bot.zalo.photo_url("bien-ban.jpg", b"\xff\xd8jpeg-bytes")
    update = zalo_bot.zalo.image_update(zalo_bot.user(OFFICE_HEAD), url, f"{DIGITAL} biên bản họp")
    answer = "\n".join(await zalo_bot.send(update))
    assert "Minh chứng: 1 tệp" in answer
    with session_scope(zalo_bot.school.engine) as session:
        [attachment] = session.exec(select(Attachment)).all()
        [entry] = session.exec(select(ProgressUpdate)).all()
    assert entry.note == "biên bản họp" and entry.status is None
    assert Path(attachment.local_path).read_bytes() == b"\xff\xd8jpeg-bytes"


async def test_a_long_answer_is_split_at_2000_characters_on_line_breaks(zalo_bot: ZaloBot) -> None:
    await zalo_bot.join(OFFICE_HEAD)
    note = "; ".join(f"lớp {n} <b>đủ</b> & đã nộp" for n in range(400))
    sent = await zalo_bot.say(OFFICE_HEAD, f"/capnhat {DIGITAL} 50 {note}")
    assert len(sent) >= 2 and all(0 < len(text) <= 2000 for text in sent)
    assert note in " ".join(sent).replace("\n", " ")  # typed markup is kept as written
    [update] = [u for u in _updates(zalo_bot) if u.percent == 50]
    assert update.note == note


async def test_nothing_new_and_rate_limits_lose_nothing(zalo_bot: ZaloBot) -> None:
    await asyncio.sleep(1.2)  # a long poll ended with 408: the bot polls on
    await zalo_bot.join(OFFICE_HEAD)
    zalo_bot.zalo.fail_next("sendMessage", 429, retry_after=30)
    assert await zalo_bot.say(OFFICE_HEAD, f"/viec {DIGITAL}") == []
    with session_scope(zalo_bot.school.engine) as session:
        [kept] = session.exec(select(Reminder)).all()  # the answer waits in the outbox
    assert kept.status == ReminderStatus.PENDING
    zalo_bot.school.clock.advance(minutes=1)
    assert (await zalo_bot.sweep()).sent == 1
    assert zalo_bot.zalo.texts_to(zalo_bot.user(OFFICE_HEAD))[-1].startswith(DIGITAL)

    zalo_bot.owe(OFFICE_HEAD, "III.1.11")
    zalo_bot.zalo.fail_next("sendMessage", 429)
    result = await zalo_bot.sweep()
    assert result.retried == 1 and result.sent == 0
    zalo_bot.school.clock.advance(minutes=10)
    assert (await zalo_bot.sweep()).sent == 1


async def test_a_blocked_bot_marks_the_person_unreachable(zalo_bot: ZaloBot) -> None:
    await zalo_bot.join(OFFICE_HEAD)
    zalo_bot.owe(OFFICE_HEAD, DIGITAL)
    zalo_bot.zalo.fail_next("sendMessage", 403, "Forbidden")
    result = await zalo_bot.sweep()
    assert result.failed == 1
    [account] = zalo_bot.accounts(OFFICE_HEAD)
    assert account.unreachable_at is not None


async def test_the_token_never_reaches_the_log(zalo_bot: ZaloBot, caplog) -> None:
    caplog.set_level("DEBUG")
    await zalo_bot.join(OFFICE_HEAD)
    zalo_bot.zalo.fail_next("sendMessage", 500)
    await zalo_bot.say(OFFICE_HEAD, "/viec")
    assert zalo_bot.zalo.token not in caplog.text
    assert "sendMessage" in caplog.text or "getUpdates" in caplog.text


def _updates(zalo_bot: ZaloBot) -> list[ProgressUpdate]:
    with session_scope(zalo_bot.school.engine) as session:
        return list(session.exec(select(ProgressUpdate)))


async def test_a_group_message_is_left_alone(zalo_bot: ZaloBot) -> None:
    update = zalo_bot.zalo.text_update("zl9999", "/viec", chat_id="grp1", group=True)
    assert await zalo_bot.send(update) == []


async def test_a_zalo_outage_delays_a_reminder_and_loses_nothing(zalo_bot: ZaloBot) -> None:
    await zalo_bot.join(OFFICE_HEAD)
    zalo_bot.owe(OFFICE_HEAD, DIGITAL)
    with zalo_bot.zalo.outage(502):
        result = await zalo_bot.sweep()
    assert (result.sent, result.retried) == (0, 1)
    zalo_bot.school.clock.advance(minutes=10)
    assert (await zalo_bot.sweep()).sent == 1
    sent = zalo_bot.zalo.texts_to(zalo_bot.user(OFFICE_HEAD))
    reminders = [text for text in sent if "Nâng cao chất lượng hồ sơ số" in text]
    assert len(reminders) == 1


async def test_a_sticker_or_voice_message_gets_a_hint_not_silence(zalo_bot: ZaloBot) -> None:
    await zalo_bot.join(OFFICE_HEAD)
    sticker = zalo_bot.zalo.sticker_update(zalo_bot.user(OFFICE_HEAD))
    answer = one(await zalo_bot.send(sticker))
    assert "/huongdan" in answer or "/viec" in answer
