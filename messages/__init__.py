"""The one message catalogue: every text a user reads comes from `t()` (plain) or `h()` (HTML)."""

import html

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


class Html(str):
    """Text that is already HTML: `h()` inserts it as it is."""


def escape(value: object) -> Html:
    return value if isinstance(value, Html) else Html(html.escape(str(value), quote=False))


def h(key: str, locale: str | None = None, /, **params: object) -> Html:
    """The message as chat HTML: every parameter is escaped unless it is already `Html`."""
    return Html(t(key, locale, **{name: escape(value) for name, value in params.items()}))


def join_html(parts: list[Html], separator: str = "\n") -> Html:
    return Html(separator.join(parts))


__all__ = [
    "CATALOG",
    "DEFAULT_LOCALE",
    "LOCALES",
    "Html",
    "escape",
    "format_date",
    "format_datetime",
    "format_number",
    "format_percent",
    "format_quantity",
    "h",
    "join_html",
    "t",
]
