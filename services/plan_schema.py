"""The plan file's schema, shared by YAML, JSON and Excel: `school`, `units`, `kpis`, `tasks`."""

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)

from messages import t
from models import Direction, Role, TaskStatus
from services.people import ROLE_BY_WORD, fold_name
from services.plan_dates import PlanDate, parse_plan_date
from services.recurrence import RecurrenceError, parse_recurrence
from services.school_settings import ReminderRules, SchoolSettings
from services.text import fold, is_number
from services.validation import invalid

YES = {"true", "yes", "có", "co", "đạt", "dat", "1", "x"}
NO = {"false", "no", "không", "khong", "chưa đạt", "0"}


class PeriodEnd(date):
    """The last day of a month, quarter or year a deadline is given as; `written` as written."""

    written: str


ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}
_IN_YEAR = r"\s*(?:/|-|\.|nam)\s*(\d{4})"  # "3/2026", "3 năm 2026", folded
MONTH = re.compile(r"(?:thang|t)\s*(\d{1,2})" + _IN_YEAR)
QUARTER = re.compile(r"(?:quy|q)\s*([ivx]+|\d{1,2})" + _IN_YEAR)
YEAR = re.compile(r"nam\s*(\d{4})")


def parse_deadline(value: Any) -> date:
    """A date (`parse_plan_date`), or a month, quarter or year as plans give them: "tháng
    3/2026", "quý II/2026" (also "quý 2/2026", "Q2/2026"), "năm 2026"; due on its last day."""
    if isinstance(value, date):
        return parse_plan_date(value)
    written = " ".join(str(value).split())
    folded = fold(written)
    month, quarter, year = (pattern.fullmatch(folded) for pattern in (MONTH, QUARTER, YEAR))
    if month:
        last_month, last_year = int(month[1]), int(month[2])
    elif quarter:
        number = ROMAN.get(quarter[1]) or (int(quarter[1]) if is_number(quarter[1]) else 0)
        last_month, last_year = 3 * number if 1 <= number <= 4 else 0, int(quarter[2])
    elif year:
        last_month, last_year = 12, int(year[1])
    elif re.search(r"\d[/.-]\d|^\d{4}-", written):
        return parse_plan_date(value)
    else:
        raise invalid("plan.bad_deadline", value=written)
    try:
        end = PeriodEnd(last_year, last_month, calendar.monthrange(last_year, last_month)[1])
    except ValueError:  # calendar.IllegalMonthError is one
        raise invalid("plan.bad_period", value=written) from None
    end.written = written
    return end


def _as_written(value: date) -> date | str:
    return getattr(value, "written", value)


