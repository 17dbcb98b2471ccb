"""The plan file's schema, shared by YAML, JSON and Excel: `school`, `units`, `kpis`, `tasks`."""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)

from messages import t
from models import Direction
from services.recurrence import RecurrenceError, parse_recurrence
from services.school_settings import ReminderRules, SchoolSettings
from services.validation import invalid

YES = {"true", "yes", "có", "co", "đạt", "dat", "1", "x"}
NO = {"false", "no", "không", "khong", "chưa đạt", "0"}


def parse_plan_date(value: Any) -> date:
    """Dates as users write them: 31/03/2026, 2026-03-31, or a real date from Excel."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    match = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", text) or re.fullmatch(
        r"(\d{4})-(\d{1,2})-(\d{1,2})", text
    )
    if match is None:
        raise invalid("plan.bad_date_format", value=text)
    first, second, third = (int(part) for part in match.groups())
    year, month, day = (first, second, third) if first > 31 else (third, second, first)
    try:
        return date(year, month, day)
    except ValueError:
        raise invalid("plan.impossible_date", value=text) from None


def _text(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return format(value, "g")
    return value


def _people(value: Any) -> Any:
    """One Excel cell may list several people, separated by ; , or new lines; "-" is nobody."""
    if isinstance(value, str):
        return [] if value.strip() == "-" else [p for p in re.split(r"[;,\n]", value) if p.strip()]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return [value]  # a phone number typed as a number
    return value


PlanDate = Annotated[date, BeforeValidator(parse_plan_date)]
Text = Annotated[str, BeforeValidator(_text), Field(min_length=1)]
Code = Annotated[str, BeforeValidator(_text), Field(min_length=1, max_length=40, pattern=r"^\S+$")]
Person = Annotated[str, BeforeValidator(_text), Field(min_length=1, max_length=200)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        """A NUL character cannot be stored in PostgreSQL text; it never means anything here."""
        return value.replace("\x00", "") if isinstance(value, str) else value


class SchoolIn(_Strict):
    code: Code
    name: Annotated[Text, Field(max_length=200)]
    timezone: str = "Asia/Ho_Chi_Minh"
    plan: Annotated[str, Field(max_length=500)] | None = None
    settings: SchoolSettings | None = None

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise invalid("plan.bad_timezone", value=value) from None
        return value


class UnitIn(_Strict):
    code: Code
    name: Annotated[Text, Field(max_length=200)]
    description: str | None = None


class KpiIn(_Strict):
    key: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]
    name: Annotated[Text, Field(max_length=300)]
    measure: Annotated[str, Field(max_length=40)] | None = None
    direction: Direction
    target: float | bool
    target_text: Annotated[str, Field(max_length=100), BeforeValidator(_text)] | None = None
    year: Annotated[int, Field(ge=2000, le=2100)]
    section: Annotated[str, Field(max_length=20), BeforeValidator(_text)] | None = None

    @field_validator("direction", mode="before")
    @classmethod
    def _direction(cls, value: Any) -> Any:
        aliases = {"≤": "<=", "≥": ">=", "yes/no": "yes_no", "có/không": "yes_no"}
        text = str(value).strip().lower() if value is not None else value
        return aliases.get(text, text)

    @field_validator("target", mode="before")
    @classmethod
    def _target(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip().lower()
            if text in YES or text in NO:
                return text in YES
            text = text.removesuffix("%").strip().replace(",", ".")
            try:
                return float(text)
            except ValueError:
                raise invalid("plan.bad_target", value=value) from None
        return value

    @field_validator("target_text")
    @classmethod
    def _wording(cls, value: str | None) -> str | None:
        """The target as the plan words it ("duy trì mức độ 3"); blank: worded by the rule."""
        return value or None

    @model_validator(mode="after")
    def _target_fits_direction(self) -> "KpiIn":
        is_yes_no = self.direction == Direction.YES_NO
        if is_yes_no != isinstance(self.target, bool):
            key = "plan.target_needs_yes_no" if is_yes_no else "plan.target_needs_number"
            raise invalid(key, value=self.target)
        return self


class TaskIn(_Strict):
    code: Code
    title: Annotated[Text, Field(max_length=300)]
    description: str | None = None
    section: Annotated[str, Field(max_length=20), BeforeValidator(_text)] | None = None
    unit: Code
    deadline: PlanDate | None = None
    recurrence: str | None = None
    reminders: ReminderRules | None = None
    assignees: Annotated[list[Person], BeforeValidator(_people)] | None = None  # None: unsaid

    @field_validator("recurrence")
    @classmethod
    def _rule(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        try:
            return parse_recurrence(value).rule
        except RecurrenceError:
            raise invalid("plan.bad_recurrence", value=value) from None

    @model_validator(mode="after")
    def _one_schedule(self) -> "TaskIn":
        if (self.deadline is None) == (self.recurrence is None):
            raise invalid("plan.deadline_or_recurrence")
        return self


class HolidayIn(_Strict):
    """A day off, or several: `date` to `until` (inclusive)."""

    date: PlanDate
    until: PlanDate | None = None
    name: Annotated[Text, Field(max_length=200)]

    @model_validator(mode="after")
    def _in_order(self) -> "HolidayIn":
        if self.until is not None and self.until < self.date:
            raise invalid("plan.holiday_order")
        return self

    @property
    def days(self) -> list[date]:
        last = self.until or self.date
        return [date.fromordinal(n) for n in range(self.date.toordinal(), last.toordinal() + 1)]


Location = tuple[str | int, ...]


@dataclass(frozen=True)
class Origin:
    """The file a plan was read from and how to point at a spot in it, for problems found later
    (people unknown to the database)."""

    path: Path
    locate: Callable[[Location], str]


class PlanFile(_Strict):
    school: SchoolIn
    units: Annotated[list[UnitIn], Field(min_length=1)]
    kpis: list[KpiIn] = []
    tasks: list[TaskIn] = []
    holidays: list[HolidayIn] | None = None
    _origin: Origin | None = PrivateAttr(default=None)

    def __eq__(self, other: object) -> bool:
        """Plans are equal when they say the same, whichever files they were read from."""
        return isinstance(other, PlanFile) and self.model_dump() == other.model_dump()

    @property
    def origin(self) -> Origin | None:
        return self._origin

    def read_from(self, origin: Origin) -> "PlanFile":
        self._origin = origin
        return self


def reference_problems(plan: PlanFile) -> list[tuple[Location, str]]:
    """What pydantic cannot see item by item: duplicates and tasks pointing at unknown units."""
    problems: list[tuple[Location, str]] = []

    def first_seen(section: str, keys: list[str], field: str) -> None:
        seen: set[str] = set()
        for index, key in enumerate(keys):
            if key in seen:
                problems.append(((section, index, field), t("plan.duplicate", value=key)))
            seen.add(key)

    first_seen("units", [unit.code.upper() for unit in plan.units], "code")
    first_seen("kpis", [f"{kpi.key} ({kpi.year})" for kpi in plan.kpis], "key")
    first_seen("tasks", [task.code.upper() for task in plan.tasks], "code")
    unit_codes = {unit.code.upper() for unit in plan.units}
    known = ", ".join(unit.code for unit in plan.units)
    for index, task in enumerate(plan.tasks):
        if task.unit.upper() not in unit_codes:
            message = t("plan.unknown_unit", value=task.unit, known=known)
            problems.append((("tasks", index, "unit"), message))
    return problems
