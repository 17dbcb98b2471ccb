"""The education office in chat: the weekly roll-up of its schools (sent by the bot, or now with
/baocao) and what its people can do, since they have no task in any school."""

from datetime import datetime
from pathlib import Path

from handlers.chat import Reply
from handlers.context import Context, Known, Personal
from handlers.joining import looks_like_code
from messages import Rich, format_percent, join_rich, t
from services.rollup import (
    Rollup,
    SchoolLine,
    compile_rollup,
    office_schools,
    write_rollup_workbook,
)

MAX_NAME_CHARS = 60  # a school's name in the message; the workbook has it whole
# what a person of the office uses as anyone does: their schools, channel, language, joining
# and help (which tells them what they can do: handlers/joining.py `show_help`)
OPEN = {
    "start", "truong", "school", "kenh", "channel", "ngonngu", "language", "huongdan", "help",
}  # fmt: skip
ROLLUP = {"baocao", "report"}


def office_message(ctx: Known, command: str | None, args: str) -> bool:
    """Answer a message from a person of the education office, unless it is one anybody's
    handling answers as well for them (True: answered here). They have no task: what is about
    tasks is politely turned to what they can do."""
    incoming = ctx.incoming
    if command in OPEN:
        return False
    if command is None and not incoming.button and not incoming.files:
        if looks_like_code(incoming.text) and not incoming.is_group:
            return False  # a joining code
        if incoming.is_group:
            return True  # people talk in groups: not to the bot
    if command in ROLLUP:
        if incoming.is_group:
            ctx.say("rollup.private_only")
        else:
            for reply in rollup_replies(ctx):
                ctx.send(reply)
    else:
        ctx.say("office.only")
    return True


def rollup_replies(ctx: Personal) -> list[Reply]:
    """The roll-up of the schools `ctx.member`'s person follows, as of now, with its workbook,
    or a word on where it is kept where files cannot be sent."""
    schools = office_schools(ctx.session, ctx.member)
    rollup = compile_rollup(ctx.session, schools, ctx.now, ctx.tz)
    folder = ctx.config.reports_dir / "office" / f"office-{ctx.member.id}" / rollup.week.label
    workbook = folder / t("rollup.file.workbook", ctx.locale, week=rollup.week.label)
    write_rollup_workbook(rollup, workbook, locale=ctx.locale)
    text = rollup_text(ctx, rollup)  # the channel cuts it between lines where it must
    if not ctx.capabilities.files:
        return [Reply(text), Reply(ctx.text("rollup.file_kept", workbook=workbook.name))]
    return [Reply(text, files=(workbook,))]


def rollup_text(ctx: Context, rollup: Rollup) -> Rich:
    return join_rich(rollup_lines(ctx, rollup))


def rollup_lines(ctx: Context, rollup: Rollup) -> list[Rich]:
    """A heading, one line per school (most in need first), and what the workbook holds."""
    lines = [
        ctx.text("rollup.title", dates=rollup.week.dates(), count=len(rollup.schools)),
        ctx.text(
            "rollup.as_of",
            end=_moment(ctx, rollup.end),
            count=rollup.needing_attention,
            schools=len(rollup.schools),
        ),
    ]
    if not rollup.schools:
        return [*lines, ctx.text("rollup.no_school")]
    lines += [_school(ctx, number, line) for number, line in enumerate(rollup.schools, 1)]
    lines.append(ctx.text("rollup.order"))
    lines.append(ctx.text("rollup.attached" if ctx.capabilities.files else "rollup.kept"))
    return lines


def _school(ctx: Context, number: int, line: SchoolLine) -> Rich:
    totals = line.digest.totals
    parts = [
        ctx.text(
            "rollup.line",
            number=number,
            school=_one_line(line.name, MAX_NAME_CHARS),
            progress=format_percent(totals.progress, 1, ctx.locale),
            done=totals.done,
            tasks=totals.tasks,
            overdue=totals.overdue,
        )
    ]
    if line.long_overdue_tasks:
        parts.append(
            ctx.text(
                "rollup.line.long_overdue",
                count=line.long_overdue_tasks,
                days=line.digest.long_overdue_days,
            )
        )
    if line.silent_units:
        parts.append(ctx.text("rollup.line.silent", count=line.silent_units))
    if line.kpis_at_risk:
        parts.append(ctx.text("rollup.line.kpis", count=line.kpis_at_risk))
    if not line.attention:
        parts.append(ctx.text("rollup.line.fine"))
    return join_rich(parts, " · ")


def _one_line(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _moment(ctx: Context, value: datetime) -> str:
    local = value.astimezone(ctx.tz)
    return f"{local:%H:%M %d/%m/%Y}"


def default_folder(ctx: Context, rollup: Rollup) -> Path:
    """Where `dondoc digest --all-schools` writes the deployment's roll-up by default."""
    return ctx.config.reports_dir / "all-schools" / rollup.week.label
