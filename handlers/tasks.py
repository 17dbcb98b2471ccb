"""/viec (/tasks): my open tasks, nearest deadline first; /viec CODE: one task and its history."""

from handlers.context import Context
from handlers.render import task_line, task_message, update_line
from messages import join_html
from models import Task
from services.groups import linked_unit
from services.permissions import can_view
from services.tasks import find_task, open_tasks, recent_updates, similar_codes

LIST_LIMIT = 30


def lookup(ctx: Context, code: str) -> Task | None:
    """The visible task with this code, or None after telling the user what to type instead."""
    task = find_task(ctx.session, ctx.school.id, code)
    if task is None:
        close = similar_codes(ctx.session, ctx.school.id, code)
        if close:
            ctx.say("task.did_you_mean", code=code, codes=", ".join(close))
        else:
            ctx.say("task.not_found", code=code)
        return None
    if not can_view(ctx.actor, task):
        ctx.say("deny.not_your_unit_view", code=task.code)
        return None
    return task


def show_tasks(ctx: Context, args: str) -> None:
    code = args.split()[0] if args.split() else ""
    if code:
        task = lookup(ctx, code)
        if task is not None:
            show_task(ctx, task)
        return
    group_unit = _group_unit(ctx)
    tasks = open_tasks(ctx.session, ctx.actor, ctx.today, unit_id=group_unit)
    if not tasks:
        ctx.say("tasks.none")
        return
    lines = [ctx.text("tasks.header", count=len(tasks))]
    lines += [task_line(ctx, task, ctx.today) for task in tasks[:LIST_LIMIT]]
    if len(tasks) > LIST_LIMIT:
        lines.append(ctx.text("tasks.more", count=len(tasks) - LIST_LIMIT))
    lines.append(ctx.text("tasks.footer"))
    ctx.say_html(join_html(lines))


def show_task(ctx: Context, task: Task) -> None:
    history = recent_updates(ctx.session, task)
    extra = [ctx.text("task.history"), *(update_line(ctx, u, who) for u, who in history)]
    if not history:
        extra = []
    ctx.send(task_message(ctx, task, extra))


def _group_unit(ctx: Context) -> int | None:
    """In a group linked to a unit the member may see, /viec lists that unit's tasks."""
    if not ctx.incoming.is_group:
        return None
    unit = linked_unit(ctx.session, ctx.incoming.channel, ctx.incoming.chat_id)
    if unit is None or unit.school_id != ctx.school.id:
        return None
    if not (unit.id in ctx.actor.roles or ctx.actor.is_leader):
        return None
    return unit.id
