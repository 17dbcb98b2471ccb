"""The plan that ships with dondoc encodes the school's plan faithfully (section II.2, III, IV)."""

import re
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import Session, select

from data import DEFAULT_PLAN
from models import Direction, Kpi, School, Task, Unit
from services.plan_files import read_plan
from services.plan_schema import PlanFile
from services.plan_text import describe_target
from services.recurrence import parse_recurrence

SEED = Path(__file__).parent / "data" / "plan-71-seed.txt"  # the school's plan, as text
PLAN_TEXT_UNITS = {
    "CHIBO": "Chi bộ",
    "BGH": "Ban giám hiệu",
    "TCM": "Tổ chuyên môn",
    "CONGDOAN": "Công đoàn",
    "CHIDOAN": "Chi đoàn",
    "KHUYENHOC": "Khuyến học",  # the plan says "khuyến học", not "Chi hội"
    "VANPHONG": "Văn phòng",
}

# (key, year): (direction, target, measure) — from section II.2 of Plan 28/KH-THCSTT2.
KPI_TARGETS = {
    ("classes", 2026): ("=", 38, "lớp"),
    ("class_size", 2026): ("<=", 45, "học sinh/lớp"),
    ("facilities", 2026): ("yes_no", True, None),
    ("staffing", 2026): ("yes_no", True, None),
    ("pcgd", 2026): (">=", 3, "mức độ"),
    ("dropout", 2026): ("<=", 0.5, "%"),
    ("efficiency", 2026): (">", 96, "%"),
    ("standard_school", 2026): ("yes_no", True, None),
    ("teachers_standard", 2026): (">=", 99, "%"),
    ("online_services", 2026): (">=", 90, "%"),
    ("pcgd", 2030): (">=", 3, "mức độ"),
    ("completion", 2030): (">=", 100, "%"),
    ("further_study", 2030): (">=", 95, "%"),
    ("national_standard", 2030): (">=", 2, "mức độ"),
    ("accreditation", 2030): (">=", 3, "cấp độ"),
    ("digital_records", 2030): (">=", 100, "%"),
    ("online_procedures", 2030): (">=", 100, "%"),
    ("digital_staff", 2030): (">=", 100, "%"),
}


@pytest.fixture(scope="module")
def plan() -> PlanFile:
    return read_plan(DEFAULT_PLAN)


def test_the_school_is_thcs_thi_tran_2(plan: PlanFile) -> None:
    assert plan.school.name == "Trường THCS Thị Trấn 2"
    assert plan.school.timezone == "Asia/Ho_Chi_Minh"
    assert "28/KH-THCSTT2" in plan.school.plan


def test_every_unit_of_section_iv_is_present(plan: PlanFile) -> None:
    assert {unit.code: unit.name for unit in plan.units} == PLAN_TEXT_UNITS


def test_every_kpi_of_section_ii_2_has_its_target_and_direction(plan: PlanFile) -> None:
    found = {(k.key, k.year): (k.direction.value, k.target, k.measure) for k in plan.kpis}
    assert found == KPI_TARGETS


# (key, year): the target as the plan words it (section II.2), in Vietnamese and in English.
TARGET_WORDING = {
    ("classes", 2026): ("38 lớp", "38 lớp"),
    ("class_size", 2026): ("không quá 45 học sinh/lớp", "at most 45 học sinh/lớp"),
    ("facilities", 2026): ("phải đạt", "must be met"),
    ("staffing", 2026): ("phải đạt", "must be met"),
    ("pcgd", 2026): ("duy trì mức độ 3", "duy trì mức độ 3"),
    ("dropout", 2026): ("không quá 0,5%", "at most 0.5%"),
    ("efficiency", 2026): ("trên 96%", "above 96%"),
    ("standard_school", 2026): ("phải đạt", "must be met"),
    ("teachers_standard", 2026): ("ít nhất 99%", "at least 99%"),
    ("online_services", 2026): ("ít nhất 90%", "at least 90%"),
    ("pcgd", 2030): ("giữ chuẩn mức độ 3", "giữ chuẩn mức độ 3"),
    ("completion", 2030): ("100%", "100%"),
    ("further_study", 2030): ("ít nhất 95%", "at least 95%"),
    ("national_standard", 2030): ("mức độ 2", "mức độ 2"),
    ("accreditation", 2030): ("cấp độ 3", "cấp độ 3"),
    ("digital_records", 2030): ("100%", "100%"),
    ("online_procedures", 2030): ("100%", "100%"),
    ("digital_staff", 2030): ("100%", "100%"),
}


