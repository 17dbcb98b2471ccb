"""KPI values: parsing what people type (0,4 · 96% · 3/620 · có), recording, status vs target."""

import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlmodel import Session, col, select

from models import Direction, Kpi, KpiValue, Member


class KpiStatus(StrEnum):
    MET = "met"
    NOT_MET = "not_met"
    NO_DATA = "no_data"


@dataclass(frozen=True)
class ParsedValue:
    value: float
    numerator: int | None = None
    denominator: int | None = None


YES_WORDS = {"có", "co", "đạt", "dat", "yes", "rồi", "roi", "1"}
NO_WORDS = {"không", "khong", "chưa", "chua", "no", "0", "chưa đạt"}


def parse_value(text: str, kpi: Kpi) -> ParsedValue | None:
    """A number with a decimal comma or point, an optional %, a count such as 3/620, or yes/no."""
    cleaned = text.strip().lower()
    if kpi.direction == Direction.YES_NO:
        if cleaned in YES_WORDS:
            return ParsedValue(1.0)
        return ParsedValue(0.0) if cleaned in NO_WORDS else None
    count = re.fullmatch(r"(\d+)\s*/\s*(\d+)", cleaned)
    if count:
        numerator, denominator = int(count[1]), int(count[2])
        if denominator == 0 or numerator > denominator:
            return None
        ratio = numerator / denominator
        return ParsedValue(ratio * 100 if kpi.measure == "%" else ratio, numerator, denominator)
    number = re.fullmatch(r"(\d{1,9}(?:[.,]\d{1,6})?)\s*%?", cleaned)
    if not number:
        return None
    value = float(number[1].replace(",", "."))
    if kpi.measure == "%" and value > 100:
        return None
    return ParsedValue(value)


def current_kpi(session: Session, school_id: int, key: str, today: date) -> Kpi | None:
    """The row of this key whose target year is the nearest not yet past (else the latest)."""
    rows = session.exec(
        select(Kpi)
        .where(Kpi.school_id == school_id, Kpi.key == key.strip().lower())
        .order_by(col(Kpi.target_year))
    ).all()
    upcoming = [kpi for kpi in rows if kpi.target_year >= today.year]
    return upcoming[0] if upcoming else (rows[-1] if rows else None)


def record_value(
    session: Session,
    kpi: Kpi,
    parsed: ParsedValue,
    member: Member | None,
    now: datetime,
    note: str | None = None,
) -> KpiValue:
    value = KpiValue(
        kpi_id=kpi.id,
        value=parsed.value,
        numerator=parsed.numerator,
        denominator=parsed.denominator,
        recorded_at=now,
        recorded_by_id=member.id if member else None,
        note=note,
    )
    session.add(value)
    session.flush()
    return value


def latest_values(session: Session, school_id: int) -> dict[int, KpiValue]:
    values = session.exec(
        select(KpiValue)
        .join(Kpi, col(Kpi.id) == col(KpiValue.kpi_id))
        .where(Kpi.school_id == school_id)
        .order_by(col(KpiValue.recorded_at), col(KpiValue.id))
    ).all()
    return {value.kpi_id: value for value in values}


def values_of(session: Session, kpi: Kpi) -> list[KpiValue]:
    """Every value recorded for `kpi`, oldest first."""
    return list(
        session.exec(
            select(KpiValue)
            .where(KpiValue.kpi_id == kpi.id)
            .order_by(col(KpiValue.recorded_at), col(KpiValue.id))
        ).all()
    )


def meets_target(kpi: Kpi, number: float) -> bool:
    """Whether `number` meets the target; a range (between) includes both bounds."""
    if kpi.direction == Direction.BETWEEN and kpi.target_max is not None:
        return kpi.target <= number <= kpi.target_max
    return {
        Direction.AT_MOST: number <= kpi.target,
        Direction.AT_LEAST: number >= kpi.target,
        Direction.BELOW: number < kpi.target,
        Direction.ABOVE: number > kpi.target,
        Direction.EQUAL: abs(number - kpi.target) < 1e-9,
        Direction.YES_NO: bool(number) == bool(kpi.target),
    }[kpi.direction]


def status_of(kpi: Kpi, value: KpiValue | None) -> KpiStatus:
    if value is None:
        return KpiStatus.NO_DATA
    return KpiStatus.MET if meets_target(kpi, value.value) else KpiStatus.NOT_MET
