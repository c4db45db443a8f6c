"""A center's available budget for a programme, held in shards: what goes in, what comes out
and which shard a claim takes from, each under the locks that keep the center's total exact.

The rules are `domain.shards`; this module applies them to the ledger's accounts. The center's
budget is the sum of its shards: that is what a refusal names (`budget_exhausted` carries the
total, and the plain account name, which is shard 0's), what reports and the dashboard show and
what the invariant bounds (DESIGN §4). Each shard on its own never goes below zero, which the
journal's conditional updates keep, so neither does the sum.

Money comes in spread over the shards (`deposit`), and goes back from a voucher into the shard
its id picks (`returned`). Money going out locks every shard of the center in name order, the
order every writer of the journal locks in, and draws the richest first (`withdraw`). A claim
(`issue_from`) first tries its SME's home shard with no read at all, which is how nearly every
claim of a rush is served; if that shard is dry it reads the others and tries those with enough;
only when none has enough does it lock them all and, if their total pays the voucher, post a
`rebalance` entry that gathers the money into one shard. So a center never refuses a claim
while its shards together still hold a voucher's worth.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

from voucher_app.domain import accounts, shards
from voucher_app.domain.accounts import Account
from voucher_app.domain.actors import Actor
from voucher_app.domain.eligibility import budget_exhausted
from voucher_app.domain.entries import EntryKind, Posting
from voucher_app.domain.errors import InsufficientFunds
from voucher_app.domain.money import format_yuan
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.models import Programme

T = TypeVar("T")


def shard_accounts(center: str, programme: Programme) -> list[Account]:
    """The accounts the center's budget for the programme is held in, shard 0 first."""
    pid = str(programme.public_id)
    return [accounts.available(center, pid, shard) for shard in range(programme.budget_shards)]


def deposit(center: str, programme: Programme, amount_fen: int) -> list[Posting]:
    """The postings that put `amount_fen` into the center's budget, spread over its shards in
    whole vouchers."""
    pid = str(programme.public_id)
    parts = shards.split(amount_fen, programme.budget_shards, programme.voucher_face_value_fen)
    return [
        Posting(accounts.available(center, pid, shard).name, amount)
        for shard, amount in parts.items()
    ]


def returned(center: str, programme: Programme, voucher_id: uuid.UUID, amount_fen: int) -> Posting:
    """The posting that gives a voucher's unspent value back to its center's budget, into the
    shard the voucher's id picks, so returns spread like claims."""
    shard = shards.home_shard(str(voucher_id), programme.budget_shards)
    return Posting(accounts.available(center, str(programme.public_id), shard).name, amount_fen)


def withdraw(
    uow: UnitOfWork, center: str, programme: Programme, amount_fen: int, *, towards: str
) -> list[Posting]:
    """The postings that take `amount_fen` out of the center's budget on its way to center
    `towards`; `InsufficientFunds` naming the center's budget and its total if it holds less.

    The shards of both centers are locked in one read, in name order (the order in which the
    journal takes accounts), and stay locked until the transaction ends, so the postings still
    hold when posted. Locking only the giving center's first let a move and its reverse (an
    allocation and a clawback between the same two centers) each hold one center and wait for
    the other: a deadlock."""
    held = shard_accounts(center, programme)
    locked = uow.journal.balances([*held, *shard_accounts(towards, programme)], lock=True)
    balances = [locked[account.name] for account in held]
    taken = shards.draw(balances, amount_fen)
    if taken is None:
        raise InsufficientFunds(
            f"{held[0].name} holds {format_yuan(sum(balances))} in all its shards, "
            f"cannot take {format_yuan(amount_fen)}",
            account=held[0].name,
            balance_fen=sum(balances),
            requested_fen=amount_fen,
        )
    return [Posting(held[shard].name, -amount) for shard, amount in taken.items()]


def totals(uow: UnitOfWork, programme: Programme, centers: Sequence[str]) -> dict[str, int]:
    """What each center has left to issue of the programme: the sum of its shards, one read."""
    held = {center: shard_accounts(center, programme) for center in centers}
    balances = uow.journal.balances([a for accounts_ in held.values() for a in accounts_])
    return {center: sum(balances[a.name] for a in held[center]) for center in centers}