def test_every_kpi_target_reads_as_the_plan_words_it(plan: PlanFile) -> None:
    kpis = [
        Kpi(
            key=k.key, name=k.name, measure=k.measure, direction=k.direction,
            target=float(k.target), target_year=k.year, target_text=k.target_text,
        )
        for k in plan.kpis
    ]  # fmt: skip
    found = {
        (k.key, k.target_year): (describe_target(k, "vi"), describe_target(k, "en")) for k in kpis
    }
    assert found == TARGET_WORDING


def test_tasks_cover_sections_iii_1_to_iii_5_and_every_unit(plan: PlanFile) -> None:
    assert len(plan.tasks) >= 25
    sections = {"III.1", "III.2", "III.3", "III.4", "III.5", "IV.2"}
    assert {task.section for task in plan.tasks} == sections
    assert {task.unit for task in plan.tasks} == set(PLAN_TEXT_UNITS)
    for task in plan.tasks:
        assert re.fullmatch(r"(III\.[1-5]|IV\.2)\.\d+", task.code)
        assert task.code.startswith(task.section + ".")


def test_each_task_has_a_deadline_in_2026_or_a_valid_recurrence(plan: PlanFile) -> None:
    for task in plan.tasks:
        if task.deadline is not None:
            assert task.deadline.year == 2026, task.code
        else:
            assert parse_recurrence(task.recurrence).rule == task.recurrence


# Sentences of the plan that say how often something is done, and the tasks taken from them.
HOW_OFTEN = {
    "kế hoạch công tác hàng năm của đoàn thể, bộ phận, bộ môn mình phụ trách": (
        "III.1.4", "III.1.5", "III.1.6", "III.1.7", "III.1.14",
    ),
    "theo từng giai đoạn phù hợp": ("III.2.8",),
    "để thường xuyên bổ sung và hoàn thiện cơ sở vật chất": ("III.4.6",),
    "(CBQL, TTCM) thường xuyên nghiên cứu, học tập": ("IV.2.1", "IV.2.2"),
    "định kỳ báo cáo đầy đủ đến lãnh đạo nhà trường": ("III.1.11",),
}  # fmt: skip


def seed_sentences() -> list[str]:
    text = SEED.read_text(encoding="utf-8")
    return [s.strip() for s in re.split(r"(?<=[.;])\s+|\n+", text) if s.strip()]


def test_what_the_plan_says_is_repeated_or_ongoing_is_so_in_the_default_plan(
    plan: PlanFile,
) -> None:
    tasks = {task.code: task for task in plan.tasks}
    sentences = seed_sentences()
    for fragment, codes in HOW_OFTEN.items():
        assert any(fragment in sentence for sentence in sentences), fragment
        for code in codes:
            task = tasks[code]
            assert task.deadline is None, f"{code} is one-off where the plan says: {fragment}"
            if "thường xuyên" in fragment:
                assert task.recurrence == "ongoing", code
            else:
                assert parse_recurrence(task.recurrence).dated, code
    # every such sentence of the plan's sections III and IV is accounted for
    tasks_part = SEED.read_text(encoding="utf-8").split("III. NHIỆM VỤ")[1]
    said = [
        sentence
        for sentence in re.split(r"(?<=[.;])\s+|\n+", tasks_part)
        if any(word in sentence for word in ("hàng năm", "thường xuyên", "định kỳ"))
        and "trong giai đoạn mới" not in sentence
    ]
    assert said and all(any(f in sentence for f in HOW_OFTEN) for sentence in said), said


def test_the_plan_gives_no_task_a_date_so_every_date_is_marked_proposed(plan: PlanFile) -> None:
    text = SEED.read_text(encoding="utf-8")
    dates = set(re.findall(r"\b\d{1,2}/\d{1,2}/\d{4}\b|ngày \d+ tháng \d+ năm \d{4}", text))
    # only the dates of the plan itself and of the resolutions it implements
    assert dates == {
        "15/9/2025",
        "22/8/2025",
        "ngày 22 tháng 8 năm 2025",
        "ngày 29 tháng 01 năm 2026",
    }
    for task in plan.tasks:
        dated = task.deadline is not None or parse_recurrence(task.recurrence).dated
        assert (task.deadline_source == "proposed") == dated, task.code
    assert {task.code for task in plan.tasks if task.recurrence == "ongoing"} == {
        "III.2.9", "III.4.6", "IV.2.1", "IV.2.2",
    }  # fmt: skip


