"""Working days for notice periods (`domain.workdays`), over the calendar the package ships: the
State Council's arrangement for 2026 (国务院办公厅关于2026年部分节假日安排的通知, 4 November 2025,
as Xinhua published it), each expected day counted by hand on a wall calendar."""

from __future__ import annotations

from datetime import date
from importlib import resources

import pytest

from voucher_app.domain.errors import InvalidInput
from voucher_app.domain.workdays import WorkingCalendar, read_calendar


@pytest.fixture(scope="module")
def calendar() -> WorkingCalendar:
    data = resources.files("voucher_app") / "data" / "cn-working-calendar.csv"
    with data.open(encoding="utf-8") as handle:
        return read_calendar(handle)


def test_the_shipped_year_has_the_notices_days(calendar: WorkingCalendar) -> None:
    # 元旦 3, 春节 9, 清明 3, 劳动节 5, 端午 3, 中秋 3, 国庆 7 days off; six weekend days worked.
    assert calendar.years == {2026}
    assert len(calendar.holidays) == 3 + 9 + 3 + 5 + 3 + 3 + 7
    assert sorted(calendar.workdays) == [
        date(2026, 1, 4),
        date(2026, 2, 14),
        date(2026, 2, 28),
        date(2026, 5, 9),
        date(2026, 9, 20),
        date(2026, 10, 10),
    ]


@pytest.mark.parametrize(
    ("approved", "days", "ends"),
    [
        (date(2026, 3, 2), 5, date(2026, 3, 9)),  # Monday: the next Monday
        (date(2026, 3, 6), 1, date(2026, 3, 9)),  # Friday: the weekend does not count
        (date(2026, 3, 7), 1, date(2026, 3, 9)),  # a Saturday approval counts from Monday
        # Friday before the moved Sunday 20 September, which counts: 20, 21, 22, 23, 24.
        (date(2026, 9, 18), 5, date(2026, 9, 24)),
        # Over 中秋 (25 to 27) and 国庆 (1 to 7 October): 28, 29, 30 September, 8, 9 October.
        (date(2026, 9, 24), 5, date(2026, 10, 9)),
        # Saturday 14 February is worked; 春节 runs 15 to 23: 14, 24, 25, 26, 27.
        (date(2026, 2, 13), 5, date(2026, 2, 27)),
        # 劳动节 1 to 5 May, Saturday 9 May worked: 6, 7, 8, 9, 11.
        (date(2026, 4, 30), 5, date(2026, 5, 11)),
        # 元旦: 1 to 3 January off, Sunday 4 January worked.
        (date(2026, 1, 1), 1, date(2026, 1, 4)),
        # The longest notice: 21 working days in March, 3 in April before 清明 (4 to 6), then
        # 7, 8, 9, 10, 13, 14.
        (date(2026, 3, 2), 30, date(2026, 4, 14)),
    ],
)
def test_a_notice_ends_on_the_nth_working_day_after_approval(
    calendar: WorkingCalendar, approved: date, days: int, ends: date
) -> None:
    assert calendar.after(approved, days) == ends


def test_holidays_and_moved_days_are_what_make_a_day_working(calendar: WorkingCalendar) -> None:
    assert not calendar.is_working_day(date(2026, 10, 5))  # a Monday in 国庆
    assert calendar.is_working_day(date(2026, 10, 10))  # a Saturday worked
    assert not calendar.is_working_day(date(2026, 10, 11))  # a plain Sunday
    assert calendar.is_working_day(date(2026, 10, 12))


def test_a_notice_running_into_a_year_without_data_is_refused(calendar: WorkingCalendar) -> None:
    assert calendar.after(date(2026, 12, 24), 5) == date(2026, 12, 31)
    with pytest.raises(InvalidInput) as refused:
        calendar.after(date(2026, 12, 28), 5)  # 29, 30, 31, then January 2027
    assert (refused.value.rule, refused.value.details["year"]) == ("calendar_year_missing", 2027)
    assert refused.value.message == (
        "the working-day calendar has no holidays for 2027: add the State Council's "
        "arrangement for that year to cn-working-calendar.csv"
    )


def test_the_first_day_refused_is_the_first_whose_notice_runs_past_the_data(
    calendar: WorkingCalendar,
) -> None:
    assert calendar.known_until == date(2026, 12, 31)
    # 24 December: 25, 28, 29, 30, 31. 25 December: 28, 29, 30, 31, then 2027.
    assert calendar.first_refused(date(2026, 3, 2), 5) == date(2026, 12, 25)
    assert calendar.first_refused(date(2026, 12, 25), 5) == date(2026, 12, 25)
    assert calendar.first_refused(date(2026, 12, 31), 1) == date(2026, 12, 31)
    assert calendar.first_refused(date(2026, 12, 30), 1) == date(2026, 12, 31)
    # The thirtieth working day after 19 November (no holiday between) is 31 December.
    assert calendar.after(date(2026, 11, 19), 30) == date(2026, 12, 31)
    assert calendar.first_refused(date(2026, 1, 1), 30) == date(2026, 11, 20)
    assert calendar.first_refused(date(2027, 6, 1), 5) == date(2027, 6, 1)


def test_a_second_year_moves_the_first_day_refused_to_its_end() -> None:
    rows = ["2026-10-01,holiday,国庆", "2027-12-31,holiday,元旦"]
    calendar = read_calendar(["date,kind,name", *rows])
    assert calendar.known_until == date(2027, 12, 31)
    assert calendar.first_refused(date(2026, 12, 25), 5) == date(2027, 12, 24)
    assert read_calendar(["date,kind,name"]).known_until is None


@pytest.mark.parametrize("days", [0, -1, 31])
def test_a_notice_period_outside_its_range_is_refused(calendar: WorkingCalendar, days: int) -> None:
    with pytest.raises(InvalidInput) as refused:
        calendar.after(date(2026, 3, 2), days)
    assert refused.value.details["field"] == "notice_working_days"
    assert refused.value.message == "a notice period has 1 to 30 working days"


@pytest.mark.parametrize(
    ("rows", "line", "message"),
    [
        (["2026-03-02,workday,a Monday"], 2, "line 2: 2026-03-02 is a weekday, worked anyway"),
        (
            ["2026-10-01,holiday,国庆节", "2026-10-01,holiday,again"],
            3,
            "line 3: 2026-10-01 is listed twice",
        ),
        (["2026-10-01,day-off,国庆节"], 2, "line 2: not a date and a day kind"),
        (["1 October,holiday,国庆节"], 2, "line 2: not a date and a day kind"),
    ],
    ids=["weekday worked", "listed twice", "unknown kind", "not a date"],
)
def test_a_calendar_that_does_not_hold_together_is_refused_at_its_line(
    rows: list[str], line: int, message: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        read_calendar(["date,kind,name", *rows])
    assert (refused.value.details["where"], refused.value.message) == (line, message)
