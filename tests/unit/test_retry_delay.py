"""The outbox waits twice as long after each failed attempt, but never more than six hours."""

from __future__ import annotations

from datetime import timedelta

from voucher_app.services.notifications import LONGEST_RETRY, MAX_ATTEMPTS, retry_delay


def test_each_wait_doubles_the_last_from_one_minute() -> None:
    waits = [retry_delay(n) for n in range(1, 6)]
    assert waits == [timedelta(minutes=m) for m in (1, 2, 4, 8, 16)]


def test_the_wait_stops_growing_at_six_hours() -> None:
    assert retry_delay(30) == LONGEST_RETRY == timedelta(hours=6)
    # Every attempt happens well within the reminder window of a week.
    assert sum((retry_delay(n) for n in range(1, MAX_ATTEMPTS)), timedelta()) < timedelta(days=1)
