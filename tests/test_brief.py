"""A leader's brief: at most one a day, only with something new, scoped to the units a vice
principal oversees; /tomtat chooses daily, weekly or none; the principal's first morning is
short."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from data import DEFAULT_PLAN
from handlers.chat import Incoming, Reply
from handlers.context import ChatConfig
from handlers.core import ChatCore
from handlers.reminders import compose
from models import (
    BriefFrequency,
    Channel,
    ChatIdentity,
    Member,
    Membership,
    Reminder,
    ReminderKind,
    ReminderStatus,
    Role,
    School,
    Task,
    TaskAssignee,
    TaskStatus,
    Unit,
)
from models.db import session_scope
from scheduler.dispatch import Dispatcher, recipient_context
from scheduler.jobs import FollowUp
from scheduler.preview import preview
from services.people import import_people
from services.plan_files import read_plan
from services.plan_store import import_plan
from services.reminders import CalendarDefaults, plan_all
from tests.chat_school import NOW, PRINCIPAL, TCM_HEAD, Clock
from tests.fake_telegram import SentMessage
from tests.plan_school import import_school, plan_file
from tests.reminder_school import HCM, local
from tests.telegram_harness import TelegramBot, buttons
from tests.test_telegram_reminders import follow_up

OLD_TASKS = "\n".join(
    f"  - {{code: Q.{n:02d}, title: Việc cũ số {n}, unit: VP, deadline: 02/11/2026}}"
    for n in range(1, 21)
)
PLAN = f"""
school: {{code: TOMTAT, name: Trường Tóm Tắt}}
units:
  - {{code: BGH, name: Ban giám hiệu}}
  - {{code: VP, name: Văn phòng}}
  - {{code: TCM, name: Tổ chuyên môn}}
  - {{code: CD, name: Công đoàn}}
tasks:
{OLD_TASKS}
  - {{code: N.1, title: Nộp báo cáo tháng, unit: VP, deadline: 03/12/2026}}
  - {{code: N.2, title: Chuyên đề của tổ, unit: TCM, deadline: 07/12/2026}}
  - {{code: C.1, title: Hội thao công đoàn, unit: CD, deadline: 09/12/2026}}
