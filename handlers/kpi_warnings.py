"""The warning that a KPI is at risk of missing its target (có nguy cơ không đạt), with its
numbers: the latest value and its date, the projection at the target date, the target as the
plan words it. The rule is services/kpi_forecast.py's."""

from handlers.chat import Reply
from handlers.context import Context
from handlers.kpis import number_text, value_text
from messages import format_date, join_rich
from models import Kpi, Reminder
from services.kpi_forecast import Forecast, warning
from services.plan_text import describe_target


def kpi_risk(ctx: Context, rows: list[Reminder]) -> Reply:
    """One message for the warnings due to one person; a KPI warned of twice meanwhile (at risk,
    back on track, at risk again) is told once, as its latest warning left it."""
    warned: dict[int, tuple[Kpi, Forecast]] = {}
    for row in sorted(rows, key=lambda row: row.id):
        kpi, outlook = warning(ctx.session, row)
        warned[kpi.id] = (kpi, outlook)
    header = "kpi_risk.one" if len(warned) == 1 else "kpi_risk.several"
    lines = [ctx.text(header, count=len(warned))]
    lines += [
        ctx.text(
            "kpi_risk.line",
            name=kpi.name,
            key=kpi.key,
            value=value_text(ctx, kpi, outlook.latest),
            date=format_date(outlook.latest.recorded_at, ctx.tz),
            target_date=format_date(outlook.target_date),
            projected=number_text(ctx, kpi, outlook.projected),
            target=describe_target(kpi, ctx.locale),
        )
        for kpi, outlook in warned.values()
        if outlook.latest is not None and outlook.projected is not None  # its value counts
    ]
    lines.append(ctx.text("kpi_risk.footer"))
    return Reply(join_rich(lines))
