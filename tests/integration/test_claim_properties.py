"""Property-based: random claims, revocations and expiries keep every cap and budget.

A Hypothesis state machine against a real database: four SMEs in two districts claim vouchers
of a programme with budget for a handful, some are revoked, time passes and vouchers expire.
After every step: no SME holds more than its cap (counting vouchers not revoked), each
district's available budget plus the value still on its vouchers equals what it was given,
and every voucher's remaining value is its face value or nothing.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from tests import factories
from tests.harness import START, Databases
from voucher_app.clock import FrozenClock
from voucher_app.domain.errors import BudgetExhausted, CapReached, ProgrammeClosed
from voucher_app.persistence.database import Database
from voucher_app.persistence.uow import UnitOfWork
from voucher_app.services import programmes, vouchers
from voucher_app.services.vouchers import VoucherSigner

ADMIN = factories.ADMIN
FACE = factories.TERMS.voucher_face_value_fen
CAP = 2 * FACE
DISTRICTS = ("440305", "440306")
GIVEN = {"440305": 3 * FACE, "440306": 2 * FACE}


class ClaimMachine(RuleBasedStateMachine):
    def __init__(self, databases: Databases, signer: VoucherSigner, seen: Counter[str]) -> None:
        super().__init__()
        self.database = Database(databases.migrated(), pool_size=2)
        self.clock = FrozenClock(START)
        self.uow = UnitOfWork(self.database, self.clock)
        self.signer = signer
        self.seen = seen

    @initialize()
    def set_up(self) -> None:
        factories.guangdong(self.uow)
        self.programme = factories.programme(
            self.uow, fund_fen=sum(GIVEN.values()), sme_cap_fen=CAP, period_end=date(2030, 12, 31)
        )
        pid = self.programme.id
        programmes.allocate(
            self.uow,
            pid,
            from_center="440000",
            to_center="440300",
            amount_fen=sum(GIVEN.values()),
            actor=ADMIN,
        )
        for district, amount in GIVEN.items():
            programmes.allocate(
                self.uow,
                pid,
                from_center="440300",
                to_center=district,
                amount_fen=amount,
                actor=ADMIN,
            )
        self.smes = [
            factories.sme(self.uow, n, home_center=DISTRICTS[n % 2], region=DISTRICTS[n % 2]).uscc
            for n in range(4)
        ]

    def teardown(self) -> None:
        self.database.dispose()

    @rule(who=st.integers(0, 3))
    def claim(self, who: int) -> None:
        try:
            vouchers.claim_voucher(
                self.uow,
                programme_id=self.programme.id,
                sme_uscc=self.smes[who],
                actor=ADMIN,
                signer=self.signer,
            )
        except (CapReached, BudgetExhausted, ProgrammeClosed) as refused:
            self.seen[refused.code] += 1
            return
        self.seen["issued"] += 1

    @rule(data=st.data())
    def revoke(self, data: st.DataObject) -> None:
        active = [v for v in vouchers.list_vouchers(self.uow) if v.status == "active"]
        if not active:
            return
        target = data.draw(st.sampled_from(active))
        vouchers.revoke_voucher(self.uow, target.id, "property test", ADMIN)
        self.seen["revoked"] += 1

    @rule(days=st.integers(1, 40) | st.just(91))  # sometimes past every voucher's expiry
    def time_passes(self, days: int) -> None:
        self.clock.advance(timedelta(days=days))
        if vouchers.expire_due(self.uow, ADMIN):
            self.seen["expired"] += 1

    @invariant()
    def caps_and_budgets_hold(self) -> None:
        if not hasattr(self, "programme"):
            return
        issued = vouchers.list_vouchers(self.uow)
        held = Counter[str]()
        on_vouchers = Counter[str]()
        for voucher in issued:
            assert voucher.remaining_fen in {0, voucher.face_value_fen}
            if voucher.status != "revoked":
                held[voucher.sme_uscc] += voucher.face_value_fen
            on_vouchers[voucher.center] += voucher.remaining_fen
        assert all(total <= CAP for total in held.values())
        for district, given in GIVEN.items():
            left = programmes.available_budget(self.uow, self.programme.id, district)
            assert left >= 0 and left + on_vouchers[district] == given


def test_claim_sequences_keep_every_cap_and_budget(
    databases: Databases, voucher_signer: VoucherSigner, backend: str
) -> None:
    seen: Counter[str] = Counter()
    run_state_machine_as_test(
        lambda: ClaimMachine(databases, voucher_signer, seen),  # type: ignore[arg-type]
        settings=settings(
            max_examples=25 if backend == "sqlite" else 12,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
    assert {"issued", "cap_reached", "budget_exhausted", "revoked", "expired"} <= set(seen), seen
