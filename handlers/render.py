"""How tasks, updates and choices look in chat (rich text), shared by every handler and reminder."""

from datetime import date

from handlers.chat import Button, Reply
from handlers.context import Context
from messages import Rich, format_date, format_datetime, join_rich
from messages.rich import plain
from models import ProgressUpdate, Task, TaskStatus, Unit, UpdateSource
from services.assignments import assignees, role_holders
from services.permissions import can_update
from services.plan_text import countdown, describe_recurrence, due_text, next_due
from services.progress import done_on
from services.task_shares import is_shared, shares_of, support_units
from services.tasks import shared_codes

CHOICES = 10  # task buttons under a question; the numbered lines name them all


def when_line(ctx: Context, task: Task) -> Rich:
    """When the task is due, saying so when the date is a proposal rather than the plan's."""
    due = next_due(task, ctx.today)
    if due is None:
        return ctx.text("task.undated", rule=describe_recurrence(task.rule, ctx.locale))
    left = countdown(due, ctx.today, ctx.locale, done_on(ctx.session, task, ctx.tz))
    proposed = "_proposed" if task.date_proposed else ""
    if task.deadline is not None:
        deadline = task.deadline_text or format_date(due)  # "tháng 3/2026" as the plan gives it
        return ctx.text(f"task.deadline{proposed}", deadline=deadline, countdown=left)
    rule = describe_recurrence(task.rule, ctx.locale)
    return ctx.text(f"task.recurring{proposed}", rule=rule, next=format_date(due), countdown=left)


def status_label(ctx: Context, status: TaskStatus) -> Rich:
    return ctx.text(f"status.{status.value}")


def task_buttons(ctx: Context, task: Task) -> tuple[tuple[Button, ...], ...]:
    return (
        (ctx.button("button.done", f"d:{task.id}"), ctx.button("button.progress", f"p:{task.id}")),
        (ctx.button("button.snooze", f"z:{task.id}"), ctx.button("button.blocked", f"b:{task.id}")),
    )


def task_card(ctx: Context, task: Task) -> Rich:
    """The task: its unit (or each of its units, with their own progress), who helps, when it
    is due, how far it has got."""
    shares = shares_of(ctx.session, task)
    helpers = support_units(ctx.session, task)
    people = [p.name for share in shares for p in assignees(ctx.session, share)] or _role(ctx, task)
    lines = [ctx.text("task.title", code=task.code, title=task.title)]
    if len(shares) == 1:
        unit = ctx.session.get_one(Unit, task.unit_id)
        lines.append(ctx.text("task.lead_unit" if helpers else "task.unit", unit=unit.name))
    if helpers:
        lines.append(ctx.text("task.support", units=", ".join(unit.name for unit in helpers)))
    if people:
        lines[-1] += ctx.text("task.assignee", name=", ".join(dict.fromkeys(people)))
    lines.append(when_line(ctx, _last_to_finish(ctx, shares)))
    if len(shares) == 1:
        status = status_label(ctx, task.status)
        lines.append(ctx.text("task.progress", progress=task.progress, status=status))
        return join_rich(lines)
    done = sum(share.status == TaskStatus.DONE for share in shares)
    lines.append(ctx.text("task.shares", count=len(shares), done=done))
    for share in shares:
        unit = ctx.session.get_one(Unit, share.unit_id)
        lines.append(ctx.text("task.share_line", unit=unit.name, state=_state(ctx, share)))
    return join_rich(lines)


def _role(ctx: Context, task: Task) -> list[str]:
    """The role the plan gives the task to, and who holds it: "Hiệu trưởng (Nguyễn Văn Hiếu)"."""
    if task.owner_role is None:
        return []
    role = ctx.text(f"role.{task.owner_role.value}")
    names = ", ".join(member.name for member in role_holders(ctx.session, task))
    return [str(ctx.text("task.role_holders", role=role, names=names) if names else role)]


def _last_to_finish(ctx: Context, shares: list[Task]) -> Task:
    """The part that says when the whole task is done: one still open, else the last done."""
    still = [share for share in shares if share.status != TaskStatus.DONE]
    if still:
        return still[0]
    return max(shares, key=lambda share: done_on(ctx.session, share, ctx.tz) or ctx.today)


def _state(ctx: Context, task: Task) -> Rich:
    """ "hoàn thành", "chưa bắt đầu", or "40% — đang thực hiện"."""
    status = status_label(ctx, task.status)
    if task.status in (TaskStatus.DONE, TaskStatus.TODO) and task.progress in (0, 100):
        return status
    return ctx.text("update.percent", percent=task.progress, status=status)


