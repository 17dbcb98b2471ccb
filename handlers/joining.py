"""Joining with an invitation code, what strangers see, help and language."""

import math
import re

from handlers.context import Chat, Known
from handlers.schools import act_as
from messages import join_rich
from models import Member
from services.accounts import links
from services.invitations import CODE_LENGTH, normalize_code
from services.joining import JoinResult, owns_code, redeem

UNJOINED = (JoinResult.UNKNOWN, JoinResult.THROTTLED)
LANGUAGES = {"vi": "vi", "tiếng việt": "vi", "tieng viet": "vi", "en": "en", "english": "en"}


def looks_like_code(text: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9 \-]{4,14}", text.strip())) and (
        len(normalize_code(text)) == CODE_LENGTH
    )


def stranger(ctx: Chat, command: str | None, args: str) -> None:
    """Someone not linked yet: a code links them; anything else gets how to get one, no data."""
    incoming = ctx.incoming
    code = args.strip() if command == "start" else incoming.text.strip() if command is None else ""
    if code and (command == "start" or looks_like_code(code)) and not incoming.button:
        join(ctx, code)
        return
    if incoming.is_group and command is None:
        return  # people talk in groups; a stranger's chatter is not for the bot
    if incoming.button:
        ctx.outcome.notice = ctx.text("join.stranger_short")
    ctx.say("join.stranger")


def join(ctx: Chat, code: str, *, in_passing: bool = False) -> None:
    """Redeem a code. `in_passing`: a linked person's message that merely looks like a code;
    unless it is a real one, they are told they need none (it still counts as an attempt, so
    codes cannot be guessed that way)."""
    incoming = ctx.incoming
    outcome = redeem(
        ctx.session,
        channel=incoming.channel,
        user_id=incoming.user_id,
        chat_id=incoming.chat_id,
        username=incoming.username,
        code=code,
        now=ctx.now,
    )
    if outcome.member is not None:  # joined
        welcome(ctx, outcome.member)
    elif in_passing and isinstance(ctx, Known) and outcome.result in UNJOINED:
        ctx.say("join.already", name=ctx.member.name)
    elif outcome.retry_after is not None:  # throttled
        minutes = max(1, math.ceil(outcome.retry_after.total_seconds() / 60))
        ctx.say("join.throttled", minutes=minutes)
    else:
        ctx.say(f"join.{outcome.result.value}")


def welcome(ctx: Chat, member: Member) -> None:
    """The welcome, then help; joining a further school says how many and how to switch."""
    account = links(ctx.session, ctx.incoming.channel, ctx.incoming.user_id)
    joined = next(link for link in account if link.member.id == member.id)
    known = act_as(ctx, joined)
    known.say("join.welcome", name=member.name)
    if len(account) > 1:
        known.say("join.another_school", count=len(account), school=joined.school.name)
    show_help(known, "")


def code_again(ctx: Known, code: str, *, in_passing: bool = False) -> None:
    """A code from someone already linked: their own needs no more use; another school's
    invitation links them there too (through the same checks and limits as anyone's)."""
    account = links(ctx.session, ctx.incoming.channel, ctx.incoming.user_id)
    if owns_code(ctx.session, code, [link.member.id for link in account]):
        ctx.say("join.already", name=ctx.member.name)
    else:
        join(ctx, code, in_passing=in_passing)


def start(ctx: Known, args: str) -> None:
    """/start from someone already linked: a greeting, or a code of theirs or another school's."""
    if args.strip():
        code_again(ctx, args.strip())
        return
    ctx.say("join.hello", name=ctx.member.name)
    show_help(ctx, "")


def show_help(ctx: Known, args: str) -> None:
    """What everyone can do, then what their role adds: leaders (reports, KPIs, assigning any
    task, groups where the channel has them) or unit heads (assigning their unit's tasks, groups);
    nothing they cannot use;
    and, for a person in several schools, how to switch between them."""
    # the education office's people have no task: what they can do instead
    parts = [ctx.text("office.help" if ctx.member.office else "help.common")]
    if ctx.actor.is_leader:
        parts.append(ctx.text("help.leader"))
    elif ctx.actor.headed_units:
        parts.append(ctx.text("help.head"))
    if (ctx.actor.is_leader or ctx.actor.headed_units) and ctx.capabilities.groups:
        parts[-1] = join_rich([parts[-1], ctx.text("help.groups")])
    if len(links(ctx.session, ctx.incoming.channel, ctx.incoming.user_id)) > 1:
        parts.append(ctx.text("help.schools"))
    ctx.say_rich(join_rich(parts, "\n\n"))


def set_language(ctx: Known, args: str) -> None:
    choice = LANGUAGES.get(args.strip().lower())
    if choice is None:
        ctx.say("language.usage")
        return
    ctx.member.locale = choice
    ctx.session.add(ctx.member)
    ctx.say("language.done")


def hint(ctx: Known) -> None:
    """Plain text in a private chat that answers nothing: say what the bot understands."""
    if looks_like_code(ctx.incoming.text):
        code_again(ctx, ctx.incoming.text.strip(), in_passing=True)
        return
    ctx.say("hint.text")
