"""The plan that ships with dondoc encodes the school's plan faithfully (section II.2, III, IV)."""

import re
from datetime import date

import pytest
from sqlmodel import Session, select

from data import DEFAULT_PLAN
from models import Direction, Kpi, School, Task, Unit
from services.plan_files import read_plan
from services.plan_schema import PlanFile
from services.plan_text import describe_target
from services.recurrence import parse_recurrence

PLAN_TEXT_UNITS = {
    "CHIBO": "Chi bộ",
    "BGH": "Ban giám hiệu",
    "TCM": "Tổ chuyên môn",
    "CONGDOAN": "Công đoàn",
    "CHIDOAN": "Chi đoàn",
    "KHUYENHOC": "Chi hội Khuyến học",
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
    assert {task.section for task in plan.tasks} == {"III.1", "III.2", "III.3", "III.4", "III.5"}
    assert {task.unit for task in plan.tasks} == set(PLAN_TEXT_UNITS)
    for task in plan.tasks:
        assert re.fullmatch(r"III\.[1-5]\.\d+", task.code)
        assert task.code.startswith(task.section + ".")


def test_each_task_has_a_deadline_in_2026_or_a_valid_recurrence(plan: PlanFile) -> None:
    for task in plan.tasks:
        if task.deadline is not None:
            assert task.deadline.year == 2026, task.code
        else:
            assert parse_recurrence(task.recurrence).rule == task.recurrence


def test_the_office_reports_to_the_leadership_every_month(plan: PlanFile) -> None:
    office_monthly = [
        task for task in plan.tasks if task.unit == "VANPHONG" and task.recurrence == "monthly:25"
    ]
    assert len(office_monthly) == 1
    assert "báo cáo" in office_monthly[0].title.lower()


def test_texts_are_vietnamese_with_diacritics(plan: PlanFile) -> None:
    texts = [task.title for task in plan.tasks] + [kpi.name for kpi in plan.kpis]
    assert all(any(not ch.isascii() for ch in text) for text in texts)


def test_the_default_plan_imports_through_the_cli(cli, session: Session) -> None:
    result = cli("plan", "import")
    assert "Trường THCS Thị Trấn 2" in result.output
    school = session.exec(select(School)).one()
    assert school.code == "THCS-TT2"
    assert len(session.exec(select(Unit)).all()) == 7
    assert len(session.exec(select(Task)).all()) == 38
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
