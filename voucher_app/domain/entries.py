"""Journal entry kinds and the rules every entry's postings must follow.

Both the ledger's writer and the outside auditor call `check_postings`, so an entry the ledger
accepts is exactly an entry the auditor accepts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import StrEnum
from typing import NamedTuple

from voucher_app.domain.accounts import AccountKind, parse_account
from voucher_app.domain.errors import InvalidAmount, InvalidEntry
from voucher_app.domain.money import MAX_FEN


class EntryKind(StrEnum):
    FUND = "fund"
    ALLOCATE = "allocate"
    ISSUE = "issue"
    REDEEM = "redeem"
    APPROVE = "approve"
    REJECT = "reject"
    EXPIRE = "expire"
    REVOKE = "revoke"
    RELEASE = "release"
    SETTLE = "settle"
    REVERSE = "reverse"
    #: Money moved between the shards of one center's budget (`domain.shards.gather`).
    REBALANCE = "rebalance"


_K = AccountKind

#: For each kind: the kinds of account money leaves, and the kinds it goes to (DESIGN §4).
FLOWS: dict[EntryKind, tuple[frozenset[AccountKind], frozenset[AccountKind]]] = {
    EntryKind.FUND: (frozenset({_K.FUNDING}), frozenset({_K.AVAILABLE})),
    EntryKind.ALLOCATE: (frozenset({_K.AVAILABLE}), frozenset({_K.AVAILABLE})),
    EntryKind.ISSUE: (frozenset({_K.AVAILABLE}), frozenset({_K.VOUCHER})),
    EntryKind.REDEEM: (frozenset({_K.VOUCHER}), frozenset({_K.PENDING})),
    EntryKind.APPROVE: (frozenset({_K.PENDING}), frozenset({_K.PAYABLE})),
    EntryKind.REJECT: (frozenset({_K.PENDING}), frozenset({_K.VOUCHER})),
    EntryKind.EXPIRE: (frozenset({_K.VOUCHER}), frozenset({_K.AVAILABLE})),
    EntryKind.REVOKE: (frozenset({_K.VOUCHER}), frozenset({_K.AVAILABLE})),
    EntryKind.RELEASE: (frozenset({_K.VOUCHER}), frozenset({_K.AVAILABLE})),
    EntryKind.SETTLE: (frozenset({_K.PAYABLE}), frozenset({_K.PAID})),
    EntryKind.REBALANCE: (frozenset({_K.AVAILABLE}), frozenset({_K.AVAILABLE})),
}


class Posting(NamedTuple):
    """A signed amount on one account: negative takes money out, positive puts it in.

    A named tuple, so postings sort by account (then amount) at C speed.
    """

    account: str
    amount_fen: int


def check_postings(
    kind: EntryKind, postings: Iterable[Posting], *, programme: str | None
) -> tuple[Posting, ...]:
    """Validate postings for an entry of `kind`; return them in canonical (account) order.

    Rules: at least two postings, one per account, every amount a non-zero integer within
    ±MAX_FEN, a zero sum, money moving only along the kind's flow (a reversal's flow is its
    original's, checked by the replay), and every account that belongs to a programme belonging
    to `programme`, the one the entry's refs name: money never crosses programmes. A `rebalance`
    moves money only between the shards of one center: it never changes a center's budget.
    """
    ordered = tuple(sorted(postings))
    if len(ordered) < 2:
        raise InvalidEntry("an entry needs at least two postings", kind=kind)
    sources, targets = FLOWS.get(kind, (None, None))  # a reversal's flow is its original's
    total = 0
    previous = None
    for account, amount in ordered:
        if account == previous:
            raise InvalidEntry("an account appears twice in one entry", kind=kind)
        previous = account
        if type(amount) is not int:  # bool is an int subclass and not an amount
            raise InvalidAmount("posting amounts must be whole numbers of fen")
        if amount == 0 or not -MAX_FEN <= amount <= MAX_FEN:
            raise InvalidAmount(f"posting amount {amount} is zero or out of range")
        total += amount
        parsed = parse_account(account)
        if parsed.programme is not None and parsed.programme != programme:
            raise InvalidEntry(
                f"{account} belongs to programme {parsed.programme}, "
                f"not to the entry's ({programme})",
                kind=kind,
                account=account,
            )
        allowed = targets if amount > 0 else sources
        if allowed is not None and parsed.kind not in allowed:
            direction = "from" if amount < 0 else "to"
            raise InvalidEntry(
                f"{kind} entries cannot move money {direction} {parsed.kind} accounts",
                kind=kind,
                account=account,
            )
    if total != 0:
        raise InvalidEntry(f"postings sum to {total} fen, not zero", kind=kind)
    if kind is EntryKind.REBALANCE and len({parse_account(a).owner for a, _ in ordered}) > 1:
        raise InvalidEntry("a rebalance moves money between one center's shards only", kind=kind)
    return ordered


def negation(postings: Sequence[Posting]) -> tuple[Posting, ...]:
    """The postings of the entry that undoes `postings` exactly."""
    return tuple(sorted(Posting(p.account, -p.amount_fen) for p in postings))
