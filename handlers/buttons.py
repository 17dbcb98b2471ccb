"""Pressed buttons. Payloads: `d:T` done, `p:T[:N]` progress, `z:T[:when]` snooze, `b:T`
blocked, `u:U` undo update U, `v:T` show task T, `g:T:M` assign task T to member M,
`a:K:T[:what]` apply the kept words K to task T (as they read, or as `d` done, `b` blocked,
`n` a note alone, or a percentage), `t:choice` a leader's brief (daily, weekly, off),
`k:channel` where reminders go (or `k:link`: a code to link another chat account)."""

from datetime import datetime, time, timedelta

from sqlmodel import Session, select

from handlers import evidence
from handlers.assign import on_assign_button
from handlers.brief import on_brief_button
from handlers.chat import Reply
from handlers.context import Known
from handlers.linking import on_channel_button
from handlers.progress import (
    Statement,
    allowed,
    apply_and_confirm,
    ask_reason,
    read,
    report_on,
)
from handlers.progress_text import Meaning
from handlers.render import percent_choices, snooze_choices, status_label, task_buttons
from handlers.tasks import show_task
from messages import format_datetime
from models import PendingReport, ProgressUpdate, Snooze, Task, TaskStatus, UpdateSource
from services.permissions import can_view
from services.progress import UndoRefused, undo_update
from services.text import is_number

MORNING = time(7, 30)
TASK_ACTIONS = ("d", "p", "z", "b", "v")
SNOOZES = {"h1": timedelta(hours=1), "d1": timedelta(days=1), "d3": timedelta(days=3)}
CHOSEN = {"d": Meaning.DONE, "b": Meaning.BLOCKED}  # kept words applied as done or blocked
KEPT_FOR = timedelta(days=7)  # kept words can be applied by a tap this long


def _row_id(text: str) -> int | None:
    """A database id from a button payload; anything else (or out of range) is no id."""
    return int(text) if is_number(text) and int(text) < 2**31 else None


def task_in(session: Session, payload: str) -> int | None:
    """The task a button is about, if any: it decides the school the press acts in."""
    action, *fields = payload.split(":")
    ids = [_row_id(field) for field in fields]
    if action in (*TASK_ACTIONS, "g") and ids:
        return ids[0]
    if action == "a" and len(ids) >= 2:
        return ids[1]
    update = session.get(ProgressUpdate, ids[0]) if action == "u" and ids and ids[0] else None
    return update.task_id if update is not None else None


def on_button(ctx: Known, payload: str) -> None:
    action, *fields = payload.split(":")
    ids = [_row_id(field) for field in fields]
    if action == "t" and len(fields) == 1:
        on_brief_button(ctx, fields[0])
    elif action == "k" and len(fields) == 1:
        on_channel_button(ctx, fields[0])
    elif action == "u" and ids and ids[0] is not None:
        _undo(ctx, ids[0])
    elif action == "a" and len(ids) >= 2 and ids[0] is not None and ids[1] is not None:
        _apply_kept(ctx, ids[0], ids[1], fields[2] if len(fields) > 2 else "")
    elif action == "g" and len(ids) == 2 and ids[0] is not None and ids[1] is not None:
        task = _task(ctx, ids[0])
        if task is not None:
            on_assign_button(ctx, task, ids[1])
    elif action in TASK_ACTIONS and ids and ids[0] is not None:
        _on_task(ctx, action, ids[0], fields[1] if len(fields) > 1 else "")
    else:
        ctx.outcome.notice = ctx.text("button.outdated")


def _task(ctx: Known, task_id: int) -> Task | None:
    task = ctx.session.get(Task, task_id)
    if task is None or task.school_id != ctx.school.id:
        ctx.outcome.notice = ctx.text("button.outdated")
        return None
    if not can_view(ctx.actor, task):
        ctx.outcome.notice = ctx.text("deny.not_your_unit_view", code=task.code)
        return None
    return task


