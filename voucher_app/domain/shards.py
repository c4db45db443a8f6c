"""How a center's budget for a programme is held in shards, so a district's rush is not one row.

When a programme opens, a district's SMEs claim within minutes of each other, and every claim
takes money from the same center budget. Held in one ledger account, that budget is one row that
every claim must lock in turn. Held in N sub-accounts (shards, DESIGN §4), concurrent claims
draw on different rows: each SME starts at its own shard (`home_shard`, from its code) and moves
on to the next shard with money (`claim_order`). Money coming in is spread over the shards
(`split`); money going out is drawn from the richest first (`draw`); and when no single shard can
pay a claim but the center's total can, a `rebalance` entry gathers the difference into one
shard (`gather`), so a center refuses a claim only when its total cannot pay it.

These are pure rules over balances; `services.budgets` applies them under the right locks.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from voucher_app.domain.errors import InvalidProgrammeTerms

#: At most this many shards per center and programme: the account grammar allows one or two
#: digits, and more shards than the database can run claims at once only spread money thinner.
MAX_SHARDS = 64
#: The shards a programme gets unless told (`shards_for`): as many as the claims a database
#: server runs at once (bench/rush.py: with 16, a rush of 64 or 256 claimants on one district
#: is served as fast as the same rush spread over every district).
DEFAULT_MAX_SHARDS = 16
#: A shard per this many vouchers the budget can pay for, by default: a small budget is not
#: cut into pieces smaller than a few vouchers, which would mostly be rebalanced.
VOUCHERS_PER_SHARD = 8


def shards_for(total_budget_fen: int, face_value_fen: int) -> int:
    """The default shard count of a programme: one per `VOUCHERS_PER_SHARD` vouchers its budget
    can pay for (the most that could rush one center), between 1 and `DEFAULT_MAX_SHARDS`."""
    vouchers = total_budget_fen // face_value_fen
    return max(1, min(DEFAULT_MAX_SHARDS, vouchers // VOUCHERS_PER_SHARD))


def check_shard_count(count: int) -> None:
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_SHARDS:
        raise InvalidProgrammeTerms(f"a center's budget is held in 1 to {MAX_SHARDS} shards")


def home_shard(key: str, count: int) -> int:
    """The shard a claimant starts at: a stable hash of its key (the SME's code), so the same
    SME always starts at the same shard and different SMEs spread evenly."""
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % count


def claim_order(home: int, count: int) -> list[int]:
    """The shards a claim tries, in order: its home, then the next ones round the ring."""
    return [(home + step) % count for step in range(count)]


def payer(balances: Sequence[int], home: int, need_fen: int) -> tuple[int, dict[int, int]] | None:
    """Which shard pays `need_fen` for a claimant whose home shard is `home`: the first in its
    claim order that holds enough, with nothing to move; else its home, with the moves that
    gather the money there (`gather`); None when the shards together hold less."""
    for shard in claim_order(home, len(balances)):
        if balances[shard] >= need_fen:
            return shard, {}
    moves = gather(balances, home, need_fen)
    return None if moves is None else (home, moves)


def split(amount_fen: int, count: int, unit_fen: int) -> dict[int, int]:
    """`amount_fen` spread over `count` shards in whole `unit_fen`s (a voucher's face value) as
    evenly as it goes; the remainder below a unit goes to shard 0. Shards getting nothing are
    left out (a posting is never zero)."""
    units, rest = divmod(amount_fen, unit_fen)
    each, extra = divmod(units, count)
    parts = {shard: (each + (shard < extra)) * unit_fen for shard in range(count)}
    parts[0] += rest
    return {shard: amount for shard, amount in parts.items() if amount}


def draw(balances: Sequence[int], amount_fen: int) -> dict[int, int] | None:
    """What to take from each shard to pay `amount_fen` out of the center (an allocation down or
    a claw-back), the richest shards first so the rest stay able to pay a claim; None if the
    shards together hold less."""
    if sum(balances) < amount_fen:
        return None
    taken: dict[int, int] = {}
    left = amount_fen
    for shard in sorted(range(len(balances)), key=lambda s: (-balances[s], s)):
        if left == 0:
            break
        take = min(balances[shard], left)
        if take:
            taken[shard] = take
            left -= take
    return taken


def gather(balances: Sequence[int], into: int, need_fen: int) -> dict[int, int] | None:
    """The rebalancing that lets shard `into` pay `need_fen`: what to move into it from each
    other shard (the richest first), as signed amounts per shard; empty if it can already pay,
    None if the shards together cannot."""
    short = need_fen - balances[into]
    if short <= 0:
        return {}
    others = [0 if shard == into else balance for shard, balance in enumerate(balances)]
    taken = draw(others, short)
    if taken is None:
        return None
    return {into: short} | {shard: -amount for shard, amount in taken.items()}
