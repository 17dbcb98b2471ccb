"""One person in several schools: the school a message acts in, and /truong (/school), which
lists the person's schools and switches the current one."""

from datetime import datetime

from sqlmodel import Session, col, select

from handlers.buttons import task_in
from handlers.chat import Incoming
from handlers.context import Chat, Context, Known
from handlers.resolve import CURRENT_FOR
from messages import Rich, join_rich
from models import BotMessage, Task
from services.accounts import Link, choose, current, in_school, links, matching
from services.groups import linked_unit
from services.permissions import load_actor


def acting(session: Session, incoming: Incoming, account: list[Link], now: datetime) -> Link:
    """The school of the task a message answers (a reply to, or a button under, a bot message
    about a task; in a private chat, plain text after the latest such message, unless the person
    switched school since), else of the unit a group chat is linked to, else the current one."""
    chosen = current(account)
    if len(account) == 1:
        return chosen
    meant = in_school(account, _task_school(session, incoming, chosen, now))
    return meant or in_school(account, _group_school(session, incoming)) or chosen


def _task_school(session: Session, incoming: Incoming, chosen: Link, now: datetime) -> int | None:
    if incoming.button:
        task_id = task_in(session, incoming.button)
    elif incoming.reply_to:
        task_id = _task_of_message(session, incoming, incoming.reply_to)
    elif incoming.is_group or incoming.text.startswith("/"):
        task_id = None
    else:
        task_id = _latest_task(session, incoming, max(chosen.chosen_at, now - CURRENT_FOR))
    task = session.get(Task, task_id) if task_id is not None else None
    return task.school_id if task is not None else None


def _task_of_message(session: Session, incoming: Incoming, message_id: str) -> int | None:
    query = select(BotMessage.task_id).where(
        BotMessage.channel == incoming.channel,
        BotMessage.chat_id == incoming.chat_id,
        BotMessage.message_id == message_id,
    )
    return session.exec(query).first()


def _latest_task(session: Session, incoming: Incoming, since: datetime) -> int | None:
    query = (
        select(BotMessage.task_id)
        .where(
            BotMessage.channel == incoming.channel,
            BotMessage.chat_id == incoming.chat_id,
            col(BotMessage.sent_at) > since,
        )
        .order_by(col(BotMessage.sent_at).desc(), col(BotMessage.id).desc())
        .limit(1)
    )
    return session.exec(query).first()


def _group_school(session: Session, incoming: Incoming) -> int | None:
    if not incoming.is_group:
        return None
    unit = linked_unit(session, incoming.channel, incoming.chat_id)
    return unit.school_id if unit is not None else None


def act_as(ctx: Chat, link: Link) -> Known:
    """The message as from `link`'s person in `link`'s school; what is said to either goes to
    the same outcome."""
    return Known(
        session=ctx.session,
        now=ctx.now,
        config=ctx.config,
        outcome=ctx.outcome,
        incoming=ctx.incoming,
        identity=link.identity,
        member=link.member,
        school=link.school,
        actor=load_actor(ctx.session, link.member),
    )


def school_command(ctx: Known, args: str) -> None:
    """/truong: the person's schools, numbered, the current one marked; /truong 2 or
    /truong <part of the name> switches."""
    account = links(ctx.session, ctx.incoming.channel, ctx.incoming.user_id)
    if len(account) < 2:
        ctx.say("truong.one", school=ctx.school.name)
        return
    if not args.strip():
        ctx.say_rich(listing(ctx, account, ctx.text("truong.list", count=len(account))))
        return
    found = matching(account, args)
    if len(found) != 1:
        key = "truong.ambiguous" if found else "truong.unknown"
        ctx.say_rich(listing(ctx, account, ctx.text(key, choice=args.strip())))
        return
    choose(ctx.session, account, found[0], ctx.now)
    act_as(ctx, found[0]).say("truong.switched", school=found[0].school.name)


def listing(ctx: Context, account: list[Link], heading: Rich) -> Rich:
    chosen = current(account)
    lines = [
        ctx.text(
            "truong.line_current" if link is chosen else "truong.line",
            number=number,
            school=link.school.name,
        )
        for number, link in enumerate(account, 1)
    ]
    return join_rich([heading, *lines, ctx.text("truong.how")])