def _on_task(ctx: Known, action: str, task_id: int, choice: str) -> None:
    task = _task(ctx, task_id)
    if task is None:
        return
    if action == "v":
        show_task(ctx, task)
        return
    if action != "z" and task.status == TaskStatus.DONE:
        ctx.outcome.notice = ctx.text("button.already_done", code=task.code)
        ctx.say("button.already_done", code=task.code)
        return
    if action == "d":
        _record(ctx, task, Statement(Meaning.DONE))
    elif action == "b" and allowed(ctx, task):
        ask_reason(ctx, task)
    elif action == "p" and not choice and allowed(ctx, task):
        ctx.send(
            Reply(
                ctx.text("progress.choose", code=task.code),
                buttons=percent_choices(ctx, task),
                tasks=(task.id,),
            )
        )
    elif action == "p" and choice:
        percent = int(choice) if is_number(choice) and int(choice) <= 100 else None
        if percent is None:
            ctx.outcome.notice = ctx.text("button.outdated")
        else:
            meaning = Meaning.DONE if percent == 100 else Meaning.PERCENT
            _record(ctx, task, Statement(meaning, percent))
    elif action == "z":
        _snooze(ctx, task, choice)


def _record(ctx: Known, task: Task, statement: Statement) -> None:
    apply_and_confirm(ctx, task, statement, UpdateSource.BUTTON)


def _apply_kept(ctx: Known, kept_id: int, task_id: int, what: str) -> None:
    """A tap on a task offered for words the person sent before: apply them to it."""
    kept = ctx.session.get(PendingReport, kept_id)
    task = _task(ctx, task_id)
    if task is None:
        return
    if (
        kept is None
        or kept.member_id != ctx.member.id
        or kept.resolved_at is not None
        or kept.created_at < ctx.now - KEPT_FOR
    ):
        ctx.outcome.notice = ctx.text("button.outdated")
        return
    kept.resolved_at = ctx.now
    ctx.session.add(kept)
    if kept.files:
        evidence.record(ctx, task, evidence.stored_files(kept.files), kept.text)
    elif what in CHOSEN:
        _record(ctx, task, Statement(CHOSEN[what], note=kept.text or None))
    elif what == "n":
        _record(ctx, task, Statement(Meaning.PERCENT, note=kept.text or None))
    elif is_number(what) and int(what) <= 100:
        _record(ctx, task, Statement(Meaning.PERCENT, int(what), note=kept.text or None))
    else:
        intent = Meaning(kept.intent) if kept.intent else None
        report_on(ctx, task, read(ctx, kept.text, None, intent), intent, UpdateSource.BUTTON)


def _snooze(ctx: Known, task: Task, choice: str) -> None:
    if choice not in SNOOZES:
        ctx.send(
            Reply(
                ctx.text("snooze.choose", code=task.code),
                buttons=snooze_choices(ctx, task),
                tasks=(task.id,),
            )
        )
        return
    until = _snooze_until(ctx, choice)
    snooze = ctx.session.exec(
        select(Snooze).where(Snooze.member_id == ctx.member.id, Snooze.task_id == task.id)
    ).first() or Snooze(member_id=ctx.member.id, task_id=task.id, until=until)
    snooze.until, snooze.created_at = until, ctx.now
    ctx.session.add(snooze)
    ctx.session.flush()
    ctx.outcome.notice = ctx.text("snooze.done", when=format_datetime(until, ctx.tz))
    ctx.say("snooze.done_long", code=task.code, when=format_datetime(until, ctx.tz))


def _snooze_until(ctx: Known, choice: str) -> datetime:
    if choice == "h1":
        return ctx.now + SNOOZES[choice]
    day = ctx.today + SNOOZES[choice]
    return datetime.combine(day, MORNING, tzinfo=ctx.tz)


def _undo(ctx: Known, update_id: int) -> None:
    update = ctx.session.get(ProgressUpdate, update_id)
    task = ctx.session.get(Task, update.task_id) if update else None
    if update is None or task is None or task.school_id != ctx.school.id:
        ctx.outcome.notice = ctx.text("button.outdated")
        return
    try:
        undo_update(ctx.session, update, ctx.member, ctx.now)
    except UndoRefused as refusal:
        ctx.outcome.notice = ctx.text(str(refusal), code=task.code)
        ctx.say(str(refusal), code=task.code)
        return
    ctx.outcome.notice = ctx.text("undo.done_short")
    text = ctx.text(
        "undo.done", code=task.code, progress=task.progress, status=status_label(ctx, task.status)
    )
    ctx.send(Reply(text, buttons=task_buttons(ctx, task), tasks=(task.id,)))