def test_the_missing_tasks_of_the_plan_are_there(plan: PlanFile) -> None:
    titles = {task.code: (task.unit, task.title) for task in plan.tasks}
    assert titles["III.2.9"][1].startswith("Triển khai thực hiện các quy định, các cơ chế")
    assert titles["III.1.14"][0] == "VANPHONG"  # "Các đoàn thể, tổ chuyên môn, văn phòng …"
    assert (titles["IV.2.1"][0], titles["IV.2.2"][0]) == ("BGH", "TCM")  # CBQL, TTCM


def test_the_holidays_cover_the_plans_whole_year(plan: PlanFile) -> None:
    days = {day for holiday in plan.holidays for day in holiday.days}
    for day in (date(2026, 1, 1), date(2026, 2, 17), date(2026, 4, 26), date(2026, 4, 30),
                date(2026, 5, 1), date(2026, 9, 2)):  # fmt: skip
        assert day in days, day


def test_the_office_reports_to_the_leadership_periodically(plan: PlanFile) -> None:
    office = [
        task
        for task in plan.tasks
        if task.unit == "VANPHONG" and task.recurrence and "báo cáo" in task.title.lower()
    ]
    assert [(t.code, t.recurrence, t.deadline_source) for t in office] == [
        ("III.1.11", "monthly:25", "proposed")  # the plan says "định kỳ": monthly is a proposal
    ]


def test_what_the_plan_does_not_say_is_only_in_sentences_marked_as_proposals(
    plan: PlanFile,
) -> None:
    """The plan says "khuyến học", not "Chi hội Khuyến học", and names no Teachers' Day (20/11):
    the file says them only after "Đề xuất:" or "Minh chứng đề xuất:", as its header explains."""
    seed = SEED.read_text(encoding="utf-8").casefold()
    invented = ("chi hội", "nhà giáo việt nam", "20/11")
    assert not [words for words in invented if words in seed]
    header = DEFAULT_PLAN.read_text(encoding="utf-8").split("\nschool:")[0]
    assert '"Minh chứng đề xuất"' in header and '"Đề xuất: …"' in header
    texts = [(unit.code, unit.name, unit.description) for unit in plan.units]
    texts += [(task.code, task.title, task.description) for task in plan.tasks]
    for code, name, description in texts:
        said = re.split(r"(?:Minh chứng đề xuất|Đề xuất):", description or "")[0]
        assert not [words for words in invented if words in f"{name} {said}".casefold()], code


def test_texts_are_vietnamese_with_diacritics(plan: PlanFile) -> None:
    texts = [task.title for task in plan.tasks] + [kpi.name for kpi in plan.kpis]
    assert all(any(not ch.isascii() for ch in text) for text in texts)


def test_the_default_plan_imports_through_the_cli(cli, session: Session) -> None:
    result = cli("plan", "import")
    assert "Trường THCS Thị Trấn 2" in result.output
    school = session.exec(select(School)).one()
    assert school.code == "THCS-TT2"
    assert len(session.exec(select(Unit)).all()) == 7
    assert len(session.exec(select(Task)).all()) == 42
    dropout = session.exec(select(Kpi).where(Kpi.key == "dropout")).one()
    assert (dropout.direction, dropout.target, dropout.target_year) == (
        Direction.AT_MOST,
        0.5,
        2026,
    )
    pcgd = session.exec(select(Kpi).where(Kpi.key == "pcgd", Kpi.target_year == 2026)).one()
    assert (pcgd.target_text, dropout.target_text) == ("duy trì mức độ 3", None)


def test_school_holidays_of_the_school_year_are_listed(plan: PlanFile) -> None:
    days = {day for holiday in plan.holidays for day in holiday.days}
    assert date(2027, 2, 6) in days  # Tết Nguyên đán Đinh Mùi
    assert {date(2027, 1, 1), date(2027, 4, 30), date(2027, 5, 1)} <= days
