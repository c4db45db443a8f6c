"""Replays entries in log order and checks every rule an entry must satisfy on its own.

The in-database verifier and the outside auditor both feed entries through `Replay`, so they
agree on what a valid ledger is: double entry and the kind's flow (`domain.entries`), unique
ids, reversals that negate an earlier, unreversed, non-reversal entry exactly, and balances that
never go below zero except on a programme's funding account.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from voucher_app.domain.accounts import parse_account
from voucher_app.domain.entries import EntryKind, Posting, check_postings, negation
from voucher_app.domain.errors import LedgerFault, VoucherError
from voucher_app.ledger.document import EntryRecord, postings_digest


class ReplayError(LedgerFault):
    """An entry that breaks a ledger rule at its place in the log."""

    code = "replay_error"


@dataclass
class Replay:
    """Balances after the entries applied so far, and what later reversals must match."""

    balances: dict[str, int] = field(default_factory=dict)
    #: Ordinary entries by id -> a 128-bit digest of their postings, kept instead of the
    #: postings so that a million entries fit in memory.
    _digests: dict[str, bytes] = field(default_factory=dict)
    _reversals: set[str] = field(default_factory=set)
    _reversed: set[str] = field(default_factory=set)
    count: int = 0

    def apply(self, entry: EntryRecord) -> None:
        """Check `entry` against the rules and the state so far, then apply it."""
        try:
            postings = check_postings(
                entry.kind, entry.postings, programme=entry.refs.get("programme")
            )
        except VoucherError as exc:
            raise ReplayError(exc.message) from exc
        if entry.id in self._digests or entry.id in self._reversals:
            raise ReplayError(f"entry id {entry.id} appears twice")
        if entry.reverses is not None or entry.kind is EntryKind.REVERSE:
            self._check_reversal(entry, postings)
        balances = self.balances
        updated = []
        for account, amount in postings:
            balance = balances.get(account, 0) + amount
            if balance < 0 and not parse_account(account).may_go_negative:
                raise ReplayError(f"account {account} would go to {balance} fen")
            updated.append((account, balance))
        balances.update(updated)
        if entry.reverses is None:
            self._digests[entry.id] = entry.postings_digest or postings_digest(postings)
        else:
            self._reversals.add(entry.id)
            self._reversed.add(entry.reverses)
        self.count += 1

    def _check_reversal(self, entry: EntryRecord, postings: tuple[Posting, ...]) -> None:
        if (entry.kind is EntryKind.REVERSE) != (entry.reverses is not None) or not entry.reverses:
            raise ReplayError("an entry names the entry it reverses exactly when it is a reversal")
        if entry.reverses in self._reversals:
            raise ReplayError("reverses a reversal")
        if entry.reverses in self._reversed:
            raise ReplayError(f"reverses {entry.reverses} a second time")
        original = self._digests.get(entry.reverses)
        if original is None:
            raise ReplayError(f"reverses {entry.reverses}, which is not an earlier entry")
        if original != postings_digest(negation(postings)):
            raise ReplayError(f"does not negate {entry.reverses} exactly")
