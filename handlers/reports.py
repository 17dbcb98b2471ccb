"""/baocao (/report): the school's digest on demand, for the principal and vice principals; and
how a digest reads in chat, shared with the weekly digest the bot sends by itself: one message
that fits a phone screen, what needs a decision first; the workbook and the chart have the rest."""

from datetime import date, datetime
from pathlib import Path

from handlers.chat import Reply
from handlers.context import Context, InSchool, Known
from handlers.kpis import measured_text, number_text
from handlers.official_report import official_command
from messages import Rich, format_date, format_percent, t
from messages import join_rich as join
from models import Direction
from services.digest import (
    DUE_SOON_DAYS,
    Digest,
    UnitRow,
    Unreached,
    compile_digest,
    digest_period,
    record_digest,
)
from services.digest_files import kpi_model, write_chart, write_workbook
from services.kpi_forecast import Outlook
from services.plan_text import countdown, describe_target
from services.weeks import week_of

MAX_TITLE_CHARS = 48  # task titles are cut in the message; the workbook has them whole
MAX_NAME_CHARS = 60  # and so are KPI names
MAX_NOTE_CHARS = 120  # and blockers' reasons


def report_command(ctx: Known, args: str) -> None:
    if ctx.actor is None or not ctx.actor.is_leader:
        ctx.say("report.deny")
        return
    if ctx.incoming is not None and ctx.incoming.is_group:
        ctx.say("report.private_only")
        return
    if args.strip():  # /baocao thang, /baocao quy: the official periodic report
        official_command(ctx, args)
        return
    start, end = digest_period(ctx.session, ctx.school, ctx.now)
    digest = compile_digest(ctx.session, ctx.school, start=start, end=end)
    for reply in digest_replies(ctx, digest, report_folder(ctx, digest)):
        ctx.send(reply)


def weekly_digest(ctx: InSchool) -> list[Reply]:
    """The digest the bot sends by itself at the school's digest time. The week's period is
    recorded once (the next digest starts where it ends) and every leader gets the same one."""
    start, end = digest_period(ctx.session, ctx.school, ctx.now)
    log = record_digest(ctx.session, ctx.school, week_of(ctx.today).label, start, end)
    digest = compile_digest(ctx.session, ctx.school, start=log.period_start, end=log.period_end)
    return digest_replies(ctx, digest, report_folder(ctx, digest))


def report_folder(ctx: InSchool, digest: Digest) -> Path:
    """One archive folder per week, refreshed by later reports."""
    return ctx.archive(digest.week.label)


def digest_replies(ctx: InSchool, digest: Digest, folder: Path) -> list[Reply]:
    """The digest as a message (several only for a school too big for one), with the workbook
    and the chart (written into `folder`) attached to the last one, or said where they are on a
    channel that cannot send files."""
    week = digest.week.label
    workbook = folder / t("report.file.workbook", ctx.locale, week=week)
    chart = folder / t("report.file.chart", ctx.locale, week=week)
    write_workbook(digest, ctx.session, workbook, locale=ctx.locale)
    write_chart(digest, chart, locale=ctx.locale)
    parts = split_sections(render_digest(ctx, digest), ctx.capabilities.text_limit)
    if not ctx.capabilities.files:
        kept = ctx.text("report.files_kept", workbook=workbook.name)
        return [Reply(part) for part in parts] + [Reply(kept)]
    return [Reply(part) for part in parts[:-1]] + [Reply(parts[-1], files=(workbook, chart))]


def split_sections(text: Rich, limit: int) -> list[Rich]:
    """Whole sections (separated by a blank line) per message, as many as fit in `limit`; a
    section longer than that on its own is left for the channel to cut at line breaks."""
    parts: list[str] = []
    for section in text.split("\n\n"):
        if parts and len(parts[-1]) + 2 + len(section) <= limit:
            parts[-1] += "\n\n" + section
        else:
            parts.append(section)
    return [Rich(part) for part in parts]


# --- rendering ---------------------------------------------------------------------------------


def render_digest(ctx: Context, digest: Digest) -> Rich:
    totals = digest.totals
    heading = join(
        [
            ctx.text(
                "digest.title", dates=digest.week.dates(), school=one_line(digest.school_name)
            ),
            ctx.text(
                "digest.as_of",
                start=_moment(ctx, digest.start, digest.today),
                end=_moment(ctx, digest.end, digest.today),
                progress=format_percent(totals.progress, 1, ctx.locale),
                done=totals.done,
                tasks=totals.tasks,
                overdue=totals.overdue,
                updates=totals.updates,
            ),
        ]
    )
    sections = [
        heading,
        _decisions(ctx, digest),
        *([_unreached(ctx, digest.unreached)] if digest.unreached else []),
        _units(ctx, digest),
        _urgent(ctx, digest),
        join([_kpis(ctx, digest), ctx.text("digest.attached")]),
    ]
    return join(sections, "\n\n")


def _unreached(ctx: Context, unreached: Unreached) -> Rich:
    """Who the bot could not remind this week, so that someone can bring them in."""
    lines = [ctx.text("digest.unreached.header")]
    for key, names in (("no_chat", unreached.no_chat), ("blocked", unreached.blocked)):
        if names:
            lines.append(
                ctx.text(f"digest.unreached.{key}", count=len(names), names=_few(ctx, names))
            )
    for key, count in (("expired", unreached.expired), ("refused", unreached.refused)):
        if count:
            lines.append(ctx.text(f"digest.unreached.{key}", count=count))
    return join(lines)


