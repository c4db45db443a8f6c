"""Dates as people in Guangdong see them: times are stored in UTC, days are China Standard Time."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")


def local_date(moment: datetime) -> date:
    """The calendar day in Guangdong at `moment` (a timezone-aware instant)."""
    if moment.tzinfo is None:
        raise ValueError("a moment needs a timezone")
    return moment.astimezone(CHINA).date()
