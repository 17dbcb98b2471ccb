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
    Rich,
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


# a count, at most two more words ("more", "other overdue"), then a plural: a word in -s (not
# -ss: "process") or "people". In an English plural text the verbs after it have no -s.
PLURAL = r"(?: [A-Za-z-]+){0,2}? ([A-Za-z-]*[^\Ws]s|people)\b"
ONE_PLURAL = re.compile(r"(?<![\w.,/–-])1" + PLURAL)


def counted(key: str) -> list[str]:
    """The counts (PLURAL_BY) that stand before a plural noun in the English text of `key`."""
    en = CATALOG[key]["en"]
    return [name for name in PLURAL_BY if re.search(r"\{" + name + r"\}" + PLURAL, en)]


@pytest.mark.parametrize("key", sorted(key for key in CATALOG if counted(key)))
def test_english_says_one_thing_not_one_things(key: str) -> None:
    entry = CATALOG[key]
    names = placeholders(entry["en"])
    # t() picks the singular form by the first count of PLURAL_BY in the entry: a second count
    # must not stand before a plural noun ("past the {days}-day limit", not "{days} days")
    deciding = next(name for name in PLURAL_BY if name in names)
    assert counted(key) == [deciding], f"{key}: only {deciding} can pick a singular form"
    assert "en_one" in entry, f'{key} would read "1{entry["en"].split(deciding + "}")[1]}"'
    params: dict[str, object] = {name: "X" for name in names}
    params.update({name: 2 for name in PLURAL_BY if name in names})
    params[deciding] = 1
    text = t(key, "en", **params)
    assert not re.search(r"(?<![\w.,/–-])1(?: of 1)? ([A-Za-z-]*[^\Ws]s|people)\b", text), text
    assert not re.search(r"\{" + deciding + r"\}" + PLURAL, entry["en_one"]), entry["en_one"]


def test_the_plural_rule_sees_what_it_should() -> None:
    for wrong in ("1 tasks", "1 more problems", "1 people", "1 dondoc run processes", "1 days,"):
        assert ONE_PLURAL.search(wrong), wrong
    for right in ("1 task", "1 dondoc run process", "1 day left", "2 days", "e.g. 1 done",
                  "T.1 files", "1–256 letters"):  # fmt: skip
        assert not ONE_PLURAL.search(right), right


def test_the_digest_figures_read_in_the_singular() -> None:
    figures = t(
        "digest.as_of", "en", start="30/11", end="06/12", progress="50%", done=1, tasks=1,
        overdue=1, updates=1,
    )  # fmt: skip
    assert not ONE_PLURAL.search(figures), figures
    header = t("digest.urgent.header", "en", shown=1, count=1)
    assert "1 of 1 task " in header


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
    line = Rich("<b>T.1</b>") + Rich(" — Nguyễn &amp; Trần")
    assert isinstance(line, Rich)
    shown = h("checkin.reported", "vi", code="T.1", what=line)
    assert shown == "• <b>T.1</b>: <b>T.1</b> — Nguyễn &amp; Trần"