def issue_from(
    uow: UnitOfWork,
    programme: Programme,
    center: str,
    claimant: str,
    *,
    actor: Actor,
    post_issue: Callable[[Account], T],
) -> T:
    """Call `post_issue` (which posts the `issue` entry) with a shard of the center's budget
    that can pay one voucher, chosen for the `claimant` (the SME's code); `budget_exhausted`
    when the center's shards together cannot pay it."""
    face = programme.voucher_face_value_fen
    held = shard_accounts(center, programme)
    order = shards.claim_order(shards.home_shard(claimant, len(held)), len(held))

    def candidates() -> Iterator[int]:
        yield order[0]  # blind: how nearly every claim of a rush is served
        if len(held) > 1:
            balances = _balances(uow, held, lock=False)
            yield from (shard for shard in order[1:] if balances[shard] >= face)

    # On PostgreSQL a conditional update that waited for a concurrent claim and then found the
    # shard too poor still holds the row's lock; rolled back to a savepoint, it lets the lock
    # go, so the locked read below takes the shards in name order like every other writer
    # instead of deadlocking with them. (One shard, or SQLite's one writer, cannot deadlock.)
    release = len(held) > 1 and uow.session.connection().dialect.name == "postgresql"
    for shard in candidates():
        attempt = uow.session.begin_nested() if release else None
        try:
            posted = post_issue(held[shard])
        except InsufficientFunds as exc:  # a concurrent claim emptied it
            if attempt is not None:
                attempt.rollback()
            if exc.details.get("account") != held[shard].name:
                raise
        else:
            if attempt is not None:
                attempt.commit()
            return posted
    # None could pay when tried: what they hold under lock is what the center has.
    balances = _balances(uow, held, lock=True)
    choice = shards.payer(balances, order[0], face)
    if choice is None:
        raise budget_exhausted(center, sum(balances), face)
    shard, moves = choice
    _rebalance(uow, programme, held, moves, actor)
    return post_issue(held[shard])


def take_many(
    uow: UnitOfWork, programme: Programme, claims: Sequence[tuple[str, str]], actor: Actor
) -> list[Account | int]:
    """`issue_from` for a set of claims (bulk issuance), each a (center, claimant) pair, served
    in the order given: for each, the shard its voucher is to be paid from, or, when its center's
    shards together cannot pay it, what the center has left. Every shard of the centers is locked
    until the transaction ends, and the `rebalance` entries the plan needs (one per center) are
    posted here, so the caller's `issue` entries, posted together, all find their money."""
    face = programme.voucher_face_value_fen
    held = {center: shard_accounts(center, programme) for center, _ in claims}
    locked = uow.journal.balances([a for accounts_ in held.values() for a in accounts_], lock=True)
    left = {center: [locked[a.name] for a in accounts_] for center, accounts_ in held.items()}
    moved: dict[str, dict[int, int]] = {center: {} for center in held}
    plan: list[Account | int] = []
    for center, claimant in claims:
        balances = left[center]
        choice = shards.payer(balances, shards.home_shard(claimant, len(balances)), face)
        if choice is None:
            plan.append(sum(balances))
            continue
        shard, moves = choice
        for other, amount in moves.items():
            balances[other] += amount
            moved[center][other] = moved[center].get(other, 0) + amount
        balances[shard] -= face
        plan.append(held[center][shard])
    for center, moves in moved.items():
        _rebalance(uow, programme, held[center], moves, actor)
    return plan


def _rebalance(
    uow: UnitOfWork,
    programme: Programme,
    held: Sequence[Account],
    moves: dict[int, int],
    actor: Actor,
) -> None:
    """Post the `rebalance` entry that makes these moves between one center's shards (`held`),
    if there are any."""
    postings = [Posting(held[shard].name, amount) for shard, amount in moves.items() if amount]
    if postings:
        uow.journal.post(
            EntryKind.REBALANCE,
            postings,
            {"programme": str(programme.public_id), "center": held[0].owner},
            actor,
        )


def _balances(uow: UnitOfWork, held: Sequence[Account], *, lock: bool) -> list[int]:
    by_name = uow.journal.balances(held, lock=lock)
    return [by_name[account.name] for account in held]
