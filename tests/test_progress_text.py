"""Free-text reports and typed KPI values, read the way teachers write them."""

import pytest

from handlers.progress_text import Meaning, read_report
from models import Direction, Kpi
from services.kpis import parse_value


@pytest.mark.parametrize(
    ("text", "meaning", "percent"),
    [
        ("80%", Meaning.PERCENT, 80),
        ("80 %", Meaning.PERCENT, 80),
        ("80", Meaning.PERCENT, 80),
        ("đã xong 80% khối 6", Meaning.PERCENT, 80),
        ("xong 80%, còn khối 9", Meaning.PERCENT, 80),
        ("được 45 phần trăm", Meaning.PERCENT, 45),
        ("xong", Meaning.DONE, 100),
        ("Xong rồi!", Meaning.DONE, 100),
        ("hoàn thành", Meaning.DONE, 100),
        ("Đã hoàn thành", Meaning.DONE, 100),
        ("100%", Meaning.DONE, 100),
        ("hoàn thành, đã nộp biên bản", Meaning.DONE, 100),
        ("vướng: thiếu máy chiếu", Meaning.BLOCKED, None),
        ("Vướng mắc - chưa có kinh phí", Meaning.BLOCKED, None),
        ("gặp khó khăn: thiếu người", Meaning.BLOCKED, None),
        ("chưa xong", Meaning.UNCLEAR, None),
        ("không hoàn thành được", Meaning.UNCLEAR, None),
        ("xong phần khối 6, còn khối 7", Meaning.UNCLEAR, None),
        ("từ 50% lên 80%", Meaning.UNCLEAR, None),
        ("150%", Meaning.UNCLEAR, None),
        ("hôm nay trời đẹp", Meaning.UNCLEAR, None),
        ("<b>&", Meaning.UNCLEAR, None),
        ("", Meaning.UNCLEAR, None),
    ],
)
def test_reports(text: str, meaning: Meaning, percent: int | None) -> None:
    reading = read_report(text)
    assert (reading.meaning, reading.percent) == (meaning, percent)


def test_a_blocker_keeps_the_reason_as_typed() -> None:
    assert read_report("Vướng: Thiếu MÁY chiếu").note == "Thiếu MÁY chiếu"
    assert read_report("đã xong 80% khối 6").note == "đã xong 80% khối 6"


def kpi(direction: str, measure: str | None = "%") -> Kpi:
    return Kpi(
        school_id=1,
        key="k",
        name="k",
        measure=measure,
        direction=direction,
        target=1,
        target_year=2026,
    )


@pytest.mark.parametrize(
    ("text", "value", "count"),
    [
        ("0,4", 0.4, None),
        ("0.4", 0.4, None),
        ("96%", 96.0, None),
        ("3/620", 3 / 620 * 100, (3, 620)),
        ("3 / 620", 3 / 620 * 100, (3, 620)),
    ],
)
def test_kpi_values(text: str, value: float, count: tuple[int, int] | None) -> None:
    parsed = parse_value(text, kpi(Direction.AT_MOST))
    assert parsed.value == pytest.approx(value)
    assert (parsed.numerator, parsed.denominator) == (count or (None, None))


@pytest.mark.parametrize("text", ["abc", "1/0", "5/3", "101%", "-1", "0,4,5", ""])
def test_bad_kpi_values_are_refused(text: str) -> None:
    assert parse_value(text, kpi(Direction.AT_MOST)) is None


def test_yes_no_and_plain_counts() -> None:
    assert parse_value("có", kpi(Direction.YES_NO, None)).value == 1.0
    assert parse_value("chưa", kpi(Direction.YES_NO, None)).value == 0.0
    assert parse_value("3", kpi(Direction.YES_NO, None)) is None
    assert parse_value("38", kpi(Direction.EQUAL, "lớp")).value == 38.0
    assert parse_value("31/38", kpi(Direction.EQUAL, "lớp")).value == pytest.approx(31 / 38)
