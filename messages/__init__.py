"""The one message catalogue: every text a user reads comes from `t()` (plain) or `h()` (`Rich`,
the bot's own format that each channel renders)."""

from typing import Protocol

from messages.catalog import CATALOG, LOCALES
from messages.formatting import (
    format_date,
    format_datetime,
    format_number,
    format_percent,
    format_quantity,
)
from messages.rich import Rich, escape, join_rich

DEFAULT_LOCALE = "vi"
SALUTATIONS = {"thầy": "thay", "cô": "co"}  # the people file's xung_ho, as stored


class Addressee(Protocol):
    name: str
    salutation: str | None


PLURAL_BY = ("count", "days")  # the parameter that picks a text's singular form, if it has one


def t(key: str, locale: str | None = None, /, **params: object) -> str:
    """The text of `key` in `locale`. An entry may add a singular form (`en_one`: "1 day left"
    beside "{days} days left"), used when its count (`count`, else `days`) is 1 (or "1", as
    `h()` passes it escaped)."""
    entry = CATALOG[key]
    language = locale if locale in entry else DEFAULT_LOCALE
    number = next((str(params[name]) for name in PLURAL_BY if name in params), None)
    template = entry.get(f"{language}_one", entry[language]) if number == "1" else entry[language]
    return template.format(**params) if params else template


def h(key: str, locale: str | None = None, /, **params: object) -> Rich:
    """The message as `Rich` text: every parameter is escaped unless it is already `Rich`."""
    return Rich(t(key, locale, **{name: escape(value) for name, value in params.items()}))


def addressing(member: "Addressee | None", locale: str | None = None) -> dict[str, str]:
    """How a text addresses a person: `you` ("thầy", "cô" or "thầy/cô"), `You` (capitalised)
    and `you_name` ("cô Mai": the salutation and given name, or the full name when unknown)."""
    salutation = member.salutation if member is not None else None
    you = t(f"you.{SALUTATIONS.get(salutation or '', 'unknown')}", locale)
    if member is None:
        name = you
    elif salutation in SALUTATIONS:
        name = t("you.named", locale, you=you, name=member.name.split()[-1])
    else:
        name = t("you.named", locale, you=you, name=member.name)
    return {"you": you, "You": you[:1].upper() + you[1:], "you_name": name}


__all__ = [
    "CATALOG",
    "DEFAULT_LOCALE",
    "LOCALES",
    "PLURAL_BY",
    "Rich",
    "addressing",
    "escape",
    "format_date",
    "format_datetime",
    "format_number",
    "format_percent",
    "format_quantity",
    "h",
    "join_rich",
    "t",
]
