"""What the bank's money means for a batch item, as plain functions (DESIGN §4 invariant 6).

A settlement item is one payment instruction: `amount_fen` owed to a provider for its redemptions,
laid end to end. The bank's statements then say what left the funding account for it (debits,
`paid_fen`) and what came back (credits: returns and refunds, `returned_fen`). Everything here
follows from the net of the two, never from the order the lines arrived in:

- the ledger settles `min(net, owed)` of the item, never more, never less than zero;
- a credit lowers the net by exactly its amount: a refund of an overpayment lowers only the
  excess, a partial return unsettles only the returned stretch (the mirror of `split_payment`);
- once everything the bank paid has come back, the item is *released*: its redemptions leave it and
  may be paid by a new batch. A release is never undone — money arriving later for a released
  item is an overpayment to look into, because its redemptions may be paid elsewhere by then.

References: a batch is `B` and eight Crockford base-32 characters; its items add `-0001`….
Banks carry them as end-to-end ids, or bury them in a free-text remark (附言, 摘要, 用途), where
`find_reference` finds them.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from enum import StrEnum

REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U
REFERENCE_LENGTH = 8
_ITEM_DIGITS = 4

# Letters or digits on either side would make it part of a longer code.
_REFERENCE = re.compile(
    rf"(?<![0-9A-Za-z])B[{REFERENCE_ALPHABET}]{{{REFERENCE_LENGTH}}}"
    rf"(?:-[0-9]{{{_ITEM_DIGITS}}})?(?![0-9A-Za-z])"
)


class ItemState(StrEnum):
    UNPAID = "unpaid"
    PARTIAL = "partial"
    PAID = "paid"
    OVERPAID = "overpaid"
    RETURNED = "returned"


def new_batch_reference() -> str:
    return "B" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))


def item_reference(batch_reference: str, number: int) -> str:
    return f"{batch_reference}-{number:0{_ITEM_DIGITS}d}"


def is_item_reference(reference: str) -> bool:
    return "-" in reference


def is_batch_reference(reference: str) -> bool:
    """A batch's own reference, without an item number: a line naming it pays the whole batch."""
    return find_reference(reference) == reference and not is_item_reference(reference)


def find_reference(text: str) -> str | None:
    """The one batch or item reference in a remark, or None when there is none or several
    different ones (a remark naming two payments cannot say which one a line is)."""
    found = set(_REFERENCE.findall(text.upper()))
    return found.pop() if len(found) == 1 else None


def owed(amount_fen: int, *, released: bool) -> int:
    """What the item still stands for: nothing once its redemptions were released."""
    return 0 if released else amount_fen


def settled_target(amount_fen: int, paid_fen: int, returned_fen: int, *, released: bool) -> int:
    """How much of the item the ledger settles: the net cash, within what is owed."""
    return max(0, min(paid_fen - returned_fen, owed(amount_fen, released=released)))


def releases(paid_fen: int, returned_fen: int) -> bool:
    """Whether everything the bank paid for the item has come back (and it paid something)."""
    return paid_fen > 0 and returned_fen >= paid_fen


def item_state(amount_fen: int, paid_fen: int, returned_fen: int, *, released: bool) -> ItemState:
    net = paid_fen - returned_fen
    due = owed(amount_fen, released=released)
    if net > due:
        return ItemState.OVERPAID
    if released or net <= 0:
        return ItemState.RETURNED if returned_fen else ItemState.UNPAID
    return ItemState.PARTIAL if net < due else ItemState.PAID


def unwind(settlements_fen: Sequence[int], target_fen: int) -> tuple[int, int]:
    """How to bring an item's settlements down to `target_fen` with whole reversals.

    `settlements_fen` are the item's unreversed settle entries in the order they were posted;
    laid end to end they cover the item from its start. Returns how many of the last ones to
    reverse, and how much to settle again after them so exactly `target_fen` stays settled.
    """
    position = sum(settlements_fen)
    count = 0
    for amount in reversed(settlements_fen):
        if position <= target_fen:
            break
        position -= amount
        count += 1
    return count, max(0, target_fen - position)
