"""`dondoc demo`: the default plan on a fresh SQLite database, no token and no set-up needed;
then a simulated school week on a virtual clock. Reminders go out through the console channel,
the scripted replies and button presses of `data/demo-week.yaml` come back, and Friday's digest
is written with its workbook and chart. It takes seconds.

The terminal gets a short story of the week (at most MAX_STORY_LINES lines): one line per
message, its gist taken from whatever the bot sent, the principal's digest in full, then where
the files are. Every message in full, as each person's console shows it, goes to TRANSCRIPT."""

import asyncio
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import groupby
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from bot.channels import CHANNELS
from bot.console import ConsoleChannel, ConsoleSender
from data import DEFAULT_PLAN, DEMO_PEOPLE, DEMO_WEEK
from handlers.chat import Reply
from handlers.context import ChatConfig
from handlers.core import ChatCore
from messages import format_date, t
from messages.rich import plain
from models import (
    Channel,
    Kpi,
    Member,
    Membership,
    ProgressUpdate,
    Reminder,
    ReminderKind,
    Role,
    School,
    Task,
    Unit,
)
from models.db import make_engine, session_scope, upgrade_schema
from scheduler.dispatch import Dispatcher
from scheduler.jobs import FollowUp
from services.joining import link_console
from services.overview import render_overview
from services.people import import_people
from services.plan_files import plan_as_data, read_plan
from services.plan_schema import PlanFile
from services.plan_store import import_plan
from services.progress import is_report
from services.recurrence import WEEKDAYS
from services.reminders import CalendarDefaults
from services.schools import resolve_school

SCHOOL_HOURS = [time(hour, minute) for hour in range(7, 18) for minute in (0, 30)][1:]  # 07:30…
TRANSCRIPT = "nhat-ky-tuan.txt"  # every message in full, in the output folder
MAX_STORY_LINES = 150  # the whole story in the terminal, whatever the messages say
SHOWN_PER_DAY = 6  # messages the bot starts shown per day; fewer if the story would be too long
WIDTH = 120  # a story line longer than this is cut
GIST_MIN = 25  # a message's gist takes its next lines until it is this long
GIST_CODES = 3  # task codes named in a gist; more are "…"
INDENT = "      "
FILE_LABELS = {".xlsx": "demo.workbook", ".png": "demo.chart"}


@dataclass(frozen=True)
class Event:
    at: datetime
    who: str
    say: str | None = None
    press: str | None = None


@dataclass(frozen=True)
class Said:
    """A person's scripted words or button press."""

    at: datetime
    name: str
    text: str


@dataclass(frozen=True, eq=False)
class Sent:
    """A message of the bot: its recipient, its gist for the story, and what the person read."""

    at: datetime
    name: str
    unit: str
    gist: str
    text: str
    files: tuple[Path, ...]
    answers: str | None  # the person whose words or button it answers, if any


class VirtualClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def run_demo(out_dir: Path, write: Callable[[str], None] = print) -> None:
    """The school imports its plan on the Monday morning of the scripted week, then lives it:
    everything runs on the virtual clock, so the demo tells the same week whatever the date."""
    out_dir.mkdir(parents=True, exist_ok=True)
    database = out_dir / "dondoc-demo.db"
    for leftover in (database, *(database.with_name(database.name + s) for s in ("-wal", "-shm"))):
        leftover.unlink(missing_ok=True)
    script = yaml.safe_load(DEMO_WEEK.read_text(encoding="utf-8"))
    monday: date = script["week_of"]
    week_line = t("demo.week", start=format_date(monday), end=format_date(monday + timedelta(4)))
    engine = make_engine(f"sqlite:///{database}")
    try:
        upgrade_schema(engine)
        plan = adopted(read_plan(DEFAULT_PLAN), script.get("adopted", {}))
        start = datetime.combine(monday, time(6), ZoneInfo(plan.school.timezone))
        with session_scope(engine) as session:
            import_plan(session, plan, now=start)
            school = resolve_school(session, None)
            overview = render_overview(session, school, monday)
            intro = [*_introduction(session, school, database), week_line]
        write("\n".join(intro))
        week = asyncio.run(_play_week(engine, out_dir, script))
        digest, ending = _ending(engine, week, out_dir / TRANSCRIPT, database)
    finally:
        engine.dispose()
    (out_dir / TRANSCRIPT).write_text(
        "\n".join([overview, "", week_line, *week.transcript, ""]), encoding="utf-8"
    )
    write(
        "\n".join(_told_within(week, digest, MAX_STORY_LINES - len(intro) - len(ending)) + ending)
    )


