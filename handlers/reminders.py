"""How reminders read. Several due together for one person become one message; a leader's
brief reads as handlers/brief.py writes it."""

from datetime import datetime, time, timedelta

from handlers.brief import brief_message
from handlers.chat import Button, Reply
from handlers.context import Context, InSchool, Personal
from handlers.kpi_warnings import kpi_risk
from handlers.render import numbered_lines, task_line, task_message, update_line
from handlers.reports import weekly_digest
from handlers.rollup import rollup_replies
from messages import Rich, join_rich
from models import Reminder, ReminderKind, Task, Unit
from services.plan_text import due_order, next_due
from services.reminders import week_reports, week_start
from services.tasks import open_tasks

TASK_KINDS = (
    ReminderKind.BEFORE_7D,
    ReminderKind.BEFORE_1D,
    ReminderKind.DUE_DAY,
    ReminderKind.OVERDUE,
)
STALE = timedelta(days=3)  # older than this when sent: summarised, not detailed
LIST_LIMIT = 5  # tasks with a row of buttons in a coalesced reminder
HEADERS = {0: "reminder.due_day", 1: "reminder.before_1d"}  # by days left; else coming up


def compose(ctx: InSchool, rows: list[Reminder]) -> list[tuple[Reply, list[int]]]:
    """The messages for one recipient, each with the ids of the rows it delivers. A unit's group
    chat gets task reminders only; the other kinds are for a person (`Personal`)."""
    messages: list[tuple[Reply, list[int]]] = []
    assigned = [row for row in rows if row.kind == ReminderKind.ASSIGNED]
    if assigned:
        messages.append((_assigned(ctx, assigned), [row.id for row in assigned]))
    task_rows = [row for row in rows if row.kind in TASK_KINDS]
    if task_rows:
        messages.append((_tasks(ctx, task_rows), [row.id for row in task_rows]))
    if isinstance(ctx, Personal):
        messages += _personal(ctx, rows)
    return messages


def _personal(ctx: Personal, rows: list[Reminder]) -> list[tuple[Reply, list[int]]]:
    messages: list[tuple[Reply, list[int]]] = []
    briefs = [row for row in rows if row.kind == ReminderKind.BRIEF]
    brief = brief_message(ctx, briefs) if briefs else None
    if brief is not None:
        messages.append((brief, [row.id for row in briefs]))
    checkins = [row for row in rows if row.kind == ReminderKind.CHECKIN]
    if checkins:
        messages.append((_checkins(ctx, checkins), [row.id for row in checkins]))
    kpi_risks = [row for row in rows if row.kind == ReminderKind.KPI_RISK]
    if kpi_risks:
        messages.append((kpi_risk(ctx, kpi_risks), [row.id for row in kpi_risks]))
    digests = [row.id for row in rows if row.kind == ReminderKind.DIGEST]
    if digests:
        *parts, last = weekly_digest(ctx)
        messages += [(part, []) for part in parts] + [(last, digests)]
    rollups = [row.id for row in rows if row.kind == ReminderKind.ROLLUP]
    if rollups:  # one roll-up, however many weeks' rows wait
        *parts, last = rollup_replies(ctx)
        messages += [(part, []) for part in parts] + [(last, rollups)]
    return messages


def _unique_tasks(ctx: Context, rows: list[Reminder]) -> list[Task]:
    tasks = {row.task_id: ctx.session.get_one(Task, row.task_id) for row in rows}
    return sorted(tasks.values(), key=lambda task: due_order(task, ctx.today))


def _tasks(ctx: Context, rows: list[Reminder]) -> Reply:
    """One task: its full message with buttons (a reply to it updates it). Several: numbered
    lines, each answerable by its number ("1 xong, 2 50%"), with buttons for the first few;
    reminders missed long ago are listed after the fresh ones."""
    stale = [row for row in rows if row.due_at < ctx.now - STALE]
    fresh = [row for row in rows if row not in stale]
    tasks = _unique_tasks(ctx, rows)
    if len(tasks) == 1:
        before = [_header(ctx, tasks[0])]
        if not fresh:
            before.append(ctx.text("reminder.missed_one"))
        return task_message(ctx, tasks[0], before=before)
    fresh_tasks = _unique_tasks(ctx, fresh) if fresh else []
    missed = [task for task in _unique_tasks(ctx, stale) if task not in fresh_tasks]
    ordered = fresh_tasks + missed
    lines = [ctx.text("reminder.several", count=len(ordered))]
    numbered = numbered_lines(ctx, ordered, ctx.today)
    lines += numbered[: len(fresh_tasks)]
    if missed:
        lines.append(ctx.text("reminder.missed", count=len(missed)))
        lines += numbered[len(fresh_tasks) :]
    lines.append(ctx.text("reminder.several_footer"))
    # where there are no buttons, the numbered lines are the way to answer ("1 xong, 2 50%")
    shortcuts = ordered[:LIST_LIMIT] if ctx.capabilities.buttons else []
    buttons = tuple(
        (
            Button(f"✅ {task.code}", f"d:{task.id}"),
            Button(f"📈 {task.code}", f"p:{task.id}"),
            Button(f"⏰ {task.code}", f"z:{task.id}"),
        )
        for task in shortcuts
    )
    return Reply(join_rich(lines), buttons=buttons, tasks=tuple(task.id for task in ordered))


def _header(ctx: Context, task: Task) -> Rich:
    """What a single-task reminder opens with, as it is true on the day it is sent (a reminder
    sent late never says "tomorrow" of a task due today)."""
    due = next_due(task, ctx.today)
    assert due is not None, "a task reminder is about a task that falls due"
    days = (due - ctx.today).days
    return ctx.text("reminder.overdue" if days < 0 else HEADERS.get(days, "reminder.before_7d"))


def _assigned(ctx: Context, rows: list[Reminder]) -> Reply:
    """Told once: the tasks just given to this person, each answerable like a reminder."""
    tasks = _unique_tasks(ctx, rows)
    if len(tasks) == 1:
        return task_message(ctx, tasks[0], before=[ctx.text("assigned.one")])
    lines = [ctx.text("assigned.several", count=len(tasks)), *numbered_lines(ctx, tasks, ctx.today)]
    lines.append(ctx.text("reminder.several_footer"))
    return Reply(join_rich(lines), tasks=tuple(task.id for task in tasks))


def _checkins(ctx: Personal, rows: list[Reminder]) -> Reply:
    """The weekly check-in to a unit head: what the unit's people reported this week, then the
    open tasks nobody reported on, numbered so that "1 80%, 2 xong" answers them."""
    since = datetime.combine(week_start(ctx.today), time(0), ctx.tz)
    lines: list[Rich] = []
    unanswered: list[Task] = []
    for row in rows:
        unit = ctx.session.get_one(Unit, row.unit_id)
        reports = week_reports(ctx.session, unit.id, since)
        reported = {update.task_id for update, _, _ in reports}
        unit_tasks = open_tasks(ctx.session, ctx.actor, ctx.today, unit_id=unit.id)
        quiet = [task for task in unit_tasks if task.id not in reported]
        lines.append(ctx.text("checkin.header", unit=unit.name, count=len(quiet)))
        for update, task, who in reports:
            what = update_line(ctx, update, who)
            lines.append(ctx.text("checkin.reported", code=task.code, what=what))
        start = len(unanswered)
        unanswered += quiet
        lines += [
            task_line(ctx, task, ctx.today, number) for number, task in enumerate(quiet, start + 1)
        ]
    lines.append(ctx.text("checkin.footer"))
    return Reply(join_rich(lines), tasks=tuple(task.id for task in unanswered))
