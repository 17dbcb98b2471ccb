"""The digest's attachments: an Excel workbook (tasks, units, the period's reports, KPIs) and a
PNG chart of progress per unit. Texts come from the message catalogue, in the reader's locale."""

from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlmodel import Session

from messages import format_percent, t
from models import Direction, Kpi, TaskStatus
from services.digest import Digest, KpiItem, TaskItem, UnitRow, period_reports
from services.plan_text import countdown, describe_target

DATE_FORMAT = "DD/MM/YYYY"
DATETIME_FORMAT = "DD/MM/YYYY HH:MM"
# Bundled with matplotlib, so always there, and it has every Vietnamese letter.
CHART_FONT = "DejaVu Sans"


# --- the workbook ------------------------------------------------------------------------------


def write_workbook(digest: Digest, session: Session, path: Path, *, locale: str = "vi") -> None:
    """Four sheets with a bold, frozen header row, every number as of the digest's end. Times
    are written as naive local times of the school's zone (Excel has no time zones), dates and
    times as real Excel values."""
    tz = ZoneInfo(digest.timezone)
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    tasks = [_task_row(item, digest, tz, locale) for item in digest.tasks]
    _add_sheet(workbook, locale, "tasks", tasks,
               [("code", 12), ("title", 60), ("unit", 24), ("assignee", 24), ("due", 12),
                ("status", 20), ("timing", 24), ("progress", 12), ("last_report", 18)])  # fmt: skip
    _add_sheet(workbook, locale, "units", [_unit_row(row, tz) for row in digest.units],
               [("name", 28), ("heads", 28), ("tasks", 10), ("done", 10), ("overdue", 10),
                ("progress", 14), ("last_report", 18)])  # fmt: skip
    _add_sheet(workbook, locale, "updates", _update_rows(digest, session, tz, locale),
               [("time", 18), ("code", 12), ("title", 50), ("who", 24), ("progress", 12),
                ("status", 18), ("note", 60)])  # fmt: skip
    _add_sheet(workbook, locale, "kpis", [_kpi_row(kpi, tz, locale) for kpi in digest.kpis],
               [("key", 20), ("name", 60), ("target", 22), ("year", 8), ("value", 16),
                ("date", 12), ("projected", 16), ("status", 22)])  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)


