"""Recurring deadlines, written as short rules: `weekly:fri`, `monthly:25`, `yearly:05/09,15/01`.

`semester` and `school_year` are accepted as shorthands for the Vietnamese school calendar
(semesters end mid-January and late May; the school year starts on 5 September).

Two rules have no date at all: `ongoing` ("thường xuyên": work that goes on) and `on_request`
("khi có yêu cầu"). Such a task is never due, so never overdue: the weekly check-in follows it.
"""

import calendar
import itertools
from dataclasses import dataclass
from datetime import date, timedelta

from services.text import fold

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALIASES = {
    "semester": "yearly:15/01,25/05",
    "school_year": "yearly:05/09",
    "thuong xuyen": "ongoing",
    "khi co yeu cau": "on_request",
}
UNDATED = ("ongoing", "on_request")


class RecurrenceError(ValueError):
    pass


@dataclass(frozen=True)
class Recurrence:
    every: str  # "week", "month", "year", or one of UNDATED
    weekday: int | None = None
    day: int | None = None
    dates: tuple[tuple[int, int], ...] = ()  # (day, month) pairs for yearly rules

    @property
    def dated(self) -> bool:
        return self.every not in UNDATED

    @property
    def rule(self) -> str:
        if not self.dated:
            return self.every
        if self.every == "week":
            return f"weekly:{WEEKDAYS[self.weekday]}"
        if self.every == "month":
            return f"monthly:{self.day}"
        return "yearly:" + ",".join(f"{d:02d}/{m:02d}" for d, m in self.dates)

    @property
    def gap_days(self) -> int:
        """The shortest time between two occurrences: a reminder lead must be shorter."""
        if not self.dated:
            return 10_000
        if self.every == "week":
            return 7
        if self.every == "month":
            return 28
        days = sorted(date(2025, month, min(day, 28)).toordinal() for day, month in self.dates)
        return min([b - a for a, b in itertools.pairwise(days)] + [days[0] + 365 - days[-1]])

    def next_on_or_after(self, start: date) -> date | None:
        """The next occurrence from `start` on; None for an undated rule."""
        if not self.dated:
            return None
        if self.every == "week":
            return start + timedelta(days=(self.weekday - start.weekday()) % 7)
        if self.every == "month":
            candidate = _month_day(start.year, start.month, self.day)
            if candidate < start:
                year, month = start.year + start.month // 12, start.month % 12 + 1
                candidate = _month_day(year, month, self.day)
            return candidate
        return min(
            _year_day(year, day, month)
            for year in (start.year, start.year + 1)
            for day, month in self.dates
            if _year_day(year, day, month) >= start
        )


def _month_day(year: int, month: int, day: int) -> date:
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _year_day(year: int, day: int, month: int) -> date:
    return _month_day(year, month, day)


def parse_recurrence(text: str) -> Recurrence:
    rule = ALIASES.get(fold(text), text.strip().lower())
    if rule in UNDATED:
        return Recurrence(rule)
    kind, _, arg = rule.partition(":")
    if kind == "weekly" and arg in WEEKDAYS:
        return Recurrence("week", weekday=WEEKDAYS.index(arg))
    if kind == "monthly" and arg.isdigit() and 1 <= int(arg) <= 31:
        return Recurrence("month", day=int(arg))
    if kind == "yearly" and arg:
        dates = tuple(_day_month(part) for part in arg.split(","))
        return Recurrence("year", dates=tuple(sorted(set(dates), key=lambda dm: (dm[1], dm[0]))))
    raise RecurrenceError(text)


def _day_month(text: str) -> tuple[int, int]:
    day, _, month = text.strip().partition("/")
    if not (day.isdigit() and month.isdigit()):
        raise RecurrenceError(text)
    try:
        date(2024, int(month), int(day))  # a leap year, so 29/02 is allowed
    except ValueError:
        raise RecurrenceError(text) from None
    return int(day), int(month)
