"""The school's register (DESIGN.md §5): the bot says "thầy/cô", never "bạn", and never calls
itself "mình"/"tôi"; help shows each person only the commands their role can use."""

import re
import string

import pytest
from sqlmodel import select

from messages import CATALOG, addressing, t
from models import Member
from tests.chat_school import OFFICE_HEAD, OFFICE_STAFF, PRINCIPAL, TCM_HEAD, TEACHER
from tests.telegram_harness import TelegramBot, texts

FAMILIAR = re.compile(r"(?<!\w)(bạn|mình|tôi)(?!\w)", re.IGNORECASE)
ADDRESSING = {"you", "You", "you_name"}
PRINCIPAL_ID, HEAD_ID, STAFF_ID, TEACHER_ID, MAI_ID = 201, 202, 203, 204, 205


def test_no_vietnamese_text_says_ban_minh_or_toi() -> None:
    familiar = {
        key: match.group(0)
        for key, entry in CATALOG.items()
        if (match := FAMILIAR.search(entry["vi"]))
    }
    assert familiar == {}


@pytest.mark.parametrize("locale", ["vi", "en"])
@pytest.mark.parametrize("salutation", [None, "thầy", "cô"])
def test_every_addressed_text_renders_for_anyone(locale: str, salutation: str | None) -> None:
    """{you}/{You}/{you_name} work with a member of any salutation and for a stranger."""
    member = Member(school_id=1, name="Trần Thị Mai", salutation=salutation)
    for who in (member, None):
        words = addressing(who, locale)
        for key, entry in CATALOG.items():
            fields = {name for _, name, _, _ in string.Formatter().parse(entry[locale]) if name}
            if fields & ADDRESSING:
                others = {name: "x" for name in fields - ADDRESSING}
                rendered = t(key, locale, **words, **others)
                assert "{" not in rendered and not FAMILIAR.search(rendered), (key, rendered)


async def help_of(bot: TelegramBot, user_id: int) -> str:
    sent = await bot.say(user_id, "/huongdan")
    assert len(sent) == 1, sent
    return sent[0]["plain_text"]


async def test_help_depends_on_the_role(bot: TelegramBot) -> None:
    await bot.join(STAFF_ID, OFFICE_STAFF)
    await bot.join(TEACHER_ID, TEACHER)
    await bot.join(HEAD_ID, TCM_HEAD)
    await bot.join(PRINCIPAL_ID, PRINCIPAL)
    staff, teacher = await help_of(bot, STAFF_ID), await help_of(bot, TEACHER_ID)
    head, principal = await help_of(bot, HEAD_ID), await help_of(bot, PRINCIPAL_ID)

    common = ["/viec", "/capnhat", "/xong", "/vuong", "/chiso — xem", "/ngonngu", "III.1.4 xong"]
    for shown in (staff, teacher, head, principal):
        assert shown.startswith("Cách dùng\n/viec")
        assert all(part in shown for part in common), shown
    assert staff == teacher
    for absent in ("/baocao", "/giao", "/lienket", "/chiso mã giá trị"):
        assert absent not in staff
    assert "/giao mã [người] — giao việc của tổ cho thành viên" in head
    assert "/lienket" in head
    assert "/baocao" not in head and "/chiso mã giá trị" not in head
    assert "/baocao" in principal
    assert "/chiso mã giá trị — ghi chỉ số" in principal
    assert "/giao mã [người] — giao bất kỳ việc nào" in principal
    assert principal.count("/giao") == 1


async def test_help_follows_the_greeting_on_joining_and_on_start(bot: TelegramBot) -> None:
    sent = await bot.say(HEAD_ID, f"/start {bot.school.codes[OFFICE_HEAD]}")
    assert sent[0]["plain_text"] == (
        "Chào thầy/cô Trần Thị Mai! Tài khoản đã được liên kết. Từ nay hệ thống sẽ nhắc việc và "
        "nhận báo cáo của thầy/cô."
    )
    assert "/giao" in sent[1]["plain_text"] and "/baocao" not in sent[1]["plain_text"]
    again = await bot.say(HEAD_ID, "/start")
    assert again[0]["plain_text"] == "Chào thầy/cô Trần Thị Mai!"
    assert again[1]["plain_text"] == sent[1]["plain_text"]


def set_salutation(bot: TelegramBot, name: str, salutation: str) -> None:
    with bot.school.session() as session:
        member = session.exec(select(Member).where(Member.name == name)).one()
        member.salutation = salutation
        session.add(member)
        session.commit()


async def test_a_known_salutation_greets_by_given_name(bot: TelegramBot) -> None:
    set_salutation(bot, OFFICE_HEAD, "cô")
    sent = await bot.say(MAI_ID, f"/start {bot.school.codes[OFFICE_HEAD]}")
    assert sent[0]["plain_text"].startswith("Chào cô Mai! Tài khoản đã được liên kết.")
    assert sent[0]["plain_text"].endswith("nhận báo cáo của cô.")
    assert texts(await bot.say(MAI_ID, "/start")).startswith("Chào cô Mai!\n")
    shown = texts(await bot.say(MAI_ID, "/chiso dropout 0,4"))
    assert shown.endswith("ghi được chỉ số. Cô vẫn xem được bằng /chiso.")


async def test_a_teacher_called_thay_is_addressed_so(bot: TelegramBot) -> None:
    set_salutation(bot, OFFICE_STAFF, "thầy")
    sent = await bot.say(STAFF_ID, f"/start {bot.school.codes[OFFICE_STAFF]}")
    assert sent[0]["plain_text"].startswith("Chào thầy Nam!")
    shown = texts(await bot.say(STAFF_ID, "/abc"))
    assert shown == "Không có lệnh /abc. Xin thầy gõ /huongdan để xem các lệnh."


async def test_a_stranger_is_addressed_as_thay_co(bot: TelegramBot) -> None:
    shown = texts(await bot.say(999, "/viec"))
    assert shown.startswith("Xin chào thầy/cô! Đây là hệ thống đôn đốc công việc của nhà trường.")
    assert "Thầy/cô vui lòng xin mã mời" in shown
