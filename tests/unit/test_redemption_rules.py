"""The pure rules of a claim on a voucher: what it pays and which step may follow which."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voucher_app.domain.errors import InvalidTransition, NothingToPay
from voucher_app.domain.redemptions import STEPS, Step, next_status, split_payment, subsidy_fen

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


@pytest.mark.parametrize(
    ("claims", "settled", "amount", "shares"),
    [
        ([100_000, 50_000], 0, 150_000, [100_000, 50_000]),  # paid in full
        ([100_000, 50_000], 0, 120_000, [100_000, 20_000]),  # the first claim first
        ([100_000, 50_000], 120_000, 30_000, [0, 30_000]),  # the rest of the second
        ([100_000, 50_000], 90_000, 20_000, [10_000, 10_000]),  # across the boundary
        ([100_000, 50_000], 0, 200_000, [100_000, 50_000]),  # never beyond the claims
    ],
)
def test_a_payment_settles_the_items_claims_in_order(
    claims: list[int], settled: int, amount: int, shares: list[int]
) -> None:
    assert split_payment(claims, settled, amount) == shares


@given(
    claims=st.lists(st.integers(1, 10**6), min_size=1, max_size=8),
    cuts=st.lists(st.integers(0, 8 * 10**6), max_size=5),
)
def test_payments_in_any_parts_settle_each_claim_exactly_once(
    claims: list[int], cuts: list[int]
) -> None:
    """However an item is paid in parts, each claim ends up settled exactly, never more."""
    whole = sum(claims)
    bounds = sorted({0, whole, *(min(cut, whole) for cut in cuts)})
    settled = [0] * len(claims)
    for start, end in itertools.pairwise(bounds):
        for index, share in enumerate(split_payment(claims, start, end - start)):
            settled[index] += share
            assert settled[index] <= claims[index]
    assert settled == claims
