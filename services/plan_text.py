"""How plan items read in chat and in print: deadlines, recurrences and KPI targets."""

from datetime import date

from messages import format_date, format_quantity, t
from models import Direction, Kpi, Task
from services.recurrence import parse_recurrence


def countdown(deadline: date, today: date, locale: str = "vi", done_on: date | None = None) -> str:
    """ "còn 3 ngày", "quá hạn 2 ngày"; for a task done on `done_on`, how it met its deadline."""
    if done_on is not None:
        late = (done_on - deadline).days
        if late > 0:
            return t("countdown.done_late", locale, days=late)
        return t("countdown.done_on_time", locale)
    days = (deadline - today).days
    if days > 0:
        return t("countdown.left", locale, days=days)
    if days == 0:
        return t("countdown.today", locale)
    return t("countdown.overdue", locale, days=-days)


def describe_recurrence(rule: str, locale: str = "vi") -> str:
    recurrence = parse_recurrence(rule)
    if not recurrence.dated or recurrence.named:
        return t(f"recurrence.{recurrence.named or recurrence.every}", locale)
    if recurrence.every == "year":
        dates = ", ".join(f"{day:02d}/{month:02d}" for day, month in recurrence.dates)
        key = "recurrence.years" if len(recurrence.dates) > 1 else "recurrence.year"
        return t(key, locale, dates=dates)
    if recurrence.weekday is None:
        return t("recurrence.month", locale, day=recurrence.day)
    weekday = t(f"weekday.{recurrence.weekday}", locale)
    if recurrence.every == "week":
        key = "recurrence.week" if recurrence.weeks == 1 else "recurrence.weeks"
        if recurrence.start is None:
            return t(key, locale, weekday=weekday, weeks=recurrence.weeks)
        start = format_date(recurrence.start)
        return t(f"{key}_from", locale, weekday=weekday, weeks=recurrence.weeks, start=start)
    nth = t(f"recurrence.nth.{recurrence.nth}", locale)
    return t("recurrence.month_weekday", locale, weekday=weekday, nth=nth)


def next_due(task: Task, today: date) -> date | None:
    """The deadline; for a recurring task the occurrence under way (which stays until it is
    done, even when overdue), else its next occurrence from `today` on; None for a task that is
    never due (ongoing, on request)."""
    return task.deadline or task.occurrence or parse_recurrence(task.rule).next_on_or_after(today)


def due_order(task: Task, today: date) -> tuple[date, str]:
    """Nearest due first, tasks that are never due last; then by code."""
    return next_due(task, today) or date.max, task.code


def due_text(task: Task, today: date, locale: str = "vi", done_on: date | None = None) -> str:
    """ "còn 3 ngày", "quá hạn 2 ngày", "hoàn thành trễ 5 ngày"; "thường xuyên" for a task that is
    never due."""
    due = next_due(task, today)
    if due is None:
        return describe_recurrence(task.rule, locale)
    return countdown(due, today, locale, done_on)


def describe_target(kpi: Kpi, locale: str = "vi") -> str:
    """The target as the plan words it: its `target_text` when the plan file gives one, else
    "38 lớp", "không quá 0,5%", "ít nhất 99%", "100%" (at least all is all), "trên 96%",
    "từ 95% đến 98%", "từ 3 đến 5 giáo viên"."""
    if kpi.target_text:
        return kpi.target_text
    if kpi.direction == Direction.YES_NO:
        return t("target.yes" if kpi.target else "target.no", locale)
    if kpi.direction == Direction.BETWEEN and kpi.target_max is not None:
        percent = kpi.measure == "%"
        low = format_quantity(kpi.target, kpi.measure if percent else None, locale)
        high = format_quantity(kpi.target_max, kpi.measure, locale)
        return t("direction.between", locale, low=low, high=high)
    value = format_quantity(kpi.target, kpi.measure, locale)
    everything = kpi.direction == Direction.AT_LEAST and kpi.measure == "%" and kpi.target >= 100
    direction = Direction.EQUAL if everything else kpi.direction
    return t(f"direction.{direction.value}", locale, value=value)
