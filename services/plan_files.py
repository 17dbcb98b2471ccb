"""Reading and writing plan files (YAML, JSON, Excel), with errors that point at the bad spot."""

import difflib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, get_args, get_origin

import openpyxl
import yaml
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from messages import format_date, t
from services.plan_schema import (
    NO,
    YES,
    Location,
    Origin,
    PlanFile,
    people_listed,
    reference_problems,
)
from services.school_calendar import (
    CalendarError,
    parse_quiet_hours,
    parse_weekly,
    parse_working_days,
)
from services.text import fold, is_number
from services.validation import RefusedFile
from services.workbooks import UnreadableWorkbook, open_workbook

SECTIONS = ("school", "units", "kpis", "tasks", "holidays")
COLUMNS: dict[str, tuple[str, ...]] = {
    "school": ("code", "name", "timezone", "plan"),
    "units": ("code", "name", "description"),
    "kpis": ("key", "name", "measure", "direction", "target", "target_text", "year", "section"),
    "tasks": (
        "code",
        "title",
        "description",
        "section",
        "unit",
        "deadline",
        "recurrence",
        "deadline_source",
        "assignees",
        "status",
        "progress",
        "done_on",
        "reminders.before_days",
        "reminders.at",
        "reminders.overdue_every_days",
        "reminders.escalate_after_days",
        "support",
        "role",
    ),
    "holidays": ("date", "until", "name"),
    "settings": ("label", "setting", "value", "help"),  # one row per setting, not a section
}
# the school's settings, one row each on the settings sheet; "reminders.at" is settings.reminders.at
SETTINGS = (
    "quiet_hours",
    "working_days",
    "digest",
    "checkin",
    "group_reminders",
    "reminders.before_days",
    "reminders.at",
    "reminders.overdue_every_days",
    "reminders.escalate_after_days",
    "school_year.start",
    "school_year.semester1_end",
    "school_year.end",
    "letterhead.parent",
    "letterhead.place",
    "letterhead.signer",
)
SCHOOL_YEAR_DAYS = ("start", "semester1_end", "end")  # settings.school_year, dates
DATE_FIELDS = ("deadline", "date", "until", "done_on")
TEXT_FIELDS = ("value", "reminders.before_days", "reminders.at")  # "07:30" stays text in Excel
COLUMN_WIDTHS = {
    "name": 50,
    "title": 60,
    "description": 70,
    "plan": 70,
    "assignees": 40,
    "support": 30,
    "target_text": 30,
    "label": 40,
    "setting": 30,
    "value": 20,
    "help": 100,
}
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
TEXT_SUFFIXES = (".yaml", ".yml", ".json")


class PlanFileError(RefusedFile):
    headline = "plan.file_refused"


def sheet_title(section: str) -> str:
    return t(f"xlsx.sheet.{section}")


def column_header(section: str, field: str) -> str:
    return t(f"xlsx.column.{section}.{field}")


@dataclass
class _Source:
    data: Any
    locate: Callable[[Location], str]
    place: Callable[[Location], tuple[int, ...]]  # where `locate` points, to sort by


def read_plan(path: Path) -> PlanFile:
    """Load and validate a plan file; raise `PlanFileError` listing every problem found, in the
    order they appear in the file."""
    source = _read_source(path)
    problems = reference_problems(source.data)
    try:
        plan: PlanFile | None = PlanFile.from_data(source.data)
    except ValidationError as exc:
        problems += [(_field_location(error), _describe(error)) for error in exc.errors()]
        plan = None
    if plan is None or problems:
        problems.sort(key=lambda problem: source.place(problem[0]))
        raise _refusal(path, source.locate, problems)
    return plan.read_from(Origin(path, source.locate))


def refusal(plan: PlanFile, problems: list[tuple[Location, str]]) -> PlanFileError:
    """Refuse `plan` for problems found after reading it (against the database), pointing at
    the spots in the file it was read from."""
    origin = plan.origin or Origin(Path(plan.school.code), _path_text)
    return _refusal(origin.path, origin.locate, problems)


def _refusal(
    path: Path, locate: Callable[[Location], str], problems: list[tuple[Location, str]]
) -> PlanFileError:
    unique = dict.fromkeys(f"{locate(loc)}: {message}" for loc, message in problems)
    return PlanFileError(path, list(unique))


def _path_text(loc: Location) -> str:
    """tasks[2].assignees[0]"""
    return ".".join(str(p) if isinstance(p, str) else f"[{p}]" for p in loc).replace(".[", "[")


