"""/baocao (/report): the school's digest on demand, for the principal and vice principals; and
how a digest reads in chat, shared with the weekly digest the bot sends by itself."""

import re
from pathlib import Path

from handlers.chat import Reply
from handlers.context import Context
from messages import Html, format_date, format_datetime, format_percent, format_quantity, t
from messages import join_html as join
from models import Direction
from services.digest import (
    DUE_SOON_DAYS,
    Digest,
    DigestKpiStatus,
    KpiItem,
    SilentPerson,
    TaskItem,
    compile_digest,
    digest_period,
    record_digest,
    week_label,
)
from services.digest_files import kpi_model, write_chart, write_workbook
from services.plan_text import countdown, describe_target

MAX_TASK_LINES = 10  # per list; the workbook has them all
MAX_TITLE_CHARS = 70  # longer task titles and KPI names are cut in the message,
MAX_NOTE_CHARS = 300  # and so are longer notes; the workbook has them whole
MESSAGE_LIMIT = 4096  # Telegram's; a longer digest is sent in several messages, by section


def report_command(ctx: Context, args: str) -> None:
    if ctx.actor is None or not ctx.actor.is_leader:
        ctx.say("report.deny")
        return
    if ctx.incoming is not None and ctx.incoming.is_group:
        ctx.say("report.private_only")
        return
    start, end = digest_period(ctx.session, ctx.school, ctx.now)
    digest = compile_digest(ctx.session, ctx.school, start=start, end=end, now=ctx.now)
    for reply in digest_replies(ctx, digest, report_folder(ctx, digest)):
        ctx.send(reply)


def weekly_digest(ctx: Context) -> list[Reply]:
    """The digest the bot sends by itself at the school's digest time. The week's period is
    recorded once (the next digest starts where it ends) and every leader gets the same one."""
    start, end = digest_period(ctx.session, ctx.school, ctx.now)
    log = record_digest(ctx.session, ctx.school, week_label(end, ctx.tz), start, end)
    digest = compile_digest(
        ctx.session, ctx.school, start=log.period_start, end=log.period_end, now=ctx.now
    )
    return digest_replies(ctx, digest, report_folder(ctx, digest))


def report_folder(ctx: Context, digest: Digest) -> Path:
    """<reports dir>/<school>/<week>: one archive folder per week, refreshed by later reports."""
    safe = re.sub(r"[^0-9A-Za-z_-]", "_", ctx.school.code)
    folder = ctx.config.reports_dir / safe / digest.week
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def digest_replies(ctx: Context, digest: Digest, folder: Path) -> list[Reply]:
    """The digest as messages, with the workbook and the chart (written into `folder`) attached
    to the last one."""
    workbook = folder / t("report.file.workbook", ctx.locale, week=digest.week)
    chart = folder / t("report.file.chart", ctx.locale, week=digest.week)
    write_workbook(digest, ctx.session, workbook, locale=ctx.locale)
    write_chart(digest, chart, locale=ctx.locale)
    parts = split_sections(render_digest(ctx, digest))
    return [Reply(part) for part in parts[:-1]] + [Reply(parts[-1], files=(workbook, chart))]


def split_sections(text: Html, limit: int = MESSAGE_LIMIT) -> list[Html]:
    """Whole sections (separated by a blank line) per message, as many as fit in `limit`; a
    section longer than that on its own is left for the channel to cut at line breaks."""
    parts: list[str] = []
    for section in text.split("\n\n"):
        if parts and len(parts[-1]) + 2 + len(section) <= limit:
            parts[-1] += "\n\n" + section
        else:
            parts.append(section)
    return [Html(part) for part in parts]


# --- rendering ---------------------------------------------------------------------------------


def render_digest(ctx: Context, digest: Digest) -> Html:
    sections = [
        join(
            [
                ctx.text("digest.title", week=digest.week, school=one_line(digest.school_name)),
                ctx.text(
                    "digest.period",
                    start=format_datetime(digest.start, ctx.tz),
                    end=format_datetime(digest.end, ctx.tz),
                ),
            ]
        ),
        _overview(ctx, digest),
        _units(ctx, digest),
        _tasks(ctx, digest.overdue, ctx.text("digest.overdue.header", count=len(digest.overdue)),
               ctx.text("digest.overdue.none"), digest),
        _tasks(ctx, digest.due_soon,
               ctx.text("digest.due_soon.header", days=DUE_SOON_DAYS, count=len(digest.due_soon)),
               ctx.text("digest.due_soon.none", days=DUE_SOON_DAYS), digest),
        _silent(ctx, digest),
        _kpis(ctx, digest),
        _notes(ctx, digest),
        _evidence(ctx, digest),
        ctx.text("digest.attached"),
    ]  # fmt: skip
    return join(sections, "\n\n")


def one_line(text: str, limit: int | None = None) -> str:
    """User text on one line (a line break inside <i>…</i> could be where a long message is
    cut, leaving the tag open), at most `limit` characters."""
    text = " ".join(text.split())
    return text if limit is None or len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _percent(ctx: Context, value: float) -> str:
    return format_percent(value, 1, ctx.locale)


