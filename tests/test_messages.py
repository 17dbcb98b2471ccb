"""One catalogue, two locales; numbers and dates the Vietnamese way."""

import re
import string
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from messages import (
    CATALOG,
    LOCALES,
    PLURAL_BY,
    Html,
    format_date,
    format_number,
    format_percent,
    format_quantity,
    h,
    t,
)

REPO = Path(__file__).resolve().parents[1]
SOURCE_DIRS = ("bot", "handlers", "scheduler", "services", "models")


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("key", sorted(CATALOG))
def test_every_message_has_every_locale_with_the_same_placeholders(key: str) -> None:
    entry = CATALOG[key]
    singulars = {f"{locale}_one" for locale in LOCALES}
    assert set(LOCALES) <= set(entry) <= set(LOCALES) | singulars
    # how a text addresses the person ({you}, {You}, {you_name}) is up to each language
    addressing = {"you", "You", "you_name"}
    assert placeholders(entry["vi"]) - addressing == placeholders(entry["en"]) - addressing
    for locale in set(entry) & singulars:  # "1 day left" need not say its count
        counts = set(PLURAL_BY)
        assert placeholders(entry[locale]) - counts == placeholders(entry["en"]) - counts


def test_english_counts_one_day_and_two_days() -> None:
    assert t("countdown.overdue", "en", days=1) == "1 day overdue"
    assert t("countdown.left", "en", days=1) == "1 day left"
    assert t("countdown.left", "en", days=3) == "3 days left"
    assert t("countdown.left", "vi", days=1) == "còn 1 ngày"


def test_every_literal_key_used_in_code_exists() -> None:
    used = set()
    for folder in SOURCE_DIRS:
        for path in (REPO / folder).rglob("*.py"):
            used |= set(re.findall(r'\bt\(\s*"([a-z_]+(?:\.[A-Za-z_<>=]+)+)"', path.read_text()))
    assert used, "no message keys found"
    assert sorted(used - set(CATALOG)) == []


def test_english_is_the_second_locale() -> None:
    assert t("countdown.overdue", "en", days=2) == "2 days overdue"
    assert t("countdown.overdue", days=2) == "quá hạn 2 ngày"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.5, "0,5"),
        (96, "96"),
        (1234.5, "1.234,5"),
        (0.4838, "0,48"),
        (-0.0, "0"),
        (1_000_000, "1.000.000"),
    ],
)
def test_numbers_use_a_decimal_comma_and_dot_thousands(value: float, text: str) -> None:
    assert format_number(value) == text


def test_percent_quantities_and_dates_read_the_vietnamese_way() -> None:
    assert format_percent(0.5) == "0,5%"
    assert format_percent(0.5, locale="en") == "0.5%"
    assert format_quantity(38, "lớp") == "38 lớp"
    assert format_quantity(3, "mức độ") == "mức độ 3"
    assert format_quantity(96, "%") == "96%"
    assert format_date(date(2026, 3, 5)) == "05/03/2026"
    late_evening_utc = datetime(2026, 12, 31, 18, 0, tzinfo=UTC)
    assert format_date(late_evening_utc, ZoneInfo("Asia/Ho_Chi_Minh")) == "01/01/2027"


def test_html_joined_to_html_stays_html_and_is_not_escaped_again() -> None:
    line = Html("<b>T.1</b>") + Html(" — Nguyễn &amp; Trần")
    assert isinstance(line, Html)
    shown = h("checkin.reported", "vi", code="T.1", what=line)
    assert shown == "• <b>T.1</b>: <b>T.1</b> — Nguyễn &amp; Trần"
