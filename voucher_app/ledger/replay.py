"""Replays entries in log order and checks every rule an entry must satisfy on its own.

The in-database verifier and the outside auditor both feed entries through `Replay`, so they
agree on what a valid ledger is: double entry and the kind's flow (`domain.entries`), unique
ids, reversals that negate an earlier, unreversed, non-reversal entry exactly, and balances that
never go below zero except on a programme's funding account.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from voucher_app.domain.accounts import Account
from voucher_app.domain.entries import EntryKind, Posting, check_postings, negation
from voucher_app.domain.errors import VoucherError
from voucher_app.ledger.document import EntryRecord

_REVERSAL_FLAG = b"r"
_ORDINARY_FLAG = b"o"
_REVERSED_FLAG = b"x"


class ReplayError(ValueError):
    """An entry that breaks a ledger rule at its place in the log."""


@lru_cache(maxsize=65536)
def _may_go_negative(account: str) -> bool:
    return Account.parse(account).may_go_negative


def _postings_digest(postings: Sequence[Posting]) -> bytes:
    material = "\n".join(f"{p.account} {p.amount_fen}" for p in sorted(postings))
    return hashlib.blake2b(material.encode(), digest_size=16).digest()


@dataclass
class Replay:
    """Balances after the entries applied so far, and what later reversals must match."""

    balances: dict[str, int] = field(default_factory=dict)
    # entry id -> flag byte + digest of the postings a reversal of it must carry; flag "r" marks
    # a reversal (never reversed itself), "x" an entry already reversed. Digests keep memory
    # small on million-entry ledgers.
    _entries: dict[str, bytes] = field(default_factory=dict)
    count: int = 0

    def apply(self, entry: EntryRecord) -> None:
        """Check `entry` against the rules and the state so far, then apply it."""
        try:
            postings = check_postings(entry.kind, entry.postings)
        except VoucherError as exc:
            raise ReplayError(exc.message) from exc
        if entry.id in self._entries:
            raise ReplayError(f"entry id {entry.id} appears twice")
        self._check_reversal(entry, postings)
        for posting in postings:
            balance = self.balances.get(posting.account, 0) + posting.amount_fen
            if balance < 0 and not _may_go_negative(posting.account):
                raise ReplayError(f"account {posting.account} would go to {balance} fen")
        for posting in postings:
            self.balances[posting.account] = (
                self.balances.get(posting.account, 0) + posting.amount_fen
            )
        if entry.reverses is not None:
            self._entries[entry.reverses] = _REVERSED_FLAG
        if entry.kind is EntryKind.REVERSE:
            self._entries[entry.id] = _REVERSAL_FLAG
        else:
            self._entries[entry.id] = _ORDINARY_FLAG + _postings_digest(negation(postings))
        self.count += 1

    def _check_reversal(self, entry: EntryRecord, postings: Sequence[Posting]) -> None:
        if (entry.kind is EntryKind.REVERSE) != (entry.reverses is not None):
            raise ReplayError("an entry names the entry it reverses exactly when it is a reversal")
        if entry.reverses is None:
            return
        original = self._entries.get(entry.reverses)
        if original is None:
            raise ReplayError(f"reverses {entry.reverses}, which is not an earlier entry")
        if original[:1] == _REVERSAL_FLAG:
            raise ReplayError("reverses a reversal")
        if original[:1] == _REVERSED_FLAG:
            raise ReplayError(f"reverses {entry.reverses} a second time")
        if original[1:] != _postings_digest(postings):
            raise ReplayError(f"does not negate {entry.reverses} exactly")
