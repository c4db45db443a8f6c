"""Property-based: random sequences of budget operations keep every ledger invariant.

A Hypothesis state machine funds, allocates, claws back and reverses against a real database
and a plain-Python model of what each center should hold. After every step: the balances equal
the model, they sum to zero, no account but funding is negative, the log's root equals a
from-scratch recomputation, and every checkpoint is consistent with the one before.
"""

from __future__ import annotations

import functools
import uuid
from collections import Counter
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from tests import factories
from tests.harness import START, Databases, assert_every_path_taken
from voucher_app.clock import FrozenClock
from voucher_app.domain import accounts
from voucher_app.domain.errors import (
    AlreadyReversed,
    CannotReverseReversal,
    FundingExceedsBudget,
    InsufficientFunds,
)
from voucher_app.domain.programmes import BudgetMove
from voucher_app.ledger import merkle, store
from voucher_app.ledger.canonical import canonical_entry
from voucher_app.ledger.checkpoints import CheckpointSigner
from voucher_app.ledger.tables import LedgerAccount
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.database import Database
from voucher_app.persistence.uow import read_only
from voucher_app.services import ledger, programmes
from voucher_app.wiring import unit_of_work

ADMIN = factories.ADMIN
BUDGET = 10_000_000
EDGES = [("440000", "440100"), ("440000", "440300"), ("440100", "440106"), ("440300", "440305")]
CENTERS = sorted({c for edge in EDGES for c in edge})
# Small and large amounts, so that both successes and refusals come up in a short run.
amounts = st.integers(min_value=1, max_value=1_000) | st.integers(min_value=1, max_value=BUDGET)


@dataclass
class Posted:
    id: uuid.UUID
    moves: dict[str, int]  # center code (or "funding") -> change
    is_reversal: bool
    reversed: bool = False


@read_only
def _balances(uow: UnitOfWork) -> dict[str, int]:
    rows = uow.session.execute(select(LedgerAccount.name, LedgerAccount.balance_fen))
    return {name: balance for name, balance in rows}


@read_only
def _recomputed_and_stored_root(uow: UnitOfWork) -> tuple[bytes, bytes]:
    size = store.tree_size(uow.session)
    leaves = [
        merkle.leaf_hash(canonical_entry(document))
        for _index, document, _leaf in store.iter_documents(uow.session, size)
    ]
    return merkle.root_of(leaves), store.root(uow.session, size)


