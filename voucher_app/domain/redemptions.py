"""The rules of a provider's redemption on a voucher (兑付), as plain functions: what it pays, and
which step may follow which (DESIGN §6).

    submitted ──confirm──▶ confirmed ──approve──▶ approved ──settle──▶ settled
        │  └────────────────approve (after the confirmation window)──┘
        ├──dispute──▶ disputed ──resubmit──▶ submitted
        └──reject───▶ rejected ──resubmit──▶ submitted      (confirmed and disputed reject too)

Value moves with the steps: submitting moves the subsidy from the voucher to the provider's
`pending` account; approving moves it on to `payable`; rejecting or disputing moves it back to
the voucher, so a disputed or rejected redemption holds nothing until it is resubmitted.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum

from voucher_app.domain.errors import InvalidTransition, NothingToPay
from voucher_app.domain.money import apply_rate, format_yuan


class Step(StrEnum):
    CONFIRM = "confirm"
    DISPUTE = "dispute"
    APPROVE = "approve"
    REJECT = "reject"
    RESUBMIT = "resubmit"


#: For each step: the statuses it may start from, and the status it leads to.
STEPS: dict[Step, tuple[frozenset[str], str]] = {
    Step.CONFIRM: (frozenset({"submitted"}), "confirmed"),
    Step.DISPUTE: (frozenset({"submitted"}), "disputed"),
    Step.APPROVE: (frozenset({"submitted", "confirmed"}), "approved"),
    Step.REJECT: (frozenset({"submitted", "confirmed", "disputed"}), "rejected"),
    Step.RESUBMIT: (frozenset({"disputed", "rejected"}), "submitted"),
}

#: Statuses whose subsidy sits in the provider's `pending` account.
HOLDING = frozenset({"submitted", "confirmed"})
#: Statuses of a redemption that is done with (or on its way to payment): the voucher was used.
USED = frozenset({"submitted", "confirmed", "approved", "settled"})


def subsidy_fen(invoiced_fen: int, rate_bp: int, remaining_fen: int) -> int:
    """What the voucher pays: the rate times the invoiced amount, rounded down to the fen, and
    never more than the voucher has left."""
    paid = min(apply_rate(invoiced_fen, rate_bp), remaining_fen)
    if paid <= 0:
        raise NothingToPay(
            f"the voucher would pay nothing towards an invoice of {format_yuan(invoiced_fen)}"
        )
    return paid


def next_status(step: Step, status: str, *, confirm_by: datetime, now: datetime) -> str:
    """The status `step` leads to from `status`, or `InvalidTransition`.

    A redemption the SME has not answered may be approved only once its confirmation window has
    passed: silence then counts as confirmation.
    """
    starts, leads_to = STEPS[step]
    if status not in starts:
        raise InvalidTransition(
            f"a redemption that is {status} cannot be {_PAST[step]}",
            rule="redemption_step",
            status=status,
        )
    if step is Step.APPROVE and status == "submitted" and now < confirm_by:
        raise InvalidTransition(
            f"the SME has until {confirm_by.isoformat()} to confirm or dispute this redemption",
            rule="confirmation_window_open",
            status=status,
        )
    return leads_to


_PAST = {
    Step.CONFIRM: "confirmed",
    Step.DISPUTE: "disputed",
    Step.APPROVE: "approved",
    Step.REJECT: "rejected",
    Step.RESUBMIT: "resubmitted",
}


def split_payment(redemptions_fen: Sequence[int], settled_fen: int, amount_fen: int) -> list[int]:
    """How a payment of `amount_fen` on a batch item settles the item's redemptions, in order.

    The redemptions, laid end to end, fill the item; the first `settled_fen` of it are paid
    already. The payment pays the next `amount_fen`, redemption by redemption: each gets its
    overlap with that stretch. Nothing beyond the redemptions is settled; an overpayment is the
    reconciliation's concern, not the ledger's.
    """
    shares = []
    start, end = settled_fen, settled_fen + amount_fen
    position = 0
    for redemption in redemptions_fen:
        shares.append(max(0, min(end, position + redemption) - max(start, position)))
        position += redemption
    return shares
