"""ISO weeks, as the school reads them: "Tuần 30/11–06/12/2026" for 2026-W49.

A year has 52 or 53 ISO weeks: 2026-W53 runs from Monday 28/12/2026 to Sunday 03/01/2027 and
2027-W01 starts on 04/01/2027; 2027-W53 does not exist."""

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

LABEL = re.compile(r"(\d{4})-?W(\d{1,2})", re.IGNORECASE)


@dataclass(frozen=True)
class Week:
    year: int
    number: int

    @property
    def label(self) -> str:
        return f"{self.year}-W{self.number:02d}"

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.number, 1)

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)

    def starts(self, tz: ZoneInfo) -> datetime:
        """Monday 00:00 in the school's zone."""
        return datetime.combine(self.monday, time(0), tz)

    def ends(self, tz: ZoneInfo) -> datetime:
        """The next Monday 00:00 in the school's zone: the week is [starts, ends)."""
        return self.starts(tz) + timedelta(days=7)

    def dates(self) -> str:
        """30/11–06/12/2026, or 28/12/2026–03/01/2027 across a new year."""
        monday, sunday = self.monday, self.sunday
        first = f"{monday:%d/%m}" if monday.year == sunday.year else f"{monday:%d/%m/%Y}"
        return f"{first}–{sunday:%d/%m/%Y}"


def week_of(day: date) -> Week:
    year, number, _ = day.isocalendar()
    return Week(year, number)


def parse_week(text: str) -> Week:
    """'2026-W49' (or '2026W49', '2026-w49'); ValueError for anything else or a week the year
    does not have."""
    match = LABEL.fullmatch(text.strip())
    if match is None:
        raise ValueError(text)
    week = Week(int(match[1]), int(match[2]))
    date.fromisocalendar(week.year, week.number, 1)  # ValueError: no such week
    return week