def shown_title(ctx: Context, task: Task, shared: set[str] | None = None) -> str:
    """The task's title, with its unit for one unit's part of a task given to several.
    `shared`, the codes of such tasks among those shown, saves asking task by task."""
    if not (is_shared(ctx.session, task) if shared is None else task.code in shared):
        return task.title
    unit = ctx.session.get_one(Unit, task.unit_id)
    return str(ctx.text("task.share_title", title=task.title, unit=unit.name))


def task_message(
    ctx: Context, task: Task, extra: list[Rich] | None = None, before: list[Rich] | None = None
) -> Reply:
    """A task, with its buttons while it is open and the reader may act on it: in a group
    (or a reminder to one) anyone allowed may press; a reply to it updates it."""
    body = [*(before or []), task_card(ctx, task), *(extra or [])]
    shared = ctx.incoming is not None and ctx.incoming.is_group
    actionable = task.status != TaskStatus.DONE and (
        ctx.actor is None or shared or can_update(ctx.actor, task)
    )
    if actionable:
        body.append(ctx.text("task.how_to_answer"))
    buttons = task_buttons(ctx, task) if actionable else ()
    return Reply(join_rich(body), buttons=buttons, tasks=(task.id,))


def task_choices(ctx: Context, tasks: list[Task], prefix: str) -> tuple[tuple[Button, ...], ...]:
    """One button per task (the first CHOICES), labelled with its code and the start of its
    title; the payload is `prefix` followed by the task id. Where there are no buttons, every
    task is a numbered choice, read as its whole line (so a question need not list them too)."""
    if not ctx.capabilities.buttons:
        shared = _shared(ctx, tasks)
        return tuple(
            (
                Button(
                    plain(task_line(ctx, task, ctx.today, None, shared)).removeprefix("• "),
                    f"{prefix}{task.id}",
                ),
            )
            for task in tasks
        )
    shared = _shared(ctx, tasks[:CHOICES])
    return tuple(
        (Button(f"{task.code} · {_short(shown_title(ctx, task, shared))}", f"{prefix}{task.id}"),)
        for task in tasks[:CHOICES]
    )


def _shared(ctx: Context, tasks: list[Task]) -> set[str]:
    """The codes of `tasks` given to several units, in one query."""
    schools = {task.school_id for task in tasks}
    if len(schools) != 1:
        return {task.code for task in tasks if is_shared(ctx.session, task)}
    return shared_codes(ctx.session, schools.pop(), list({task.code for task in tasks}))


def _short(title: str, limit: int = 32) -> str:
    return title if len(title) <= limit else title[: limit - 1].rstrip() + "…"


def numbered_lines(ctx: Context, tasks: list[Task], today: date) -> list[Rich]:
    """Tasks as lines 1, 2, … that a reply can name ("1 xong, 2 50%")."""
    shared = _shared(ctx, tasks)
    return [task_line(ctx, task, today, number, shared) for number, task in enumerate(tasks, 1)]


def task_line(
    ctx: Context,
    task: Task,
    today: date,
    number: int | None = None,
    shared: set[str] | None = None,
) -> Rich:
    return ctx.text(
        "task.line" if number is None else "task.line_numbered",
        number=number,
        code=task.code,
        title=shown_title(ctx, task, shared),
        progress=task.progress,
        countdown=due_text(task, today, ctx.locale, done_on(ctx.session, task, ctx.tz)),
    )


def update_line(ctx: Context, update: ProgressUpdate, who: str) -> Rich:
    """One entry of a task's history; evidence says only that files came."""
    if update.source == UpdateSource.EVIDENCE or update.status is None:  # evidence: files only
        what = ctx.text("update.evidence_entry")
    else:
        what = status_label(ctx, update.status)
        if update.percent is not None:
            what = ctx.text("update.percent", percent=update.percent, status=what)
    line = ctx.text(
        "update.line", when=format_datetime(update.created_at, ctx.tz), who=who, what=what
    )
    return line + (ctx.text("update.note", note=update.note) if update.note else Rich(""))


def percent_choices(ctx: Context, task: Task) -> tuple[tuple[Button, ...], ...]:
    return (tuple(Button(f"{p}%", f"p:{task.id}:{p}") for p in (25, 50, 75, 100)),)


def snooze_choices(ctx: Context, task: Task) -> tuple[tuple[Button, ...], ...]:
    return (
        (
            ctx.button("button.snooze_hour", f"z:{task.id}:h1"),
            ctx.button("button.snooze_tomorrow", f"z:{task.id}:d1"),
            ctx.button("button.snooze_3days", f"z:{task.id}:d3"),
        ),
    )
