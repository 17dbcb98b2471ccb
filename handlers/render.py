"""How tasks, updates and choices look in chat (HTML), shared by every handler and reminder."""

from datetime import date

from handlers.chat import Button, Reply
from handlers.context import Context
from messages import Html, format_date, format_datetime, join_html
from models import Member, ProgressUpdate, Task, TaskStatus, Unit
from services.plan_text import countdown, describe_recurrence, next_due


def when_line(ctx: Context, task: Task) -> Html:
    due = next_due(task, ctx.today)
    left = countdown(due, ctx.today, ctx.locale)
    if task.deadline is not None:
        return ctx.text("task.deadline", deadline=format_date(due), countdown=left)
    rule = describe_recurrence(task.recurrence, ctx.locale)
    return ctx.text("task.recurring", rule=rule, next=format_date(due), countdown=left)


def status_label(ctx: Context, status: TaskStatus) -> Html:
    return ctx.text(f"status.{status.value}")


def task_buttons(ctx: Context, task: Task) -> tuple[tuple[Button, ...], ...]:
    return (
        (ctx.button("button.done", f"d:{task.id}"), ctx.button("button.progress", f"p:{task.id}")),
        (ctx.button("button.snooze", f"z:{task.id}"), ctx.button("button.blocked", f"b:{task.id}")),
    )


def task_card(ctx: Context, task: Task) -> Html:
    unit = ctx.session.get(Unit, task.unit_id)
    assignee = ctx.session.get(Member, task.assignee_id) if task.assignee_id else None
    lines = [
        ctx.text("task.title", code=task.code, title=task.title),
        ctx.text("task.unit", unit=unit.name)
        + (ctx.text("task.assignee", name=assignee.name) if assignee else Html("")),
        when_line(ctx, task),
        ctx.text("task.progress", progress=task.progress, status=status_label(ctx, task.status)),
    ]
    return join_html(lines)


def task_message(
    ctx: Context, task: Task, extra: list[Html] | None = None, before: list[Html] | None = None
) -> Reply:
    body = [*(before or []), task_card(ctx, task), *(extra or [])]
    if task.status != TaskStatus.DONE:
        body.append(ctx.text("task.how_to_answer"))
    buttons = task_buttons(ctx, task) if task.status != TaskStatus.DONE else ()
    return Reply(join_html(body), buttons=buttons, task_id=task.id)


def task_line(ctx: Context, task: Task, today: date) -> Html:
    due = next_due(task, today)
    return ctx.text(
        "task.line",
        code=task.code,
        title=task.title,
        progress=task.progress,
        countdown=countdown(due, today, ctx.locale),
        deadline=format_date(due),
    )


def update_line(ctx: Context, update: ProgressUpdate, who: str) -> Html:
    what = status_label(ctx, update.status)
    if update.percent is not None:
        what = ctx.text("update.percent", percent=update.percent, status=what)
    line = ctx.text(
        "update.line", when=format_datetime(update.created_at, ctx.tz), who=who, what=what
    )
    return line + (ctx.text("update.note", note=update.note) if update.note else Html(""))


def percent_choices(ctx: Context, task: Task) -> tuple[tuple[Button, ...], ...]:
    return (tuple(Button(f"{p} %", f"p:{task.id}:{p}") for p in (25, 50, 75, 100)),)


def snooze_choices(ctx: Context, task: Task) -> tuple[tuple[Button, ...], ...]:
    return (
        (
            ctx.button("button.snooze_hour", f"z:{task.id}:h1"),
            ctx.button("button.snooze_tomorrow", f"z:{task.id}:d1"),
            ctx.button("button.snooze_3days", f"z:{task.id}:d3"),
        ),
    )
