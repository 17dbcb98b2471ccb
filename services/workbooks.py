import zipfile
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.workbook import Workbook


class UnreadableWorkbook(Exception):
    pass


def open_workbook(path: Path) -> Workbook:
    """Open an .xlsx for reading values; a corrupt or non-Excel file raises UnreadableWorkbook."""
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise UnreadableWorkbook(str(exc)) from None


DATE_FORMAT = "DD/MM/YYYY"
DATETIME_FORMAT = "DD/MM/YYYY HH:MM"


def add_sheet(
    workbook: Workbook,
    title: str,
    columns: Sequence[tuple[str, int]],
    rows: Iterable[Sequence[Any]],
) -> None:
    """A sheet of a write-only workbook: the columns' widths and a bold, frozen header of their
    labels (set before the first row goes out), then the rows, each value as `cell` writes it."""
    sheet = workbook.create_sheet(title)
    for index, (_, width) in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for label, _ in columns:
        heading = WriteOnlyCell(sheet, label)
        heading.font = bold
        header.append(heading)
    sheet.append(header)
    for row in rows:
        sheet.append([cell(sheet, value) for value in row])


def cell(sheet: Any, value: Any) -> Any:
    """A date or time with its display format (times naive local ones: Excel has no zones);
    text without control characters (a workbook cannot hold them), never read as a formula;
    anything else as it is."""
    if isinstance(value, date):
        # openpyxl's stubs leave out date, which it writes as a date
        written = WriteOnlyCell(sheet, value)  # type: ignore[arg-type]
        written.number_format = DATETIME_FORMAT if isinstance(value, datetime) else DATE_FORMAT
        return written
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
        if value.startswith("="):
            written = WriteOnlyCell(sheet, value)
            written.data_type = "s"
            return written
    return value
