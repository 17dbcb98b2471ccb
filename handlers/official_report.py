"""/baocao thang, /baocao quy (/report month, /report quarter): the official periodic report of
the month or quarter so far (or of a past one: /baocao thang 11, /baocao quy 3). The leader gets
a short summary of the counts per category, with the .docx attached where the channel sends
files (Telegram); where it cannot (Zalo), the summary says where the file is kept."""

import re
from datetime import datetime
from pathlib import Path

from handlers.chat import Reply
from handlers.context import Context, InSchool, Known
from messages import Rich, t
from messages import join_rich as join
from services.kpi_forecast import Outlook
from services.period_report import (
    FOLLOWED,
    Category,
    Period,
    PeriodKind,
    PeriodReport,
    compile_period_report,
    period_of,
)
from services.report_docx import period_text, write_report
from services.school_settings import letterhead_of
from services.text import fold

KINDS = {
    "thang": PeriodKind.MONTH,
    "month": PeriodKind.MONTH,
    "quy": PeriodKind.QUARTER,
    "quarter": PeriodKind.QUARTER,
}
QUARTERS = {"i": 1, "ii": 2, "iii": 3, "iv": 4}


def wanted_period(args: str, ctx: Context) -> Period | None:
    """The period `/baocao thang [11]` or `/baocao quy [3|III]` asks for; None if the words
    are not one."""
    words = fold(args).split()
    if not words or words[0] not in KINDS or len(words) > 2:
        return None
    kind = KINDS[words[0]]
    if len(words) == 1:
        return period_of(kind, ctx.today)
    word = words[1]
    number = QUARTERS.get(word) if kind == PeriodKind.QUARTER else None
    if number is None and re.fullmatch(r"\d{1,2}", word):
        number = int(word)
    try:
        return period_of(kind, ctx.today, number) if number is not None else None
    except ValueError:
        return None


def official_command(ctx: Known, args: str) -> None:
    """For a leader in a private chat: `report_command` checked both."""
    period = wanted_period(args, ctx)
    if period is None:
        ctx.say("official.bad_args")
        return
    ctx.send(official_reply(ctx, period))


def official_reply(ctx: InSchool, period: Period) -> Reply:
    report = compile_period_report(ctx.session, ctx.school, period, ctx.now)
    name = t("report.file.official", ctx.locale, period=period.label)
    path = official_folder(ctx, period) / name
    head = letterhead_of(ctx.school.settings)
    write_report(report, path, issued=ctx.today, letterhead=head, locale=ctx.locale)
    summary = render_summary(ctx, report)
    if ctx.capabilities.files:
        return Reply(join([summary, ctx.text("official.summary.attached")]), files=(path,))
    return Reply(join([summary, ctx.text("official.summary.kept", file=path.name)]))


def official_folder(ctx: InSchool, period: Period) -> Path:
    """Beside the weekly digests' folders."""
    return ctx.archive(period.label)


def render_summary(ctx: Context, report: PeriodReport) -> Rich:
    """The counts per category, and the indicators by outlook."""
    local: datetime = report.end.astimezone(ctx.tz)
    moment = "24:00" if report.complete else f"{local:%H:%M}"  # the whole last day
    counts = report.counts
    lines = [
        ctx.text(
            "official.summary.title",
            period=period_text(report, ctx.locale),
            school=report.school_name,
        ),
        ctx.text(
            "official.summary.as_of",
            time=moment,
            date=f"{report.as_of:%d/%m/%Y}",
            followed=report.followed,
        ),
    ]
    for category in FOLLOWED:
        name = ctx.text(f"official.cat.{category.value}")
        lines.append(ctx.text("official.summary.line", name=name, number=counts[category]))
    lines.append(ctx.text("official.summary.ongoing", number=counts[Category.ONGOING]))
    if report.kpis:
        outlooks = {outlook.value: 0 for outlook in Outlook}
        for item in report.kpis:
            outlooks[item.outlook.value] += 1
        lines.append(ctx.text("official.summary.kpis", **outlooks))
    return join(lines)
