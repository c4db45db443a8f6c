"""The pace of sequencing after commit (`voucher_app.pace`): yes at most once per interval."""

from __future__ import annotations

import pytest

from voucher_app.pace import Pace


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_yes_at_most_once_per_interval() -> None:
    clock = Clock()
    pace = Pace(0.25, clock)
    assert pace.due() is True
    assert pace.due() is False
    clock.now += 0.249
    assert pace.due() is False
    clock.now += 0.001  # the interval since the yes has passed
    assert pace.due() is True
    assert pace.due() is False


def test_an_interval_begins_at_a_yes_not_at_a_no() -> None:
    clock = Clock()
    pace = Pace(1.0, clock)
    assert pace.due() is True
    clock.now += 0.9
    assert pace.due() is False  # does not push the next yes back
    clock.now += 0.1
    assert pace.due() is True


def test_no_interval_says_yes_every_time() -> None:
    pace = Pace(0, Clock())
    assert [pace.due() for _ in range(3)] == [True, True, True]


def test_a_negative_interval_is_refused() -> None:
    with pytest.raises(ValueError, match="not negative"):
        Pace(-1)
