"""The pure rules of a redemption on a voucher: what it pays and which step may follow which."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.words import said
from voucher_app.domain.errors import InvalidTransition, NothingToPay
from voucher_app.domain.redemptions import (
    HOLDING,
    USED,
    Step,
    next_status,
    split_payment,
    subsidy_fen,
)

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
        with pytest.raises(NothingToPay) as refused:
            subsidy_fen(invoiced, rate, remaining)
        assert refused.value.code == "nothing_to_pay"
        assert str(refused.value) == "the voucher would pay nothing towards an invoice of ¥0.03"
        assert said(refused.value) == "按补贴比例计算，该发票金额可获补贴为零"
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


STATUSES = ["submitted", "confirmed", "disputed", "approved", "rejected", "settled"]
#: The life cycle as DESIGN §6 and the module's diagram draw it, written out by hand: for each
#: step, the status it leads to from each status it may start from. Approved and settled redemptions
#: take none of these steps (settling is the batch's business).
LIFE_CYCLE: dict[Step, dict[str, str]] = {
    Step.CONFIRM: {"submitted": "confirmed"},
    Step.DISPUTE: {"submitted": "disputed"},
    Step.APPROVE: {"submitted": "approved", "confirmed": "approved"},
    Step.REJECT: {"submitted": "rejected", "confirmed": "rejected", "disputed": "rejected"},
    Step.RESUBMIT: {"disputed": "submitted", "rejected": "submitted"},
}
PAST_TENSE = {
    Step.CONFIRM: "confirmed",
    Step.DISPUTE: "disputed",
    Step.APPROVE: "approved",
    Step.REJECT: "rejected",
    Step.RESUBMIT: "resubmitted",
}


@pytest.mark.parametrize("step", list(Step))
@pytest.mark.parametrize("status", STATUSES)
def test_each_step_starts_only_from_its_statuses(step: Step, status: str) -> None:
    passed = NOW + timedelta(days=1)  # the confirmation window has closed
    if status in LIFE_CYCLE[step]:
        assert next_status(step, status, confirm_by=NOW, now=passed) == LIFE_CYCLE[step][status]
    else:
        with pytest.raises(InvalidTransition) as refused:
            next_status(step, status, confirm_by=NOW, now=passed)
        assert refused.value.code == "invalid_transition"
        assert refused.value.details == {"status": status}
        assert str(refused.value) == f"a redemption that is {status} cannot be {PAST_TENSE[step]}"
        assert said(refused.value) == "该兑付申请当前状态不允许此操作"


def test_the_subsidy_sits_in_pending_from_submission_until_approved_rejected_or_disputed() -> None:
    """Submitting moves it voucher → pending, confirming leaves it there; approving moves it on
    to payable, rejecting or disputing back to the voucher."""
    assert {"submitted", "confirmed"} == HOLDING


def test_a_redemption_uses_its_voucher_unless_it_was_disputed_or_rejected() -> None:
    """A disputed or rejected redemption holds nothing until it is resubmitted."""
    assert {"submitted", "confirmed", "approved", "settled"} == USED


def test_an_unanswered_redemption_is_approved_only_after_its_window() -> None:
    with pytest.raises(InvalidTransition) as refused:
        next_status(Step.APPROVE, "submitted", confirm_by=NOW, now=NOW - timedelta(seconds=1))
    assert refused.value.code == "invalid_transition"
    assert refused.value.details == {"status": "submitted"}
    assert str(refused.value) == (
        "the SME has until 2026-03-02T00:00:00+00:00 to confirm or dispute this redemption"
    )
    assert said(refused.value) == "企业确认期尚未结束"
    assert next_status(Step.APPROVE, "submitted", confirm_by=NOW, now=NOW) == "approved"
    assert next_status(Step.APPROVE, "confirmed", confirm_by=NOW, now=NOW - timedelta(days=3)) == (
        "approved"
    )


@pytest.mark.parametrize(
    ("step", "status", "leads_to"),
    [
        (Step.CONFIRM, "submitted", "confirmed"),
        (Step.DISPUTE, "submitted", "disputed"),
        (Step.REJECT, "submitted", "rejected"),
        (Step.REJECT, "confirmed", "rejected"),
        (Step.REJECT, "disputed", "rejected"),
        (Step.RESUBMIT, "disputed", "submitted"),
        (Step.RESUBMIT, "rejected", "submitted"),
    ],
)
def test_only_approval_waits_for_the_confirmation_window(
    step: Step, status: str, leads_to: str
) -> None:
    """The SME's window holds back approving its silence, not its own answer or a rejection."""
    before = NOW - timedelta(days=1)
    assert next_status(step, status, confirm_by=NOW, now=before) == leads_to


@pytest.mark.parametrize(
    ("redemptions", "settled", "amount", "shares"),
    [
        ([100_000, 50_000], 0, 150_000, [100_000, 50_000]),  # paid in full
        ([100_000, 50_000], 0, 120_000, [100_000, 20_000]),  # the first redemption first
        ([100_000, 50_000], 120_000, 30_000, [0, 30_000]),  # the rest of the second
        ([100_000, 50_000], 90_000, 20_000, [10_000, 10_000]),  # across the boundary
        ([100_000, 50_000], 0, 200_000, [100_000, 50_000]),  # never beyond the redemptions
        ([300, 200, 100], 0, 600, [300, 200, 100]),  # three redemptions end to end
        ([300, 200, 100], 450, 100, [0, 50, 50]),  # the third starts where the first two end
        ([300, 200, 100], 500, 100, [0, 0, 100]),
        ([100, 100, 100, 100], 250, 100, [0, 0, 50, 50]),
    ],
)
def test_a_payment_settles_the_items_redemptions_in_order(
    redemptions: list[int], settled: int, amount: int, shares: list[int]
) -> None:
    assert split_payment(redemptions, settled, amount) == shares


@given(
    redemptions=st.lists(st.integers(1, 10**6), min_size=1, max_size=8),
    cuts=st.lists(st.integers(0, 8 * 10**6), max_size=5),
)
def test_payments_in_any_parts_settle_each_redemption_exactly_once(
    redemptions: list[int], cuts: list[int]
) -> None:
    """However an item is paid in parts, each redemption ends up settled exactly, never more."""
    whole = sum(redemptions)
    bounds = sorted({0, whole, *(min(cut, whole) for cut in cuts)})
    settled = [0] * len(redemptions)
    for start, end in itertools.pairwise(bounds):
        for index, share in enumerate(split_payment(redemptions, start, end - start)):
            settled[index] += share
            assert settled[index] <= redemptions[index]
    assert settled == redemptions


@given(
    redemptions=st.lists(st.integers(1, 10**6), min_size=1, max_size=8),
    settled=st.integers(0, 9 * 10**6),
    amount=st.integers(0, 9 * 10**6),
)
def test_one_payment_settles_exactly_its_stretch_of_the_redemptions(
    redemptions: list[int], settled: int, amount: int
) -> None:
    """A payment settles what it pays of the redemptions, no more and no less: the part of
    [settled, settled + amount) that lies within the redemptions laid end to end."""
    whole = sum(redemptions)
    expected = max(0, min(settled + amount, whole) - min(settled, whole))
    assert sum(split_payment(redemptions, settled, amount)) == expected
