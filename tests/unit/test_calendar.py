"""Days as people in Guangdong count them (`voucher_app.domain.calendar`): China Standard Time,
UTC+8 all year (no daylight saving), whatever zone an instant is given in (DESIGN §3: times
are stored in UTC, shown in Asia/Shanghai)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from voucher_app.domain.calendar import local_date


@pytest.mark.parametrize(
    ("moment", "day"),
    [
        pytest.param(datetime(2024, 1, 1, 15, 59, 59, tzinfo=UTC), date(2024, 1, 1), id="last-s"),
        pytest.param(datetime(2024, 1, 1, 16, 0, tzinfo=UTC), date(2024, 1, 2), id="midnight"),
        pytest.param(datetime(2024, 7, 1, 16, 0, tzinfo=UTC), date(2024, 7, 2), id="summer"),
        pytest.param(datetime(2024, 12, 31, 16, 0, tzinfo=UTC), date(2025, 1, 1), id="new-year"),
        pytest.param(datetime(2024, 2, 28, 16, 0, tzinfo=UTC), date(2024, 2, 29), id="leap-day"),
        pytest.param(
            datetime(2024, 1, 1, 23, 30, tzinfo=timezone(timedelta(hours=-5))),
            date(2024, 1, 2),
            id="another-zone",
        ),
        pytest.param(
            datetime(2024, 1, 1, 0, 0, tzinfo=timezone(timedelta(hours=8))),
            date(2024, 1, 1),
            id="already-utc-plus-8",
        ),
    ],
)
def test_the_local_date_is_the_day_in_china_standard_time(moment: datetime, day: date) -> None:
    assert local_date(moment) == day


def test_a_moment_without_a_timezone_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^a moment needs a timezone$"):
        local_date(datetime(2024, 1, 1, 12, 0))  # noqa: DTZ001
