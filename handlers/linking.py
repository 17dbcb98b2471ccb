"""/kenh (/channel): the chat accounts a person has linked (Telegram, Zalo), the one reminders
and the digest go to, choosing another, and a code to link one more."""

from datetime import timedelta

from handlers.chat import Button, Reply
from handlers.context import Known
from messages import join_rich
from models import Channel, ChatIdentity
from services.accounts import member_accounts
from services.invitations import issue_code
from services.text import fold

LINK_CODE_FOR = timedelta(days=1)  # a code to link one's own second account
CHOOSABLE = (Channel.TELEGRAM, Channel.ZALO)
WORDS = {
    "telegram": Channel.TELEGRAM,
    "tele": Channel.TELEGRAM,
    "tg": Channel.TELEGRAM,
    "zalo": Channel.ZALO,
    "za lo": Channel.ZALO,
}
LINK_WORDS = {"lienket", "lien ket", "ma", "link", "code", "them"}


def channel_command(ctx: Known, args: str) -> None:
    wanted = fold(args)
    if not wanted:
        show_channels(ctx)
    elif wanted in LINK_WORDS:
        link_code(ctx)
    elif wanted in WORDS:
        choose_channel(ctx, WORDS[wanted])
    else:
        ctx.say("kenh.unknown", choice=args.strip())


def on_channel_button(ctx: Known, choice: str) -> None:
    if choice == "link":
        link_code(ctx)
    elif choice in Channel.__members__.values() and Channel(choice) in CHOOSABLE:
        choose_channel(ctx, Channel(choice))
    else:
        ctx.outcome.notice = ctx.text("button.outdated")


def _linked(ctx: Known) -> list[ChatIdentity]:
    return [
        account
        for account in member_accounts(ctx.session, ctx.member)
        if account.channel in CHOOSABLE
    ]


def show_channels(ctx: Known) -> None:
    accounts = _linked(ctx)
    if not accounts:  # the console, on the school's own machine
        ctx.say("kenh.none")
        return
    current = accounts[0].channel
    lines = [ctx.text("kenh.list", channel=ctx.text(f"channel.{current.value}"))]
    lines += [
        ctx.text("kenh.line", channel=ctx.text(f"channel.{account.channel.value}"))
        for account in accounts
    ]
    lines.append(ctx.text("kenh.how"))
    others = sorted({account.channel for account in accounts} - {current})
    buttons = [
        Button(str(ctx.text("kenh.button.use", channel=ctx.text(f"channel.{channel.value}"))),
               f"k:{channel.value}")
        for channel in others
    ]  # fmt: skip
    buttons.append(ctx.button("kenh.button.link", "k:link"))
    ctx.send(Reply(join_rich(lines), buttons=tuple((button,) for button in buttons)))


def choose_channel(ctx: Known, channel: Channel) -> None:
    name = ctx.text(f"channel.{channel.value}")
    if channel not in {account.channel for account in _linked(ctx)}:
        ctx.say("kenh.not_linked", channel=name)
        return
    ctx.member.preferred_channel = channel
    ctx.session.add(ctx.member)
    ctx.say("kenh.chosen", channel=name)


def link_code(ctx: Known) -> None:
    code = issue_code(ctx.session, ctx.member, ctx.now, ctx.now + LINK_CODE_FOR)
    ctx.say("kenh.code", code=code)
