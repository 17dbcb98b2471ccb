import zipfile
from pathlib import Path

import openpyxl
from openpyxl.workbook import Workbook


class UnreadableWorkbook(Exception):
    pass


def open_workbook(path: Path) -> Workbook:
    """Open an .xlsx for reading values; a corrupt or non-Excel file raises UnreadableWorkbook."""
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise UnreadableWorkbook(str(exc)) from None
