"""Many writers at once: nothing overspent, nothing reversed twice, no key posted twice.

Runs on both databases; on PostgreSQL the threads really overlap (READ COMMITTED with the
journal's conditional updates), on SQLite they queue on BEGIN IMMEDIATE.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier
from typing import TypeVar

import pytest

from tests import factories
from tests.integration.test_budgets import keyed_allocation
from voucher_app.domain.errors import AlreadyReversed, InsufficientFunds, VoucherError
from voucher_app.domain.programmes import BudgetMove
from voucher_app.ledger.checkpoints import CheckpointSigner
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.database import Database
from voucher_app.services import ledger, programmes
from voucher_app.signing.note import Verifier
from voucher_app.wiring import unit_of_work

ADMIN = factories.ADMIN
THREADS = 32
CITIES = ["440100", "440200", "440300", "440400", "440500", "440600", "440700", "440800"]
T = TypeVar("T")


def run_together(
    database: Database, uow: UnitOfWork, task: Callable[[UnitOfWork], T]
) -> list[T | VoucherError]:
    """Run `task` in THREADS threads released at the same instant; collect results or errors."""
    barrier = Barrier(THREADS)

    def worker(_: int) -> T | VoucherError:
        own = unit_of_work(database, uow.clock)
        barrier.wait()
        try:
            return task(own)
        except VoucherError as error:
            return error

    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(worker, range(THREADS)))


def test_32_threads_allocating_from_one_center_never_overspend_it(
    database: Database, uow: UnitOfWork, signer: CheckpointSigner, verifiers: list[Verifier]
) -> None:
    factories.guangdong(uow)
    programme = factories.programme(uow, fund_fen=1_000_000)

    def allocate_repeatedly(own: UnitOfWork) -> tuple[int, int]:
        moved = posted = 0
        chooser = random.Random()
        for _ in range(8):
            amount = chooser.randint(2_000, 9_000)
            try:
                programmes.allocate(
                    own,
                    programme.id,
                    BudgetMove(
                        from_center="440000", to_center=chooser.choice(CITIES), amount_fen=amount
                    ),
                    actor=ADMIN,
                )
                moved += amount
                posted += 1
            except InsufficientFunds:
                pass
        return moved, posted

    results = run_together(database, uow, allocate_repeatedly)
    outcomes = [r for r in results if isinstance(r, tuple)]
    assert len(outcomes) == THREADS  # no thread met anything but success or insufficient funds
    moved = [amount for amount, _count in outcomes]
    left = programmes.available_budget(uow, programme.id, "440000")
    cities = sum(programmes.available_budget(uow, programme.id, c) for c in CITIES)
    assert sum(moved) == 1_000_000 - left == cities
    assert left >= 0
    assert sum(moved) > 900_000  # demand (32 x 8 x 2,000 and more) far exceeds the budget

    ledger.sequence_log(uow)
    ledger.sign_checkpoint(uow, signer)
    report = ledger.verify_ledger(uow, verifiers)
    assert report.ok, report.failure
    assert report.entries == 1 + sum(count for _amount, count in outcomes)


def test_an_entry_reversed_by_32_threads_at_once_is_reversed_exactly_once(
    database: Database, uow: UnitOfWork
) -> None:
    factories.guangdong(uow)
    programme = factories.programme(uow, fund_fen=1_000_000)
    grant = programmes.allocate(
        uow,
        programme.id,
        BudgetMove(from_center="440000", to_center="440100", amount_fen=400_000),
        actor=ADMIN,
    )

    results = run_together(database, uow, lambda own: ledger.reverse_entry(own, grant.id, ADMIN))
    succeeded = [r for r in results if not isinstance(r, VoucherError)]
    refused = [r for r in results if isinstance(r, AlreadyReversed)]
    assert len(succeeded) == 1 and len(refused) == THREADS - 1
    assert programmes.available_budget(uow, programme.id, "440100") == 0


@pytest.mark.parametrize(
    ("funds", "amount"),
    [(1_000_000, 12_345), (10_000, 6_000)],
    ids=["money to spare", "money for one request only"],
)
def test_one_journal_key_from_32_threads_posts_one_entry(
    database: Database, uow: UnitOfWork, funds: int, amount: int
) -> None:
    # With money for one request only, the twins that lose the race for it must still get
    # the first result, not insufficient_funds.
    factories.guangdong(uow)
    programme = factories.programme(uow, fund_fen=funds)

    results = run_together(
        database,
        uow,
        lambda own: keyed_allocation(own, programme, "440300", amount, "retry-storm"),
    )
    assert [r for r in results if isinstance(r, VoucherError)] == []
    assert len({r.id for r in results if not isinstance(r, VoucherError)}) == 1
    assert len(results) == THREADS
    assert programmes.available_budget(uow, programme.id, "440300") == amount


def test_sequencing_while_writers_commit_keeps_the_log_a_valid_replay(
    database: Database, uow: UnitOfWork, signer: CheckpointSigner, verifiers: list[Verifier]
) -> None:
    factories.guangdong(uow)
    programme = factories.programme(uow, fund_fen=200_000)
    writers_done = threading.Event()

    def sequence_continuously() -> int:
        own = unit_of_work(database, uow.clock)
        sequenced = 0
        while not writers_done.is_set():
            sequenced += ledger.sequence_log(own, wait=False)
        return sequenced + ledger.sequence_log(own)

    def spend_and_return(own: UnitOfWork) -> int:
        # Each writer takes from the province and gives back, so entries on the same
        # accounts interleave: a log in the wrong order would replay a negative balance.
        chooser = random.Random()
        moved = 0
        for _ in range(6):
            city = chooser.choice(CITIES)
            try:
                programmes.allocate(
                    own,
                    programme.id,
                    BudgetMove(from_center="440000", to_center=city, amount_fen=30_000),
                    actor=ADMIN,
                )
                programmes.claw_back(
                    own,
                    programme.id,
                    BudgetMove(from_center=city, to_center="440000", amount_fen=30_000),
                    actor=ADMIN,
                )
                moved += 2
            except InsufficientFunds:
                pass
        return moved

    with ThreadPoolExecutor(2) as sequencers:
        running = [sequencers.submit(sequence_continuously) for _ in range(2)]
        results = run_together(database, uow, spend_and_return)
        writers_done.set()
        sequenced = sum(future.result() for future in running)
    assert all(isinstance(r, int) for r in results), [r for r in results if not isinstance(r, int)]
    posted = sum(r for r in results if isinstance(r, int))
    assert posted > THREADS  # the writers really interleaved on the same accounts
    assert sequenced == posted + 1  # and the funding entry: nothing lost, nothing twice
    ledger.sign_checkpoint(uow, signer)
    report = ledger.verify_ledger(uow, verifiers)
    assert report.ok, report.failure
    assert report.entries == posted + 1
