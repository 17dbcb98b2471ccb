"""/chiso (/kpi): KPIs against target; /chiso KEY VALUE records a value (0,4 · 96% · 3/620)."""

from sqlmodel import col, select

from handlers.context import Context, Known
from messages import Rich, format_date, format_quantity, join_rich
from models import Direction, Kpi, KpiValue
from services.kpi_forecast import Forecast, forecast, forecast_after
from services.kpis import (
    current_kpi,
    latest_values,
    parse_value,
    record_value,
    status_of,
    values_of,
)
from services.permissions import can_record_kpi
from services.plan_text import describe_target

HISTORY = 5  # values listed by /chiso KEY


def kpi_command(ctx: Known, args: str) -> None:
    words = args.split(None, 1)
    if not words:
        _list(ctx)
        return
    kpi = current_kpi(ctx.session, ctx.school.id, words[0], ctx.today)
    if kpi is None:
        keys = sorted(
            set(ctx.session.exec(select(Kpi.key).where(Kpi.school_id == ctx.school.id)).all())
        )
        ctx.say("kpi.unknown", key=words[0], keys=", ".join(keys))
        return
    if len(words) == 1:
        _detail(ctx, kpi)
        return
    if not can_record_kpi(ctx.actor):
        ctx.say("deny.kpi")
        return
    parsed = parse_value(words[1], kpi)
    if parsed is None:
        key = "kpi.bad_yes_no" if kpi.direction == Direction.YES_NO else "kpi.bad_value"
        ctx.say(key, key_name=kpi.key, value=words[1])
        return
    value = record_value(ctx.session, kpi, parsed, ctx.member, ctx.now)
    outlook = forecast_after(ctx.session, kpi, value, today=ctx.today, now=ctx.now)
    lines = [
        ctx.text("kpi.recorded", name=kpi.name, value=value_text(ctx, kpi, value)),
        _against_target(ctx, kpi, value),
    ]
    ctx.say_rich(join_rich(lines + _projection(ctx, kpi, outlook)))


def number_text(ctx: Context, kpi: Kpi, number: float) -> str:
    """A value of the KPI as people read it: 0,4% · 38 lớp · mức độ 3 · có."""
    if kpi.direction == Direction.YES_NO:
        return str(ctx.text("kpi.yes" if number else "kpi.no"))
    return format_quantity(number, kpi.measure, ctx.locale)


def value_text(ctx: Context, kpi: Kpi, value: KpiValue) -> str:
    return measured_text(ctx, kpi, value.value, value.numerator, value.denominator)


def measured_text(
    ctx: Context, kpi: Kpi, number: float, numerator: int | None, denominator: int | None
) -> str:
    """A recorded value: of a KpiValue, or of the digest's KpiItem that carries one."""
    text = number_text(ctx, kpi, number)
    if numerator is not None:
        text += f" ({numerator}/{denominator})"
    return text


def _projection(ctx: Context, kpi: Kpi, outlook: Forecast) -> list[Rich]:
    """The forecast line, when a trend of several values gives one."""
    if not outlook.trend or outlook.projected is None:  # a trend always projects
        return []
    return [
        ctx.text(
            f"kpi.forecast.{outlook.outlook.value}",
            date=format_date(outlook.target_date),
            value=number_text(ctx, kpi, outlook.projected),
            target=describe_target(kpi, ctx.locale),
        )
    ]


def _against_target(ctx: Context, kpi: Kpi, value: KpiValue | None) -> Rich:
    status = ctx.text(f"kpi.status.{status_of(kpi, value).value}")
    return ctx.text(
        "kpi.target", target=describe_target(kpi, ctx.locale), year=kpi.target_year, status=status
    )


def _list(ctx: Known) -> None:
    kpis = ctx.session.exec(
        select(Kpi)
        .where(Kpi.school_id == ctx.school.id)
        .order_by(col(Kpi.target_year), col(Kpi.id))
    ).all()
    if not kpis:
        ctx.say("kpi.none")
        return
    latest = latest_values(ctx.session, ctx.school.id)
    lines = [ctx.text("kpi.header")]
    for kpi in kpis:
        value = latest.get(kpi.id)
        target = describe_target(kpi, ctx.locale)
        if value is None:
            lines.append(
                ctx.text(
                    "kpi.line_no_data",
                    key=kpi.key,
                    name=kpi.name,
                    target=target,
                    year=kpi.target_year,
                )
            )
            continue
        lines.append(
            ctx.text(
                "kpi.line",
                key=kpi.key,
                name=kpi.name,
                target=target,
                year=kpi.target_year,
                value=value_text(ctx, kpi, value),
                date=format_date(value.recorded_at, ctx.tz),
                status=ctx.text(f"kpi.status.{status_of(kpi, value).value}"),
            )
        )
    lines.append(ctx.text("kpi.footer"))
    ctx.say_rich(join_rich(lines))


def _detail(ctx: Known, kpi: Kpi) -> None:
    """The KPI against its target, its forecast, and its latest values, newest first."""
    values = values_of(ctx.session, kpi)
    lines = [
        ctx.text("kpi.detail", name=kpi.name, key=kpi.key),
        _against_target(ctx, kpi, values[-1] if values else None),
        *_projection(ctx, kpi, forecast(kpi, values, ctx.today)),
    ]
    lines += [
        ctx.text(
            "kpi.history_line",
            date=format_date(v.recorded_at, ctx.tz),
            value=value_text(ctx, kpi, v),
        )
        for v in reversed(values[-HISTORY:])
    ]
    ctx.say_rich(join_rich(lines))
