"""Recurring deadlines, written as short rules: `weekly:fri`, `monthly:25`, `yearly:05/09,15/01`.

Every few weeks on a weekday: `every:2w:fri`, counted from its first occurrence when the rule
gives one (`every:2w:fri:09/01/2026`), else from the week of `EPOCH`. A weekday of a week of the
month: `monthly:1st-mon` … `monthly:4th-mon`, `monthly:last-fri`.

`semester` (the end of each semester) and `school_year` (the start of the school year) follow
the school's own year when it gives one (`SchoolYearDates`), else the usual Vietnamese calendar:
semesters end on 15 January and 25 May, the school year starts on 5 September.

Two rules have no date at all: `ongoing` ("thường xuyên": work that goes on) and `on_request`
("khi có yêu cầu"). Such a task is never due, so never overdue: the weekly check-in follows it.
"""

import calendar
import itertools
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol

from services.recurrence_words import rule_from_words
from services.text import fold, is_number

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
NTH = {"1st": 1, "2nd": 2, "3rd": 3, "4th": 4, "last": -1}  # a weekday's week in its month
EPOCH = date(2024, 1, 1)  # a Monday: `every:2w:fri` without a first date counts weeks from it
MAX_WEEKS = 52
ALIASES = {
    "thuong xuyen": "ongoing",
    "khi co yeu cau": "on_request",
}
UNDATED = ("ongoing", "on_request")
SCHOOL_CALENDAR = {"semester": ((15, 1), (25, 5)), "school_year": ((5, 9),)}  # when not given


class SchoolYearDates(Protocol):
    """A school's own year: it starts on `start`, its first semester ends on `semester1_end`,
    the second with the year on `end`."""

    start: date
    semester1_end: date
    end: date


class RecurrenceError(ValueError):
    pass


