"""/minhchung (/evidence): the evidence folder of a task, for leaders and the head of the task's
unit. With a code: the zip of the task's evidence with its index (on a channel without files, a
listing of who sent what, when, and where the zip is kept); without: the tasks with evidence.

The zip is kept under <reports dir>/<school>/minh-chung/, refreshed at each request."""

from pathlib import Path

from sqlmodel import col, select

from handlers.chat import Reply
from handlers.context import Known
from handlers.progress_text import read_progress
from handlers.tasks import suggest_for
from messages import Rich, format_date, format_datetime, format_number, join_rich, t
from models import Task, Unit
from services.evidence_export import (
    EvidenceExport,
    evidence_codes,
    evidence_counts,
    gather_evidence,
    safe_part,
    write_zip,
)
from services.tasks import school_codes

FOLDER = "minh-chung"
TELEGRAM_MAX_BYTES = 50 * 1024 * 1024  # the largest file a bot may send on Telegram
LIST_LIMIT = 30  # files listed on a channel without files; the index has them all
SUMMARY_LIMIT = 30  # tasks listed by /minhchung without a code
MAX_TITLE_CHARS = 48
MAX_NOTE_CHARS = 80


def evidence_command(ctx: Known, args: str) -> None:
    if not (ctx.actor.is_leader or ctx.actor.headed_units):
        ctx.say("evidence.deny")
        return
    if ctx.incoming.is_group:
        ctx.say("evidence.private_only")
        return
    if not args.strip():
        _summary(ctx)
        return
    shares = _shares(ctx, args)
    if shares is None:
        return
    mine = [task for task in shares if ctx.actor.heads(task.unit_id)]
    if not mine:
        ctx.say("evidence.deny_task", code=shares[0].code)
        return
    _folder(ctx, mine, whole=len(mine) == len(shares))


def _shares(ctx: Known, text: str) -> list[Task] | None:
    """Every row (one per unit) of the task named in `text`, archived ones too: evidence
    outlives the plan. None after saying there is no such task, with the close codes."""
    reading = read_progress(text, school_codes(ctx.session, ctx.school.id))
    named = [code for part in reading.parts for code in part.codes]
    first = text.split()[0]
    codes = named[:1] or evidence_codes(ctx.session, ctx.school.id, first)
    if not codes:
        suggest_for(ctx, reading, "v:", otherwise=[first])
        return None
    query = (
        select(Task)
        .where(Task.school_id == ctx.school.id, Task.code == codes[0])
        .order_by(col(Task.id))
    )
    return list(ctx.session.exec(query).all())


def zip_file(ctx: Known, tasks: list[Task], whole: bool) -> Path:
    """minh-chung/minh-chung-<code>.zip in the school's archive; the units in the name when the
    zip has only some units' evidence of a shared task."""
    label = tasks[0].code
    if not whole:
        units = [ctx.session.get_one(Unit, task.unit_id).code for task in tasks]
        label = "-".join([label, *units])
    name = safe_part(t("evidence.file.zip", ctx.locale, code=label), 120)
    return ctx.archive(FOLDER) / name


def _folder(ctx: Known, tasks: list[Task], *, whole: bool) -> None:
    task = tasks[0]
    units = None if whole else [share.unit_id for share in tasks]
    items = gather_evidence(ctx.session, ctx.school.id, codes=[task.code], unit_ids=units)
    if not items:
        ctx.say("evidence.none_task", code=task.code, title=task.title)
        return
    export = write_zip(items, zip_file(ctx, tasks, whole), ctx.tz, ctx.locale)
    lines = [ctx.text("evidence.header", code=task.code, title=task.title, count=len(items))]
    size = export.zip_path.stat().st_size
    if ctx.capabilities.files and size <= TELEGRAM_MAX_BYTES:
        lines += [ctx.text("evidence.attached"), *_missing(ctx, export)]
        ctx.send(Reply(join_rich(lines), files=(export.zip_path,)))
        return
    lines += _listing(ctx, export) + _missing(ctx, export)
    where = {"name": export.zip_path.name, "folder": str(export.zip_path.parent)}
    if ctx.capabilities.files:  # too big for the channel
        megabytes = format_number(size / 2**20, 1, ctx.locale)
        limit = TELEGRAM_MAX_BYTES // 2**20
        lines.append(ctx.text("evidence.too_big", size=megabytes, limit=limit, **where))
    else:
        lines.append(ctx.text("evidence.kept", **where))
    ctx.send(Reply(join_rich(lines)))


def _listing(ctx: Known, export: EvidenceExport) -> list[Rich]:
    """Who sent what, when: a line per file, the first LIST_LIMIT."""
    lines = []
    for item in export.files[:LIST_LIMIT]:
        evidence = item.evidence
        image = (evidence.mime_type or "").startswith("image/")
        kind = "evidence.file.photo" if image else "evidence.file.document"
        words = {
            "time": format_datetime(evidence.at, ctx.tz),
            "sender": evidence.sender or ctx.text("evidence.unknown_sender"),
            "channel": ctx.text(f"evidence.channel.{evidence.channel.value}"),
            "name": evidence.file_name or ctx.text(kind),
        }
        if evidence.note:
            note = _short(" ".join(evidence.note.split()), MAX_NOTE_CHARS)
            lines.append(ctx.text("evidence.line_note", note=note, **words))
        else:
            lines.append(ctx.text("evidence.line", **words))
    if len(export.files) > LIST_LIMIT:
        lines.append(ctx.text("evidence.more", count=len(export.files) - LIST_LIMIT))
    return lines


def _missing(ctx: Known, export: EvidenceExport) -> list[Rich]:
    missing = len(export.missing)
    return [ctx.text("evidence.missing", count=missing)] if missing else []


def _summary(ctx: Known) -> None:
    """The tasks with evidence (a unit head's: their units'), files and the latest's day."""
    units = None if ctx.actor.is_leader else ctx.actor.headed_units
    counts = evidence_counts(ctx.session, ctx.school.id, unit_ids=units)
    if not counts:
        ctx.say("evidence.summary.none")
        return
    lines = [ctx.text("evidence.summary.header", count=len(counts))]
    for item in counts[:SUMMARY_LIMIT]:
        lines.append(
            ctx.text(
                "evidence.summary.line",
                code=item.code,
                title=_short(item.title, MAX_TITLE_CHARS),
                count=item.files,
                date=format_date(item.latest, ctx.tz),
            )
        )
    if len(counts) > SUMMARY_LIMIT:
        lines.append(ctx.text("evidence.summary.more", count=len(counts) - SUMMARY_LIMIT))
    lines.append(ctx.text("evidence.summary.footer"))
    ctx.send(Reply(join_rich(lines)))


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
