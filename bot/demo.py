"""`dondoc demo`: the default plan on a fresh SQLite database, no token and no set-up needed;
then a simulated school week on a virtual clock. Reminders go out through the console channel,
the scripted replies and button presses of `data/demo-week.yaml` come back, and Friday's digest
is printed, its workbook and chart written to the output folder. It takes seconds."""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy.engine import Engine
from sqlmodel import col, func, select

from bot.console import ConsoleChannel, ConsoleSender
from data import DEFAULT_PLAN, DEMO_PEOPLE, DEMO_WEEK
from handlers.context import ChatConfig
from handlers.core import ChatCore
from messages import format_date, t
from models import (
    Channel,
    Member,
    Membership,
    ProgressUpdate,
    Reminder,
    ReminderKind,
    ReminderStatus,
    Role,
    Unit,
)
from models.db import make_engine, session_scope, upgrade_schema
from scheduler.dispatch import Dispatcher
from scheduler.jobs import FollowUp
from services.joining import link_console
from services.overview import render_overview
from services.people import import_people
from services.plan_files import read_plan
from services.plan_store import import_plan
from services.recurrence import WEEKDAYS
from services.reminders import CalendarDefaults
from services.schools import resolve_school

SCHOOL_HOURS = [time(hour, minute) for hour in range(7, 18) for minute in (0, 30)][1:]  # 07:30…
MESSAGE_LINES = 14  # longer messages are cut in the week's log; the digest is printed whole


@dataclass(frozen=True)
class Event:
    at: datetime
    who: str
    say: str | None = None
    press: str | None = None


class VirtualClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def run_demo(out_dir: Path, now: datetime, write: Callable[[str], None] = print) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    database = out_dir / "dondoc-demo.db"
    for leftover in (database, *(database.with_name(database.name + s) for s in ("-wal", "-shm"))):
        leftover.unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{database}")
    try:
        upgrade_schema(engine)
        with session_scope(engine) as session:
            import_plan(session, read_plan(DEFAULT_PLAN), now=now)
            school = resolve_school(session, None)
            today = now.astimezone(ZoneInfo(school.timezone)).date()
            write(render_overview(session, school, today))
        write("")
        asyncio.run(_play_week(engine, out_dir, write))
    finally:
        engine.dispose()
    write("")
    write(t("overview.demo_db", path=database))


async def _play_week(engine: Engine, out_dir: Path, write: Callable[[str], None]) -> None:
    script = yaml.safe_load(DEMO_WEEK.read_text(encoding="utf-8"))
    monday: date = script["week_of"]
    with session_scope(engine) as session:
        school = resolve_school(session, None)
        tz = ZoneInfo(school.timezone)
        import_people(session, school, DEMO_PEOPLE)
        members = session.exec(select(Member).where(Member.school_id == school.id)).all()
        users = {
            m.name: link_console(session, m, datetime.combine(monday, time(6), tz)) for m in members
        }
        units = _units_of(session, [m.id for m in members])
    clock = VirtualClock(datetime.combine(monday, time(6), tz))
    log = WeekLog(write, clock, tz)
    core = ChatCore(
        engine, ChatConfig(evidence_dir=out_dir / "evidence", reports_dir=out_dir), clock=clock
    )
    channels = {
        user_id: ConsoleChannel(core, user_id, write=log.from_bot(name, units.get(name, "")))
        for name, user_id in users.items()
    }
    dispatcher = Dispatcher(
        engine, core.config, {Channel.CONSOLE: ConsoleSender(channels)}, core.remember,
        core.mark_unreachable, clock=clock, worker="demo", pacing=0,
    )  # fmt: skip
    follow_up = FollowUp(engine, dispatcher, CalendarDefaults(), clock=clock)
    events = [_event(item, monday, tz) for item in script["events"]]
    write(t("demo.week", start=format_date(monday), end=format_date(monday + timedelta(days=4))))
    for moment in _moments(monday, tz, events):
        clock.now = moment
        log.day(moment)
        for event in (e for e in events if e.at == moment):
            channel = channels[users[event.who]]
            log.person(event.who, event.say or t("demo.pressed", label=event.press))
            channel.on_line(event.say) if event.say else channel.press(event.press)
        await follow_up.tick()
    principal, sent_at = _principals_digest(engine)
    write("")
    write(t("demo.digest", name=principal))
    write(log.received_at(principal, sent_at))
    write("")
    write(_summary(engine, log.digest_files(out_dir)))


