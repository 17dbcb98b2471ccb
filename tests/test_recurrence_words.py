"""A plan says how often in Vietnamese ("báo cáo định kỳ 2 tuần/lần vào thứ Sáu", "họp vào thứ
Sáu tuần cuối mỗi tháng"); the plan file takes those words as they are, with or without
diacritics, and everything the bot writes about a recurrence reads back into the same rule."""

from pathlib import Path

import pytest

from services.plan_files import PlanFileError, read_plan
from services.plan_text import describe_recurrence
from services.recurrence import RecurrenceError, parse_recurrence


@pytest.mark.parametrize(
    ("written", "rule"),
    [
        ("thứ Sáu hằng tuần", "weekly:fri"),
        ("hàng tuần vào thứ 6", "weekly:fri"),
        ("Chủ nhật hằng tuần", "weekly:sun"),
        ("định kỳ 2 tuần/lần vào thứ Sáu", "every:2w:fri"),
        ("2 tuần một lần vào T6", "every:2w:fri"),
        ("3 tuan 1 lan vao thu 2", "every:3w:mon"),
        ("ngày 25 hằng tháng", "monthly:25"),
        ("hằng tháng ngày 5", "monthly:5"),
        ("thứ Sáu tuần cuối mỗi tháng", "monthly:last-fri"),
        ("thứ 7 tuần cuối cùng của tháng", "monthly:last-sat"),
        ("thứ Hai tuần đầu tháng", "monthly:1st-mon"),
        ("thứ Tư thứ 3 hằng tháng", "monthly:3rd-wed"),
        ("hằng năm vào các ngày 15/01, 25/05", "yearly:15/01,25/05"),
        ("hằng năm vào ngày 5/9", "yearly:05/09"),
        ("cuối mỗi học kỳ", "semester"),
        ("đầu năm học", "school_year"),
        ("thường xuyên", "ongoing"),
        ("khi có yêu cầu", "on_request"),
    ],
)
def test_the_ways_plans_say_how_often_are_understood(written: str, rule: str) -> None:
    assert parse_recurrence(written).rule == rule


@pytest.mark.parametrize(
    "rule",
    [
        "weekly:mon",
        "weekly:sun",
        "every:2w:fri",
        "every:3w:tue:13/01/2026",
        "every:1w:fri:09/01/2026",
        "monthly:1",
        "monthly:31",
        "monthly:1st-mon",
        "monthly:2nd-thu",
        "monthly:4th-sat",
        "monthly:last-fri",
        "yearly:05/09",
        "yearly:15/01,25/05",
        "yearly:20/01,30/05,30/09",
        "semester",
        "school_year",
        "ongoing",
        "on_request",
    ],
)
def test_what_the_bot_writes_about_a_recurrence_reads_back_into_it(rule: str) -> None:
    said = describe_recurrence(rule)
    assert parse_recurrence(said).rule == rule, said


@pytest.mark.parametrize("written", ["thỉnh thoảng", "thứ Tám hằng tuần", "ngày 32 hằng tháng"])
def test_words_that_say_no_schedule_are_refused(written: str) -> None:
    with pytest.raises(RecurrenceError):
        parse_recurrence(written)


def test_a_plan_file_takes_the_words_and_refuses_the_unclear_at_their_line(
    tmp_path: Path,
) -> None:
    plan = tmp_path / "ke-hoach.yaml"
    plan.write_text(
        "school: {code: S, name: Trường}\n"
        "units: [{code: VP, name: Văn phòng}]\n"
        "tasks:\n"
        "  - {code: A, title: Họp giao ban, unit: VP, recurrence: thứ Sáu tuần cuối mỗi tháng}\n"
        "  - {code: B, title: Báo cáo, unit: VP, recurrence: định kỳ 2 tuần/lần vào thứ Sáu}\n",
        encoding="utf-8",
    )
    assert [task.recurrence for task in read_plan(plan).tasks] == [
        "monthly:last-fri",
        "every:2w:fri",
    ]
    plan.write_text(
        plan.read_text(encoding="utf-8").replace("thứ Sáu tuần cuối mỗi tháng", "thỉnh thoảng"),
        encoding="utf-8",
    )
    with pytest.raises(PlanFileError) as refused:
        read_plan(plan)
    assert "dòng 4" in str(refused.value) and "lịch lặp 'thỉnh thoảng' không hợp lệ" in str(
        refused.value
    )
