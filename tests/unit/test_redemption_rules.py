"""The pure rules of a claim on a voucher: what it pays and which step may follow which."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voucher_app.domain.errors import InvalidTransition, NothingToPay
from voucher_app.domain.redemptions import STEPS, Step, next_status, subsidy_fen

NOW = datetime(2026, 3, 2, tzinfo=UTC)


@pytest.mark.parametrize(
    ("invoiced", "rate", "remaining", "paid"),
    [
        (400_000, 5_000, 500_000, 200_000),  # half of ¥4,000
        (400_001, 5_000, 500_000, 200_000),  # rounded down to the fen
        (1_000_000, 5_000, 300_000, 300_000),  # capped by what the voucher has left
        (3, 3_333, 500_000, 0),  # rounds to nothing: refused below
        (100, 10_000, 100, 100),  # a full subsidy
    ],
)
def test_the_subsidy_is_the_rate_of_the_invoice_rounded_down_and_capped(
    invoiced: int, rate: int, remaining: int, paid: int
) -> None:
    if paid == 0:
        with pytest.raises(NothingToPay):
            subsidy_fen(invoiced, rate, remaining)
    else:
        assert subsidy_fen(invoiced, rate, remaining) == paid


@given(
    invoiced=st.integers(1, 10**12),
    rate=st.integers(1, 10_000),
    remaining=st.integers(1, 10**12),
)
def test_the_subsidy_never_exceeds_the_invoice_the_rate_or_the_voucher(
    invoiced: int, rate: int, remaining: int
) -> None:
    try:
        paid = subsidy_fen(invoiced, rate, remaining)
    except NothingToPay:
        assert invoiced * rate < 10_000
        return
    assert 0 < paid <= min(invoiced, remaining)
    assert paid * 10_000 <= invoiced * rate  # never rounded up
    assert paid == remaining or (paid + 1) * 10_000 > invoiced * rate  # nothing left unpaid


@pytest.mark.parametrize("step", list(Step))
@pytest.mark.parametrize(
    "status", ["submitted", "confirmed", "disputed", "approved", "rejected", "settled"]
)
def test_each_step_starts_only_from_its_statuses(step: Step, status: str) -> None:
    starts, leads_to = STEPS[step]
    passed = NOW + timedelta(days=1)  # the confirmation window has closed
    if status in starts:
        assert next_status(step, status, confirm_by=NOW, now=passed) == leads_to
    else:
        with pytest.raises(InvalidTransition):
            next_status(step, status, confirm_by=NOW, now=passed)


def test_an_unanswered_claim_is_approved_only_after_its_window() -> None:
    with pytest.raises(InvalidTransition, match="until"):
        next_status(Step.APPROVE, "submitted", confirm_by=NOW, now=NOW - timedelta(seconds=1))
    assert next_status(Step.APPROVE, "submitted", confirm_by=NOW, now=NOW) == "approved"
    assert next_status(Step.APPROVE, "confirmed", confirm_by=NOW, now=NOW - timedelta(days=3)) == (
        "approved"
    )