"""
PEOPLE = """name,unit,role,phone,phu_trach
Hiệu Trưởng,BGH,principal,0900000001,
Phó Hiệu Trưởng,BGH,vice_principal,0900000002,TCM
Trưởng Văn Phòng,VP,unit_head,0900000003,
Tổ Trưởng,TCM,unit_head,0900000005,
"""
CHATS = {"Hiệu Trưởng": "1", "Phó Hiệu Trưởng": "2", "Trưởng Văn Phòng": "3", "Tổ Trưởng": "5"}
TEN_DAYS = [date(2026, 11, 30) + timedelta(days=n) for n in range(10)]  # Mon 30/11 – Wed 09/12


@dataclass
class Recorder:
    """A channel that keeps what it is given to send, and when."""

    clock: Clock
    sent: list[tuple[str, Reply, datetime]] = field(default_factory=list)

    async def send(self, chat_id: str, reply: Reply) -> str:
        self.sent.append((chat_id, reply, self.clock.now))
        return str(len(self.sent))

    def to(self, name: str) -> list[tuple[date, str]]:
        """(local day, text) of each message to `name`."""
        return [
            (at.astimezone(HCM).date(), reply.text)
            for chat, reply, at in self.sent
            if chat == CHATS[name]
        ]


@dataclass
class Week:
    engine: Engine
    clock: Clock
    recorder: Recorder
    service: FollowUp
    core: ChatCore

    async def run(self, days: list[date], hours: tuple[int, ...] = (7, 12, 15)) -> None:
        for day in days:
            for hour in hours:
                self.clock.now = local(day.day, hour, 35, month=day.month)
                await self.service.tick()

    async def blocker_on_saturday(self) -> None:
        """The first six days, with the TCM head reporting N.2 blocked on Saturday at 10:00."""
        await self.run(TEN_DAYS[:6], hours=(7,))
        self.clock.now = local(5, 10)
        assert self.say("Tổ Trưởng", "/vuong N.2 chưa có phòng học bộ môn").startswith("Đã ghi")

    def say(self, name: str, text: str) -> str:
        chat = CHATS[name]
        outcome = self.core.handle(Incoming(Channel.TELEGRAM, chat, chat, text=text))
        return outcome.replies[0].text


@pytest.fixture
def week(engine: Engine, tmp_path: Path) -> Week:
    plan = plan_file(tmp_path, PLAN, "plan.yaml")
    import_school(engine, plan, PEOPLE, now=local(20, 10, month=11))
    with session_scope(engine) as session:
        for name, chat in CHATS.items():
            member = session.exec(select(Member).where(Member.name == name)).one()
            session.add(ChatIdentity(member_id=member.id, channel=Channel.TELEGRAM,
                                     external_user_id=chat, chat_id=chat))  # fmt: skip
    clock = Clock(local(30, 7, 35, month=11))
    recorder = Recorder(clock)
    config = ChatConfig(evidence_dir=tmp_path / "evidence", reports_dir=tmp_path / "reports")
    core = ChatCore(engine, config, clock=clock)
    dispatcher = Dispatcher(engine, config, {Channel.TELEGRAM: recorder}, core.remember,
                            core.mark_unreachable, clock=clock, pacing=0)  # fmt: skip
    return Week(engine, clock, recorder, FollowUp(engine, dispatcher, CalendarDefaults(),
                                                  clock=clock), core)  # fmt: skip


def brief_days(week: Week, name: str) -> dict[date, list[str]]:
    """Each day's briefs to `name` (besides them, only Friday's digest comes)."""
    days: dict[date, list[str]] = {}
    for day, text in week.recorder.to(name):
        assert not text.startswith(("⏰", "📌", "⚠️")), text  # no task reminder
        if text.startswith("📋 <b>Tóm tắt cho thầy/cô</b>"):
            days.setdefault(day, []).append(text)
    return days


async def test_ten_days_with_twenty_overdue_tasks_bring_one_brief_on_each_day_with_news(
    week: Week,
) -> None:
    await week.run(TEN_DAYS[:5])
    await week.blocker_on_saturday()
    await week.run(TEN_DAYS[5:6], hours=(12, 15))
    await week.run(TEN_DAYS[6:])

    briefs = brief_days(week, "Hiệu Trưởng")
    assert all(len(texts) == 1 for texts in briefs.values())
    assert sorted(briefs) == [date(2026, 12, d) for d in (2, 4, 5, 7, 8, 9)]
    # Mon 30/11, Tue 01/12, Thu 03/12: nothing new; Sun 06/12: no school.
    [wednesday] = briefs[date(2026, 12, 2)]
    assert wednesday == (
        "📋 <b>Tóm tắt cho thầy/cô</b> — điểm mới từ 07:30 01/12/2026:\n"
        "1. 📌 <b>C.1</b> Hội thao công đoàn — Công đoàn — còn 7 ngày\n"
        "Còn 20 việc quá hạn khác — xem /baocao.\n"
        "Trả lời theo số, ví dụ <code>1 xong</code> hoặc <code>2 50%</code>.\n"
        "Đổi lịch nhận tóm tắt: /tomtat."
    )  # C.1's unit has no head: it is the principal's to follow, through the brief
    assert (
        "1. ⚠️ <b>N.1</b> Nộp báo cáo tháng — Văn phòng — quá hạn 1 ngày"
        in (briefs[date(2026, 12, 4)][0])
    )
    saturday = briefs[date(2026, 12, 5)][0]
    assert "🔇 Chưa báo cáo 14 ngày nay: Văn phòng, Tổ chuyên môn, Công đoàn." in saturday
    assert "Còn 21 việc quá hạn khác" in saturday
    assert (
        "1. ⛔ <b>N.2</b> Chuyên đề của tổ — Tổ chuyên môn: vướng “chưa có phòng học bộ môn” "
        "(Tổ Trưởng)" in briefs[date(2026, 12, 7)][0]
    )  # the blocker reported on Saturday, in the next brief (Monday's)
    tuesday = briefs[date(2026, 12, 8)][0]
    assert "1. ⚠️ <b>N.2</b> Chuyên đề của tổ — Tổ chuyên môn — quá hạn 1 ngày" in tuesday
    assert "2. 📌 <b>C.1</b> Hội thao công đoàn — Công đoàn — còn 1 ngày" in tuesday
    assert (
        "1. 📌 <b>C.1</b> Hội thao công đoàn — Công đoàn — hạn hôm nay"
        in (briefs[date(2026, 12, 9)][0])
    )
    assert max(len(texts[0]) for texts in briefs.values()) < 600


async def test_a_vice_principal_overseeing_one_unit_hears_only_of_it(week: Week) -> None:
    await week.blocker_on_saturday()
    await week.run(TEN_DAYS[6:])
    briefs = brief_days(week, "Phó Hiệu Trưởng")
    assert sorted(briefs) == [date(2026, 12, d) for d in (5, 7, 8)]
    assert "🔇 Chưa báo cáo 14 ngày nay: Tổ chuyên môn." in briefs[date(2026, 12, 5)][0]
    assert "<b>N.2</b>" in briefs[date(2026, 12, 7)][0]
    assert briefs[date(2026, 12, 8)][0] == (
        "📋 <b>Tóm tắt cho thầy/cô</b> — điểm mới từ 07:30 07/12/2026:\n"
        "1. ⚠️ <b>N.2</b> Chuyên đề của tổ — Tổ chuyên môn — quá hạn 1 ngày\n"
        "Trả lời theo số, ví dụ <code>1 xong</code> hoặc <code>2 50%</code>.\n"
        "Đổi lịch nhận tóm tắt: /tomtat."
    )  # no Văn phòng task, no Công đoàn task, no count of the office's overdue tasks


async def test_a_brief_composed_again_reads_the_same(week: Week) -> None:
    await week.run(TEN_DAYS[:3])
    [(_, sent)] = week.recorder.to("Hiệu Trưởng")
    with session_scope(week.engine) as session:
        [row] = session.exec(
            select(Reminder).where(
                Reminder.kind == ReminderKind.BRIEF, Reminder.status == ReminderStatus.SENT
            )
        ).all()
        ctx = recipient_context(
            session, week.service.dispatcher.config, row, week.clock.now, Channel.TELEGRAM
        )
        [(again, ids)] = compose(ctx, [row])
    assert (again.text, ids) == (sent, [row.id])


async def test_leaders_get_task_reminders_only_for_tasks_given_to_them(week: Week) -> None:
    with session_scope(week.engine) as session:
        task = session.exec(select(Task).where(Task.code == "N.2")).one()
        vice = session.exec(select(Member).where(Member.name == "Phó Hiệu Trưởng")).one()
        session.add(TaskAssignee(task_id=task.id, member_id=vice.id))
    await week.run(TEN_DAYS[:1], hours=(7,))
    assert week.recorder.to("Hiệu Trưởng") == []  # C.1, unit without a head: not one by one
    [(_, reminder)] = week.recorder.to("Phó Hiệu Trưởng")
    assert reminder.startswith("⏰ <b>Nhắc việc sắp đến hạn</b>\n<b>N.2</b>")


async def test_a_leader_heading_a_unit_follows_its_tasks_in_her_brief(week: Week) -> None:
    with session_scope(week.engine) as session:
        vice = session.exec(select(Member).where(Member.name == "Phó Hiệu Trưởng")).one()
        union = session.exec(select(Unit).where(Unit.code == "CD")).one()
        session.add(Membership(member_id=vice.id, unit_id=union.id, role=Role.UNIT_HEAD))
    await week.run(TEN_DAYS[:3])
    [(day, brief)] = week.recorder.to("Phó Hiệu Trưởng")  # no task reminder for C.1
    assert day == date(2026, 12, 2)
    assert "1. 📌 <b>C.1</b> Hội thao công đoàn — Công đoàn — còn 7 ngày" in brief
    assert week.recorder.to("Hiệu Trưởng") == []  # the union has a head now: not his to follow


async def test_a_brief_whose_news_was_settled_before_it_went_out_is_not_sent(
    week: Week,
) -> None:
    await week.run(TEN_DAYS[:2])
    week.clock.now = local(2, 7, 35)
    week.service.plan()  # Wednesday's brief: C.1 comes due in 7 days
    assert week.say("Hiệu Trưởng", "/xong C.1").startswith("Đã ghi")
    result = await week.service.dispatcher.sweep()
    assert result.cancelled == 1
    assert week.recorder.to("Hiệu Trưởng") == []
    with session_scope(week.engine) as session:
        wednesday = session.exec(
            select(Member.name, Reminder.status, Reminder.last_error)
            .join(Member, Member.id == Reminder.recipient_id)
            .where(Reminder.kind == ReminderKind.BRIEF, Reminder.occurrence == date(2026, 12, 2))
            .order_by(Member.name)
        ).all()
    assert wednesday == [
        ("Hiệu Trưởng", ReminderStatus.CANCELLED, "nothing to say"),
        ("Phó Hiệu Trưởng", ReminderStatus.CANCELLED, "nothing new"),
    ]


# --- through Telegram: /tomtat ------------------------------------------------------------------

HIEU, THU, BINH = 101, 105, 106


def mornings(first: date, last: date) -> list[datetime]:
    """07:35 each day from `first` to `last`, Hồ Chí Minh time."""
    days = (last - first).days + 1
    return [local(d.day, 7, 35, month=d.month) for d in (first + timedelta(n) for n in range(days))]


async def briefs_over(bot: TelegramBot, days: list[datetime]) -> list[tuple[date, SentMessage]]:
    """Each morning the bot follows up; then, at 10:00, the TCM head reports a blocker (news
    for the principal's next brief). The principal's briefs, with the day they came."""
    service = follow_up(bot)
    briefs = []
    for morning in days:
        before = len(bot.tg.sent)
        bot.school.clock.now = morning
        await service.tick()
        briefs += [
            (morning.date(), message)
            for message in bot.tg.sent[before:]
            if message["chat_id"] == HIEU and (message["plain_text"] or "").startswith("📋 Tóm tắt")
        ]
        bot.school.clock.now = morning + timedelta(hours=2, minutes=25)
        answer = await bot.say(THU, f"/vuong III.3.5 thiếu dụng cụ ({morning:%d/%m})")
        assert answer[0]["plain_text"].startswith("Đã ghi"), answer
    return briefs


async def test_a_leader_sees_and_chooses_how_often_the_brief_comes(bot: TelegramBot) -> None:
    await bot.join(HIEU, PRINCIPAL)
    [shown] = await bot.say(HIEU, "/tomtat")
    assert shown["plain_text"].startswith(
        "📋 Bản tóm tắt — thầy/cô đang chọn: hằng ngày (sáng mỗi ngày làm việc).\n"
        "Bản tóm tắt chỉ gửi khi có điểm mới"
    )
    assert buttons(shown) == [("✓ Hằng ngày", "t:daily"), ("Hằng tuần", "t:weekly"),
                              ("Tắt", "t:off")]  # fmt: skip
    [pressed] = await bot.press(HIEU, shown, "t:weekly")
    assert pressed["plain_text"].startswith("Đã ghi: thầy/cô nhận bản tóm tắt hằng tuần")
    assert bot.answers()[-1] == "Đã ghi: hằng tuần (sáng ngày làm việc đầu tuần)"
    assert bot.school.member(PRINCIPAL).brief == BriefFrequency.WEEKLY
    for typed, choice in [
        ("hằng ngày", BriefFrequency.DAILY),
        ("Tắt", BriefFrequency.OFF),
        ("hàng ngày", BriefFrequency.DAILY),
        ("hang tuan", BriefFrequency.WEEKLY),
        ("tat", BriefFrequency.OFF),
        ("hang ngay", BriefFrequency.DAILY),
    ]:
        await bot.say(HIEU, f"/tomtat {typed}")
        assert bot.school.member(PRINCIPAL).brief == choice, typed
    [english] = await bot.say(HIEU, "/brief weekly")
    assert english["plain_text"].startswith("Đã ghi: thầy/cô nhận bản tóm tắt hằng tuần")
    [usage] = await bot.say(HIEU, "/tomtat thứ hai")
    assert usage["plain_text"].startswith(
        "Chưa rõ lựa chọn “thứ hai”. Xin thầy/cô gõ /tomtat hang ngay, /tomtat hang tuan hoặc "
        "/tomtat tat"
    )
    assert bot.school.member(PRINCIPAL).brief == BriefFrequency.WEEKLY


async def test_only_leaders_choose_a_brief(bot: TelegramBot) -> None:
    await bot.join(BINH, "Đỗ Văn Bình")
    [denied] = await bot.say(BINH, "/tomtat tat")
    assert denied["plain_text"].startswith("Bản tóm tắt dành cho Ban giám hiệu.")
    [pressed] = await bot.press(BINH, denied, "t:off", check_button=False)
    assert pressed["plain_text"].startswith("Bản tóm tắt dành cho Ban giám hiệu.")
    assert bot.school.member("Đỗ Văn Bình").brief == BriefFrequency.DAILY


async def test_help_for_leaders_mentions_tomtat(bot: TelegramBot) -> None:
    await bot.join(HIEU, PRINCIPAL)
    [help_text] = await bot.say(HIEU, "/huongdan")
    assert (
        "/tomtat — nhận tóm tắt điểm mới hằng ngày, hằng tuần, hoặc tắt"
        in (help_text["plain_text"])
    )


async def test_tomtat_tat_stops_the_briefs(bot: TelegramBot) -> None:
    await bot.join(HIEU, PRINCIPAL)
    await bot.join(THU, TCM_HEAD)
    first = await briefs_over(bot, mornings(date(2026, 11, 27), date(2026, 11, 28)))
    assert [day for day, _ in first] == [date(2026, 11, 27), date(2026, 11, 28)]
    assert "⛔ III.3.5" in first[1][1]["plain_text"]  # Friday's blocker, in Saturday's brief
    await bot.say(HIEU, "/tomtat tat")
    assert await briefs_over(bot, mornings(date(2026, 11, 30), date(2026, 12, 12))) == []


async def test_a_weekly_brief_comes_on_the_first_working_morning_of_each_week(
    bot: TelegramBot,
) -> None:
    await bot.join(HIEU, PRINCIPAL)
    await bot.join(THU, TCM_HEAD)
    await bot.say(HIEU, "/tomtat hang tuan")  # on Thursday 26/11: nothing more this week
    sent = await briefs_over(bot, mornings(date(2026, 11, 27), date(2026, 12, 12)))
    assert [day for day, _ in sent] == [date(2026, 11, 30), date(2026, 12, 7)]
    last = sent[-1][1]
    assert last["plain_text"].startswith("📋 Tóm tắt cho thầy/cô — điểm mới từ 07:30 30/11/2026:")
    assert "vướng “thiếu dụng cụ (06/12)”" in last["plain_text"]  # the week's latest blocker
    [answer] = await bot.reply(HIEU, last, "1 xong")
    assert answer["plain_text"].startswith("Đã ghi")
    assert bot.school.task("III.3.5").status == TaskStatus.DONE


# --- the principal's morning with the default plan ---------------------------------------------


def test_the_principals_first_morning_with_the_default_plan_is_one_short_brief(
    engine: Engine, tmp_path: Path
) -> None:
    people = tmp_path / "people.csv"
    people.write_text(f"name,unit,role,phone\n{PRINCIPAL},BGH,Hiệu trưởng,0900000001\n")
    with session_scope(engine) as session:
        import_plan(session, read_plan(DEFAULT_PLAN), now=NOW)
        import_people(session, session.exec(select(School)).one(), people)
    config = ChatConfig(evidence_dir=tmp_path / "evidence", reports_dir=tmp_path / "reports")
    morning = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # Tuesday 08:00 in Hồ Chí Minh City
    text = preview(engine, morning, config, CalendarDefaults())
    assert text.startswith(
        f"── Gửi {PRINCIPAL} (chưa liên kết) ──\n"
        "📋 Tóm tắt cho thầy/cô — điểm mới từ 07:30 30/11/2026:\n"
    )  # Monday's brief time: where the brief before it would have been
    assert text.count("── Gửi") == 1  # no task reminder, no escalation: one brief
    assert "bị lỡ" not in text  # the first run after the import missed nothing
    assert len(text) < 1_000
    with session_scope(engine) as session:
        assert session.exec(select(Reminder)).all() == []  # a dry run
        plan_all(session, morning, CalendarDefaults())
        kinds = session.exec(select(Reminder.kind).distinct()).all()
    assert kinds == [ReminderKind.BRIEF]