def _read_source(path: Path) -> _Source:
    suffix = path.suffix.lower()
    if suffix not in TEXT_SUFFIXES + EXCEL_SUFFIXES:
        raise PlanFileError(path, [t("plan.unknown_format")])
    if not path.is_file():
        raise PlanFileError(path, [t("file.not_found", path=path)])
    if suffix in EXCEL_SUFFIXES:
        return _read_workbook(path)
    return _read_text(path)


class _PlanLoader(yaml.SafeLoader):
    """Dates stay text, so an impossible date is reported by the schema with its line."""


_PlanLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _read_text(path: Path) -> _Source:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise PlanFileError(path, [t("plan.not_utf8")]) from None
    try:
        node = yaml.compose(text, Loader=_PlanLoader)
        data = yaml.load(text, Loader=_PlanLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = t("plan.at_line", line=mark.line + 1, column=mark.column + 1) if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise PlanFileError(path, [t("plan.syntax", where=where, problem=problem)]) from None

    def place(loc: Location) -> tuple[int, int]:
        """Line and column (from 0) of the node at `loc`, else of the nearest one above it."""
        current, found = node, node
        for part in loc:
            step = _child(current, part)
            if step is None:
                break
            found, current = step
        return (found.start_mark.line, found.start_mark.column) if found is not None else (0, 0)

    def locate(loc: Location) -> str:
        return t("plan.at_path", line=place(loc)[0] + 1, path=_path_text(loc) or "—")

    return _Source(data, locate, place)


def _child(node: yaml.Node | None, part: str | int) -> tuple[yaml.Node, yaml.Node] | None:
    """Where `part` of `node` is written (a field's key, a list's item) and what it holds."""
    if isinstance(node, yaml.MappingNode) and isinstance(part, str):
        return next(((key, value) for key, value in node.value if key.value == part), None)
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        return node.value[part], node.value[part]
    return None


def _read_workbook(path: Path) -> _Source:
    try:
        workbook = open_workbook(path)
    except UnreadableWorkbook:
        raise PlanFileError(path, [t("plan.bad_workbook")]) from None
    sheets = {ws.title.strip().lower(): ws for ws in workbook.worksheets}
    data: dict[str, Any] = {}
    rows: dict[str, list[int]] = {}
    shares: dict[str, list[list[int]]] = {}  # a task's rows, one per unit it is given to
    headers: dict[str, dict[str, str]] = {}  # in the order of the sheet's columns
    order: dict[str, int] = {}  # the sheet's position in the workbook
    problems: list[str] = []
    for section in SECTIONS:
        sheet = sheets.get(sheet_title(section).lower()) or sheets.get(section)
        if sheet is None:
            if section in ("school", "units"):
                problems.append(t("plan.missing_sheet", sheet=sheet_title(section)))
            continue
        order[section] = workbook.worksheets.index(sheet)
        items, rows[section], headers[section], unknown = _sheet_rows(sheet, section)
        problems += [_unknown_column(sheet.title, section, column) for column in unknown]
        items = [_nested(item) for item in items]
        if section == "tasks":
            items, rows[section], shares[section] = _one_task_per_code(items, rows[section])
        data[section] = (items[0] if items else {}) if section == "school" else items
    settings: dict[str, Any] = {}  # "reminders.at": as written, in the order of its rows
    sheet = sheets.get(sheet_title("settings").lower()) or sheets.get("settings")
    if sheet is not None:
        order["settings"] = workbook.worksheets.index(sheet)
        items, numbers, headers["settings"], unknown = _sheet_rows(sheet, "settings")
        problems += [_unknown_column(sheet.title, "settings", column) for column in unknown]
        rows["settings"] = []
        for item, number in zip(items, numbers, strict=True):
            if "value" not in item:
                continue  # a setting left blank, or a note
            key, where = _setting_of(item), _where(sheet.title, number)
            if key is None:
                allowed = ", ".join(SETTINGS)
                problems.append(f"{where}: {t('plan.unknown_setting', allowed=allowed)}")
            elif key in settings:
                problems.append(f"{where}: {t('plan.duplicate_setting', setting=key)}")
            else:
                settings[key] = item["value"]
                rows["settings"].append(number)
        if settings:  # a sheet left blank keeps the school's settings, as no sheet does
            data.setdefault("school", {})["settings"] = _nested(settings)
    workbook.close()
    if problems:
        raise PlanFileError(path, problems)

    def spot(loc: Location) -> tuple[str, int | tuple[int, int] | None, str | None]:
        """The sheet, the item (when its row is known) and the field `loc` points at: a task's
        reminder override in its own column, a school's setting on the settings sheet."""
        section = str(loc[0]) if loc else ""
        if loc[:2] == ("school", "settings") and "settings" in rows:
            setting = ".".join(part for part in loc[2:4] if isinstance(part, str))
            index = list(settings).index(setting) if setting in settings else None
            return "settings", index, "value"
        parts = (*loc, None, None, None, None)
        item, field = (0, parts[1]) if section == "school" else (parts[1], parts[2])
        if field == "reminders" and isinstance(parts[3], str):
            field = f"reminders.{parts[3]}"
        named = field if isinstance(field, str) else None
        if not isinstance(item, int) or item >= len(rows.get(section, [])):
            return section, None, named
        if field == "units" and isinstance(parts[3], int):
            return section, (item, parts[3]), parts[4] if isinstance(parts[4], str) else "unit"
        return section, item, named

    def row_of(section: str, index: int | tuple[int, int]) -> int:
        """The row of an item, or of one unit's row of a task (index, share)."""
        if isinstance(index, tuple):
            return shares[section][index[0]][index[1]]
        return rows[section][index]

    def locate(loc: Location) -> str:
        section, index, field = spot(loc)
        if section not in rows:
            return t("plan.whole_file")
        where = [t("plan.at_sheet", sheet=sheet_title(section))]
        if index is not None:
            where.append(t("plan.at_row", row=row_of(section, index)))
        if field is not None:
            where.append(t("plan.at_column", column=headers[section].get(field, field)))
        return ", ".join(where)

    def place(loc: Location) -> tuple[int, ...]:
        section, index, field = spot(loc)
        if section not in rows:
            return (-1,)
        columns = list(headers[section])
        row = row_of(section, index) if index is not None else 0
        return order[section], row, columns.index(field) if field in columns else -1

    return _Source(data, locate, place)


SHARE_FIELDS = ("unit", "status", "progress", "done_on")  # a unit's own, on its row of a task


def _one_task_per_code(
    items: list[dict[str, Any]], numbers: list[int]
) -> tuple[list[dict[str, Any]], list[int], list[list[int]]]:
    """A task given to several units has a row per unit under one code, the rest of the row
    alike: read as one task with `units`, each unit's own state from its row, the people of
    every row. A row that says something else under a code already used stays a task of its
    own (a duplicate code, reported with the rest). Returns the tasks, the row of each and the
    rows of each one's units."""
    groups: dict[str, list[int]] = {}
    for position, item in enumerate(items):
        key = str(item.get("code", "")).strip().upper() or f"#{position}"
        first = items[groups[key][0]] if key in groups else None
        if first is not None and _alike(first, item):
            groups[key].append(position)
        else:
            groups.setdefault(key if first is None else f"#{position}", []).append(position)
    tasks, share_rows = [], []
    for positions in sorted(groups.values()):
        share_rows.append([numbers[p] for p in positions])
        tasks.append(_merged([items[p] for p in positions]))
    return tasks, [rows[0] for rows in share_rows], share_rows


def _alike(first: dict[str, Any], item: dict[str, Any]) -> bool:
    keys = (set(first) | set(item)) - {*SHARE_FIELDS, "assignees"}
    return all(first.get(key) == item.get(key) for key in keys)


def _merged(rows: list[dict[str, Any]]) -> dict[str, Any]:
    if len(rows) == 1:
        return rows[0]
    task = {key: value for key, value in rows[0].items() if key not in SHARE_FIELDS}
    people = [person for row in rows for person in people_listed(row.get("assignees", []))]
    if people:
        task["assignees"] = list(dict.fromkeys(people))
    task["units"] = [{key: row[key] for key in SHARE_FIELDS if key in row} for row in rows]
    return task


def _task_rows(item: dict[str, Any]) -> list[dict[str, Any]]:
    """A task's rows in the Excel form: one, or one per unit it is given to."""
    if "units" not in item:
        return [item]
    task = {key: value for key, value in item.items() if key != "units"}
    return [
        task | ({"unit": share} if isinstance(share, str) else share) for share in item["units"]
    ]


def _unknown_column(sheet: str, section: str, column: str) -> str:
    """A column the form does not have, with the ones it has and the one it most likely
    misspells."""
    allowed = [column_header(section, field) for field in COLUMNS[section]]
    similar = _closest(column, {header: header for header in allowed})
    params = {"sheet": sheet, "column": column, "allowed": ", ".join(allowed)}
    if similar is None:
        return t("plan.unknown_column", **params)
    return t("plan.unknown_column_similar", similar=similar, **params)


def _closest(written: str, ways: dict[str, str]) -> str | None:
    """What `written` most likely means among `ways` (a way to write something: what to
    suggest), compared without case or diacritics; an exact match first."""
    meant = {fold(way): suggestion for way, suggestion in ways.items()}
    key = fold(written)
    close = [key] if key in meant else difflib.get_close_matches(key, meant, n=1, cutoff=0.75)
    return meant[close[0]] if close else None


def _sheet_rows(
    sheet: Worksheet, section: str
) -> tuple[list[dict[str, Any]], list[int], dict[str, str], list[str]]:
    by_header = {column_header(section, f).lower(): f for f in COLUMNS[section]}
    by_header.update({f: f for f in COLUMNS[section]})
    table = sheet.iter_rows()
    header_row = [cell.value for cell in next(table, ())]
    fields: list[str | None] = []
    headers: dict[str, str] = {}
    unknown: list[str] = []
    for cell in header_row:
        label = str(cell).strip() if cell is not None else ""
        field = by_header.get(label.lower())
        fields.append(field)
        if field:
            headers[field] = label
        elif label:
            unknown.append(label)
    items: list[dict[str, Any]] = []
    numbers: list[int] = []
    for number, cells in enumerate(table, start=2):
        values = [_cell_value(field, cell) for field, cell in zip(fields, cells, strict=False)]
        item = {
            field: value.strip() if isinstance(value, str) else value
            for field, value in zip(fields, values, strict=False)
            if field and value is not None and value != ""
        }
        if item:
            items.append(item)
            numbers.append(number)
    return items, numbers, headers, unknown


def _cell_value(field: str | None, cell: Any) -> Any:
    """A cell's value; a progress typed "60%" is kept by Excel as 0.6 in a percent format."""
    value = cell.value
    if field == "progress" and isinstance(value, int | float) and "%" in (cell.number_format or ""):
        return round(value * 100, 6)
    return value


def _where(sheet: str, row: int) -> str:
    return f"{t('plan.at_sheet', sheet=sheet)}, {t('plan.at_row', row=row)}"


def _setting_of(item: dict[str, Any]) -> str | None:
    """The setting a row of the settings sheet gives: by its key, else by its label."""
    ways = {key: key for key in SETTINGS} | {
        t(f"xlsx.setting.{key}", locale): key for key in SETTINGS for locale in ("vi", "en")
    }
    meant = {fold(way): key for way, key in ways.items()}
    written = (fold(str(item[field])) for field in ("setting", "label") if field in item)
    return next((meant[text] for text in written if text in meant), None)


def _nested(item: dict[str, Any]) -> dict[str, Any]:
    """A row's "reminders.at" columns as the schema's `reminders: {at: …}`; settings and reminder
    rules read the way people write them."""
    nested: dict[str, Any] = {}
    for field, value in item.items():
        group, _, name = field.rpartition(".")
        written = _as_written(name, value) if field in SETTINGS else value
        (nested.setdefault(group, {}) if group else nested)[name] = written
    return nested


_OFF = {"-", "khong", "tat", "off", "no", "none"}
_VI_DAYS = {"2": "mon", "3": "tue", "4": "wed", "5": "thu", "6": "fri", "7": "sat"}
_VI_DAYS |= {"hai": "mon", "ba": "tue", "tu": "wed", "nam": "thu", "sau": "fri", "bay": "sat"}
_VI_DAY = re.compile(r"\b(?:thu|t)\s*(2|3|4|5|6|7|hai|ba|tu|nam|sau|bay)\b(?!\s*[:h]\d)")
_SUNDAY = re.compile(r"\b(?:chu nhat|cn)\b")
_HOUR = re.compile(r"\b(\d{1,2})\s*(?:h|gio)\s*(\d{2})?\b")
_CHECKS: dict[str, Callable[[str], object]] = {
    "quiet_hours": parse_quiet_hours,
    "working_days": parse_working_days,
    "digest": parse_weekly,
    "checkin": parse_weekly,
    "at": lambda text: parse_weekly(f"mon {text}"),
}


def _as_written(name: str, value: Any) -> Any:
    """A setting or a task's reminder override as people write it in a cell ("thứ 2-thứ 6",
    "thứ 6 15h", "7, 1, 0", "có", a time Excel made of "07:30") in the form the schema reads;
    what cannot be read stays as written, for the schema to refuse with the text written."""
    if name in SCHOOL_YEAR_DAYS:
        return value  # a date, read by the schema as typed or as Excel's own date
    if isinstance(value, datetime | time):
        return value.strftime("%H:%M")
    if name == "before_days" and isinstance(value, int | float) and not isinstance(value, bool):
        return [int(value) if float(value).is_integer() else value]
    if name == "before_days" and isinstance(value, str):
        parts = [] if fold(value) in _OFF else re.split(r"[,;\s]+", value.strip())
        return [int(part) if is_number(part) else part for part in parts if part]
    if name in ("overdue_every_days", "escalate_after_days") and isinstance(value, str):
        days = re.fullmatch(r"(\d+)\s*(?:ngay)?", fold(value))
        return int(days[1]) if days else value
    if name == "group_reminders" and isinstance(value, str):
        return True if fold(value) in YES else False if fold(value) in NO else value
    if name not in _CHECKS or not isinstance(value, str):
        return value
    text = fold(value)
    if name == "quiet_hours" and text in _OFF:
        return ""
    text = _SUNDAY.sub("sun", _VI_DAY.sub(lambda day: _VI_DAYS[day[1]], text))
    text = _HOUR.sub(lambda hour: f"{int(hour[1]):02d}:{hour[2] or '00'}", text)
    text = re.sub(r"\s*([-,])\s*", r"\1", text.replace(" luc ", " "))
    try:
        _CHECKS[name](text)
    except CalendarError:
        return value
    return text


def _field_location(error: ErrorDetails) -> Location:
    """Drop pydantic's union-member and validator tags after the field name, keeping the setting
    or reminder rule a field (settings, reminders) holds; an unknown field's path has none, and
    may be deeper (school.settings.reminders)."""
    loc = tuple(error["loc"])
    if error["type"] == "extra_forbidden":
        return loc
    depth = 2 if loc[:1] == ("school",) else 3
    while depth < len(loc) and loc[depth - 1] in (
        "settings", "reminders", "school_year", "letterhead"
    ):  # fmt: skip
        depth += 1
    return loc[:depth]


def _unknown_field(loc: Location) -> str:
    """An unknown field, with the fields allowed at its place (read from the model there) and the
    one it most likely misspells: a field's name, or its header in the Excel form ("hạn")."""
    *place, field = loc
    allowed = list(_model_at(place).model_fields)
    ways = {name: name for name in allowed}
    section = str(place[0]) if place else ""
    if section in COLUMNS and len(place) == (1 if section == "school" else 2):
        ways |= {column_header(section, name): name for name in COLUMNS[section] if name in ways}
    similar = _closest(str(field), ways)
    params = {"field": field, "allowed": ", ".join(allowed)}
    if similar is None:
        return t("plan.unknown_field", **params)
    return t("plan.unknown_field_similar", similar=similar, **params)


def _model_at(place: Sequence[str | int]) -> type[BaseModel]:
    """The model of what is at `place`: the plan, a task (tasks, 2), the school's settings…"""
    model: type[BaseModel] = PlanFile
    for part in place:
        field = model.model_fields.get(part) if isinstance(part, str) else None
        if field is not None:
            model = _model_in(field.annotation) or model
    return model


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model an annotation holds: TaskIn in list[TaskIn], ReminderRules in its Optional."""
    if get_origin(annotation) is None and isinstance(annotation, type):
        return annotation if issubclass(annotation, BaseModel) else None
    return next((model for arg in get_args(annotation) if (model := _model_in(arg))), None)


def _describe(error: ErrorDetails) -> str:
    kind, value, field = error["type"], error.get("input"), error["loc"][-1] if error["loc"] else ""
    ctx = error.get("ctx") or {}
    choices = str(ctx.get("expected", "")).replace(" or ", ", ")
    if kind == "extra_forbidden":
        return _unknown_field(tuple(error["loc"]))
    if value is None and error["loc"] and kind != "missing":
        return t("plan.empty_value")
    simple: dict[str, tuple[str, dict[str, object]]] = {
        "missing": ("plan.missing_field", {"field": field}),
        "string_too_long": ("plan.too_long", {"max": ctx.get("max_length")}),
        "string_too_short": ("plan.empty_value", {}),
        "too_short": ("plan.empty_list", {}),
        "enum": ("plan.bad_choice", {"value": value, "choices": choices}),
        "greater_than_equal": ("plan.out_of_range", {"value": value}),
        "less_than_equal": ("plan.out_of_range", {"value": value}),
        "bool_parsing": ("plan.need_yes_no", {"value": value}),
    }
    if kind == "greater_than_equal" and field != "year":
        return t("plan.below_min", value=value, limit=ctx.get("ge"))
    if kind == "less_than_equal" and field != "year":
        return t("plan.above_max", value=value, limit=ctx.get("le"))
    if kind == "plan":
        return error["msg"]
    if kind in simple:
        key, params = simple[kind]
        return t(key, **params)
    if kind == "string_pattern_mismatch":
        return t("plan.bad_kpi_key" if field == "key" else "plan.bad_code", value=value)
    if kind.startswith(("float", "int", "bool")):
        return t("plan.need_number", value=value)
    if kind in ("model_type", "model_attributes_type", "dict_type", "list_type", "string_type"):
        return t("plan.wrong_shape")
    return error["msg"]


def plan_as_data(plan: PlanFile) -> dict[str, Any]:
    data = plan.model_dump(mode="json", exclude_none=True)
    for kpi in data["kpis"]:
        if isinstance(kpi["target"], float) and kpi["target"].is_integer():
            kpi["target"] = int(kpi["target"])
    return data


def dump_text(plan: PlanFile, fmt: str) -> str:
    data = plan_as_data(plan)
    if fmt == "json":
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


def write_workbook(plan: PlanFile | None, path: Path) -> None:
    """The Excel form of a plan; with no plan, the empty template with a help sheet."""
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.worksheets[0])  # a new workbook's one sheet
    data = plan_as_data(plan) if plan else {}
    for section in SECTIONS:
        items = [data.get(section, {})] if section == "school" else data.get(section, [])
        if section == "tasks":
            items = [row for item in items for row in _task_rows(item)]
        rows = [[_cell(field, _at(item, field)) for field in COLUMNS[section]] for item in items]
        _write_sheet(workbook, section, [row for row in rows if any(v is not None for v in row)])
    settings = data.get("school", {}).get("settings", {})
    _write_sheet(
        workbook,
        "settings",
        [
            [t(f"xlsx.setting.{key}"), key, _cell(key, _at(settings, key)), t(f"xlsx.help.{key}")]
            for key in SETTINGS
        ],
    )
    guide = workbook.create_sheet(t("xlsx.sheet.guide"))
    for line in t("xlsx.guide").splitlines():
        guide.append([line])
    guide.column_dimensions["A"].width = 110
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)


def _write_sheet(workbook: openpyxl.Workbook, section: str, rows: list[list[Any]]) -> None:
    sheet = workbook.create_sheet(sheet_title(section))
    fields = COLUMNS[section]
    sheet.append([column_header(section, f) for f in fields])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row)
    for index, field in enumerate(fields, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = COLUMN_WIDTHS.get(field, 16)
        if field in DATE_FIELDS or field in TEXT_FIELDS:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = "DD/MM/YYYY" if field in DATE_FIELDS else "@"
    sheet.freeze_panes = "A2"


def _at(item: dict[str, Any], field: str) -> Any:
    """The value of `field` in an item, "reminders.at" in its `reminders`."""
    group, _, name = field.rpartition(".")
    holder = item.get(group) if group else item
    return holder.get(name) if isinstance(holder, dict) else None


def _cell(field: str, value: Any) -> Any:
    if field in DATE_FIELDS and isinstance(value, str) and value[:1].isdigit():
        return date.fromisoformat(value)  # a deadline given as a period stays text: "quý II/2026"
    if field == "target" and isinstance(value, bool):
        return t("xlsx.yes") if value else t("xlsx.no")
    if field == "status" and value is not None:
        return t(f"status.{value}")  # as the bot says it: "hoàn thành"
    if field == "role" and value is not None:
        return t(f"role.{value}").split("/")[0]  # "Hiệu trưởng", "Tổ trưởng"
    if isinstance(value, bool) or (field == "quiet_hours" and value == ""):
        return t("xlsx.yes") if value else t("xlsx.no")  # group reminders; no quiet hours
    if field.startswith("school_year.") and value is not None:
        return format_date(date.fromisoformat(value))  # text, as dates are typed: 05/09/2026
    if field == "reminders.before_days" and value is not None:
        return ", ".join(str(days) for days in value) or "-"  # "-": no reminder before the day
    if isinstance(value, list):  # assignees: one cell; "-" is nobody, an empty cell unsaid
        return "; ".join(value) or "-"
    return value