@dataclass(frozen=True)
class Recurrence:
    every: str  # "week", "month", "year", or one of UNDATED
    weekday: int | None = None
    day: int | None = None
    dates: tuple[tuple[int, int], ...] = ()  # (day, month) pairs for yearly rules
    weeks: int = 1  # weekly rules: every that many weeks
    start: date | None = None  # weekly rules: the first occurrence, which sets the weeks
    nth: int | None = None  # monthly rules on a weekday: its 1st … 4th, or last (-1), of the month
    named: str | None = None  # yearly rules of the school calendar: `semester`, `school_year`

    @property
    def on_weekday(self) -> int:
        """The weekday of a weekly rule, or of a monthly rule on a weekday."""
        if self.weekday is None:
            raise RecurrenceError(f"a {self.every} rule without a weekday")
        return self.weekday

    @property
    def on_day(self) -> int:
        """The day of the month of a monthly rule on a date."""
        if self.day is None:
            raise RecurrenceError(f"a {self.every} rule without a day")
        return self.day

    @property
    def dated(self) -> bool:
        return self.every not in UNDATED

    @property
    def rule(self) -> str:
        if not self.dated:
            return self.every
        if self.named:
            return self.named
        if self.every == "week" and (self.weeks, self.start) == (1, None):
            return f"weekly:{WEEKDAYS[self.on_weekday]}"
        if self.every == "week":
            start = f":{self.start:%d/%m/%Y}" if self.start else ""
            return f"every:{self.weeks}w:{WEEKDAYS[self.on_weekday]}{start}"
        if self.every == "month" and self.nth is not None:
            nth = next(key for key, value in NTH.items() if value == self.nth)
            return f"monthly:{nth}-{WEEKDAYS[self.on_weekday]}"
        if self.every == "month":
            return f"monthly:{self.day}"
        return "yearly:" + ",".join(f"{d:02d}/{m:02d}" for d, m in self.dates)

    @property
    def gap_days(self) -> int:
        """The shortest time between two occurrences: a reminder lead must be shorter."""
        if not self.dated:
            return 10_000
        if self.every == "week":
            return 7 * self.weeks
        if self.every == "month":
            return 28
        days = sorted(date(2025, month, min(day, 28)).toordinal() for day, month in self.dates)
        return min([b - a for a, b in itertools.pairwise(days)] + [days[0] + 365 - days[-1]])

    def next_on_or_after(self, start: date) -> date | None:
        """The next occurrence from `start` on; None for an undated rule."""
        if not self.dated:
            return None
        if self.every == "week":
            return self._next_week(start)
        if self.every == "month":
            candidate = self._in_month(start.year, start.month)
            if candidate < start:
                year, month = start.year + start.month // 12, start.month % 12 + 1
                candidate = self._in_month(year, month)
            return candidate
        return min(
            _year_day(year, day, month)
            for year in (start.year, start.year + 1)
            for day, month in self.dates
            if _year_day(year, day, month) >= start
        )

    def _next_week(self, start: date) -> date:
        """Weeks are counted from the first occurrence; none comes before it."""
        first = self.start or EPOCH + timedelta(days=self.on_weekday)
        period = 7 * self.weeks
        periods = -(-(start - first).days // period)  # rounded up
        return first + timedelta(days=period * (max(periods, 0) if self.start else periods))

    def _in_month(self, year: int, month: int) -> date:
        if self.nth is None:
            return _month_day(year, month, self.on_day)
        if self.nth > 0:
            first = date(year, month, 1)
            return first + timedelta(
                days=(self.on_weekday - first.weekday()) % 7 + 7 * (self.nth - 1)
            )
        last = date(year, month, calendar.monthrange(year, month)[1])
        return last - timedelta(days=(last.weekday() - self.on_weekday) % 7)


def _month_day(year: int, month: int, day: int) -> date:
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _year_day(year: int, day: int, month: int) -> date:
    return _month_day(year, month, day)


def parse_recurrence(text: str, school_year: SchoolYearDates | None = None) -> Recurrence:
    """A rule (`weekly:fri` …), a shorthand (`semester`), or the way a plan says it in
    Vietnamese ("thứ Sáu hằng tuần", see services/recurrence_words.py). `semester` and
    `school_year` fall on the days of `school_year` when given, else of the usual calendar."""
    written = rule_from_words(text) or text
    rule = ALIASES.get(fold(written), written.strip().lower())
    if rule in UNDATED:
        return Recurrence(rule)
    if rule in SCHOOL_CALENDAR:
        return _school_calendar(rule, school_year)
    kind, _, arg = rule.partition(":")
    if kind == "weekly" and arg in WEEKDAYS:
        return Recurrence("week", weekday=WEEKDAYS.index(arg))
    if kind == "monthly" and is_number(arg) and 1 <= int(arg) <= 31:
        return Recurrence("month", day=int(arg))
    nth, _, weekday = arg.partition("-")
    if kind == "monthly" and nth in NTH and weekday in WEEKDAYS:
        return Recurrence("month", weekday=WEEKDAYS.index(weekday), nth=NTH[nth])
    if kind == "every":
        return _every(arg, text)
    if kind == "yearly" and arg:
        return Recurrence("year", dates=_in_year_order(tuple(map(_day_month, arg.split(",")))))
    raise RecurrenceError(text)


def recurrence_of(
    rule: str | None, school_year: SchoolYearDates | None = None
) -> Recurrence | None:
    """A task's stored rule read (`parse_recurrence`); None for a task due once."""
    return parse_recurrence(rule, school_year) if rule else None


def _school_calendar(named: str, school_year: SchoolYearDates | None) -> Recurrence:
    """Every year on the school's semester ends (`semester`) or on its first day (`school_year`)."""
    if school_year is None:
        dates = SCHOOL_CALENDAR[named]
    elif named == "semester":
        dates = tuple((day.day, day.month) for day in (school_year.semester1_end, school_year.end))
    else:
        dates = ((school_year.start.day, school_year.start.month),)
    return Recurrence("year", dates=_in_year_order(dates), named=named)


def _in_year_order(dates: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
    return tuple(sorted(set(dates), key=lambda dm: (dm[1], dm[0])))


def _every(arg: str, text: str) -> Recurrence:
    """`2w:fri`, or `2w:fri:09/01/2026` with the first occurrence, which falls on that weekday."""
    match = re.fullmatch(r"(\d{1,2})w:([a-z]{3})(?::(\d{1,2})/(\d{1,2})/(\d{4}))?", arg)
    if match is None or match[2] not in WEEKDAYS or not 1 <= int(match[1]) <= MAX_WEEKS:
        raise RecurrenceError(text)
    weekday = WEEKDAYS.index(match[2])
    start = None
    if match[3]:
        try:
            start = date(int(match[5]), int(match[4]), int(match[3]))
        except ValueError:
            raise RecurrenceError(text) from None
        if start.weekday() != weekday:
            raise RecurrenceError(text)
    return Recurrence("week", weekday=weekday, weeks=int(match[1]), start=start)


def _day_month(text: str) -> tuple[int, int]:
    day, _, month = text.strip().partition("/")
    if not (is_number(day) and is_number(month)):
        raise RecurrenceError(text)
    try:
        date(2024, int(month), int(day))  # a leap year, so 29/02 is allowed
    except ValueError:
        raise RecurrenceError(text) from None
    return int(day), int(month)
