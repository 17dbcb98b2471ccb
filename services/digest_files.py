"""The digest's attachments: an Excel workbook (tasks, units, the period's reports, KPIs) and a
PNG chart of progress per unit. Texts come from the message catalogue, in the reader's locale."""

import threading
import unicodedata
from collections.abc import Sequence
from datetime import datetime
from importlib.util import find_spec
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
from PIL import Image, ImageDraw, ImageFont
from sqlmodel import Session

from messages import format_percent, t
from models import Direction, Kpi, TaskStatus
from services.digest import Digest, KpiItem, TaskItem, UnitRow, period_reports
from services.plan_text import countdown, describe_target
from services.workbooks import add_sheet


def _chart_font() -> Path:
    """DejaVu Sans has every Vietnamese letter. Bundled with matplotlib, so always there; found
    without importing matplotlib."""
    spec = find_spec("matplotlib")
    if spec is None or spec.origin is None:
        raise ImportError("matplotlib, a dependency, is not installed")
    return Path(spec.origin).parent / "mpl-data/fonts/ttf/DejaVuSans.ttf"


CHART_FONT = _chart_font()
DPI = 120
WIDTH = 8 * DPI
X_MAX = 112  # room for the label of a full bar
INK = "#000000"
GRID = "#e7e7e7"  # light grey, as a 30 % grid line on white
TICK = PAD = 6  # pixels: 3.5 pt at 120 dpi, a tick mark's length and the gap to its label
_fonts = threading.local()


# --- the workbook ------------------------------------------------------------------------------


def write_workbook(digest: Digest, session: Session, path: Path, *, locale: str = "vi") -> None:
    """Four sheets with a bold, frozen header row, every number as of the digest's end. Times
    are written as naive local times of the school's zone (Excel has no time zones), dates and
    times as real Excel values. Written in openpyxl's write-only mode: rows are streamed out."""
    tz = ZoneInfo(digest.timezone)
    workbook = openpyxl.Workbook(write_only=True)
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
    labels = [(t(f"xlsx.digest.{name}.{column}", locale), width) for column, width in columns]
    add_sheet(workbook, t(f"xlsx.digest.sheet.{name}", locale), labels, rows)


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
        school_id=0,  # detached: no school
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
    """A horizontal bar per unit (plan order, top down): its tasks' average progress, 0–100 %,
    on a grid every 20 %, with the value at the end of each bar.

    Drawn with Pillow at 8 × (1.6 + 0.45 per unit) inches and 120 dpi: a fraction of the time a
    plotting library takes for the same picture. Nothing global is changed (fonts are loaded per
    thread), so charts drawn at the same time in several threads do not mix."""
    font, title_font = _font(10), _font(12)
    names = [unicodedata.normalize("NFC", _short(unit.name)) for unit in digest.units]
    values = [unit.progress for unit in digest.units]
    height = round(max(2.5, 1.6 + 0.45 * len(names)) * DPI)
    image = Image.new("RGB", (WIDTH, height), "white")
    draw = ImageDraw.Draw(image)
    line = round(font.size * 1.2)
    widest = max((draw.textlength(name, font=font) for name in names), default=0)
    left = round(widest) + TICK + _px(11.5)
    right = WIDTH - _px(5)
    top = round(title_font.size * 1.2) + _px(9)
    bottom = height - (_px(5) + 2 * line + TICK + 2 * PAD)
    middle = (left + right) / 2

    def x_of(value: float) -> int:
        return left + round((right - left) * value / X_MAX)

    title = t("digest.chart.title", locale, week=digest.week.dates())
    draw.text((middle, top - _px(4)), title, font=title_font, fill=INK, anchor="md")
    for tick in range(0, 101, 20):
        x = x_of(tick)
        draw.line([(x, top), (x, bottom)], fill=GRID)
        draw.line([(x, bottom), (x, bottom + TICK)], fill=INK)
        draw.text((x, bottom + TICK + PAD), str(tick), font=font, fill=INK, anchor="mt")
    axis = t("digest.chart.axis", locale)
    draw.text((middle, bottom + TICK + 2 * PAD + line), axis, font=font, fill=INK, anchor="mt")
    slot = (bottom - top) / (len(names) + 0.1)
    half = round(0.4 * slot)  # bars fill 80 % of their slot
    labels = _labels(values, locale)
    for index, (name, value, label) in enumerate(zip(names, values, labels, strict=True)):
        y = round(top + slot * (index + 0.55))
        if value > 0:
            draw.rectangle([(left, y - half), (x_of(value), y + half)], fill=_color(value))
        draw.line([(left - TICK, y), (left, y)], fill=INK)
        draw.text((left - TICK - PAD, y), name, font=font, fill=INK, anchor="rm")
        draw.text((x_of(value) + _px(3), y), label, font=font, fill=INK, anchor="lm")
    if not names:
        empty = t("digest.chart.empty", locale)
        draw.text((middle, (top + bottom) / 2), empty, font=font, fill=INK, anchor="mm")
    draw.rectangle([(left, top), (right, bottom)], outline=INK)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, format="PNG", compress_level=3)  # twice as fast as 6, a tenth larger


def _px(points: float) -> int:
    return round(points * DPI / 72)


def _font(points: int) -> ImageFont.FreeTypeFont:
    """The chart's font at a size, loaded once per thread."""
    fonts = _fonts.__dict__.setdefault("loaded", {})
    if points not in fonts:
        fonts[points] = ImageFont.truetype(str(CHART_FONT), _px(points))
    return fonts[points]


def _short(name: str, limit: int = 40) -> str:
    name = " ".join(name.split())
    return name if len(name) <= limit else name[: limit - 1].rstrip() + "…"


def _labels(values: Sequence[float], locale: str) -> list[str]:
    return [format_percent(value, 1, locale) for value in values]


def _color(value: float) -> str:
    """Green from 80 %, amber from 50 %, red below."""
    return "#2e7d32" if value >= 80 else "#f9a825" if value >= 50 else "#c62828"
