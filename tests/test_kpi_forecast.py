"""The projection rule on plain values: a least-squares trend of the last days read at 31/12 of
the target year, else the latest value; the outlook it gives (met, at risk, not met, no data)."""

from datetime import UTC, date, datetime

import pytest

from models import Direction, Kpi, KpiValue
from services.kpi_forecast import Outlook, forecast

TODAY = date(2026, 11, 26)


def kpi(direction: str = ">=", target: float = 99, measure: str | None = "%", year: int = 2026):
    return Kpi(
        key="k", name="k", measure=measure, direction=Direction(direction), target=target,
        target_year=year,
    )  # fmt: skip


def series(*points: tuple[str, float]) -> list[KpiValue]:
    """Values recorded at 10:00 in Hồ Chí Minh City on each day ("01/10"), oldest first."""
    return [
        KpiValue(
            id=number,
            kpi_id=1,
            value=value,
            recorded_at=datetime.strptime(f"{day}/2026 03:00", "%d/%m/%Y %H:%M").replace(
                tzinfo=UTC
            ),
        )
        for number, (day, value) in enumerate(points, 1)
    ]


def test_no_value_is_no_data() -> None:
    result = forecast(kpi(), [], TODAY)
    assert (result.outlook, result.latest, result.projected) == (Outlook.NO_DATA, None, None)
    assert result.target_date == date(2026, 12, 31)


def test_a_single_value_is_projected_as_it_is() -> None:
    [value] = series(("20/11", 99.5))
    result = forecast(kpi(), [value], TODAY)
    assert (result.outlook, result.latest, result.projected, result.trend) == (
        Outlook.MET, value, 99.5, False
    )  # fmt: skip
    assert forecast(kpi(), series(("20/11", 98)), TODAY).outlook == Outlook.AT_RISK


def test_a_trend_crossing_the_target_is_at_risk_while_the_latest_value_still_meets_it() -> None:
    values = series(("01/10", 99.8), ("15/10", 99.5))
    result = forecast(kpi(), values, TODAY)
    # 0,3 points lost in 14 days; 77 more days to 31/12: 99,5 − 0,3 × 77 / 14 = 97,85
    assert (result.outlook, result.projected, result.trend) == (Outlook.AT_RISK, 97.85, True)
    assert result.latest is values[-1]


def test_the_line_is_fitted_by_least_squares_through_the_last_four_days() -> None:
    values = series(
        ("01/09", 50), ("01/10", 99.8), ("29/10", 99.7), ("26/11", 99.2), ("03/12", 99)
    )  # fmt: skip
    # x = days to 31/12: −91, −63, −35, −28 (01/09 is a fifth day back: left out)
    # mean x −54,25, mean y 99,425; slope −31,675 / 2.486,75; at x = 0: 99,425 − 0,691 = 98,73
    assert forecast(kpi(), values, date(2026, 12, 3)).projected == 98.73
    improving = series(("01/10", 0.9), ("29/10", 0.8), ("26/11", 0.6))  # 0,6% misses today
    result = forecast(kpi("<=", 0.5), improving, TODAY)
    assert (result.projected, result.outlook) == (0.43, Outlook.MET)


def test_values_closer_than_a_week_give_no_trend() -> None:
    values = series(("20/11", 99.8), ("23/11", 98.2), ("26/11", 99.1))
    result = forecast(kpi(), values, TODAY)
    assert (result.projected, result.trend, result.outlook) == (99.1, False, Outlook.MET)


def test_a_value_recorded_again_the_same_day_replaces_it() -> None:
    values = series(("01/10", 99.8), ("15/10", 9.95), ("15/10", 99.8))  # a typo, then corrected
    result = forecast(kpi(), values, TODAY)
    assert (result.projected, result.trend, result.outlook) == (99.8, True, Outlook.MET)


def test_a_yes_no_kpi_is_projected_at_its_latest_answer() -> None:
    yes_no = kpi("yes_no", 1, None)
    values = series(("01/10", 1), ("15/10", 1), ("29/10", 0))
    result = forecast(yes_no, values, TODAY)
    assert (result.outlook, result.projected, result.trend) == (Outlook.AT_RISK, 0, False)
    values = series(("01/10", 0), ("15/10", 0), ("29/10", 1))
    assert forecast(yes_no, values, TODAY).outlook == Outlook.MET


@pytest.mark.parametrize(("latest", "outlook"), [(98.5, Outlook.NOT_MET), (99, Outlook.MET)])
def test_after_the_target_date_the_latest_value_decides(latest: float, outlook: Outlook) -> None:
    values = series(("01/10", 100), ("01/12", latest))
    result = forecast(kpi(year=2025), values, TODAY)
    assert (result.outlook, result.projected, result.trend) == (outlook, latest, False)
    assert result.target_date == date(2025, 12, 31)


def test_on_the_target_date_a_miss_is_still_a_risk() -> None:
    values = series(("01/10", 97))
    assert forecast(kpi(), values, date(2026, 12, 31)).outlook == Outlook.AT_RISK
    assert forecast(kpi(), values, date(2027, 1, 1)).outlook == Outlook.NOT_MET


def test_percentages_are_clamped_to_0_and_100() -> None:
    rising = series(("01/10", 50), ("15/10", 80))
    result = forecast(kpi(">=", 90), rising, TODAY)
    assert (result.projected, result.outlook) == (100, Outlook.MET)
    falling = series(("01/10", 3), ("15/10", 1))
    assert forecast(kpi("<=", 0.5), falling, TODAY).projected == 0
    class_size = kpi("<=", 45, "học sinh/lớp")  # not a percentage: the line as it goes
    assert forecast(class_size, series(("01/10", 40), ("15/10", 42)), TODAY).projected == 53


def test_an_exact_target_holds_when_the_values_do() -> None:
    classes = kpi("=", 38, "lớp")
    steady = series(("01/09", 38), ("01/10", 38), ("01/11", 38))
    assert forecast(classes, steady, TODAY).outlook == Outlook.MET
    growing = series(("01/09", 36), ("01/10", 37), ("01/11", 38))
    result = forecast(classes, growing, TODAY)
    assert (result.projected, result.outlook) == (39.97, Outlook.AT_RISK)
