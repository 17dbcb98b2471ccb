"""Commands in a group, where several bots read the same messages: Telegram delivers
`/viec@other_bot` to every bot of the group, and only the named bot answers it."""

import pytest

from models import TaskStatus
from tests.chat_school import OFFICE_HEAD
from tests.db_state import snapshot
from tests.telegram_harness import GROUP, TelegramBot, texts

MAI = 103  # the office head's Telegram user id
STRANGER = 999


async def in_group(bot: TelegramBot, user_id: int, text: str):
    return await bot.say(user_id, text, chat_id=GROUP, chat_type="supergroup", chat_title="Tổ VP")


@pytest.fixture
async def group(bot: TelegramBot) -> TelegramBot:
    """The office head has joined and linked the group to her unit."""
    await bot.join(MAI, OFFICE_HEAD)
    assert "Đã liên kết nhóm này với Văn phòng" in texts(await in_group(bot, MAI, "/lienket"))
    return bot


@pytest.mark.parametrize(
    ("user_id", "text"),
    [
        (MAI, "/viec@other_bot"),
        (MAI, "/viec@other_bot III.4.2"),
        (MAI, "/xong@Other_Bot III.4.2"),
        (MAI, "/huongdan@other_bot"),
        (STRANGER, "/start@other_bot"),
        (STRANGER, "/viec@other_bot"),
    ],
)
async def test_a_command_for_another_bot_is_ignored_entirely(
    group: TelegramBot, user_id: int, text: str
) -> None:
    before = snapshot(group.school.engine)
    calls = len(group.tg.calls)

    assert await in_group(group, user_id, text) == []

    assert group.tg.calls[calls:] == []
    assert snapshot(group.school.engine) == before
    assert group.school.task("III.4.2").status == TaskStatus.TODO


@pytest.mark.parametrize("text", ["/viec III.4.2", "/viec@dondoc_test_bot III.4.2"])
async def test_a_command_for_this_bot_or_for_no_bot_in_particular_is_answered(
    group: TelegramBot, text: str
) -> None:
    sent = await in_group(group, MAI, text)
    assert "III.4.2 — Nâng cao chất lượng hồ sơ số" in texts(sent)
    assert sent[-1]["reply_markup"]


async def test_this_bots_name_is_matched_whatever_its_case(group: TelegramBot) -> None:
    sent = await in_group(group, MAI, "/xong@DonDoc_Test_Bot III.4.2")
    assert sent
    assert group.school.task("III.4.2").status == TaskStatus.DONE
