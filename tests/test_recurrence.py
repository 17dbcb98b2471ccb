from datetime import date

import pytest

from services.plan_text import countdown, describe_recurrence
from services.recurrence import RecurrenceError, parse_recurrence


@pytest.mark.parametrize(
    ("rule", "start", "expected"),
    [
        ("weekly:fri", date(2026, 11, 26), date(2026, 11, 27)),
        ("weekly:thu", date(2026, 11, 26), date(2026, 11, 26)),
        ("monthly:25", date(2026, 11, 26), date(2026, 12, 25)),
        ("monthly:31", date(2026, 2, 1), date(2026, 2, 28)),
        ("monthly:25", date(2026, 12, 26), date(2027, 1, 25)),
        ("semester", date(2026, 11, 26), date(2027, 1, 15)),
        ("semester", date(2027, 2, 1), date(2027, 5, 25)),
        ("school_year", date(2026, 9, 5), date(2026, 9, 5)),
        ("yearly:20/01,30/09", date(2026, 10, 1), date(2027, 1, 20)),
    ],
)
def test_next_occurrence(rule: str, start: date, expected: date) -> None:
    assert parse_recurrence(rule).next_on_or_after(start) == expected


@pytest.mark.parametrize(
    "rule", ["daily", "monthly:0", "monthly:32", "weekly:xyz", "yearly:31/02", "yearly:"]
)
def test_bad_rules_are_refused(rule: str) -> None:
    with pytest.raises(RecurrenceError):
        parse_recurrence(rule)


def test_rules_are_stored_in_canonical_form_and_the_school_calendar_by_name() -> None:
    assert parse_recurrence("Semester").rule == "semester"  # its days: the school's year
    assert parse_recurrence("yearly:30/09,20/01").rule == "yearly:20/01,30/09"


def test_rules_and_countdowns_read_in_vietnamese() -> None:
    assert describe_recurrence("weekly:fri") == "hằng tuần vào thứ Sáu"
    assert describe_recurrence("monthly:25") == "ngày 25 hằng tháng"
    assert describe_recurrence("yearly:05/09") == "hằng năm vào ngày 05/09"
    assert describe_recurrence("yearly:15/01,25/05") == "hằng năm vào các ngày 15/01, 25/05"
    today = date(2026, 11, 26)
    assert countdown(date(2026, 11, 29), today) == "còn 3 ngày"
    assert countdown(today, today) == "hạn hôm nay"
    assert countdown(date(2026, 11, 24), today) == "quá hạn 2 ngày"
