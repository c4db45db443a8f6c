"""Working days in mainland China, for a public notice period (公示期) counted in working days.

A working day is a Monday to Friday that is not a public holiday, or a Saturday or Sunday that
the State Council moved work to (调休上班). Each year's holidays and moved days are published by
the State Council's General Office in November of the year before (国务院办公厅关于…年部分节假日
安排的通知); the package keeps them as data (`voucher_app/data/cn-working-calendar.csv`, one row
per day: date, `holiday` or `workday`, name). A year the data does not cover is refused rather
than counted as if it had no holidays: a notice that ends early pays before the public had its
days to object.

The notice of a redemption approved on day D runs for the N working days after D; it has ended
once the N-th of them is over, so on any later day the redemption may enter a batch.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from voucher_app.domain.errors import InvalidInput

#: The longest notice a programme may set: six weeks of working days.
MAX_NOTICE_WORKING_DAYS = 30
SATURDAY = 5


class DayKind(StrEnum):
    HOLIDAY = "holiday"  # a day off, whatever weekday it is
    WORKDAY = "workday"  # a Saturday or Sunday worked instead of a holiday


@dataclass(frozen=True, slots=True)
class WorkingCalendar:
    """The years the data covers, their holidays and their moved working days."""

    years: frozenset[int]
    holidays: frozenset[date]
    workdays: frozenset[date]

    def is_working_day(self, day: date) -> bool:
        self._require_year(day)
        if day in self.workdays:
            return True
        return day.weekday() < SATURDAY and day not in self.holidays

    def after(self, start: date, working_days: int) -> date:
        """The `working_days`-th working day after `start` (`start` itself never counts)."""
        if not 0 < working_days <= MAX_NOTICE_WORKING_DAYS:
            raise InvalidInput(
                f"a notice period has 1 to {MAX_NOTICE_WORKING_DAYS} working days",
                field="notice_working_days",
            )
        day, counted = start, 0
        while counted < working_days:
            day += timedelta(days=1)
            counted += self.is_working_day(day)
        return day

    def first_refused(self, start: date, working_days: int) -> date:
        """The first approval day from `start` on whose notice of `working_days` runs into a
        year the data lacks: from then on, such approvals are refused until it is added."""
        day = start
        while True:
            try:
                self.after(day, working_days)
            except InvalidInput:
                return day
            day += timedelta(days=1)

    @property
    def known_until(self) -> date | None:
        """The last day of the last year the data covers (None: it covers none)."""
        return date(max(self.years), 12, 31) if self.years else None

    def _require_year(self, day: date) -> None:
        if day.year not in self.years:
            raise InvalidInput(
                f"the working-day calendar has no holidays for {day.year}: add the State "
                "Council's arrangement for that year to cn-working-calendar.csv",
                rule="calendar_year_missing",
                year=day.year,
            )


def read_calendar(lines: Iterable[str]) -> WorkingCalendar:
    """The calendar in CSV rows (header `date,kind,name`); a row that does not hold together
    (an unknown kind, a moved working day that is no weekend day, a day listed twice) is
    refused with its line."""
    holidays: set[date] = set()
    workdays: set[date] = set()
    for line, row in enumerate(csv.DictReader(lines), start=2):
        try:
            day, kind = date.fromisoformat(row["date"]), DayKind(row["kind"])
        except (KeyError, TypeError, ValueError):
            raise InvalidInput(f"line {line}: not a date and a day kind", where=line) from None
        if day in holidays or day in workdays:
            raise InvalidInput(f"line {line}: {day} is listed twice", where=line)
        if kind is DayKind.WORKDAY and day.weekday() < SATURDAY:
            raise InvalidInput(f"line {line}: {day} is a weekday, worked anyway", where=line)
        (holidays if kind is DayKind.HOLIDAY else workdays).add(day)
    years = frozenset(day.year for day in holidays | workdays)
    return WorkingCalendar(years, frozenset(holidays), frozenset(workdays))