def _add_sheet(
    workbook: openpyxl.Workbook,
    locale: str,
    name: str,
    rows: list[list[Any]],
    columns: list[tuple[str, int]],
) -> None:
    sheet = workbook.create_sheet(t(f"xlsx.digest.sheet.{name}", locale))
    sheet.append([t(f"xlsx.digest.{name}.{column}", locale) for column, _ in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([_clean(value) for value in row])
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, datetime):
                cell.number_format = DATETIME_FORMAT
            elif isinstance(cell.value, date):
                cell.number_format = DATE_FORMAT
            elif isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # user text, never a formula
    for index, (_, width) in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"


def _clean(value: Any) -> Any:
    """Control characters cannot be stored in a workbook: drop them from text."""
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def _local(moment: datetime | None, tz: ZoneInfo) -> datetime | None:
    return moment.astimezone(tz).replace(tzinfo=None) if moment else None


def _status(status: TaskStatus | None, locale: str) -> str:
    """A task's or an update's status; an update without one is evidence."""
    if status is None:
        return t("update.evidence_entry", locale)
    return t(f"status.{TaskStatus(status).value}", locale)


def _task_row(item: TaskItem, digest: Digest, tz: ZoneInfo, locale: str) -> list[Any]:
    done_on = item.done_at.astimezone(tz).date() if item.done_at else None
    timing = (
        countdown(item.due, digest.today, locale, done_on=done_on)
        if item.due
        else t("countdown.never_due", locale)
    )
    if item.proposed:
        timing += t("digest.proposed", locale)
    return [
        item.code,
        item.title,
        item.unit,
        item.assignee,
        item.due,
        _status(item.status, locale),
        timing,
        item.progress,
        _local(item.last_report, tz),
    ]


def _unit_row(row: UnitRow, tz: ZoneInfo) -> list[Any]:
    return [
        row.name,
        ", ".join(row.heads),
        row.tasks,
        row.done,
        row.overdue,
        round(row.progress, 1),
        _local(row.last_report, tz),
    ]


def _update_rows(digest: Digest, session: Session, tz: ZoneInfo, locale: str) -> list[list[Any]]:
    return [
        [
            _local(update.created_at, tz),
            task.code,
            task.title,
            member.name if member else None,
            update.percent,
            _status(update.status, locale),
            update.note,
        ]
        for update, task, member in period_reports(
            session, digest.school_id, digest.start, digest.end
        )
    ]


def kpi_model(item: KpiItem) -> Kpi:
    """A detached Kpi with the item's target for the plan_text helpers; never added to a session."""
    return Kpi(
        key=item.key,
        name=item.name,
        measure=item.measure,
        direction=item.direction,
        target=item.target,
        target_max=item.target_max,
        target_year=item.target_year,
        target_text=item.target_text,
    )


def _kpi_value(item: KpiItem, value: float | None, locale: str) -> Any:
    if value is not None and item.direction == Direction.YES_NO:
        return t("kpi.yes" if value else "kpi.no", locale)
    return round(value, 2) if value is not None else None


def _kpi_row(item: KpiItem, tz: ZoneInfo, locale: str) -> list[Any]:
    recorded = item.recorded_at.astimezone(tz).date() if item.recorded_at else None
    return [
        item.key,
        item.name,
        describe_target(kpi_model(item), locale),
        item.target_year,
        _kpi_value(item, item.value, locale),
        recorded,
        _kpi_value(item, item.projected, locale),
        t(f"digest.kpi.status.{item.outlook.value}", locale),
    ]


# --- the chart ---------------------------------------------------------------------------------


def write_chart(digest: Digest, path: Path, *, locale: str = "vi") -> None:
    """A horizontal bar per unit (plan order, top down): its tasks' average progress, 0–100 %.

    No pyplot and no global settings: the figure is drawn on its own and every text is given
    the font explicitly, so charts drawn at the same time in several threads do not mix."""
    font = FontProperties(family=CHART_FONT, size=10)
    names = [_short(unit.name) for unit in digest.units]
    values = [unit.progress for unit in digest.units]
    figure = Figure(figsize=(8, max(2.5, 1.6 + 0.45 * len(names))), dpi=120)
    axes = figure.subplots()
    positions = list(range(len(names)))
    bars = axes.barh(positions, values, color=[_color(value) for value in values])
    axes.set_yticks(positions, labels=names)
    axes.invert_yaxis()
    axes.set_xlim(0, 112)  # room for the label of a full bar
    axes.set_xticks(range(0, 101, 20))
    axes.set_xlabel(t("digest.chart.axis", locale), fontproperties=font)
    title = t("digest.chart.title", locale, week=digest.week.dates())
    axes.set_title(title, fontproperties=FontProperties(family=CHART_FONT, size=12))
    axes.grid(axis="x", alpha=0.3)
    axes.set_axisbelow(True)
    for label in [*axes.get_xticklabels(), *axes.get_yticklabels()]:
        label.set_fontproperties(font)
    if names:
        axes.bar_label(bars, labels=_labels(values, locale), padding=3, fontproperties=font)
    else:
        axes.text(0.5, 0.5, t("digest.chart.empty", locale), ha="center", va="center",
                  transform=axes.transAxes, fontproperties=font)  # fmt: skip
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png")


def _short(name: str, limit: int = 40) -> str:
    name = " ".join(name.split())
    return name if len(name) <= limit else name[: limit - 1].rstrip() + "…"


def _labels(values: Sequence[float], locale: str) -> list[str]:
    return [format_percent(value, 1, locale) for value in values]


def _color(value: float) -> str:
    """Green from 80 %, amber from 50 %, red below."""
    return "#2e7d32" if value >= 80 else "#f9a825" if value >= 50 else "#c62828"
