"""Where a KPI is heading, and the warning to the principal when a new value puts it at risk.

The projection rule, simple enough to check by hand:

- The target date is 31/12 of the KPI's target year.
- Each value counts on the day it was recorded (the date of `recorded_at`); a value recorded
  again on the same day replaces that day's earlier one (a correction).
- Numeric KPIs whose target date is ahead: the straight line fitted by least squares (value
  against day) through the values of the last `TREND_DAYS` (4) such days, read at the target
  date, provided those days span at least `MIN_SPAN_DAYS` (7) days. With fewer values, or values
  closer together, the projection is the latest value. Yes/no KPIs, and KPIs whose target date
  has passed, are projected at their latest value too.
- The projection is rounded to 2 decimals, as it is shown; a percentage is clamped to 0–100.

The outlook: no value → `NO_DATA`; target date passed → `MET` or `NOT_MET` as the latest value
meets the target or not; target date ahead (or today) → `AT_RISK` (có nguy cơ không đạt) when the
projection misses the target, even if the latest value meets it today, else `MET`. "Meets" is
`services.kpis.meets_target`, the test behind `status_of` (<=, >=, <, >, =, yes/no, a range with
both bounds included: a projection above the range is as much at risk as one below it).

The warning: when a value recorded by chat turns a KPI's outlook to `AT_RISK` (it was not with
the values before it), each active principal (none: each vice principal) gets one outbox row of
kind `KPI_RISK`, keyed by KPI, value and recipient. So a series crossing its target warns once,
further values while it stays at risk do not, and back on track then at risk again warns anew.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlmodel import Session, col, select

from models import Direction, Kpi, KpiValue, Member, Membership, Reminder, ReminderKind, Role
from services.kpis import meets_target, values_of

TREND_DAYS = 4  # the last days with a value that make the trend
MIN_SPAN_DAYS = 7  # from the first to the last of them, for a trend to count
DECIMALS = 2
WARNED = (Role.PRINCIPAL, Role.VICE_PRINCIPAL)  # the first of these roles that has someone


class Outlook(StrEnum):
    MET = "met"
    AT_RISK = "at_risk"  # có nguy cơ không đạt
    NOT_MET = "not_met"
    NO_DATA = "no_data"


@dataclass(frozen=True)
class Forecast:
    outlook: Outlook
    latest: KpiValue | None  # the latest value
    projected: float | None  # the value projected at the target date
    target_date: date  # 31/12 of kpi.target_year
    trend: bool = False  # projected from the trend of several values, not the latest alone


def target_date(kpi: Kpi) -> date:
    return date(kpi.target_year, 12, 31)


def forecast(kpi: Kpi, values: Sequence[KpiValue], today: date) -> Forecast:
    """The KPI's outlook from `values`, its values recorded up to the moment of interest
    (oldest first), on `today`; the rule is the module's."""
    end = target_date(kpi)
    if not values:
        return Forecast(Outlook.NO_DATA, None, None, end)
    latest = values[-1]
    if today > end:
        outlook = Outlook.MET if meets_target(kpi, latest.value) else Outlook.NOT_MET
        return Forecast(outlook, latest, latest.value, end)
    points = _trend_points(values) if kpi.direction != Direction.YES_NO else []
    projected = round(_line_at(points, end) if points else latest.value, DECIMALS)
    if kpi.measure == "%":
        projected = min(max(projected, 0.0), 100.0)
    outlook = Outlook.MET if meets_target(kpi, projected) else Outlook.AT_RISK
    return Forecast(outlook, latest, projected, end, trend=bool(points))


def _trend_points(values: Sequence[KpiValue]) -> list[tuple[date, float]]:
    """The last `TREND_DAYS` days with a value (the day's last one), if they span enough."""
    by_day: dict[date, float] = {}
    for value in values:
        by_day[value.recorded_at.date()] = value.value
    points = sorted(by_day.items())[-TREND_DAYS:]
    if len(points) < 2 or (points[-1][0] - points[0][0]).days < MIN_SPAN_DAYS:
        return []
    return points


def _line_at(points: list[tuple[date, float]], day: date) -> float:
    """The least-squares line through `points` (value against day), read on `day`."""
    xs = [(point - day).days for point, _ in points]
    ys = [value for _, value in points]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mean_x) ** 2 for x in xs
    )
    return mean_y - slope * mean_x


def forecast_after(
    session: Session, kpi: Kpi, value: KpiValue, *, today: date, now: datetime
) -> Forecast:
    """The KPI's forecast once `value` (just recorded) counts. When `value` turns it at risk,
    the principal(s) are warned through the outbox."""
    values = values_of(session, kpi)
    position = [v.id for v in values].index(value.id)
    before = forecast(kpi, values[:position], today)
    after = forecast(kpi, values[: position + 1], today)
    if after.outlook == Outlook.AT_RISK and before.outlook != Outlook.AT_RISK:
        for member_id in _warned(session, kpi.school_id):
            session.add(
                Reminder(
                    school_id=kpi.school_id,
                    dedupe_key=f"kpi_risk:{kpi.id}:{value.id}:{member_id}",
                    recipient_id=member_id,
                    kind=ReminderKind.KPI_RISK,
                    occurrence=today,
                    due_at=now,
                )
            )
    return after


def _warned(session: Session, school_id: int) -> list[int]:
    """The school's active principals; if it has none, its vice principals."""
    for role in WARNED:
        ids = session.exec(
            select(Member.id)
            .join(Membership, col(Membership.member_id) == col(Member.id))
            .where(Member.school_id == school_id, Member.active, Membership.role == role)
            .order_by(col(Member.id))
        ).all()
        if ids:
            return list(dict.fromkeys(ids))
    return []


def warning(session: Session, row: Reminder) -> tuple[Kpi, Forecast]:
    """What a `KPI_RISK` row warns of: its KPI and the forecast as the value left it, on the day
    it was recorded (later values do not change what the warning says)."""
    _, kpi_id, value_id, _ = row.dedupe_key.split(":")
    kpi = session.get_one(Kpi, int(kpi_id))
    values = values_of(session, kpi)
    position = [v.id for v in values].index(int(value_id))
    return kpi, forecast(kpi, values[: position + 1], row.occurrence)
