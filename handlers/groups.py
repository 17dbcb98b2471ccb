"""/lienket (/link): a unit head links a group chat to their unit."""

from handlers.context import Known
from services.groups import link_group, linked_unit
from services.tasks import current_units


def link_command(ctx: Known, args: str) -> None:
    if not ctx.incoming.is_group:
        ctx.say("group.only_in_group")
        return
    current = linked_unit(ctx.session, ctx.incoming.channel, ctx.incoming.chat_id)
    if current is not None and current.school_id != ctx.school.id:
        ctx.say("group.other_school")
        return
    units = current_units(ctx.session, ctx.school.id)
    allowed = [unit for unit in units if ctx.actor.heads(unit.id)]
    if not allowed:
        ctx.say("group.not_head")
        return
    wanted = args.strip().upper()
    if wanted:
        chosen = [unit for unit in allowed if unit.code.upper() == wanted]
        if not chosen:
            ctx.say(
                "group.unknown_unit", code=args.strip(), codes=", ".join(u.code for u in allowed)
            )
            return
    elif len(allowed) == 1:
        chosen = allowed
    else:
        ctx.say("group.choose_unit", codes=", ".join(u.code for u in allowed))
        return
    unit = chosen[0]
    link_group(
        ctx.session,
        unit=unit,
        channel=ctx.incoming.channel,
        chat_id=ctx.incoming.chat_id,
        title=ctx.incoming.chat_title,
        by=ctx.member,
        now=ctx.now,
    )
    ctx.say("group.linked", unit=unit.name)
