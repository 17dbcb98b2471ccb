"""How plan items read in chat and in print: deadlines, recurrences and KPI targets."""

from datetime import date

from messages import format_quantity, t
from models import Direction, Kpi, Task
from services.recurrence import parse_recurrence


def countdown(deadline: date, today: date, locale: str = "vi") -> str:
    days = (deadline - today).days
    if days > 0:
        return t("countdown.left", locale, days=days)
    if days == 0:
        return t("countdown.today", locale)
    return t("countdown.overdue", locale, days=-days)


def describe_recurrence(rule: str, locale: str = "vi") -> str:
    recurrence = parse_recurrence(rule)
    if recurrence.every == "week":
        return t("recurrence.week", locale, weekday=t(f"weekday.{recurrence.weekday}", locale))
    if recurrence.every == "month":
        return t("recurrence.month", locale, day=recurrence.day)
    dates = ", ".join(f"{day:02d}/{month:02d}" for day, month in recurrence.dates)
    key = "recurrence.years" if len(recurrence.dates) > 1 else "recurrence.year"
    return t(key, locale, dates=dates)


def next_due(task: Task, today: date) -> date:
    """The deadline; for a recurring task the occurrence under way (which stays until it is
    done, even when overdue), else its next occurrence from `today` on."""
    return (
        task.deadline
        or task.occurrence
        or parse_recurrence(task.recurrence).next_on_or_after(today)
    )


def describe_target(kpi: Kpi, locale: str = "vi") -> str:
    if kpi.direction == Direction.YES_NO:
        return t("target.yes" if kpi.target else "target.no", locale)
    value = format_quantity(kpi.target, kpi.measure, locale)
    return t(f"direction.{kpi.direction.value}", locale, value=value)
