"""Photos and documents sent as evidence (minh chứng): for the task named in the caption, the
message replied to, the chat's current task or the person's only open task; else the person
is asked which task, and the files wait for the answer. A caption that also reports progress
("III.3.5 xong ạ") records that too, as an update of its own."""

from dataclasses import asdict

from handlers.chat import Download
from handlers.context import Known
from handlers.progress import (
    Statement,
    allowed,
    apply_and_confirm,
    ask_which,
    confirm_one,
    read,
    suggest_codes,
)
from handlers.progress_text import Meaning, Part
from handlers.resolve import resolve, thread
from models import Task, UpdateSource
from services.progress import IncomingFile, evidence_path, record_evidence


def on_files(ctx: Known) -> None:
    caption = ctx.incoming.text.strip()
    replied = thread(ctx)
    reading = read(ctx, caption, replied, None)
    found = resolve(ctx, reading, replied)
    if found.placed:
        task, part = found.placed[0]
        leading = [p.words for p in found.unplaced if p.words]
        said = _statement(part)
        kept = part.words if said is None or said.meaning == Meaning.BLOCKED else part.note
        record(ctx, task, list(ctx.incoming.files), " ".join(filter(None, [*leading, kept])))
        if said is not None:
            apply_and_confirm(ctx, task, said, UpdateSource.REPLY)
        return
    if ctx.incoming.is_group:
        return  # a file shared with colleagues that names no task is not for the bot
    files = [asdict(file) for file in ctx.incoming.files]
    words = " ".join(part.words for part in reading.parts if part.words)
    if reading.unknown_codes or reading.ambiguous:
        suggest_codes(ctx, reading, words, files=files)
    else:
        ask_which(ctx, found.candidates, words, files=files)


def _statement(part: Part) -> Statement | None:
    """What a caption says beside naming the task ("III.3.5 xong ạ"): recorded after the
    evidence as an update of its own; a caption that only describes the files says nothing."""
    if part.meaning in (Meaning.DONE, Meaning.PERCENT):
        return Statement(part.meaning, part.percent)
    if part.meaning == Meaning.BLOCKED and part.note:
        return Statement(Meaning.BLOCKED, note=part.note)
    return None


def stored_files(kept: list[dict]) -> list[IncomingFile]:
    return [IncomingFile(**file) for file in kept]


def record(ctx: Known, task: Task, files: list[IncomingFile], note: str | None) -> None:
    if not allowed(ctx, task):
        return
    paths = [evidence_path(ctx.config.evidence_dir, ctx.school.code, task, f) for f in files]
    update = record_evidence(
        ctx.session,
        task,
        ctx.member,
        files,
        channel=ctx.incoming.channel,
        note=note or None,
        paths=paths,
        now=ctx.now,
    )
    ctx.outcome.downloads += [Download(f.file_id, p) for f, p in zip(files, paths, strict=True)]
    confirm_one(ctx, task, update, ctx.text("update.evidence", count=len(files)))
