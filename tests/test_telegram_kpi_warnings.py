"""KPI warnings through the real Telegram path: values recorded with /chiso, the projection in
the answer, and one warning to the principal when a series turns at risk of missing its target.

The series (teachers_standard: at least 99% by 31/12/2026), least squares over the last 4 days:
01/10 99,8 → 29/10 99,7 (99,48% by 31/12: on track) → 26/11 99,2 (98,89%: at risk, warned)
→ 03/12 99,0 (98,73%: still at risk) → 10/12 100 (99,39%: back on track)
→ 17/12 98,6 (98,92%: at risk again, warned again)."""

from datetime import UTC, datetime

from sqlmodel import select

from models import Member, Reminder, ReminderKind
from models.db import session_scope
from tests.chat_school import PRINCIPAL, VICE
from tests.fake_telegram import SentMessage
from tests.telegram_harness import TelegramBot, texts
from tests.test_telegram_reminders import follow_up

HIEU, LAN = 101, 102
NAME = "Giáo viên đạt chuẩn theo Nghị quyết số 71-NQ/TW"
HEADER = "⚠️ Chỉ số có nguy cơ không đạt mục tiêu"


def on(bot: TelegramBot, day: str) -> None:
    """Set the clock to 10:00 in Hồ Chí Minh City on `day` (dd/mm) of 2026."""
    moment = datetime.strptime(f"{day}/2026 03:00", "%d/%m/%Y %H:%M").replace(tzinfo=UTC)
    bot.school.clock.now = moment


async def record(bot: TelegramBot, day: str, value: str, user_id: int = HIEU) -> str:
    on(bot, day)
    return texts(await bot.say(user_id, f"/chiso teachers_standard {value}"))


async def warnings_after_follow_up(bot: TelegramBot, day: str) -> list[SentMessage]:
    on(bot, day)
    before = len(bot.tg.sent)
    await follow_up(bot).tick()
    sent = bot.tg.sent[before:]
    return [m for m in sent if "chỉ số có nguy cơ" in m["plain_text"].splitlines()[0].lower()]


def warning(value: str, day: str, projected: str) -> str:
    return (
        f"{HEADER}\n• {NAME} [teachers_standard]: mới nhất {value} ({day}/2026); dự báo đến "
        f"31/12/2026: {projected} — có nguy cơ không đạt mục tiêu ít nhất 99%.\n"
        "Xin thầy/cô xem các lần ghi bằng /chiso mã để có biện pháp kịp thời."
    )


def warning_rows(bot: TelegramBot) -> list[Reminder]:
    with bot.school.session() as session:
        return list(
            session.exec(
                select(Reminder).where(Reminder.kind == ReminderKind.KPI_RISK).order_by(Reminder.id)
            )
        )


async def test_a_series_crossing_its_target_warns_the_principal_once(bot: TelegramBot) -> None:
    await bot.join(HIEU, PRINCIPAL)
    await bot.join(LAN, VICE)
    first = await record(bot, "01/10", "99,8")
    assert first == f"Đã ghi {NAME}: 99,8%\nMục tiêu 2026: ít nhất 99% — đạt"  # no trend yet
    assert await record(bot, "29/10", "99,7", LAN) == (
        f"Đã ghi {NAME}: 99,7%\nMục tiêu 2026: ít nhất 99% — đạt\n"
        "Dự báo đến 31/12/2026: 99,48% — đạt mục tiêu ít nhất 99%"
    )
    assert await record(bot, "26/11", "99,2") == (
        f"Đã ghi {NAME}: 99,2%\nMục tiêu 2026: ít nhất 99% — đạt\n"
        "Dự báo đến 31/12/2026: 98,89% — có nguy cơ không đạt mục tiêu ít nhất 99%"
    )
    [sent] = await warnings_after_follow_up(bot, "26/11")
    assert sent["chat_id"] == HIEU  # the principal only, not the vice principal
    assert sent["plain_text"] == warning("99,2%", "26/11", "98,89%")

    answer = await record(bot, "03/12", "99")
    assert answer.endswith(
        "Dự báo đến 31/12/2026: 98,73% — có nguy cơ không đạt mục tiêu ít nhất 99%"
    )
    assert await warnings_after_follow_up(bot, "03/12") == []  # still at risk: nothing new
    assert len(warning_rows(bot)) == 1

    answer = await record(bot, "10/12", "100")
    assert answer.endswith("Dự báo đến 31/12/2026: 99,39% — đạt mục tiêu ít nhất 99%")
    await record(bot, "17/12", "98,6", LAN)
    [again] = await warnings_after_follow_up(bot, "17/12")
    assert (again["chat_id"], again["plain_text"]) == (HIEU, warning("98,6%", "17/12", "98,92%"))
    assert [row.recipient_id for row in warning_rows(bot)] == [bot.school.member(PRINCIPAL).id] * 2
    assert await warnings_after_follow_up(bot, "18/12") == []
    assert texts(await bot.say(HIEU, "/chiso teachers_standard")) == (
        f"{NAME} [teachers_standard]\nMục tiêu 2026: ít nhất 99% — chưa đạt\n"
        "Dự báo đến 31/12/2026: 98,92% — có nguy cơ không đạt mục tiêu ít nhất 99%\n"
        "• 17/12/2026: 98,6%\n• 10/12/2026: 100%\n• 03/12/2026: 99%\n• 26/11/2026: 99,2%\n"
        "• 29/10/2026: 99,7%"
    )


async def test_without_a_principal_the_vice_principals_are_warned(bot: TelegramBot) -> None:
    await bot.join(LAN, VICE)
    with session_scope(bot.school.engine) as session:
        principal = session.exec(select(Member).where(Member.name == PRINCIPAL)).one()
        principal.active = False
        session.add(principal)
    await record(bot, "20/11", "97", LAN)  # a single value below the target, five weeks ahead
    [sent] = await warnings_after_follow_up(bot, "20/11")
    assert sent["chat_id"] == LAN
    assert sent["plain_text"] == warning("97%", "20/11", "97%")


async def test_several_kpis_at_risk_come_in_one_message(bot: TelegramBot) -> None:
    await bot.join(HIEU, PRINCIPAL)
    await record(bot, "20/11", "98")
    on(bot, "20/11")
    await bot.say(HIEU, "/chiso pcgd 2")
    await bot.say(HIEU, "/chiso efficiency 96")  # not above 96%
    [sent] = await warnings_after_follow_up(bot, "20/11")
    lines = sent["plain_text"].splitlines()
    assert lines[0] == "⚠️ 3 chỉ số có nguy cơ không đạt mục tiêu"
    assert lines[2] == (
        "• Duy trì phổ cập giáo dục THCS [pcgd]: mới nhất mức độ 2 (20/11/2026); dự báo đến "
        "31/12/2026: mức độ 2 — có nguy cơ không đạt mục tiêu duy trì mức độ 3."
    )
    assert lines[3].endswith("— có nguy cơ không đạt mục tiêu trên 96%.")