def _text(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return format(value, "g")
    return value


def people_listed(value: Any) -> Any:
    """One Excel cell may list several people, separated by ; , or new lines; "-" is nobody."""
    if isinstance(value, str):
        return [] if value.strip() == "-" else [p for p in re.split(r"[;,\n]", value) if p.strip()]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return [value]  # a phone number typed as a number
    return value


def target_year(value: Any) -> int | None:
    """The year a KPI's target is due as written: 2027, or the school year that ends in it,
    "2026-2027" (also "năm học 2026-2027"); None when it is neither."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value) if float(value).is_integer() else None
    text = re.sub(r"^nam hoc\s*", "", fold(value)) if isinstance(value, str) else ""
    if re.fullmatch(r"\d{4}", text):
        return int(text)
    school_year = re.fullmatch(r"(\d{4})\s*[-–/]\s*(\d{4})", text)
    if school_year and int(school_year[2]) == int(school_year[1]) + 1:
        return int(school_year[2])
    return None


def code_for(name: str) -> str:
    """A code to suggest for a unit named `name`: "Tổ Toán" → TO_TOAN."""
    return re.sub(r"[^0-9A-Z]+", "_", fold(name).upper()).strip("_")[:40]


Deadline = Annotated[date, BeforeValidator(parse_deadline), PlainSerializer(_as_written)]
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

    @field_validator("code", mode="before")
    @classmethod
    def _one_word(cls, value: Any) -> Any:
        """A unit's name written as its code ("Tổ Toán") is refused with a code to write."""
        if isinstance(value, str) and len(value.split()) > 1:
            raise invalid("plan.unit_code_spaces", value=value.strip(), code=code_for(value))
        return value


class TargetRange(NamedTuple):
    """A target given as a range, "95–98%": met from `low` to `high`, both included."""

    low: float
    high: float

    def __str__(self) -> str:
        return f"{_plain(self.low)}-{_plain(self.high)}"


def _plain(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


_NUMBER = r"(\d+(?:[.,]\d+)?)"
RANGE = re.compile(rf"(?:tu\s*)?{_NUMBER}\s*%?\s*(?:-|–|—|den)\s*{_NUMBER}\s*%?")  # folded
DIRECTION_ALIASES = {
    "≤": "<=",
    "≥": ">=",
    "yes/no": "yes_no",
    "có/không": "yes_no",
    "range": "between",
    "khoảng": "between",
}


def _direction_of(value: Any) -> Any:
    if value is None:
        return None
    text = str(value).strip().lower()
    return DIRECTION_ALIASES.get(text, text)


def parse_target(text: str) -> float | bool | TargetRange | None:
    """A target written as text: yes/no, a number ("0,5", "96%"), a range ("95-98", "95–98%",
    "từ 95 đến 98", its bounds as written even when reversed); None for anything else, such as
    a target in words."""
    folded = fold(text)
    words = {folded, text.strip().lower()}
    if words & (YES | NO):
        return bool(words & YES)
    bounds = RANGE.fullmatch(folded)
    if bounds:
        low, high = (float(bound.replace(",", ".")) for bound in bounds.groups())
        return TargetRange(low, high)
    try:
        return float(folded.removesuffix("%").strip().replace(",", "."))
    except ValueError:
        return None


class KpiIn(_Strict):
    key: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]
    name: Annotated[Text, Field(max_length=300)]
    measure: Annotated[str, Field(max_length=40)] | None = None
    direction: Direction | None = None  # left out: said by the target (a range, yes/no, words)
    target: float | bool | Annotated[TargetRange, PlainSerializer(str)]
    target_text: Annotated[str, Field(max_length=100), BeforeValidator(_text)] | None = None
    year: Annotated[int, Field(ge=2000, le=2100)]
    section: Annotated[str, Field(max_length=20), BeforeValidator(_text)] | None = None

    @model_validator(mode="before")
    @classmethod
    def _worded_target(cls, data: Any) -> Any:
        """A target in words ("1 giải Nhì cấp tỉnh") is a yes/no KPI the plan words so."""
        if not isinstance(data, dict) or not isinstance(data.get("target"), str):
            return data
        written = " ".join(data["target"].split())
        if not written or parse_target(written) is not None:
            return data
        if _direction_of(data.get("direction")) not in (None, "", Direction.YES_NO.value):
            return data  # refused as a bad target of its direction
        if data.get("target_text") not in (None, "", written):
            raise invalid("plan.target_worded_twice", value=written)
        return {**data, "direction": Direction.YES_NO.value, "target": True, "target_text": written}

    @field_validator("direction", mode="before")
    @classmethod
    def _direction(cls, value: Any) -> Any:
        return _direction_of(value) or None

    @field_validator("target", mode="before")
    @classmethod
    def _target(cls, value: Any) -> Any:
        if isinstance(value, str):
            target = parse_target(value)
            if target is None:
                raise invalid("plan.bad_target", value=value)
            if isinstance(target, TargetRange) and target.low > target.high:
                raise invalid("plan.range_reversed", value=value.strip())
            return target
        return value

    @property
    def bounds(self) -> tuple[float, float | None]:
        """The target as stored: a range's bounds, else the target and None."""
        if isinstance(self.target, TargetRange):
            return self.target.low, self.target.high
        return float(self.target), None

    @field_validator("target_text")
    @classmethod
    def _wording(cls, value: str | None) -> str | None:
        """The target as the plan words it ("duy trì mức độ 3"); blank: worded by the rule."""
        return value or None

    @field_validator("year", mode="before")
    @classmethod
    def _year(cls, value: Any) -> Any:
        """The year the target is due; a school year ("2026-2027") is due in the year it ends."""
        year = target_year(value)
        if year is None and value is not None:
            raise invalid("plan.bad_year", value=value)
        return value if year is None else year

    @model_validator(mode="after")
    def _target_fits_direction(self) -> "KpiIn":
        is_range = isinstance(self.target, TargetRange)
        if self.direction is None:
            if not isinstance(self.target, TargetRange | bool):
                raise invalid("plan.direction_needed", value=_plain(self.target))
            self.direction = Direction.BETWEEN if is_range else Direction.YES_NO
        if is_range != (self.direction == Direction.BETWEEN):
            key = "plan.range_needs_between" if is_range else "plan.target_needs_range"
            target = self.target
            raise invalid(key, value=target if isinstance(target, TargetRange) else _plain(target))
        is_yes_no = self.direction == Direction.YES_NO
        if is_yes_no != isinstance(self.target, bool):
            key = "plan.target_needs_yes_no" if is_yes_no else "plan.target_needs_number"
            raise invalid(key, value=self.target)
        return self


def _status(value: Any) -> Any:
    """todo, in_progress, blocked, done, or the bot's words for them ("hoàn thành"), diacritics
    optional; blank: unsaid."""
    text = fold(str(_text(value))) if value is not None else ""
    if not text:
        return None
    for status in TaskStatus:
        if text in (status.value, fold(t(f"status.{status.value}", "vi"))):
            return status
    raise invalid("plan.bad_status", value=value)


def _percent(value: Any) -> Any:
    """A whole number from 0 to 100, "%" allowed; blank: unsaid."""
    text = str(_text(value)).strip().removesuffix("%").strip() if value is not None else ""
    if not text:
        return None
    if isinstance(value, bool) or not re.fullmatch(r"\d{1,3}", text) or int(text) > 100:
        raise invalid("plan.bad_progress", value=value)
    return int(text)


def _unit_written(value: Any, info: ValidationInfo) -> Any:
    """A unit's code or name, when read with the file's units (`PlanFile.from_data`)."""
    units: list[tuple[str, str]] = (info.context or {}).get(UNITS, [])
    text = _text(value)
    if not units or not isinstance(text, str) or not text.strip():
        return value
    return _unit_code(units, text)


def _units_listed(value: Any) -> Any:
    """Several units in one cell, separated by ; or , ("TO_TOAN; TO_VAN")."""
    if isinstance(value, str) and re.search(r"[;,]", value):
        return [part.strip() for part in re.split(r"[;,]", value) if part.strip()]
    return value


def _completed(state: "_State") -> "_State":
    """A done date means done, done means 100 %; a state given in part is completed the way a
    report would be (0 % is not started, 100 % done, between them in progress), so a state is
    either unsaid (all None) or whole."""
    if state.done_on is not None and state.status not in (None, TaskStatus.DONE):
        raise invalid("plan.done_on_not_done", status=t(f"status.{state.status.value}", "vi"))
    if state.done_on is not None:
        state.status = TaskStatus.DONE
    if state.status == TaskStatus.DONE and state.progress not in (None, 100):
        raise invalid("plan.done_not_100", value=state.progress)
    if state.status is None and state.progress is not None:
        state.status = {0: TaskStatus.TODO, 100: TaskStatus.DONE}.get(
            state.progress, TaskStatus.IN_PROGRESS
        )
    if state.progress is None and state.status in (TaskStatus.TODO, TaskStatus.DONE):
        state.progress = 0 if state.status == TaskStatus.TODO else 100
    return state


class _State(_Strict):
    """A task's state when the school starts mid-year; all None: unsaid."""

    status: TaskStatus | None = None
    progress: int | None = None
    done_on: PlanDate | None = None

    _status = field_validator("status", mode="before")(classmethod(lambda _, v: _status(v)))
    _percent = field_validator("progress", mode="before")(classmethod(lambda _, v: _percent(v)))
    _whole = model_validator(mode="after")(_completed)

    @property
    def state(self) -> dict[str, Any]:
        return {"status": self.status, "progress": self.progress, "done_on": self.done_on}

    @property
    def said(self) -> bool:
        return any(value is not None for value in self.state.values())


def _share_written(value: Any) -> Any:
    return {"unit": value} if isinstance(value, str | int | float) else value


class ShareIn(_State):
    """One of several units a task is given to ("các Tổ chuyên môn"): each reports its own
    progress, so each may carry its own state. Written as the unit's code alone when it has
    none."""

    unit: Code
    _unit = field_validator("unit", mode="before")(classmethod(lambda _, v, i: _unit_written(v, i)))

    @model_serializer(mode="wrap")
    def _as_written(self, handler: Callable[[Any], Any]) -> Any:
        if not self.said:
            return self.unit
        data = handler(self)
        return {"unit": data.pop("unit"), **data} if isinstance(data, dict) else data


Share = Annotated[ShareIn, BeforeValidator(_share_written)]


class TaskIn(_Strict):
    code: Code
    title: Annotated[Text, Field(max_length=300)]
    description: str | None = None
    section: Annotated[str, Field(max_length=20), BeforeValidator(_text)] | None = None
    unit: Code | None = None  # the one unit the task is given to (chủ trì when `support` says)
    units: Annotated[list[Share], Field(min_length=1)] | None = None  # several, each its own part
    support: Annotated[list[Code], BeforeValidator(_units_listed)] | None = None  # phối hợp
    role: Role | None = None  # who in the unit carries it out: "Hiệu trưởng phụ trách chung"
    deadline: Deadline | None = None  # a `PeriodEnd` when given as a month, quarter or year
    recurrence: str | None = None
    deadline_source: Literal["proposed"] | None = None  # None: the plan's own date
    reminders: ReminderRules | None = None
    assignees: Annotated[list[Person], BeforeValidator(people_listed)] | None = None  # None: unsaid
    # the task's state when the school starts mid-year (see `_State`); with several units, each
    # unit's own state is in `units`
    status: TaskStatus | None = None
    progress: int | None = None
    done_on: PlanDate | None = None

    _unit = field_validator("unit", mode="before")(classmethod(lambda _, v, i: _unit_written(v, i)))
    _status = field_validator("status", mode="before")(classmethod(lambda _, v: _status(v)))
    _percent = field_validator("progress", mode="before")(classmethod(lambda _, v: _percent(v)))

    @model_validator(mode="before")
    @classmethod
    def _several_units(cls, data: Any) -> Any:
        """`unit` naming several units ("TO_TOAN; TO_VAN", or a list) means `units`."""
        if not isinstance(data, dict):
            return data
        written = _units_listed(data.get("unit"))
        if isinstance(written, list) and "units" not in data:
            return {key: value for key, value in data.items() if key != "unit"} | {"units": written}
        return data

    @field_validator("role", mode="before")
    @classmethod
    def _role(cls, value: Any) -> Any:
        """A role as the people file writes it: "Hiệu trưởng", "Phó hiệu trưởng", "Tổ trưởng",
        "Giáo viên" (or principal, vice_principal, unit_head, staff); blank: the unit's heads."""
        text = fold_name(str(_text(value))) if value is not None else ""
        if not text:
            return None
        if text in ROLE_BY_WORD:
            return ROLE_BY_WORD[text]
        raise invalid("plan.bad_role", value=value)

    @field_validator("support", mode="before")
    @classmethod
    def _support(cls, value: Any, info: ValidationInfo) -> Any:
        items = _units_listed(value)
        if isinstance(items, str | int | float):
            items = [items]
        return [_unit_written(item, info) for item in items] if isinstance(items, list) else items

    @field_validator("recurrence")
    @classmethod
    def _rule(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        try:
            return parse_recurrence(value).rule
        except RecurrenceError:
            raise invalid("plan.bad_recurrence", value=value) from None

    @field_validator("deadline_source", mode="before")
    @classmethod
    def _source(cls, value: Any) -> Any:
        """`proposed` (đề xuất): the date is not the plan's; `plan` (kế hoạch) or blank: it is."""
        text = fold(str(value)) if value is not None else ""
        if text in ("", "plan", "ke hoach"):
            return None
        if text in ("proposed", "de xuat"):
            return "proposed"
        raise invalid("plan.bad_deadline_source", value=value)

    @model_validator(mode="after")
    def _one_schedule(self) -> "TaskIn":
        if (self.deadline is None) == (self.recurrence is None):
            raise invalid("plan.deadline_or_recurrence")
        return self

    @model_validator(mode="after")
    def _owners(self) -> "TaskIn":
        """One unit or several, each once, none of them also coordinating; the task's state
        given with several units is each unit's that says none of its own."""
        if (self.unit is None) == (self.units is None):
            raise invalid("plan.unit_or_units")
        state = _State.model_validate(self.state)
        codes = [share.unit.upper() for share in self.owners]
        twice = next((code for code in codes if codes.count(code) > 1), None)
        if twice is not None:
            raise invalid("plan.unit_twice", value=twice)
        both = [code for code in self.support or [] if code.upper() in codes]
        if both:
            raise invalid("plan.support_is_owner", value=both[0])
        if self.units is not None and len(self.units) == 1:
            (share,) = self.units
            self.unit, self.units = share.unit, None
            state = share if share.said else state
        if self.units is None:
            self.status, self.progress, self.done_on = state.status, state.progress, state.done_on
            return self
        self.units = [
            share if share.said else ShareIn(unit=share.unit, **state.state) for share in self.units
        ]
        self.status = self.progress = self.done_on = None
        return self

    @property
    def state(self) -> dict[str, Any]:
        return {"status": self.status, "progress": self.progress, "done_on": self.done_on}

    @property
    def owners(self) -> list[ShareIn]:
        """The units the task is given to, each with its state."""
        if self.units is not None:
            return self.units
        if self.unit is None:  # never: validation gives a task `unit` or `units`
            raise ValueError(f"task {self.code} is given to no unit")
        return [ShareIn.model_construct(unit=self.unit, **self.state)]


Day = date  # within HolidayIn, `date` names its field


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
    def days(self) -> list[Day]:
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

    @classmethod
    def from_data(cls, data: Any) -> "PlanFile":
        """Validate a file's data; there a task's unit may be given by the unit's name."""
        return cls.model_validate(data, context={UNITS: _unit_pairs(data)})

    def read_from(self, origin: Origin) -> "PlanFile":
        self._origin = origin
        return self


UNITS = "units"  # the validation context's key: the file's units as (code, name)


def _unit_pairs(data: Any) -> list[tuple[str, str]]:
    """The units of a file's data as written, before validation: (code, name)."""
    items = data.get("units") if isinstance(data, dict) else None
    pairs = []
    for item in items if isinstance(items, list) else []:
        code = _text(item.get("code")) if isinstance(item, dict) else None
        if isinstance(code, str) and code.strip():
            name = _text(item.get("name"))
            pairs.append((code.strip(), name.strip() if isinstance(name, str) else ""))
    return pairs


def _unit_code(units: list[tuple[str, str]], written: str) -> str:
    """The code of the unit `written` names by code or name, ignoring case and spacing, else
    without diacritics; refused with the units to choose from."""
    for key in (fold_name, fold):
        codes = {code for code, name in units if key(written) in (key(code), key(name))}
        if len(codes) == 1:
            (code,) = codes
            # a unit whose own code has spaces is refused there; naming it is not wrong
            return code if len(code.split()) == 1 else code_for(code)
    known = ", ".join(
        f"{code} ({name})" if fold_name(name) not in ("", fold_name(code)) else code
        for code, name in units
    )
    raise invalid("plan.unknown_unit", value=written.strip(), known=known)


def _code_key(item: dict[str, Any]) -> str | None:
    code = _text(item.get("code"))
    return code.strip().upper() if isinstance(code, str) and code.strip() else None


def _kpi_key(item: dict[str, Any]) -> str | None:
    key, year = item.get("key"), target_year(item.get("year"))
    return f"{key.strip()} ({year})" if isinstance(key, str) and year is not None else None


def reference_problems(data: Any) -> list[tuple[Location, str]]:
    """Duplicates, which pydantic cannot see item by item. Read from the file's data as written,
    so they are reported together with every other problem of the file."""
    problems: list[tuple[Location, str]] = []
    checks = (("units", "code", _code_key), ("kpis", "key", _kpi_key), ("tasks", "code", _code_key))
    for section, field, key_of in checks:
        items = data.get(section) if isinstance(data, dict) else None
        seen: set[str] = set()
        for index, item in enumerate(items if isinstance(items, list) else []):
            key = key_of(item) if isinstance(item, dict) else None
            if key in seen:
                problems.append(((section, index, field), t("plan.duplicate", value=key)))
            elif key is not None:
                seen.add(key)
    return problems
