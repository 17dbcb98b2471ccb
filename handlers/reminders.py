"""How reminders read. Several due together for one person become one message."""

from datetime import timedelta

from sqlmodel import func, select

from handlers.chat import Button, Reply
from handlers.context import Context
from handlers.render import task_line, task_message
from handlers.reports import weekly_digest
from messages import Html, join_html
from models import Reminder, ReminderKind, Task, TaskStatus, Unit
from services.plan_text import countdown, next_due

TASK_KINDS = (
    ReminderKind.BEFORE_7D,
    ReminderKind.BEFORE_1D,
    ReminderKind.DUE_DAY,
    ReminderKind.OVERDUE,
)
STALE = timedelta(days=3)  # older than this when sent: summarised, not detailed
LIST_LIMIT = 5  # tasks with a row of buttons in a coalesced reminder


def compose(ctx: Context, rows: list[Reminder]) -> list[tuple[Reply, list[int]]]:
    """The messages for one recipient, each with the ids of the rows it delivers."""
    messages = []
    task_rows = [row for row in rows if row.kind in TASK_KINDS]
    if task_rows:
        messages.append((_tasks(ctx, task_rows), [row.id for row in task_rows]))
    escalations = [row for row in rows if row.kind == ReminderKind.ESCALATION]
    if escalations:
        messages.append((_escalations(ctx, escalations), [row.id for row in escalations]))
    checkins = [row for row in rows if row.kind == ReminderKind.CHECKIN]
    if checkins:
        messages.append((_checkins(ctx, checkins), [row.id for row in checkins]))
    digests = [row.id for row in rows if row.kind == ReminderKind.DIGEST]
    if digests:
        *parts, last = weekly_digest(ctx)
        messages += [(part, []) for part in parts] + [(last, digests)]
    return messages


def _unique_tasks(ctx: Context, rows: list[Reminder]) -> list[Task]:
    tasks = {row.task_id: ctx.session.get(Task, row.task_id) for row in rows}
    return sorted(tasks.values(), key=lambda task: (next_due(task, ctx.today), task.code))


def _tasks(ctx: Context, rows: list[Reminder]) -> Reply:
    """One task: its full message with buttons (a reply to it updates it). Several: a list with
    a row of buttons per task; reminders missed long ago are summarised at the end."""
    stale = [row for row in rows if row.due_at < ctx.now - STALE]
    fresh = [row for row in rows if row not in stale]
    tasks = _unique_tasks(ctx, rows)
    if len(tasks) == 1:
        latest = max(rows, key=lambda row: row.due_at)
        before = [ctx.text(f"reminder.{latest.kind.value}")]
        if not fresh:
            before.append(ctx.text("reminder.missed_one"))
        return task_message(ctx, tasks[0], before=before)
    lines = [ctx.text("reminder.several", count=len(tasks))]
    fresh_tasks = _unique_tasks(ctx, fresh) if fresh else []
    lines += [task_line(ctx, task, ctx.today) for task in fresh_tasks]
    if stale:
        missed = [t for t in _unique_tasks(ctx, stale) if t not in fresh_tasks]
        lines.append(ctx.text("reminder.missed", count=len(stale)))
        lines += [task_line(ctx, task, ctx.today) for task in missed]
    lines.append(ctx.text("reminder.several_footer"))
    buttons = tuple(
        (
            Button(f"✅ {task.code}", f"d:{task.id}"),
            Button(f"📈 {task.code}", f"p:{task.id}"),
            Button(f"⏰ {task.code}", f"z:{task.id}"),
        )
        for task in tasks[:LIST_LIMIT]
    )
    return Reply(join_html(lines), buttons=buttons)


def _escalations(ctx: Context, rows: list[Reminder]) -> Reply:
    tasks = _unique_tasks(ctx, rows)
    lines = [ctx.text("escalation.header", count=len(tasks))]
    for task in tasks:
        unit = ctx.session.get(Unit, task.unit_id)
        lines.append(
            ctx.text(
                "escalation.line",
                code=task.code,
                title=task.title,
                unit=unit.name,
                countdown=countdown(next_due(task, ctx.today), ctx.today, ctx.locale),
                progress=task.progress,
            )
        )
    lines.append(ctx.text("escalation.footer"))
    return Reply(join_html(lines))


def _checkins(ctx: Context, rows: list[Reminder]) -> Reply:
    lines: list[Html] = []
    for row in rows:
        unit = ctx.session.get(Unit, row.unit_id)
        open_tasks = ctx.session.exec(
            select(func.count())
            .select_from(Task)
            .where(Task.unit_id == unit.id, Task.status != TaskStatus.DONE)
        ).one()
        lines.append(ctx.text("checkin.header", unit=unit.name, count=open_tasks))
    lines.append(ctx.text("checkin.footer"))
    return Reply(join_html(lines))