def _event(item: dict, monday: date, tz: ZoneInfo) -> Event:
    weekday, _, moment = item["at"].partition(" ")
    day = monday + timedelta(days=WEEKDAYS.index(weekday))
    at = datetime.combine(day, time.fromisoformat(moment), tz)
    return Event(at, item["who"], item.get("say"), item.get("press"))


def _moments(monday: date, tz: ZoneInfo, events: list[Event]) -> list[datetime]:
    ticks = {
        datetime.combine(monday + timedelta(days=d), moment, tz)
        for d in range(5)
        for moment in SCHOOL_HOURS
    }
    return sorted(ticks | {event.at for event in events})


def _units_of(session, member_ids: list[int]) -> dict[str, str]:
    rows = session.exec(
        select(Member.name, Unit.name)
        .join(Membership, col(Membership.member_id) == col(Member.id))
        .join(Unit, col(Unit.id) == col(Membership.unit_id))
        .where(col(Member.id).in_(member_ids))
    ).all()
    return dict(rows)


def _principals_digest(engine: Engine) -> tuple[str, datetime]:
    """The principal's name and when the weekly digest was sent to them."""
    with session_scope(engine) as session:
        return session.exec(
            select(Member.name, Reminder.sent_at)
            .join(Membership, col(Membership.member_id) == col(Member.id))
            .join(Reminder, col(Reminder.recipient_id) == col(Member.id))
            .where(Membership.role == Role.PRINCIPAL, Reminder.kind == ReminderKind.DIGEST)
        ).one()


def _summary(engine: Engine, files: list[Path]) -> str:
    with session_scope(engine) as session:
        sent = session.exec(
            select(func.count()).select_from(Reminder).where(Reminder.status == ReminderStatus.SENT)
        ).one()
        updates = session.exec(select(func.count()).select_from(ProgressUpdate)).one()
    lines = [t("demo.summary", reminders=sent, updates=updates)]
    lines += [t("demo.file", path=path) for path in files]
    return "\n".join(lines)


class WeekLog:
    """The week as it reads in the terminal: each day, who said what, and what the bot sent."""

    def __init__(self, write: Callable[[str], None], clock: VirtualClock, tz: ZoneInfo) -> None:
        self.write = write
        self.clock = clock
        self.tz = tz
        self.current_day: date | None = None
        self.speaker: tuple[str, datetime] | None = None
        self.received: dict[str, list[tuple[datetime, str]]] = {}

    def day(self, moment: datetime) -> None:
        if moment.date() != self.current_day:
            self.current_day = moment.date()
            weekday = t(f"weekday.{moment.weekday()}")
            self.write(
                t("demo.day", weekday=weekday[0].upper() + weekday[1:], date=format_date(moment))
            )

    def person(self, name: str, text: str) -> None:
        self.speaker = None
        self.write(t("demo.person", time=self._time(), name=name, text=text))

    def from_bot(self, name: str, unit: str) -> Callable[[str], None]:
        def write(text: str) -> None:
            self.received.setdefault(name, []).append((self.clock.now, text))
            if self.speaker != (name, self.clock.now):
                self.speaker = (name, self.clock.now)
                self.write(t("demo.bot", time=self._time(), name=name, unit=unit))
            lines = text.splitlines()
            shown = lines if len(lines) <= MESSAGE_LINES else lines[:MESSAGE_LINES]
            self.write("\n".join(f"      {line}" for line in shown))
            if len(lines) > len(shown):
                self.write(t("demo.more_lines", count=len(lines) - len(shown)))

        return write

    def received_at(self, name: str, moment: datetime) -> str:
        """Everything `name` received at `moment`, in full."""
        return "\n\n".join(text for at, text in self.received.get(name, []) if at == moment)

    def digest_files(self, out_dir: Path) -> list[Path]:
        return sorted(out_dir.rglob("*.xlsx")) + sorted(out_dir.rglob("*.png"))

    def _time(self) -> str:
        return self.clock.now.astimezone(self.tz).strftime("%H:%M")
