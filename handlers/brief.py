"""A leader's brief: how it reads (numbered, so "1 xong" answers it) and /tomtat (/brief), where
a leader chooses to get it daily, weekly or not at all. Button payload: `t:<choice>`."""

from datetime import date

from handlers.chat import Button, Reply
from handlers.context import Context, Known, Personal
from messages import Rich, format_datetime, join_rich
from models import BriefFrequency, Reminder
from services.brief import SILENT_DAYS, Brief, BriefItem, Why, brief_since, compile_brief
from services.plan_text import countdown
from services.text import fold

CHOICES = {
    "hang ngay": BriefFrequency.DAILY,
    "daily": BriefFrequency.DAILY,
    "hang tuan": BriefFrequency.WEEKLY,
    "weekly": BriefFrequency.WEEKLY,
    "tat": BriefFrequency.OFF,
    "off": BriefFrequency.OFF,
}  # as folded: "hằng ngày", "hàng ngày" and "hang ngay" alike
MAX_ITEMS = 8  # numbered lines; the rest is counted
TITLE_CHARS = 60  # longer titles are cut; /viec CODE shows them whole
NOTE_CHARS = 80  # and so are longer blocker notes


def brief_message(ctx: Personal, rows: list[Reminder]) -> Reply | None:
    """The brief delivering `rows` (several only when earlier ones waited): what is new since
    the brief before the first of them; None when nothing is new any more."""
    rows = sorted(rows, key=lambda row: (row.due_at, row.id))
    since = brief_since(ctx.session, ctx.member, rows[0].due_at)
    brief = compile_brief(ctx.session, ctx.school, ctx.member, since, rows[-1].due_at)
    return None if brief.is_empty else render_brief(ctx, brief)


def render_brief(ctx: Context, brief: Brief) -> Reply:
    shown = brief.items[:MAX_ITEMS]
    lines = [ctx.text("brief.header", since=format_datetime(brief.since, ctx.tz))]
    today = brief.until.astimezone(ctx.tz).date()  # the brief's day, whenever it is composed
    lines += [_line(ctx, number, item, today) for number, item in enumerate(shown, 1)]
    if len(brief.items) > len(shown):
        lines.append(ctx.text("brief.more", count=len(brief.items) - len(shown)))
    if brief.silent_units:
        lines.append(
            ctx.text("brief.silent", units=", ".join(brief.silent_units), days=SILENT_DAYS)
        )
    if brief.arrived_overdue:
        lines.append(ctx.text("brief.arrived_overdue", count=brief.arrived_overdue))
    if brief.other_overdue:
        lines.append(ctx.text("brief.other_overdue", count=brief.other_overdue))
    if shown:
        lines.append(ctx.text("brief.answer"))
    lines.append(ctx.text("brief.footer"))
    return Reply(join_rich(lines), tasks=tuple(item.task.id for item in shown))


def _line(ctx: Context, number: int, item: BriefItem, today: date) -> Rich:
    title = _cut(item.task.title, TITLE_CHARS)
    params = {"number": number, "code": item.task.code, "title": title, "unit": item.unit}
    if item.why == Why.BLOCKED or item.due is None:  # only a blocked task may be never due
        key = "brief.blocked_note" if item.note else "brief.blocked"
        return ctx.text(key, note=_cut(item.note or "", NOTE_CHARS), who=item.who or "—", **params)
    when = countdown(item.due, today, ctx.locale)
    return ctx.text(f"brief.{item.why.value}", when=when, **params)


def _cut(text: str, limit: int) -> str:
    """`text`, or its first words within `limit` characters and an ellipsis."""
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def brief_command(ctx: Known, args: str) -> None:
    """/tomtat: the current choice and three buttons; /tomtat hang ngay|hang tuan|tat sets it."""
    if not ctx.actor.is_leader:
        ctx.say("tomtat.deny")
        return
    if not args.strip():
        _show(ctx)
        return
    choice = CHOICES.get(fold(args))
    if choice is None:
        ctx.say("tomtat.usage", value=args.strip())
        return
    _set(ctx, choice)


def on_brief_button(ctx: Known, value: str) -> None:
    if not ctx.actor.is_leader:
        ctx.outcome.notice = ctx.text("tomtat.deny_short")
        ctx.say("tomtat.deny")
        return
    if value not in {choice.value for choice in BriefFrequency}:
        ctx.outcome.notice = ctx.text("button.outdated")
        return
    _set(ctx, BriefFrequency(value))
    ctx.outcome.notice = ctx.text("tomtat.saved", choice=ctx.text(f"tomtat.choice.{value}"))


def _show(ctx: Known) -> None:
    current = BriefFrequency(ctx.member.brief)
    buttons = tuple(
        Button(
            ("✓ " if choice == current else "") + str(ctx.text(f"tomtat.button.{choice.value}")),
            f"t:{choice.value}",
        )
        for choice in BriefFrequency
    )
    text = ctx.text("tomtat.current", choice=ctx.text(f"tomtat.choice.{current.value}"))
    ctx.send(Reply(text, buttons=(buttons,)))


def _set(ctx: Known, choice: BriefFrequency) -> None:
    ctx.member.brief = choice
    ctx.session.add(ctx.member)
    ctx.say(f"tomtat.set.{choice.value}")