def _overview(ctx: Context, digest: Digest) -> Html:
    totals = digest.totals
    return join(
        [
            ctx.text("digest.overall.header"),
            ctx.text(
                "digest.overall",
                progress=_percent(ctx, totals.progress),
                done=totals.done,
                tasks=totals.tasks,
                overdue=totals.overdue,
                updates=totals.updates,
            ),
        ]
    )


def _units(ctx: Context, digest: Digest) -> Html:
    lines = [ctx.text("digest.units.header")]
    lines += [
        ctx.text(
            "digest.unit.line",
            name=one_line(row.name),
            progress=_percent(ctx, row.progress),
            open=row.open,
            done=row.done,
            overdue=row.overdue,
            last=(
                format_datetime(row.last_report, ctx.tz)
                if row.last_report
                else ctx.text("digest.unit.never")
            ),
        )
        for row in digest.units
    ] or [ctx.text("digest.units.none")]
    return join(lines)


def _tasks(
    ctx: Context, items: tuple[TaskItem, ...], header: Html, empty: Html, digest: Digest
) -> Html:
    if not items:
        return empty
    lines = [header]
    lines += [
        ctx.text(
            "digest.task.line",
            code=item.code,
            title=one_line(item.title, MAX_TITLE_CHARS),
            unit=one_line(item.unit),
            due=format_date(item.due),
            countdown=countdown(item.due, digest.today, ctx.locale),
            progress=item.progress,
        )
        for item in items[:MAX_TASK_LINES]
    ]
    if len(items) > MAX_TASK_LINES:
        lines.append(ctx.text("digest.tasks.more", count=len(items) - MAX_TASK_LINES))
    return join(lines)


def _person(ctx: Context, person: SilentPerson) -> Html:
    details = []
    if person.units:
        details.append(t("digest.silent.heads", ctx.locale, units=", ".join(person.units)))
    if person.tasks:
        details.append(t("digest.silent.tasks", ctx.locale, codes=", ".join(person.tasks)))
    return ctx.text("digest.silent.person", name=person.name, detail="; ".join(details))


def _silent(ctx: Context, digest: Digest) -> Html:
    if not digest.silent_units and not digest.silent_people:
        return ctx.text("digest.silent.none")
    lines = [ctx.text("digest.silent.header")]
    if digest.silent_units:
        names = ", ".join(unit.name for unit in digest.silent_units)
        lines.append(ctx.text("digest.silent.units", units=names))
    if digest.silent_people:
        people = join([_person(ctx, person) for person in digest.silent_people], ", ")
        lines.append(ctx.text("digest.silent.people", people=people))
    return join(lines)


def kpi_value_text(ctx: Context, item: KpiItem) -> str:
    if item.direction == Direction.YES_NO:
        return t("kpi.yes" if item.value else "kpi.no", ctx.locale)
    text = format_quantity(item.value, item.measure, ctx.locale)
    if item.numerator is not None:
        text += f" ({item.numerator}/{item.denominator})"
    return text


def _kpis(ctx: Context, digest: Digest) -> Html:
    if not digest.kpis:
        return ctx.text("digest.kpis.none")
    counts = {status: 0 for status in DigestKpiStatus}
    for item in digest.kpis:
        counts[item.status] += 1
    lines = [ctx.text("digest.kpis.header", **{s.value: n for s, n in counts.items()})]
    for item in digest.kpis:
        common = {
            "name": one_line(item.name, MAX_TITLE_CHARS),
            "year": item.target_year,
            "target": describe_target(kpi_model(item), ctx.locale),
            "status": ctx.text(f"digest.kpi.status.{item.status.value}"),
        }
        if item.value is None:
            lines.append(ctx.text("digest.kpi.line_no_data", **common))
            continue
        lines.append(
            ctx.text(
                "digest.kpi.line",
                value=kpi_value_text(ctx, item),
                date=format_date(item.recorded_at, ctx.tz),
                **common,
            )
        )
    return join(lines)


def _notes(ctx: Context, digest: Digest) -> Html:
    if not digest.notes:
        return ctx.text("digest.notes.none")
    lines = [ctx.text("digest.notes.header")]
    for note in digest.notes:
        if note.status is None:
            what = ctx.text("update.evidence_entry")
        else:
            what = ctx.text(f"status.{note.status.value}")
        if note.percent is not None:
            what = ctx.text("update.percent", percent=note.percent, status=what)
        lines.append(
            ctx.text(
                "digest.note.line",
                code=note.task_code,
                who=note.who or ctx.text("digest.note.nobody"),
                when=format_datetime(note.at, ctx.tz),
                what=what,
                note=one_line(note.note, MAX_NOTE_CHARS),
            )
        )
    if digest.notes_total > len(digest.notes):
        lines.append(ctx.text("digest.notes.more", count=digest.notes_total - len(digest.notes)))
    return join(lines)


def _evidence(ctx: Context, digest: Digest) -> Html:
    if not digest.evidence:
        return ctx.text("digest.evidence.none")
    lines = [ctx.text("digest.evidence.header", count=digest.evidence_total)]
    lines += [
        ctx.text(
            "digest.evidence.line",
            code=item.code,
            title=one_line(item.title, MAX_TITLE_CHARS),
            count=item.count,
        )
        for item in digest.evidence
    ]
    return join(lines)
