"""Reporting progress in words: /capnhat, /xong, /vuong and plain text ("III.1.4 xong, III.2.8
50%", "xong rồi ạ", a reply under a reminder). Every way ends in `apply`."""

from dataclasses import dataclass

from handlers.chat import Button, Reply
from handlers.context import Known
from handlers.progress_text import Meaning, Part, Reading, read_progress
from handlers.render import numbered_lines, shown_title, status_label, task_choices
from handlers.resolve import Resolution, Thread, resolve, thread
from handlers.tasks import suggest_for
from messages import Rich, join_rich
from models import PendingReport, ProgressUpdate, Task, TaskStatus, Unit, UpdateSource
from services.permissions import can_update, update_refusal
from services.progress import record_progress
from services.tasks import school_codes

USAGE = {
    Meaning.DONE: "usage.done",
    Meaning.PERCENT: "usage.update",
    Meaning.BLOCKED: "usage.blocked",
}
STATUS = {Meaning.DONE: TaskStatus.DONE, Meaning.BLOCKED: TaskStatus.BLOCKED}
MAX_LINE = 99  # a number up to this, where a list's line number would stand, is taken as one


@dataclass(frozen=True)
class Statement:
    """What to record on one task: a meaning, a percentage and the person's note. PERCENT
    without a percentage records the note alone."""

    meaning: Meaning
    percent: int | None = None
    note: str | None = None


def allowed(ctx: Known, task: Task) -> bool:
    """A refusal says why; after a button press in a group it goes to the presser alone."""
    refusal = update_refusal(ctx.actor, task)
    if refusal is None:
        return True
    unit = ctx.session.get_one(Unit, task.unit_id).name
    if ctx.incoming.button and ctx.incoming.is_group:
        ctx.outcome.notice = ctx.text(refusal, code=task.code, unit=unit)
    else:
        ctx.say(refusal, code=task.code, unit=unit)
    return False


def update_command(ctx: Known, args: str) -> None:
    report(ctx, args, UpdateSource.COMMAND, Meaning.PERCENT)


def done_command(ctx: Known, args: str) -> None:
    report(ctx, args, UpdateSource.COMMAND, Meaning.DONE)


def blocked_command(ctx: Known, args: str) -> None:
    report(ctx, args, UpdateSource.COMMAND, Meaning.BLOCKED)


def on_text(ctx: Known) -> None:
    """Plain text, swiped under a bot message or not."""
    report(ctx, ctx.incoming.text, UpdateSource.REPLY, None)


def read(
    ctx: Known, text: str, replied: Thread | None, intent: Meaning | None, lines: int = 0
) -> Reading:
    return read_progress(
        text,
        school_codes(ctx.session, ctx.school.id),
        lines=lines or (replied.lines if replied else 0),
        expect_percent=intent == Meaning.PERCENT,
    )


def answered(ctx: Known, text: str, intent: Meaning | None) -> tuple[Thread | None, Reading]:
    """The bot message the words answer, and what they say. Line numbers refer to the replied
    message, else to the latest one with numbered lines; other words to the latest message. A
    number past a list's last line is read as a line too, so that it gets its own answer instead
    of becoming a note on some other task."""
    latest = thread(ctx)
    listed = latest if latest is not None and latest.lines else thread(ctx, numbered=True)
    if ctx.incoming.reply_to and latest is not None:
        listed = latest  # a reply names its message, numbered or not
    if listed is None or not listed.lines:
        return latest, read(ctx, text, latest, intent)
    reading = read(ctx, text, listed, intent, lines=MAX_LINE)
    if any(part.lines for part in reading.parts):
        return listed, reading
    return latest, reading if latest is listed else read(ctx, text, latest, intent)


def report(ctx: Known, text: str, source: UpdateSource, intent: Meaning | None) -> None:
    """Read the message, find the tasks it is about, record what it says on each; ask back
    (keeping the words) where the task or the meaning is not clear."""
    replied, reading = answered(ctx, text, intent)
    reason = text.strip() and not any(part.codes or part.lines for part in reading.parts)
    if replied is not None and replied.expects == "blocked" and intent is None and reason:
        blocked = Statement(Meaning.BLOCKED, note=text.strip())
        apply_and_confirm(ctx, replied.tasks[0], blocked, source)
        return
    if intent == Meaning.PERCENT and not any(part.percent is not None for part in reading.parts):
        ctx.say(USAGE[intent])
        return
    found = resolve(ctx, reading, replied)
    if found.placed:
        _record_all(ctx, found.placed, [] if found.beyond else found.unplaced, intent, source)
    if found.beyond:
        ask_line(ctx, replied, found.beyond + found.unplaced, intent)
        return
    if not found.placed:
        _unplaced(ctx, text, intent, reading, found)
        return
    if reading.unknown_codes or reading.ambiguous:
        suggest_codes(ctx, reading)