def adopted(plan: PlanFile, states: dict[str, dict]) -> PlanFile:
    """The plan as the demo school adopts it mid-year: the state of the tasks already under way
    or done (status, progress, done_on), written the way a plan file writes them."""
    data = plan_as_data(plan)
    for task in data["tasks"]:
        task.update(states.get(task["code"], {}))
    return PlanFile.model_validate(data)


def _told_within(week: "Week", digest: list[Sent], room: int) -> list[str]:
    """The week's story with as many of the bot's own messages a day as fit in `room` lines."""
    for shown in range(SHOWN_PER_DAY, 0, -1):
        lines = week.story(shown, keep=digest)
        if len(lines) <= room:
            return lines
    return week.story(0, keep=digest)


def _introduction(session: Session, school: School, database: Path) -> list[str]:
    def count(model: type[Unit] | type[Task] | type[Kpi]) -> int:
        query = select(func.count()).select_from(model).where(model.school_id == school.id)
        return session.exec(query).one()

    return [
        t("demo.title", school=school.name),
        *([school.plan_title] if school.plan_title else []),
        t("demo.plan", units=count(Unit), tasks=count(Task), kpis=count(Kpi)),
        *([t("overview.proposed_note")] if _any_proposed(session, school) else []),
        t("overview.demo_db", path=database),
    ]


def _any_proposed(session: Session, school: School) -> bool:
    query = select(Task.id).where(Task.school_id == school.id, Task.date_proposed)
    return session.exec(query).first() is not None


async def _play_week(engine: Engine, out_dir: Path, script: dict) -> "Week":
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
        tasks = session.exec(
            select(Task.id, Task.code, Task.title).where(Task.school_id == school.id)
        ).all()
    clock = VirtualClock(datetime.combine(monday, time(6), tz))
    week = Week(clock, {task_id: (code, title) for task_id, code, title in tasks})
    config = ChatConfig(evidence_dir=out_dir / "evidence", reports_dir=out_dir, channels=CHANNELS)
    core = ChatCore(engine, config, clock=clock)
    channels: dict[str, ConsoleChannel] = {
        user_id: DemoChannel(core, user_id, week, name, units.get(name, ""))
        for name, user_id in users.items()
    }
    dispatcher = Dispatcher(
        engine, core.config, {Channel.CONSOLE: ConsoleSender(channels)}, core.remember,
        core.mark_unreachable, clock=clock, worker="demo", pacing=0,
    )  # fmt: skip
    follow_up = FollowUp(engine, dispatcher, CalendarDefaults(), clock=clock)
    events = [_event(item, monday, tz) for item in script["events"]]
    for moment in _moments(monday, tz, events):
        clock.now = moment
        week.day(moment)
        for event in (e for e in events if e.at == moment):
            channel = channels[users[event.who]]
            week.said(event.who, event.say or t("demo.pressed", label=event.press))
            if event.say:
                channel.on_line(event.say)
            elif event.press is not None:
                channel.press(event.press)
            week.speaker = None
        await follow_up.tick()
    return week


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


def _units_of(session: Session, member_ids: list[int]) -> dict[str, str]:
    rows = session.exec(
        select(Member.name, Unit.name)
        .join(Membership, col(Membership.member_id) == col(Member.id))
        .join(Unit, col(Unit.id) == col(Membership.unit_id))
        .where(col(Member.id).in_(member_ids))
    ).all()
    return dict(rows)


