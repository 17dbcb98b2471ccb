"""When the bot may speak: working days, school holidays and quiet hours, in the school's zone."""

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from services.recurrence import WEEKDAYS


class CalendarError(ValueError):
    pass


def parse_quiet_hours(text: str | None) -> tuple[time, time] | None:
    """'21:00-06:30' -> (21:00, 06:30); empty -> no quiet hours."""
    if not text or not text.strip():
        return None
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", text)
    if not match:
        raise CalendarError(text)
    hours = [int(part) for part in match.groups()]
    if hours[0] > 23 or hours[2] > 23 or hours[1] > 59 or hours[3] > 59:
        raise CalendarError(text)
    return time(hours[0], hours[1]), time(hours[2], hours[3])


def parse_working_days(text: str) -> frozenset[int]:
    """'mon-sat', 'mon,tue,wed' or a mix: weekday numbers with Monday = 0."""
    days: set[int] = set()
    for part in text.lower().replace(" ", "").split(","):
        first, _, last = part.partition("-")
        if first not in WEEKDAYS or (last and last not in WEEKDAYS):
            raise CalendarError(text)
        start, end = WEEKDAYS.index(first), WEEKDAYS.index(last or first)
        days.update(range(start, end + 1) if start <= end else [*range(start, 7), *range(end + 1)])
    if not days:
        raise CalendarError(text)
    return frozenset(days)


def parse_weekly(text: str) -> tuple[int, time]:
    """'fri 16:30' -> (4, 16:30)."""
    match = re.fullmatch(r"\s*([a-z]{3})\s+(\d{1,2}):(\d{2})\s*", text.lower())
    if not match or match[1] not in WEEKDAYS or int(match[2]) > 23 or int(match[3]) > 59:
        raise CalendarError(text)
    return WEEKDAYS.index(match[1]), time(int(match[2]), int(match[3]))


@dataclass(frozen=True)
class SchoolCalendar:
    tz: ZoneInfo
    working_days: frozenset[int]
    quiet_hours: tuple[time, time] | None
    holidays: frozenset[date] = frozenset()

    def is_school_day(self, day: date) -> bool:
        return day.weekday() in self.working_days and day not in self.holidays

    def is_quiet(self, moment: time) -> bool:
        if self.quiet_hours is None:
            return False
        start, end = self.quiet_hours
        return start <= moment or moment < end if start > end else start <= moment < end

    def next_open(self, moment: datetime) -> datetime:
        """The first moment at or after `moment` on a school day outside quiet hours."""
        local = moment.astimezone(self.tz)
        for _ in range(400):
            if self.is_school_day(local.date()) and not self.is_quiet(local.time()):
                return local
            if not self.is_school_day(local.date()):
                local = datetime.combine(local.date() + timedelta(days=1), time(0), self.tz)
            elif self.quiet_hours is not None:  # a school day, in quiet hours
                end = self.quiet_hours[1]
                day = local.date() if local.time() < end else local.date() + timedelta(days=1)
                local = datetime.combine(day, end, self.tz)
        raise CalendarError("no school day within 400 days")

    def at(self, day: date, moment: time) -> datetime:
        return datetime.combine(day, moment, self.tz)