class BudgetMachine(RuleBasedStateMachine):
    def __init__(self, databases: Databases, signer: CheckpointSigner, seen: Counter[str]) -> None:
        super().__init__()
        self.seen = seen  # what the runs exercised, for the test to check afterwards
        self.database = Database(databases.migrated(), pool_size=2)
        self.uow = unit_of_work(self.database, FrozenClock(START))
        self.signer = signer
        self.model = dict.fromkeys(CENTERS, 0)
        self.funded = 0
        self.posted: list[Posted] = []
        self.checkpoints: list[tuple[int, bytes]] = []

    @initialize()
    def set_up(self) -> None:
        factories.guangdong(self.uow)
        self.programme = factories.programme(self.uow, total_budget_fen=BUDGET)
        self.pid = str(self.programme.id)

    def teardown(self) -> None:
        self.database.dispose()

    def _record(self, entry_id: uuid.UUID, moves: dict[str, int], *, reversal: bool) -> None:
        for center, change in moves.items():
            if center == "funding":
                self.funded -= change
            else:
                self.model[center] += change
        self.posted.append(Posted(entry_id, moves, reversal))

    @rule(amount=amounts | st.just(BUDGET))
    def fund(self, amount: int) -> None:
        if self.funded + amount > BUDGET:
            with pytest.raises(FundingExceedsBudget):
                programmes.fund_programme(
                    self.uow, self.programme.id, amount_fen=amount, actor=ADMIN
                )
            self.seen["fund refused"] += 1
            return
        entry = programmes.fund_programme(
            self.uow, self.programme.id, amount_fen=amount, actor=ADMIN
        )
        self._record(entry.id, {"funding": -amount, "440000": amount}, reversal=False)
        self.seen["fund"] += 1

    @precondition(lambda self: any(self.model[parent] for parent, _child in EDGES))
    @rule(data=st.data(), amount=amounts, share=st.sampled_from([None, 1, 2, 3]))
    def allocate(self, data: st.DataObject, amount: int, share: int | None) -> None:
        """Allocate from a center that holds budget (refusals come from `amount`)."""
        holding = [edge for edge in EDGES if self.model[edge[0]]]
        self._move(*data.draw(st.sampled_from(holding)), amount, share, upwards=False)

    @precondition(lambda self: any(self.model[child] for _parent, child in EDGES))
    @rule(data=st.data(), amount=amounts, share=st.sampled_from([None, 1, 2, 3]))
    def claw_back(self, data: st.DataObject, amount: int, share: int | None) -> None:
        """Claw back from a child that holds budget (refusals come from `amount`)."""
        holding = [edge for edge in EDGES if self.model[edge[1]]]
        self._move(*data.draw(st.sampled_from(holding)), amount, share, upwards=True)

    @rule(data=st.data(), extra=amounts, upwards=st.booleans())
    def overdraw(self, data: st.DataObject, extra: int, upwards: bool) -> None:
        """Move more than the source holds, whatever it holds: always refused (so that every
        run reaches the refusal, not only the runs whose amounts happen to)."""
        parent, child = data.draw(st.sampled_from(EDGES))
        source = child if upwards else parent
        self._move(parent, child, self.model[source] + extra, None, upwards=upwards)

    def _move(
        self, parent: str, child: str, amount: int, share: int | None, *, upwards: bool
    ) -> None:
        """Move `amount`, or (with `share`) that fraction of what the source holds."""
        source, target = (child, parent) if upwards else (parent, child)
        if share is not None:
            amount = max(1, self.model[source] // share)
        service = programmes.claw_back if upwards else programmes.allocate
        move = functools.partial(
            service,
            self.uow,
            self.programme.id,
            BudgetMove(from_center=source, to_center=target, amount_fen=amount),
            actor=ADMIN,
        )
        if self.model[source] < amount:
            with pytest.raises(InsufficientFunds):
                move()
            self.seen["move refused"] += 1
            return
        entry = move()
        self._record(entry.id, {source: -amount, target: amount}, reversal=False)
        self.seen["claw back" if upwards else "allocate"] += 1

    @rule(data=st.data())
    def reverse(self, data: st.DataObject) -> None:
        if not self.posted:
            return
        self._reverse(data.draw(st.sampled_from(self.posted)))

    @precondition(lambda self: any(p.reversed or p.is_reversal for p in self.posted))
    @rule(data=st.data())
    def reverse_again(self, data: st.DataObject) -> None:
        """Reverse an entry already reversed, or a reversal: always refused (so that every run
        reaches those refusals, not only the runs that happen to draw such an entry)."""
        decided = [p for p in self.posted if p.reversed or p.is_reversal]
        self._reverse(data.draw(st.sampled_from(decided)))

    def _reverse(self, target: Posted) -> None:
        undo = {center: -change for center, change in target.moves.items()}
        if target.is_reversal:
            with pytest.raises(CannotReverseReversal):
                ledger.reverse_entry(self.uow, target.id, ADMIN)
            self.seen["reversal of a reversal refused"] += 1
        elif target.reversed:
            with pytest.raises(AlreadyReversed):
                ledger.reverse_entry(self.uow, target.id, ADMIN)
            self.seen["second reversal refused"] += 1
        elif any(self.model[c] + d < 0 for c, d in undo.items() if c != "funding"):
            with pytest.raises(InsufficientFunds):
                ledger.reverse_entry(self.uow, target.id, ADMIN)
            self.seen["overdrawing reversal refused"] += 1
        else:
            entry = ledger.reverse_entry(self.uow, target.id, ADMIN)
            target.reversed = True
            self._record(entry.id, undo, reversal=True)
            self.seen["reverse"] += 1

    @rule()
    def sequence_and_sign(self) -> None:
        ledger.sequence_log(self.uow)
        signed = ledger.sign_checkpoint(self.uow, self.signer)
        if signed is None:
            return
        if self.checkpoints:
            size, root = self.checkpoints[-1]
            proof = ledger.consistency_proof(self.uow, size, signed.tree_size)
            merkle.verify_consistency(size, signed.tree_size, proof, root, signed.root_hash)
        self.checkpoints.append((signed.tree_size, signed.root_hash))
        self.seen["consistent checkpoint" if len(self.checkpoints) > 1 else "checkpoint"] += 1

    @invariant()
    def balances_match_the_model_and_sum_to_zero(self) -> None:
        if not hasattr(self, "pid"):
            return
        balances = _balances(self.uow)
        assert sum(balances.values()) == 0
        funding = accounts.funding(self.pid).name
        assert all(balance >= 0 for name, balance in balances.items() if name != funding)
        assert balances.get(funding, 0) == -self.funded
        held: dict[str, int] = {}  # each center's budget: the sum of its shards
        for name, balance in balances.items():
            account = accounts.parse_account(name)
            if account.kind is accounts.AccountKind.AVAILABLE:
                held[account.owner] = held.get(account.owner, 0) + balance
        for center in CENTERS:
            assert held.get(center, 0) == self.model[center]

    @invariant()
    def log_root_equals_a_recomputation(self) -> None:
        recomputed, stored = _recomputed_and_stored_root(self.uow)
        assert recomputed == stored


EXERCISED = {
    "fund",
    "fund refused",
    "allocate",
    "claw back",
    "move refused",
    "reverse",
    "second reversal refused",
    "reversal of a reversal refused",
    "checkpoint",
    "consistent checkpoint",
}


def test_budget_operations_keep_every_invariant(
    databases: Databases, signer: CheckpointSigner, backend: str
) -> None:
    seen: Counter[str] = Counter()
    run_state_machine_as_test(
        lambda: BudgetMachine(databases, signer, seen),  # type: ignore[arg-type]  # a factory works
        settings=settings(
            max_examples=25 if backend == "sqlite" else 15,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
    # The invariants were checked after every step; make sure the steps covered every path.
    assert_every_path_taken(seen, EXERCISED)