def _ending(
    engine: Engine, week: "Week", transcript: Path, database: Path
) -> tuple[list[Sent], list[str]]:
    """The digest the principal got on Friday, and how the story ends: that digest in full as
    the principal read it, then the week in numbers and where the files are."""
    with session_scope(engine) as session:
        principal, sent_at = session.exec(
            select(Member.name, Reminder.sent_at)
            .join(Membership, col(Membership.member_id) == col(Member.id))
            .join(Reminder, col(Reminder.recipient_id) == col(Member.id))
            .where(Membership.role == Role.PRINCIPAL, Reminder.kind == ReminderKind.DIGEST)
        ).one()
        updates = session.exec(
            select(func.count()).select_from(ProgressUpdate).where(is_report())
        ).one()  # what people reported, not the state the school adopted with
    assert sent_at is not None, "Friday's digest is sent by the end of the week"
    digest = week.digest(principal, sent_at)
    moment = sent_at.astimezone(week.clock.now.tzinfo)
    lines = ["", t("demo.digest", name=principal, time=_time(moment), date=format_date(moment))]
    lines += "\n\n".join(message.text for message in digest).splitlines()
    lines += ["", t("demo.summary", messages=week.messages(), updates=updates)]
    lines += [
        t(FILE_LABELS.get(path.suffix, "demo.file"), path=path)
        for message in digest
        for path in message.files
    ]
    lines += [t("demo.transcript", path=transcript), t("overview.demo_db", path=database)]
    return digest, lines


class Week:
    """The week as it happens: the transcript (every message in full, as each person's console
    shows it) and what the story is told from."""

    def __init__(self, clock: VirtualClock, tasks: dict[int, tuple[str, str]]) -> None:
        self.clock = clock
        self.codes = {task_id: code for task_id, (code, _) in tasks.items()}
        self.titles = dict(tasks.values())
        code = rf"(?<![\w.]){_any(self.titles)}(?!\w|\.\d)"
        self.named = re.compile(code)
        self.titled = re.compile(rf"({code})[ \t]*[—–-]?[ \t]*")  # a code and what may follow it
        self.transcript: list[str] = []
        self.entries: list[Said | Sent] = []
        self.speaker: str | None = None  # the person whose words the bot is answering
        self.current_day: date | None = None

    def day(self, moment: datetime) -> None:
        if moment.date() != self.current_day:
            self.current_day = moment.date()
            self.transcript += ["", _day_title(moment)]

    def said(self, name: str, text: str) -> None:
        self.speaker = name
        self.entries.append(Said(self.clock.now, name, text))
        self.transcript += ["", t("demo.person", time=_time(self.clock.now), name=name, text=text)]

    def sent(self, name: str, unit: str, reply: Reply) -> None:
        text = plain(reply.text)
        codes = [self.codes[task_id] for task_id in reply.tasks if task_id in self.codes]
        gist = _gist(self._without_titles(text), codes, self.named)
        self.entries.append(
            Sent(self.clock.now, name, unit, gist, text, reply.files, answers=self.speaker)
        )
        header = t("demo.bot", time=_time(self.clock.now), name=name, unit=unit)
        self.transcript += ["", header]

    def _without_titles(self, text: str) -> str:
        """The text without the titles written after task codes, whole or cut short with "…"."""
        kept, end = [], 0
        for match in self.titled.finditer(text):
            title = self.titles[match[1]]
            line = text[match.end() :].split("\n", 1)[0]
            cut = line.find("…")
            if line.startswith(title):
                kept.append(text[end : match.end(1)])
                end = match.end() + len(title)
            elif cut > 0 and title.startswith(line[:cut].rstrip()):
                kept.append(text[end : match.end(1)])
                end = match.end() + cut + 1
        return "".join(kept) + text[end:]

    def write(self, text: str) -> None:
        """What a console shows: the message, its buttons, its files, a button's short answer."""
        self.transcript += [f"{INDENT}{line}" if line else "" for line in text.splitlines()]

    def messages(self) -> int:
        return sum(isinstance(entry, Sent) for entry in self.entries)

    def digest(self, name: str, moment: datetime) -> list[Sent]:
        return [
            entry
            for entry in self.entries
            if isinstance(entry, Sent) and entry.name == name and entry.at == moment
        ]

    def story(self, shown_per_day: int, keep: list[Sent]) -> list[str]:
        """One line per thing that happened, day by day. Of the messages the bot starts on its
        own, those in `keep` and `shown_per_day` more a day are told (those to people who answer
        later that day first, then one of each kind); the others become one line per moment."""
        scripted = {entry.at for entry in self.entries if isinstance(entry, Said)}
        lines: list[str] = []
        for _, entries in groupby(self.entries, key=lambda entry: entry.at.date()):
            told = list(entries)
            started = [
                entry
                for entry in told
                if isinstance(entry, Sent)
                and entry.answers is None
                and entry.at not in scripted
                and entry not in keep
            ]
            hidden = _hidden(told, started, shown_per_day)
            lines += ["", _day_title(told[0].at)]
            for moment, at_once in groupby(told, key=lambda entry: entry.at):
                group = list(at_once)
                skipped = [entry for entry in group if entry in hidden]
                for entry in group:
                    if entry not in skipped or len(skipped) == 1:
                        lines.append(_story_line(entry))
                if len(skipped) > 1:
                    names = ", ".join(dict.fromkeys(entry.name for entry in skipped))
                    more = t("demo.more", time=_time(moment), count=len(skipped), names=names)
                    lines.append(_fit(more))
        return lines


