"""How users read numbers and dates: the Vietnamese way (0,5%, 1.234, dd/mm/yyyy)."""

from datetime import date, datetime
from zoneinfo import ZoneInfo


def format_number(value: float, decimals: int = 2, locale: str = "vi") -> str:
    """Round to at most `decimals` places, drop trailing zeros, group thousands."""
    text = f"{value:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    if locale == "vi":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


def format_percent(value: float, decimals: int = 2, locale: str = "vi") -> str:
    return f"{format_number(value, decimals, locale)}%"


LEVEL_MEASURES = ("mức độ", "cấp độ", "mức", "cấp", "level")


def format_quantity(value: float, measure: str | None, locale: str = "vi") -> str:
    """`0,5%`, `38 lớp`, but `mức độ 3`: a level is named before its number."""
    if measure == "%":
        return format_percent(value, locale=locale)
    number = format_number(value, locale=locale)
    if not measure:
        return number
    return f"{measure} {number}" if measure.lower() in LEVEL_MEASURES else f"{number} {measure}"


def format_date(value: date | datetime, tz: ZoneInfo | None = None) -> str:
    if isinstance(value, datetime) and tz is not None:
        value = value.astimezone(tz)
    return value.strftime("%d/%m/%Y")


def format_datetime(value: datetime, tz: ZoneInfo) -> str:
    return value.astimezone(tz).strftime("%H:%M %d/%m/%Y")
