"""Reporting progress: /capnhat, /xong, /vuong, replies in free text, buttons, evidence, undo."""

import re
from datetime import datetime, time, timedelta

from sqlmodel import select

from handlers.chat import Download, Reply
from handlers.context import Context
from handlers.progress_text import Meaning, read_report
from handlers.render import (
    percent_choices,
    snooze_choices,
    status_label,
    task_buttons,
)
from handlers.tasks import lookup
from messages import format_datetime, join_html
from models import BotMessage, ProgressUpdate, Snooze, Task, TaskStatus, UpdateSource
from services.permissions import can_view, update_refusal
from services.progress import (
    UndoRefused,
    evidence_path,
    record_evidence,
    record_progress,
    undo_update,
)
from services.tasks import find_task

MORNING = time(7, 30)
TASK_ACTIONS = ("d", "p", "z", "b")  # done, progress, snooze, blocked
SNOOZES = {"h1": timedelta(hours=1), "d1": timedelta(days=1), "d3": timedelta(days=3)}


def _allowed(ctx: Context, task: Task) -> bool:
    """A refusal says why; after a button press in a group it goes to the presser alone."""
    refusal = update_refusal(ctx.actor, task)
    if refusal is None:
        return True
    if ctx.incoming.button and ctx.incoming.is_group:
        ctx.outcome.notice = ctx.text(refusal, code=task.code)
    else:
        ctx.say(refusal, code=task.code)
    return False


def _record(
    ctx: Context,
    task: Task,
    source: UpdateSource,
    *,
    percent: int | None = None,
    status: TaskStatus | None = None,
    note: str | None = None,
) -> None:
    if not _allowed(ctx, task):
        return
    update = record_progress(
        ctx.session,
        task,
        ctx.member,
        source=source,
        now=ctx.now,
        percent=percent,
        status=status,
        note=note,
    )
    _confirm(ctx, task, update)


def _confirm(ctx: Context, task: Task, update: ProgressUpdate, files: int = 0) -> None:
    lines = [ctx.text("update.recorded", code=task.code, title=task.title)]
    if update.source == UpdateSource.EVIDENCE:
        lines.append(ctx.text("update.evidence", count=files))
    else:
        lines.append(
            ctx.text("update.state", progress=task.progress, status=status_label(ctx, task.status))
        )
    if update.note:
        lines.append(ctx.text("update.note_recorded", note=update.note))
    undo = ((ctx.button("button.undo", f"u:{update.id}"),),)
    ctx.send(Reply(join_html(lines), buttons=undo, task_id=task.id))


def _split(args: str, parts: int) -> list[str]:
    return args.strip().split(None, parts - 1) if args.strip() else []


def update_command(ctx: Context, args: str) -> None:
    words = _split(args, 3)
    percent = _percent(words[1]) if len(words) >= 2 else None
    if percent is None:
        ctx.say("usage.update")
        return
    task = lookup(ctx, words[0])
    if task is not None:
        _record(
            ctx,
            task,
            UpdateSource.COMMAND,
            percent=percent,
            note=words[2] if len(words) > 2 else None,
        )


def done_command(ctx: Context, args: str) -> None:
    words = _split(args, 2)
    if not words:
        ctx.say("usage.done")
        return
    task = lookup(ctx, words[0])
    if task is not None:
        note = words[1] if len(words) > 1 else None
        _record(ctx, task, UpdateSource.COMMAND, status=TaskStatus.DONE, note=note)


def blocked_command(ctx: Context, args: str) -> None:
    words = _split(args, 2)
    if not words:
        ctx.say("usage.blocked")
        return
    task = lookup(ctx, words[0])
    if task is None:
        return
    if len(words) < 2:
        if _allowed(ctx, task):
            _ask_reason(ctx, task)
        return
    _record(ctx, task, UpdateSource.COMMAND, status=TaskStatus.BLOCKED, note=words[1])


def _percent(word: str) -> int | None:
    match = re.fullmatch(r"(\d{1,3})\s*%?", word.strip())
    return int(match[1]) if match and int(match[1]) <= 100 else None


def _ask_reason(ctx: Context, task: Task) -> None:
    text = ctx.text("blocked.ask", code=task.code, title=task.title)
    ctx.send(Reply(text, task_id=task.id, expects="blocked", ask_reply=True))


def on_reply(ctx: Context, task: Task, expects: str | None) -> None:
    """Free text answering a message about `task`."""
    text = ctx.incoming.text.strip()
    if not can_view(ctx.actor, task):
        ctx.say("deny.not_your_unit_view", code=task.code)
        return
    if expects == "blocked" and text:
        _record(ctx, task, UpdateSource.REPLY, status=TaskStatus.BLOCKED, note=text)
        return
    reading = read_report(text)
    if reading.meaning == Meaning.UNCLEAR:
        _ask_back(ctx, task, text)
    elif reading.meaning == Meaning.BLOCKED:
        if reading.note:
            _record(ctx, task, UpdateSource.REPLY, status=TaskStatus.BLOCKED, note=reading.note)
        elif _allowed(ctx, task):
            _ask_reason(ctx, task)
    elif reading.meaning == Meaning.DONE:
        _record(ctx, task, UpdateSource.REPLY, status=TaskStatus.DONE, note=reading.note)
    else:
        _record(ctx, task, UpdateSource.REPLY, percent=reading.percent, note=reading.note)


