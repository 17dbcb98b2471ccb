"""/viec (/tasks): my open tasks, nearest deadline first; /viec CODE: one task and its history."""

from datetime import datetime

from handlers.chat import Reply
from handlers.context import Known
from handlers.progress_text import Reading, read_progress
from handlers.render import numbered_lines, task_choices, task_message, update_line
from messages import format_date, join_rich
from models import Task
from services.groups import linked_unit
from services.permissions import can_update, can_view
from services.tasks import (
    archived_task,
    find_tasks,
    open_tasks,
    recent_updates,
    school_codes,
    similar_codes,
)

LIST_LIMIT = 30
SUGGESTIONS = 5  # close codes offered for one that matches no task


def lookup(ctx: Known, text: str) -> Task | None:
    """The visible task named in `text` (written the forgiving way: "iii14", "III 1.4"), or None
    after telling the user what to type instead, with the close codes as buttons."""
    reading = read_progress(text, school_codes(ctx.session, ctx.school.id))
    named = [code for part in reading.parts for code in part.codes]
    if not named:
        suggest_for(ctx, reading, "v:", otherwise=text.split()[:1])
        return None
    task = find_tasks(ctx.session, ctx.school.id, named[:1], ctx.actor)[named[0]]
    if not can_view(ctx.actor, task):
        ctx.say("deny.not_your_unit_view", code=task.code)
        return None
    return task


def suggest_for(
    ctx: Known, reading: Reading, prefix: str, otherwise: list[str] | None = None
) -> None:
    """The codes written that match no task (or, with none, `otherwise`): an archived task's is
    said to be archived; for the others, the candidates of an ambiguous one and the close ones
    the person may update, as buttons (payload `prefix` + task id); with none, say there is no
    such task."""
    ambiguous = [item.written for item in reading.ambiguous]
    unknown = list(reading.unknown_codes)
    if not unknown and not ambiguous:
        unknown = otherwise or []
    archived = {code: archived_task(ctx.session, ctx.school.id, code) for code in unknown}
    for task in filter(None, archived.values()):
        if task.archived_at is not None:  # archived_task finds archived tasks only
            _say_archived(ctx, task, task.archived_at)
    unknown = [code for code in unknown if archived[code] is None]
    if not unknown and not ambiguous:
        return
    close = [code for item in reading.ambiguous for code in item.codes]
    for code in unknown:
        close += similar_codes(ctx.session, ctx.school.id, code, limit=20)
    written = unknown + ambiguous
    unique = list(dict.fromkeys(close))
    found = find_tasks(ctx.session, ctx.school.id, unique, ctx.actor)
    tasks = [found[c] for c in unique if c in found and can_update(ctx.actor, found[c])]
    tasks = tasks[:SUGGESTIONS]
    if not tasks:
        for code in written:
            ctx.say("task.not_found", code=code)
        return
    body = ctx.text("task.did_you_mean", code=", ".join(written))
    buttons = task_choices(ctx, tasks, prefix)
    ctx.send(Reply(body, buttons=buttons, tasks=tuple(task.id for task in tasks)))


def _say_archived(ctx: Known, task: Task, archived_at: datetime) -> None:
    if not can_view(ctx.actor, task):
        ctx.say("deny.not_your_unit_view", code=task.code)
        return
    ctx.say(
        "task.archived",
        code=task.code,
        title=task.title,
        date=format_date(archived_at, ctx.tz),
    )


def show_tasks(ctx: Known, args: str) -> None:
    if args.strip():
        task = lookup(ctx, args)
        if task is not None:
            show_task(ctx, task)
        return
    group_unit = _group_unit(ctx)
    tasks = open_tasks(ctx.session, ctx.actor, ctx.today, unit_id=group_unit)
    if not tasks:
        ctx.say("tasks.none" if ctx.actor.led_units or group_unit else "tasks.none_assigned")
        return
    shown = tasks[:LIST_LIMIT]
    lines = [ctx.text("tasks.header", count=len(tasks)), *numbered_lines(ctx, shown, ctx.today)]
    if len(tasks) > LIST_LIMIT:
        lines.append(ctx.text("tasks.more", count=len(tasks) - LIST_LIMIT))
    lines.append(ctx.text("tasks.footer"))
    ctx.send(Reply(join_rich(lines), tasks=tuple(task.id for task in shown)))


def show_task(ctx: Known, task: Task) -> None:
    history = recent_updates(ctx.session, task)
    extra = [ctx.text("task.history"), *(update_line(ctx, u, who) for u, who in history)]
    if not history:
        extra = []
    ctx.send(task_message(ctx, task, extra))


def _group_unit(ctx: Known) -> int | None:
    """In a group linked to a unit the member may see, /viec lists that unit's tasks."""
    if not ctx.incoming.is_group:
        return None
    unit = linked_unit(ctx.session, ctx.incoming.channel, ctx.incoming.chat_id)
    if unit is None or unit.school_id != ctx.school.id:
        return None
    if not (unit.id in ctx.actor.roles or ctx.actor.is_leader):
        return None
    return unit.id
