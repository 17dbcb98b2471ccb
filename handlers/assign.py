"""/giao (/assign): a unit head gives a task of their unit to its members; leaders any task."""

from handlers.chat import Button, Reply
from handlers.context import Known
from handlers.tasks import lookup
from messages import join_rich
from models import Member, Task
from services.assignments import assign, assignees, candidates
from services.people import named
from services.permissions import can_assign
from services.text import fold


def assign_command(ctx: Known, args: str) -> None:
    code, _, who = args.strip().partition(" ")
    if not code:
        ctx.say("usage.assign")
        return
    task = lookup(ctx, code)
    if task is None:
        return
    if not can_assign(ctx.actor, task):
        ctx.say("deny.assign", code=task.code)
        return
    people = candidates(ctx.session, task)
    chosen = _matching(people, who) if who.strip() else []
    if len(chosen) == 1:
        _assign(ctx, task, chosen[0])
        return
    if who.strip() and not chosen:
        ctx.say("assign.nobody", who=who.strip(), code=task.code)
    _offer(ctx, task, chosen or people)


def on_assign_button(ctx: Known, task: Task, member_id: int) -> None:
    if not can_assign(ctx.actor, task):
        ctx.outcome.notice = ctx.text("deny.assign", code=task.code)
        return
    member = next((m for m in candidates(ctx.session, task) if m.id == member_id), None)
    if member is None:
        ctx.outcome.notice = ctx.text("button.outdated")
        return
    _assign(ctx, task, member)


def _matching(people: list[Member], who: str) -> list[Member]:
    """By full name, else by the end of it ("Hà", "Thu Hà"), diacritics optional."""
    return named(people, who) or [p for p in people if fold(p.name).endswith(" " + fold(who))]


def _offer(ctx: Known, task: Task, people: list[Member]) -> None:
    current = assignees(ctx.session, task)
    lines = [ctx.text("assign.choose", code=task.code, title=task.title)]
    if current:
        lines.append(ctx.text("assign.current", names=", ".join(p.name for p in current)))
    taken = {p.id for p in current}
    buttons = tuple(
        (Button(person.name, f"g:{task.id}:{person.id}"),)
        for person in people
        if person.id not in taken
    )
    if not buttons:
        lines.append(ctx.text("assign.everyone"))
    ctx.send(Reply(join_rich(lines), buttons=buttons, tasks=(task.id,)))


def _assign(ctx: Known, task: Task, member: Member) -> None:
    added = assign(ctx.session, task, [member], by=ctx.member, now=ctx.now)
    key = "assign.done" if added else "assign.already"
    ctx.say(key, code=task.code, title=task.title, name=member.name)
