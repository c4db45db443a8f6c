"""Which lines of a new statement the books have not seen yet, whatever files came before.

Banks send the same money more than once: an intraday and an end-of-day file, the camt.053 and
the CSV export of the same day, a file sent again with its lines in another order. A statement
line is the same bank transaction as a line already imported when

- both carry a bank reference from the same kind of file and it is the same (a bank numbers
  its camt entries and its CSV rows in different ways, so references of different kinds of
  file say nothing about each other), or
- nothing tells them apart: the same fingerprint (account, booking date, direction, amount,
  payment reference), no two different references of the same kind, no two different
  counterparty accounts.

Lines are matched one to one (the multiset of fingerprints, not the set): two genuinely
identical payments on one day are two lines, and a later statement adds only the lines it has
beyond the ones already matched. Statements cover whole periods, so over an overlap the later
file holds at least what the earlier one did; that is what makes counting sound.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

#: Above this many candidate pairs in one fingerprint group, lines are paired by count alone, so
#: a hostile file cannot make matching quadratic.
EXACT_MATCHING_LIMIT = 250_000


@dataclass(frozen=True, slots=True)
class LineIdentity:
    fingerprint: bytes
    #: (kind of file, bank reference), when the file gives one.
    reference: tuple[str, str] | None = None
    counterparty: str | None = None


def fingerprint(
    account: str, booked_on: date | str, debit: bool, amount_fen: int, reference: str | None
) -> bytes:
    """What every kind of statement says of a line: account, booking date, direction, amount,
    and the payment (or batch) reference."""
    day = booked_on if isinstance(booked_on, str) else booked_on.isoformat()
    return _digest("fingerprint", account, day, "D" if debit else "C", str(amount_fen), reference)


def reference_key(account: str, source: str, bank_reference: str) -> bytes:
    """The bank's own reference of a line, which identifies it among files of one kind."""
    return _digest("reference", account, source, bank_reference)


def _digest(*parts: str | None) -> bytes:
    return hashlib.sha256("\x1f".join(part or "" for part in parts).encode()).digest()


def compatible(a: LineIdentity, b: LineIdentity) -> bool:
    """Whether two lines of one fingerprint may be the same transaction."""
    references_differ = (
        a.reference is not None
        and b.reference is not None
        and a.reference[0] == b.reference[0]
        and a.reference[1] != b.reference[1]
    )
    counterparties_differ = bool(
        a.counterparty and b.counterparty and a.counterparty != b.counterparty
    )
    return not (references_differ or counterparties_differ)


def fresh(new: Sequence[LineIdentity], old: Iterable[LineIdentity]) -> list[bool]:
    """For each new line, whether it is beyond what the old lines already account for."""
    pools: dict[bytes, list[LineIdentity]] = defaultdict(list)
    by_reference: dict[tuple[str, str], list[LineIdentity]] = defaultdict(list)
    for line in old:
        pools[line.fingerprint].append(line)
        if line.reference is not None:
            by_reference[line.reference].append(line)
    result = [True] * len(new)
    waiting: dict[bytes, list[int]] = defaultdict(list)
    for index, line in enumerate(new):
        same = by_reference.get(line.reference) if line.reference is not None else None
        if same:
            seen = same.pop()
            _remove(pools, seen)
            result[index] = False
        else:
            waiting[line.fingerprint].append(index)
    for fingerprint, indexes in waiting.items():
        candidates = pools.get(fingerprint, [])
        if candidates:
            for index in _matched(indexes, new, candidates):
                result[index] = False
    return result


def _remove(pools: dict[bytes, list[LineIdentity]], line: LineIdentity) -> None:
    pool = pools[line.fingerprint]
    for position, candidate in enumerate(pool):
        if candidate is line:
            del pool[position]
            return


def _matched(indexes: list[int], new: Sequence[LineIdentity], old: list[LineIdentity]) -> list[int]:
    """The new lines (by index) that a maximum one-to-one matching pairs with old lines."""
    if len(indexes) * len(old) > EXACT_MATCHING_LIMIT:
        return _matched_by_count(indexes, old)
    partner: dict[int, int] = {}  # old position → new index

    def augment(index: int, visited: set[int]) -> bool:
        for position, candidate in enumerate(old):
            if position in visited or not compatible(new[index], candidate):
                continue
            visited.add(position)
            if position not in partner or augment(partner[position], visited):
                partner[position] = index
                return True
        return False

    for index in indexes:
        augment(index, set())
    return list(partner.values())


def _matched_by_count(indexes: list[int], old: list[LineIdentity]) -> list[int]:
    """Pair lines by count alone. Where matching would cost too much (a hostile file), this
    errs towards seeing a line as known: a payment left unsettled keeps its redemptions in their
    batch and shows as unpaid for a person to look at, where one settled twice could free them."""
    return indexes[: len(old)]
