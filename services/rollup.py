"""The education office's weekly roll-up: one line per school, from each school's own digest
(services/digest.py `compile_digest`, the numbers its leaders read), the schools most in need of
attention first, and a workbook of them all.

Who sees what: a person of the education office is a member with `office` set in each school
whose people file lists them (services/people.py). One person may be listed by several schools:
their members there are one person when they share a phone or a chat account. Their roll-up
covers exactly the schools where such a member of theirs is active, nothing else.

The order of need (`SchoolLine.need`): first the schools with the most points for attention,
a KPI at risk of missing its target, a unit whose tasks are overdue longer than the school's
escalation threshold, a unit silent for two weeks; then the most overdue tasks; then the lowest
progress; then by name."""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
from sqlmodel import Session, col, select

from messages import t
from models import ChatIdentity, Member, School
from services.digest import Digest, compile_digest, digest_period, week_period
from services.text import fold
from services.weeks import Week, week_of
from services.workbooks import add_sheet

SHEET_NAME = 31  # Excel's longest sheet name


# --- who: one person of the education office, and their schools ------------------------------


def office_people(session: Session) -> list[list[Member]]:
    """Every person of the education office in the deployment: the active office members that
    share a phone or a chat account, together, each group in member id order."""
    members = session.exec(
        select(Member).where(col(Member.office).is_(True), Member.active).order_by(col(Member.id))
    ).all()
    ids = [member.id for member in members]
    accounts = session.exec(
        select(ChatIdentity.member_id, ChatIdentity.channel, ChatIdentity.external_user_id).where(
            col(ChatIdentity.member_id).in_(ids)
        )
    ).all() if ids else []  # fmt: skip
    parent = {member.id: member.id for member in members}

    def root(member_id: int) -> int:
        while parent[member_id] != member_id:
            parent[member_id] = parent[parent[member_id]]
            member_id = parent[member_id]
        return member_id

    first: dict[str, int] = {}  # a phone or an account -> the first member seen with it
    ties = [(f"p:{m.phone}", m.id) for m in members if m.phone]
    ties += [(f"a:{channel}:{user}", member_id) for member_id, channel, user in accounts]
    for key, member_id in ties:
        other = first.setdefault(key, member_id)
        parent[root(member_id)] = root(other)
    groups: dict[int, list[Member]] = {}
    for member in members:
        groups.setdefault(root(member.id), []).append(member)
    return sorted(groups.values(), key=lambda group: group[0].id)


def person_of(session: Session, member: Member) -> list[Member]:
    """The office members that are the same person as `member` (itself included); none when
    `member` is not one of the education office's."""
    return next(
        (group for group in office_people(session) if member.id in {m.id for m in group}), []
    )


def office_schools(session: Session, member: Member) -> list[School]:
    """The schools whose roll-up `member`'s person sees: those listing them as the office's."""
    ids = sorted({other.school_id for other in person_of(session, member)})
    if not ids:
        return []
    return list(session.exec(select(School).where(col(School.id).in_(ids))).all())


def person_key(session: Session, person: Sequence[Member]) -> str:
    """What names one person however many schools list them, for the roll-up's dedupe key: their
    phone, else a chat account of theirs, else their first member's id."""
    phones = sorted(member.phone for member in person if member.phone)
    if phones:
        return f"p{phones[0]}"
    accounts = session.exec(
        select(ChatIdentity.channel, ChatIdentity.external_user_id)
        .where(col(ChatIdentity.member_id).in_([member.id for member in person]))
        .order_by(col(ChatIdentity.id))
    ).first()
    if accounts is not None:
        return f"a{accounts[0]}:{accounts[1]}"
    return f"m{min(member.id for member in person)}"


def recipient(session: Session, person: Sequence[Member]) -> Member:
    """The member a person's roll-up is addressed to: the one whose chat account they chose last
    (joining or /truong), else the first listed. The sweep finds their chat from it."""
    identities = session.exec(
        select(ChatIdentity).where(col(ChatIdentity.member_id).in_([m.id for m in person]))
    ).all()
    if not identities:
        return min(person, key=lambda member: member.id)
    chosen = max(identities, key=lambda i: (i.selected_at or i.linked_at, i.id))
    return next(member for member in person if member.id == chosen.member_id)


def rollup_key(key: str, week: date) -> str:
    return f"rollup:{key}:{week.isoformat()}"


def rollups_from(session: Session, school: School) -> list[tuple[str, int]]:
    """The roll-ups the school plans: (person key, recipient member id) of each person of the
    education office whose roll-up is addressed to their member in this school. Each person's
    is planned by one school only, at that school's digest time."""
    listed = select(Member.id).where(
        Member.school_id == school.id, col(Member.office).is_(True), Member.active
    )
    if session.exec(listed).first() is None:
        return []
    planned = []
    for person in office_people(session):
        addressee = recipient(session, person)
        if addressee.school_id == school.id:
            planned.append((person_key(session, person), addressee.id))
    return planned


# --- what: one line per school ----------------------------------------------------------------


