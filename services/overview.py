"""A readable overview of a school's plan: units with their tasks, then KPI targets by year."""

from datetime import date
from itertools import groupby
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from messages import format_date, t
from models import Kpi, School, Task
from services.plan_text import (
    countdown,
    describe_recurrence,
    describe_target,
    due_order,
    next_due,
)
from services.progress import done_on
from services.tasks import current_tasks, current_units


def render_overview(session: Session, school: School, today: date, locale: str = "vi") -> str:
    units = current_units(session, school.id)
    tasks = current_tasks(session, school.id)
    kpis = session.exec(
        select(Kpi).where(Kpi.school_id == school.id).order_by(col(Kpi.target_year), col(Kpi.id))
    ).all()
    lines = [t("overview.title", locale, school=school.name, plan=school.plan_title or ""), ""]
    if any(task.date_proposed for task in tasks):
        lines += [t("overview.proposed_note", locale), ""]
    lines.append(t("overview.units", locale, units=len(units), tasks=len(tasks)))
    for unit in units:
        unit_tasks = sorted(
            (task for task in tasks if task.unit_id == unit.id),
            key=lambda task: due_order(task, today),
        )
        lines.append(
            t("overview.unit", locale, name=unit.name, code=unit.code, count=len(unit_tasks))
        )
        lines += [
            _task_line(task, today, locale, done_on(session, task, ZoneInfo(school.timezone)))
            for task in unit_tasks
        ]
    for year, year_kpis in groupby(kpis, key=lambda kpi: kpi.target_year):
        lines += ["", t("overview.kpis", locale, year=year)]
        lines += [
            t(
                "overview.kpi",
                locale,
                name=kpi.name,
                key=kpi.key,
                target=describe_target(kpi, locale),
            )
            for kpi in year_kpis
        ]
    return "\n".join(lines)


def _task_line(task: Task, today: date, locale: str, finished: date | None) -> str:
    """A task and its date, saying so when the date is a proposal the plan does not give."""
    proposed = t("overview.proposed", locale) if task.date_proposed else ""
    if task.deadline is not None:
        return t(
            "overview.task_deadline_proposed" if task.date_proposed else "overview.task_deadline",
            locale,
            code=task.code,
            title=task.title,
            deadline=task.deadline_text or format_date(task.deadline),
            countdown=countdown(task.deadline, today, locale, finished),
        )
    rule = describe_recurrence(task.rule, locale)
    due = next_due(task, today)
    if due is None:
        return t("overview.task_undated", locale, code=task.code, title=task.title, rule=rule)
    return t(
        "overview.task_recurring",
        locale,
        code=task.code,
        title=task.title,
        rule=rule + proposed,
        next=format_date(due),
    )
