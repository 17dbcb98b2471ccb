"""A school's follow-up rules: reminder lead times, escalation, digest and check-in times,
quiet hours, working days and its school year. Deployment-wide defaults come from the
environment; a school's plan file may override them, and a task may override its own reminder
times."""

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import time
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from messages import format_date
from services.plan_dates import PlanDate
from services.recurrence import Recurrence
from services.school_calendar import (
    CalendarError,
    parse_quiet_hours,
    parse_weekly,
    parse_working_days,
)
from services.validation import invalid

DEFAULT_QUIET_HOURS = "21:00-06:30"
DEFAULT_WORKING_DAYS = "mon-sat"
MAX_SCHOOL_YEAR_DAYS = 365  # its days fall on the same dates each year: none may come twice


def _check(parser: Callable[[str], object], value: str | None) -> str | None:
    if value is not None:
        try:
            parser(value)
        except CalendarError:
            raise invalid("plan.bad_setting", value=value) from None
    return value


class ReminderRules(BaseModel):
    """When a task's reminders go out; every field is optional so a task overrides a few."""

    model_config = ConfigDict(extra="forbid")

    before_days: list[Annotated[int, Field(ge=0, le=60)]] | None = None
    overdue_every_days: Annotated[int, Field(ge=1, le=30)] | None = None
    escalate_after_days: Annotated[int, Field(ge=1, le=90)] | None = None
    at: str | None = None  # "07:30", the time of day reminders are sent

    @field_validator("at")
    @classmethod
    def _time(cls, value: str | None) -> str | None:
        return _check(lambda v: parse_weekly(f"mon {v}"), value)


class SchoolYear(BaseModel):
    """The school's own year: the days `semester` and `school_year` recurrences fall on."""

    model_config = ConfigDict(extra="forbid")

    start: PlanDate
    semester1_end: PlanDate
    end: PlanDate

    @model_validator(mode="after")
    def _in_order(self) -> "SchoolYear":
        for earlier, later in itertools.pairwise(("start", "semester1_end", "end")):
            first, then = getattr(self, earlier), getattr(self, later)
            if then <= first:
                raise invalid(
                    f"plan.school_year_order.{later}",
                    earlier=format_date(first),
                    later=format_date(then),
                )
        if (self.end - self.start).days > MAX_SCHOOL_YEAR_DAYS:
            raise invalid(
                "plan.school_year_too_long",
                start=format_date(self.start),
                end=format_date(self.end),
            )
        return self


class Letterhead(BaseModel):
    """What the school's official reports carry above and below their text (Decree 30/2020):
    the body the school belongs to ("UBND XÃ TÂN AN HỘI"), the place written before the date
    ("Tân An Hội") and who signs when not the principal on file."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    parent: str | None = Field(default=None, max_length=200)
    place: str | None = Field(default=None, max_length=100)
    signer: str | None = Field(default=None, max_length=200)


class SchoolSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reminders: ReminderRules = ReminderRules()
    quiet_hours: str | None = None  # "21:00-06:30"; "" turns quiet hours off
    working_days: str | None = None  # "mon-sat"
    digest: str | None = None  # "fri 16:30"
    checkin: str | None = None  # "thu 09:00"
    group_reminders: bool = False  # also remind in a unit's linked group
    school_year: SchoolYear | None = None  # None: the usual calendar (services/recurrence.py)
    letterhead: Letterhead | None = None  # None: the school's name alone, a dotted place

    @field_validator("quiet_hours")
    @classmethod
    def _quiet(cls, value: str | None) -> str | None:
        return _check(parse_quiet_hours, value)

    @field_validator("working_days")
    @classmethod
    def _days(cls, value: str | None) -> str | None:
        return _check(parse_working_days, value)

    @field_validator("digest", "checkin")
    @classmethod
    def _weekly(cls, value: str | None) -> str | None:
        return _check(parse_weekly, value)


@dataclass(frozen=True)
class ReminderPolicy:
    before_days: tuple[int, ...] = (7, 1, 0)
    overdue_every_days: int = 2
    escalate_after_days: int = 5
    at: time = time(7, 30)

    def leads(self, rule: Recurrence | None) -> tuple[int, ...]:
        """The days before the due day a task is reminded, without those as long as a recurring
        task's period: they would fall on its previous occurrence."""
        return tuple(days for days in self.before_days if rule is None or days < rule.gap_days)

    def merged(self, rules: ReminderRules | dict | None) -> "ReminderPolicy":
        if not rules:
            return self
        rules = rules if isinstance(rules, ReminderRules) else ReminderRules.model_validate(rules)
        return ReminderPolicy(
            before_days=tuple(sorted(set(rules.before_days), reverse=True))
            if rules.before_days is not None
            else self.before_days,
            overdue_every_days=rules.overdue_every_days or self.overdue_every_days,
            escalate_after_days=rules.escalate_after_days or self.escalate_after_days,
            at=parse_weekly(f"mon {rules.at}")[1] if rules.at else self.at,
        )


@dataclass(frozen=True)
class FollowUp:
    """Everything the scheduler needs to know about one school's rules."""

    policy: ReminderPolicy
    quiet_hours: tuple[time, time] | None
    working_days: frozenset[int]
    digest: tuple[int, time]
    checkin: tuple[int, time]
    group_reminders: bool
    school_year: SchoolYear | None


def follow_up(
    raw: dict | None,
    *,
    quiet_hours: str = DEFAULT_QUIET_HOURS,
    working_days: str = DEFAULT_WORKING_DAYS,
) -> FollowUp:
    settings = SchoolSettings.model_validate(raw or {})
    return FollowUp(
        policy=ReminderPolicy().merged(settings.reminders),
        quiet_hours=parse_quiet_hours(
            settings.quiet_hours if settings.quiet_hours is not None else quiet_hours
        ),
        working_days=parse_working_days(settings.working_days or working_days),
        digest=parse_weekly(settings.digest or "fri 16:30"),
        checkin=parse_weekly(settings.checkin or "thu 09:00"),
        group_reminders=settings.group_reminders,
        school_year=settings.school_year,
    )


def letterhead_of(raw: dict | None) -> Letterhead:
    """The letterhead a school's stored settings give (empty parts where they give none)."""
    return SchoolSettings.model_validate(raw or {}).letterhead or Letterhead()


def school_year_of(raw: dict | None) -> SchoolYear | None:
    """The school year a school's stored settings give, if any."""
    return SchoolSettings.model_validate(raw or {}).school_year