@dataclass(frozen=True)
class SchoolLine:
    code: str
    digest: Digest

    @property
    def name(self) -> str:
        return self.digest.school_name

    @property
    def kpis_at_risk(self) -> int:
        return len(self.digest.kpis_at_risk)

    @property
    def silent_units(self) -> int:
        return len(self.digest.silent_units)

    @property
    def long_overdue_units(self) -> int:
        return len(self.digest.long_overdue)

    @property
    def long_overdue_tasks(self) -> int:
        return sum(late.count for late in self.digest.long_overdue)

    @property
    def attention(self) -> int:
        """Points for attention: KPIs at risk, units long overdue, silent units."""
        return self.kpis_at_risk + self.long_overdue_units + self.silent_units

    @property
    def need(self) -> tuple[int, int, float, str, str]:
        """The sort key of the order of need (see the module's docstring)."""
        totals = self.digest.totals
        return (-self.attention, -totals.overdue, totals.progress, fold(self.name), self.code)


@dataclass(frozen=True)
class Rollup:
    week: Week
    end: datetime
    schools: tuple[SchoolLine, ...]  # most in need of attention first

    @property
    def needing_attention(self) -> int:
        return sum(line.attention > 0 for line in self.schools)


def compile_rollup(
    session: Session,
    schools: Iterable[School],
    now: datetime,
    tz: ZoneInfo,
    week: Week | None = None,
) -> Rollup:
    """Each school's digest as its leaders would read it now (from its last digest to `now`),
    or of `week` (its recorded period, else Monday to Sunday); nothing is recorded."""
    lines = []
    for school in schools:
        period = (
            digest_period(session, school, now)
            if week is None
            else week_period(session, school, week, now)
        )
        if period is None:  # a week that has not begun
            continue
        start, end = period
        lines.append(SchoolLine(school.code, compile_digest(session, school, start=start, end=end)))
    lines.sort(key=lambda line: line.need)
    return Rollup(week=week or week_of(now.astimezone(tz).date()), end=now, schools=tuple(lines))


# --- the workbook -----------------------------------------------------------------------------

SCHOOL_COLUMNS = [
    ("rank", 6), ("code", 12), ("name", 40), ("progress", 12), ("done", 10), ("tasks", 10),
    ("overdue", 10), ("long_overdue", 14), ("silent", 12), ("silent_units", 40), ("kpis", 12),
    ("kpi_names", 50), ("updates", 12), ("as_of", 18),
]  # fmt: skip
OVERDUE_COLUMNS = [
    ("code", 12), ("title", 60), ("unit", 24), ("assignee", 24), ("due", 12), ("days", 12),
    ("progress", 12), ("last_report", 18),
]  # fmt: skip


def write_rollup_workbook(rollup: Rollup, path: Path, *, locale: str = "vi") -> None:
    """A sheet with one row per school (in the order of need), then one sheet per school with
    its overdue tasks, oldest due date first. Times are naive local times of each school's zone;
    written in openpyxl's write-only mode."""
    workbook = openpyxl.Workbook(write_only=True)
    rows = [_school_row(rank, line) for rank, line in enumerate(rollup.schools, 1)]
    _sheet(workbook, t("xlsx.rollup.sheet.schools", locale), "schools", SCHOOL_COLUMNS, rows,
           locale)  # fmt: skip
    used: set[str] = set()
    for line in rollup.schools:
        _sheet(workbook, _sheet_name(line, used, locale), "overdue", OVERDUE_COLUMNS,
               _overdue_rows(line.digest), locale)  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)


def _sheet_name(line: SchoolLine, used: set[str], locale: str) -> str:
    """The school's overdue sheet: 'Quá hạn <code>', within Excel's 31 characters and rules."""
    base = re.sub(r"[\[\]:*?/\\']", "_", t("xlsx.rollup.sheet.overdue", locale, code=line.code))
    name, number = base[:SHEET_NAME], 1
    while name.casefold() in used:
        number += 1
        suffix = f" ({number})"
        name = base[: SHEET_NAME - len(suffix)] + suffix
    used.add(name.casefold())
    return name


def _school_row(rank: int, line: SchoolLine) -> list[Any]:
    digest, tz = line.digest, ZoneInfo(line.digest.timezone)
    return [
        rank,
        line.code,
        line.name,
        round(digest.totals.progress, 1),
        digest.totals.done,
        digest.totals.tasks,
        digest.totals.overdue,
        line.long_overdue_tasks,
        line.silent_units,
        ", ".join(silent.unit.name for silent in digest.silent_units),
        line.kpis_at_risk,
        ", ".join(item.name for item in digest.kpis_at_risk),
        digest.totals.updates,
        digest.end.astimezone(tz).replace(tzinfo=None),
    ]


def _overdue_rows(digest: Digest) -> list[list[Any]]:
    tz = ZoneInfo(digest.timezone)
    return [
        [
            item.code,
            item.title,
            item.unit,
            item.assignee,
            item.due,
            (digest.today - item.due_on).days,
            item.progress,
            item.last_report.astimezone(tz).replace(tzinfo=None) if item.last_report else None,
        ]
        for item in digest.overdue
    ]


def _sheet(
    workbook: openpyxl.Workbook,
    title: str,
    kind: str,
    columns: list[tuple[str, int]],
    rows: list[list[Any]],
    locale: str,
) -> None:
    labels = [(t(f"xlsx.rollup.{kind}.{column}", locale), width) for column, width in columns]
    add_sheet(workbook, title, labels, rows)
