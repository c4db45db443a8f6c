"""Public notice before payment (公示): when an approved redemption's notice ends, and whether a
batch may take it.

A programme with a notice period holds each redemption it approves out of every batch until the
period's last working day is over (`domain.workdays`, over the working-day calendar the package
ships). The day is fixed at approval and kept on the redemption, so that a later change of the
calendar or of the programme never shortens a notice already running.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from importlib import resources

from sqlalchemy import ColumnElement, or_

from voucher_app.domain.workdays import WorkingCalendar, read_calendar
from voucher_app.persistence.models import Programme, Redemption

CALENDAR_FILE = "cn-working-calendar.csv"


@lru_cache(maxsize=1)
def working_calendar() -> WorkingCalendar:
    """The working-day calendar shipped with the package (read once, when first needed)."""
    data = resources.files("voucher_app") / "data" / CALENDAR_FILE
    with data.open(encoding="utf-8") as handle:
        return read_calendar(handle)


def notice_ends_on(programme: Programme, approved_on: date) -> date | None:
    """The last day of the notice of a redemption the programme approves on `approved_on`;
    None when the programme has no notice period."""
    if not programme.notice_working_days:
        return None
    return working_calendar().after(approved_on, programme.notice_working_days)


def notice_over(today: date) -> ColumnElement[bool]:
    """Where a redemption's notice (if it has one) is over on `today`: what a batch may take."""
    return or_(Redemption.notice_ends_on.is_(None), Redemption.notice_ends_on < today)