def _ask_back(ctx: Context, task: Task, text: str) -> None:
    if not _allowed(ctx, task):
        return
    buttons = (
        (ctx.button("button.done", f"d:{task.id}"), ctx.button("button.blocked", f"b:{task.id}")),
        *percent_choices(ctx, task),
    )
    body = ctx.text("reply.unclear", code=task.code, text=text[:200])
    ctx.send(Reply(body, buttons=buttons, task_id=task.id))


def _row_id(text: str) -> int | None:
    """A database id from a button payload; anything else (or out of range) is no id."""
    return int(text) if text.isdigit() and int(text) < 2**31 else None


def on_button(ctx: Context, payload: str) -> None:
    action, _, rest = payload.partition(":")
    target, _, choice = rest.partition(":")
    row_id = _row_id(target)
    if row_id is not None and action == "u":
        _undo(ctx, row_id)
        return
    task = ctx.session.get(Task, row_id) if row_id is not None and action in TASK_ACTIONS else None
    if task is None or task.school_id != ctx.school.id:
        ctx.outcome.notice = ctx.text("button.outdated")
        return
    if action != "z" and task.status == TaskStatus.DONE:
        ctx.outcome.notice = ctx.text("button.already_done", code=task.code)
        ctx.say("button.already_done", code=task.code)
        return
    if not can_view(ctx.actor, task):
        ctx.outcome.notice = ctx.text("deny.not_your_unit_view", code=task.code)
        return
    if action == "d":
        _record(ctx, task, UpdateSource.BUTTON, status=TaskStatus.DONE)
    elif action == "b" and _allowed(ctx, task):
        _ask_reason(ctx, task)
    elif action == "p" and not choice and _allowed(ctx, task):
        ctx.send(
            Reply(
                ctx.text("progress.choose", code=task.code),
                buttons=percent_choices(ctx, task),
                task_id=task.id,
            )
        )
    elif action == "p" and choice:
        percent = _percent(choice)
        if percent is None:
            ctx.outcome.notice = ctx.text("button.outdated")
        else:
            _record(ctx, task, UpdateSource.BUTTON, percent=percent)
    elif action == "z":
        _snooze(ctx, task, choice)


def _snooze(ctx: Context, task: Task, choice: str) -> None:
    if choice not in SNOOZES:
        ctx.send(
            Reply(
                ctx.text("snooze.choose", code=task.code),
                buttons=snooze_choices(ctx, task),
                task_id=task.id,
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


def _snooze_until(ctx: Context, choice: str) -> datetime:
    if choice == "h1":
        return ctx.now + SNOOZES[choice]
    day = ctx.today + SNOOZES[choice]
    return datetime.combine(day, MORNING, tzinfo=ctx.tz)


def _undo(ctx: Context, update_id: int) -> None:
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
    ctx.send(Reply(text, buttons=task_buttons(ctx, task), task_id=task.id))


def on_files(ctx: Context, target: Task | None) -> None:
    """A photo or document: evidence for the task it answers or whose code starts the caption.
    In a group, a file that names no task is just shared with colleagues: the bot stays silent."""
    caption = ctx.incoming.text.strip()
    task = target
    if task is None and caption:
        first_word = caption.split()[0]
        if ctx.incoming.is_group and find_task(ctx.session, ctx.school.id, first_word) is None:
            return
        task = lookup(ctx, first_word)
        caption = caption[len(first_word) :].strip()
        if task is None:
            return
    if task is None:
        if not ctx.incoming.is_group:
            ctx.say("evidence.which_task")
        return
    if not _allowed(ctx, task):
        return
    files = list(ctx.incoming.files)
    paths = [evidence_path(ctx.config.evidence_dir, ctx.school.code, task, f) for f in files]
    update = record_evidence(
        ctx.session,
        task,
        ctx.member,
        files,
        channel=ctx.incoming.channel,
        note=caption or None,
        paths=paths,
        now=ctx.now,
    )
    ctx.outcome.downloads += [Download(f.file_id, p) for f, p in zip(files, paths, strict=True)]
    _confirm(ctx, task, update, files=len(files))


def replied_task(ctx: Context) -> tuple[Task | None, str | None]:
    """The task the incoming message answers: by reply-to, or the chat's current task."""
    incoming = ctx.incoming
    if incoming.reply_to:
        sent = ctx.session.exec(
            select(BotMessage).where(
                BotMessage.channel == incoming.channel,
                BotMessage.chat_id == incoming.chat_id,
                BotMessage.message_id == incoming.reply_to,
            )
        ).first()
        task = ctx.session.get(Task, sent.task_id) if sent else None
        return (task, sent.expects) if task and task.school_id == ctx.school.id else (None, None)
    if not incoming.can_reply_to and not incoming.is_group and ctx.identity.current_task_id:
        task = ctx.session.get(Task, ctx.identity.current_task_id)
        return (task, None) if task and task.school_id == ctx.school.id else (None, None)
    return None, None
