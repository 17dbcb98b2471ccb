"""The one message catalogue: every text a user reads comes from `t()`."""

from messages.catalog import CATALOG, LOCALES
from messages.formatting import (
    format_date,
    format_datetime,
    format_number,
    format_percent,
    format_quantity,
)

DEFAULT_LOCALE = "vi"


def t(key: str, locale: str | None = None, /, **params: object) -> str:
    entry = CATALOG[key]
    template = entry.get(locale or DEFAULT_LOCALE) or entry[DEFAULT_LOCALE]
    return template.format(**params) if params else template


__all__ = [
    "CATALOG",
    "DEFAULT_LOCALE",
    "LOCALES",
    "format_date",
    "format_datetime",
    "format_number",
    "format_percent",
    "format_quantity",
    "t",
]