def _few(ctx: Context, names: tuple[str, ...], shown: int = 8) -> str:
    if len(names) <= shown:
        return ", ".join(names)
    return ctx.text("digest.and_others", names=", ".join(names[:shown]), count=len(names) - shown)


def one_line(text: str, limit: int | None = None) -> str:
    """User text on one line (a line break inside <i>…</i> could be where a long message is
    cut, leaving the tag open), at most `limit` characters."""
    text = " ".join(text.split())
    return text if limit is None or len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _day(value: date | datetime, ctx: Context, today: date) -> str:
    """dd/mm within the digest's year, dd/mm/yyyy otherwise."""
    day = value.astimezone(ctx.tz).date() if isinstance(value, datetime) else value
    return f"{day:%d/%m}" if day.year == today.year else format_date(day)


def _moment(ctx: Context, value: datetime, today: date) -> str:
    local = value.astimezone(ctx.tz)
    return f"{local:%H:%M} {_day(local, ctx, today)}"


def _heads(ctx: Context, row: UnitRow) -> str:
    return ", ".join(row.heads) or ctx.text("digest.nobody")


def _decisions(ctx: Context, digest: Digest) -> Rich:
    if not digest.decisions:
        return ctx.text("digest.decide.none")
    today = digest.today
    lines = [ctx.text("digest.decide.header", count=digest.decisions)]
    for blocker in digest.blockers:
        common = {
            "code": blocker.task.code,
            "since": _day(blocker.since, ctx, today),
            "who": blocker.who or ctx.text("digest.unknown_sender"),
        }
        if blocker.note and blocker.note.strip():
            note = one_line(blocker.note, MAX_NOTE_CHARS)
            lines.append(ctx.text("digest.decide.blocker", note=note, **common))
        else:
            lines.append(ctx.text("digest.decide.blocker_no_note", **common))
    for item in digest.kpis_at_risk:
        if item.value is None or item.recorded_at is None or item.projected is None:
            continue  # a KPI is at risk from a value recorded: never without one
        if item.direction == Direction.YES_NO:  # nothing to project: not achieved yet
            lines.append(
                ctx.text(
                    "digest.decide.kpi_yes_no",
                    name=one_line(item.name, MAX_NAME_CHARS),
                    date=_day(item.recorded_at, ctx, today),
                    target_date=format_date(item.target_date),
                    target=describe_target(kpi_model(item), ctx.locale),
                )
            )
            continue
        kpi = kpi_model(item)
        lines.append(
            ctx.text(
                "digest.decide.kpi",
                name=one_line(item.name, MAX_NAME_CHARS),
                value=measured_text(ctx, kpi, item.value, item.numerator, item.denominator),
                date=_day(item.recorded_at, ctx, today),
                projected=number_text(ctx, kpi, item.projected),
                target_date=format_date(item.target_date),
                target=describe_target(kpi, ctx.locale),
            )
        )
    for silent in digest.silent_units:
        key = "digest.decide.silent" if silent.last_report else "digest.decide.silent_never"
        lines.append(
            ctx.text(
                key,
                unit=silent.unit.name,
                heads=_heads(ctx, silent.unit),
                since=_day(silent.quiet_since, ctx, today),
            )
        )
    for late in digest.long_overdue:
        lines.append(
            ctx.text(
                "digest.decide.overdue",
                unit=late.unit.name,
                heads=_heads(ctx, late.unit),
                count=late.count,
                days=digest.long_overdue_days,
                code=late.oldest.code,
                since=_day(late.oldest.due_on, ctx, today),
            )
        )
    return join(lines)


def _units(ctx: Context, digest: Digest) -> Rich:
    if not digest.units:
        return ctx.text("digest.units.none")
    lines = [ctx.text("digest.units.header")]
    lines += [
        ctx.text(
            "digest.unit.line",
            name=one_line(row.name),
            done=row.done,
            tasks=row.tasks,
            overdue=row.overdue,
            last=(
                _day(row.last_report, ctx, digest.today)
                if row.last_report
                else ctx.text("digest.unit.never")
            ),
        )
        for row in digest.units
    ]
    return join(lines)


def _urgent(ctx: Context, digest: Digest) -> Rich:
    if not digest.urgent:
        return ctx.text("digest.urgent.none", days=DUE_SOON_DAYS)
    candidates = {item.task_id for item in (*digest.overdue, *digest.due_soon)}
    lines = [ctx.text("digest.urgent.header", shown=len(digest.urgent), count=len(candidates))]
    for row in digest.units:
        mine = [item for item in digest.urgent if item.unit_id == row.unit_id]
        if not mine:
            continue
        lines.append(ctx.text("digest.urgent.unit", unit=row.name))
        lines += [
            ctx.text(
                "digest.urgent.line",
                code=item.code,
                title=one_line(item.title, MAX_TITLE_CHARS),
                countdown=countdown(item.due_on, digest.today, ctx.locale)
                + (ctx.text("digest.proposed") if item.proposed else ""),
                progress=item.progress,
            )
            for item in mine
        ]
    return join(lines)


def _kpis(ctx: Context, digest: Digest) -> Rich:
    if not digest.kpis:
        return ctx.text("digest.kpis.none")
    counts = {outlook.value: 0 for outlook in Outlook}
    for item in digest.kpis:
        counts[item.outlook.value] += 1
    return ctx.text("digest.kpis", **counts)