def ask_line(ctx: Known, listed: Thread | None, parts: list[Part], intent: Meaning | None) -> None:
    """Line numbers the list does not have: say how many lines it has, and offer its tasks,
    keeping the words (without the wrong number) so one tap applies them."""
    count = listed.lines if listed else 0
    wrong = sorted({line for part in parts for line in part.lines if line > count})
    words = " ".join(part.words for part in parts if part.words)
    candidates = [task for task in (listed.tasks if listed else ()) if can_update(ctx.actor, task)]
    header = ctx.text(
        "reply.no_such_line", count=count, number=", ".join(map(str, wrong)), text=words[:200]
    )
    ask_which(ctx, candidates, words, intent, header=header)


def report_on(
    ctx: Known, task: Task, reading: Reading, intent: Meaning | None, source: UpdateSource
) -> None:
    """Kept words, now that the person has said which task they are about."""
    _record_all(ctx, [(task, part) for part in reading.parts], [], intent, source)


def _record_all(
    ctx: Known,
    placed: list[tuple[Task, Part]],
    unplaced: list[Part],
    intent: Meaning | None,
    source: UpdateSource,
) -> None:
    """Record each placed statement; words placed nowhere (a greeting before the first code)
    join the first statement's note, so nothing the person wrote is lost."""
    leading = " ".join(part.note for part in unplaced if part.note)
    recorded = []
    for index, (task, part) in enumerate(placed):
        statement = _statement(part, intent, leading if index == 0 else "")
        if statement is None:  # only /capnhat without a percentage makes none
            ctx.say(USAGE[Meaning.PERCENT])
            continue
        update = apply(ctx, task, statement, source, part.words)
        if update is not None:
            recorded.append((task, update))
    confirm(ctx, recorded)


def _statement(part: Part, intent: Meaning | None, leading: str) -> Statement | None:
    """The statement a part makes, forced by the command that carried it (/xong, /vuong,
    /capnhat); None when /capnhat gets no percentage."""
    note = " ".join(filter(None, (leading, part.note)))
    words = " ".join(filter(None, (leading, part.words)))
    if intent is None or intent == part.meaning:
        return Statement(part.meaning, part.percent, note or None)
    if intent == Meaning.PERCENT:
        if part.meaning in (Meaning.DONE, Meaning.OUT_OF_RANGE):
            return Statement(part.meaning, part.percent, note or None)
        return None
    return Statement(intent, None, words or None)


def apply(
    ctx: Known, task: Task, statement: Statement, source: UpdateSource, words: str | None = None
) -> ProgressUpdate | None:
    """Record one statement on one task, or say why not, or ask what was meant. In a group,
    words that merely mention a task without answering the bot are not for it."""
    meaning = statement.meaning
    if meaning == Meaning.UNCLEAR and ctx.incoming.is_group and not ctx.incoming.reply_to:
        return None
    if not allowed(ctx, task):
        return None
    if meaning == Meaning.UNCLEAR:
        ask_meaning(ctx, task, words or statement.note or "")
        return None
    if meaning == Meaning.OUT_OF_RANGE:
        ctx.say("update.out_of_range", code=task.code, percent=statement.percent)
        return None
    if meaning == Meaning.BLOCKED and not statement.note:
        ask_reason(ctx, task)
        return None
    if task.status == TaskStatus.DONE and meaning == Meaning.DONE:
        if not statement.note:
            ctx.say("button.already_done", code=task.code)
            return None
        statement = Statement(Meaning.PERCENT, note=statement.note)  # a note; it stays done
        meaning = statement.meaning
    return record_progress(
        ctx.session,
        task,
        ctx.member,
        source=source,
        now=ctx.now,
        percent=statement.percent if meaning in (Meaning.PERCENT, Meaning.DONE) else None,
        status=STATUS.get(meaning),
        note=statement.note,
    )


def apply_and_confirm(ctx: Known, task: Task, statement: Statement, source: UpdateSource) -> None:
    update = apply(ctx, task, statement, source)
    if update is not None:
        confirm(ctx, [(task, update)])


def confirm(ctx: Known, recorded: list[tuple[Task, ProgressUpdate]]) -> None:
    """One short confirmation naming each task and its new state, each with an undo button."""
    if not recorded:
        return
    if len(recorded) == 1:
        task, update = recorded[0]
        confirm_one(ctx, task, update, state(ctx, task, update))
        return
    lines = [ctx.text("update.recorded_several", count=len(recorded))]
    for number, (task, update) in enumerate(recorded, 1):
        line = ctx.text("update.recorded_line", number=number, code=task.code)
        line += state(ctx, task, update)
        if update.note:
            line += ctx.text("update.note", note=update.note)
        lines.append(Rich(line))
    undo = tuple(
        (Button(str(ctx.text("button.undo_task", code=task.code)), f"u:{update.id}"),)
        for task, update in recorded
    )
    ctx.send(Reply(join_rich(lines), buttons=undo, tasks=tuple(task.id for task, _ in recorded)))