class DemoChannel(ConsoleChannel):
    """One person's console in the demo: what it shows goes to the week's transcript, and each
    message of the bot to the story."""

    def __init__(self, core: ChatCore, user_id: str, week: Week, name: str, unit: str) -> None:
        super().__init__(core, user_id, write=week.write)
        self.week = week
        self.name = name
        self.unit = unit

    def show(self, reply: Reply) -> str:
        self.week.sent(self.name, self.unit, reply)
        return super().show(reply)


def _hidden(told: list[Said | Sent], started: list[Sent], shown: int) -> list[Sent]:
    """The messages the bot started that the day's story leaves out."""
    if len(started) <= shown:
        return []
    first = [  # to people who answer later that day: the story shows what they answer
        entry
        for entry in started
        if any(
            isinstance(said, Said) and said.name == entry.name and said.at > entry.at
            for said in told
        )
    ]
    kinds = {_kind(entry) for entry in first}
    for entry in started:
        if _kind(entry) not in kinds:
            kinds.add(_kind(entry))
            first.append(entry)
    ranked = first + [entry for entry in started if entry not in first]
    return ranked[shown:]


def _kind(message: Sent) -> str:
    return message.gist.split(maxsplit=1)[0] if message.gist else ""


def _story_line(entry: Said | Sent) -> str:
    moment = _time(entry.at)
    if isinstance(entry, Said):
        return _fit(t("demo.person", time=moment, name=entry.name, text=entry.text))
    if entry.answers == entry.name:
        return _fit(t("demo.answer", gist=entry.gist))
    if entry.answers is not None:
        return _fit(t("demo.answer_to", name=entry.name, unit=entry.unit, gist=entry.gist))
    return _fit(t("demo.sent", time=moment, name=entry.name, unit=entry.unit, gist=entry.gist))


def _any(texts: Iterable[str]) -> str:
    """A pattern for any of `texts`, the longest first (III.1.11 before III.1.1)."""
    return "(?:" + "|".join(re.escape(text) for text in sorted(texts, key=len, reverse=True)) + ")"


def _gist(text: str, codes: list[str], named: re.Pattern[str]) -> str:
    """A message in a few words: its first line; then, for a message about several tasks (its
    own, or those a first line ending with a colon lists), their codes; else its next lines
    while it is short or ends with a colon."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    gist = lines[0] if lines else ""
    if gist.endswith(":") and not codes:
        codes = named.findall(text)
    codes = list(dict.fromkeys(codes))
    for line in lines[1:] if len(codes) <= 1 else []:
        if len(gist) >= GIST_MIN and not gist.endswith(":"):
            break
        if line not in gist:
            gist = _join(gist, line, " · ")
    missing = [code for code in codes if code not in gist]
    if missing:
        listed = missing[:GIST_CODES] + (["…"] if len(missing) > GIST_CODES else [])
        gist = _join(gist, ", ".join(listed), " — ")
    return gist


def _join(gist: str, more: str, separator: str) -> str:
    return f"{gist} {more}" if gist.endswith(":") else f"{gist}{separator}{more}"


def _fit(line: str) -> str:
    """The line, cut after its last whole word that fits in WIDTH."""
    if len(line) <= WIDTH:
        return line
    return line[: WIDTH - 1].rsplit(" ", 1)[0].rstrip(" ,.;:·—–") + "…"


def _day_title(moment: datetime) -> str:
    weekday = t(f"weekday.{moment.weekday()}")
    return t("demo.day", weekday=weekday[0].upper() + weekday[1:], date=format_date(moment))


def _time(moment: datetime) -> str:
    return moment.strftime("%H:%M")
