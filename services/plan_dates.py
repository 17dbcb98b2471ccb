"""Dates as people write them in plan files: 31/03/2026, 2026-03-31, or a real date from Excel."""

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator

from services.validation import invalid


def parse_plan_date(value: Any) -> date:
    """Dates as users write them: 31/03/2026, 2026-03-31, or a real date from Excel."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    match = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", text) or re.fullmatch(
        r"(\d{4})-(\d{1,2})-(\d{1,2})", text
    )
    if match is None:
        raise invalid("plan.bad_date_format", value=text)
    first, second, third = (int(part) for part in match.groups())
    year, month, day = (first, second, third) if first > 31 else (third, second, first)
    try:
        return date(year, month, day)
    except ValueError:
        raise invalid("plan.impossible_date", value=text) from None


PlanDate = Annotated[date, BeforeValidator(parse_plan_date)]