def confirm_one(ctx: Known, task: Task, update: ProgressUpdate, what: Rich) -> None:
    """The confirmation of one update: the task, what was recorded, the note, an undo button."""
    lines = [ctx.text("update.recorded", code=task.code, title=shown_title(ctx, task)), what]
    if update.note:
        lines.append(ctx.text("update.note_recorded", note=update.note))
    undo = ((ctx.button("button.undo", f"u:{update.id}"),),)
    ctx.send(Reply(join_rich(lines), buttons=undo, tasks=(task.id,)))


def state(ctx: Known, task: Task, update: ProgressUpdate | None = None) -> Rich:
    """The task's state after `update`; a note added to a task already done says it stays so."""
    if update is not None and update.previous_status == TaskStatus.DONE == update.status:
        return ctx.text("update.note_on_done")
    return ctx.text("update.state", progress=task.progress, status=status_label(ctx, task.status))


def ask_reason(ctx: Known, task: Task) -> None:
    text = ctx.text("blocked.ask", code=task.code, title=task.title)
    ctx.send(Reply(text, tasks=(task.id,), expects="blocked", ask_reply=True))


def keep(ctx: Known, text: str, intent: Meaning | None = None, files: list | None = None) -> int:
    """Keep what the person wrote (and sent) until they say which task it is about."""
    pending = PendingReport(
        member_id=ctx.member.id,
        text=text,
        intent=intent.value if intent else None,
        files=files,
        created_at=ctx.now,
    )
    ctx.session.add(pending)
    ctx.session.flush()
    return pending.id


def ask_meaning(ctx: Known, task: Task, words: str) -> None:
    """The task is clear but not what the words say about it: offer the choices, and keep the
    words as the note of whichever is picked."""
    kept = keep(ctx, words)
    buttons = (
        (
            ctx.button("button.done", f"a:{kept}:{task.id}:d"),
            ctx.button("button.blocked", f"a:{kept}:{task.id}:b"),
        ),
        tuple(Button(f"{p}%", f"a:{kept}:{task.id}:{p}") for p in (25, 50, 75)),
        (ctx.button("button.note_only", f"a:{kept}:{task.id}:n"),),
    )
    body = ctx.text("reply.unclear", code=task.code, text=words[:200])
    ctx.send(Reply(body, buttons=buttons, tasks=(task.id,)))


def ask_which(
    ctx: Known,
    candidates: list[Task],
    text: str,
    intent: Meaning | None = None,
    files: list | None = None,
    header: Rich | None = None,
) -> None:
    """Which task? The person's tasks as numbered lines and buttons, most urgent first; one tap
    applies what they wrote (kept meanwhile)."""
    if not candidates:
        ctx.say("tasks.none" if not files else "evidence.which_task")
        return
    kept = keep(ctx, text, intent, files)
    if header is None:
        if files:
            key = "evidence.which"
        elif text.strip() or intent is None:
            key = "reply.which_task"
        else:
            key = f"reply.which_{intent.value}"  # /xong or /vuong alone
        header = ctx.text(key, text=text[:200])
    # where there are no buttons, the numbered choices are the lines
    listed = numbered_lines(ctx, candidates, ctx.today) if ctx.capabilities.buttons else []
    lines = [header, *listed]
    buttons = task_choices(ctx, candidates, f"a:{kept}:")
    ctx.send(Reply(join_rich(lines), buttons=buttons, tasks=tuple(t.id for t in candidates)))


def _unplaced(
    ctx: Known, text: str, intent: Meaning | None, reading: Reading, found: Resolution
) -> None:
    if reading.unknown_codes or reading.ambiguous:
        suggest_codes(ctx, reading, text, intent)
        return
    if ctx.incoming.is_group:
        return  # colleagues talk in groups: only replies to the bot and codes are for it
    only_chatter = intent is None and all(p.meaning == Meaning.UNCLEAR for p in reading.parts)
    if not text.strip() and intent is not None and not found.candidates:
        ctx.say(USAGE[intent])
        return
    if only_chatter and not found.candidates:
        ctx.say("hint.text")
        return
    ask_which(ctx, found.candidates, text, intent)


def suggest_codes(
    ctx: Known,
    reading: Reading,
    text: str | None = None,
    intent: Meaning | None = None,
    files: list | None = None,
) -> None:
    """Codes that match no task; where the words (or files) wait for a task, a tap applies them."""
    prefix = "v:" if text is None else f"a:{keep(ctx, text, intent, files)}:"
    suggest_for(ctx, reading, prefix)
