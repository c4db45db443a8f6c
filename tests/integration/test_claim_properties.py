"""Property-based: random claims, revocations and expiries keep every cap and budget.

A Hypothesis state machine against a real database: four SMEs in two districts claim vouchers
of a programme with budget for a handful, some are revoked, time passes and vouchers expire.
A small model (`Model`) says what each claim must answer — issued, or which refusal — and
what each voucher's status is. After every step: the database agrees with the model, no SME
holds more than its cap (counting vouchers not revoked), each district's available budget plus
the value still on its vouchers equals what it was given, and every voucher's remaining value
is its face value or nothing.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

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
from tests.harness import START, Databases, assert_every_path_taken
from voucher_app.clock import FrozenClock
from voucher_app.domain.calendar import local_date
from voucher_app.domain.errors import ClaimRefused
from voucher_app.domain.programmes import BudgetMove
from voucher_app.persistence.database import Database
from voucher_app.services import programmes, vouchers
from voucher_app.services.vouchers import VoucherSigner
from voucher_app.wiring import unit_of_work

ADMIN = factories.ADMIN
FACE = factories.TERMS.voucher_face_value_fen
CAP = 2 * FACE
DISTRICTS = ("440305", "440306")
GIVEN = {"440305": 3 * FACE, "440306": 2 * FACE}
VALID = timedelta(days=factories.TERMS.voucher_validity_days)
PERIOD_END = date(2030, 12, 31)


@dataclass
class ModelVoucher:
    sme: str
    district: str
    expires_at: datetime
    status: str = "active"


@dataclass
class Model:
    """What the rules say should have happened, kept without a database."""

    budget: dict[str, int] = field(default_factory=lambda: dict(GIVEN))
    held: Counter[str] = field(default_factory=Counter)  # value counted against each cap
    vouchers: dict[uuid.UUID, ModelVoucher] = field(default_factory=dict)

    def answer_to_claim(self, sme: str, district: str, now: datetime) -> str:
        if local_date(now) > PERIOD_END:
            return "programme_closed"
        if self.held[sme] + FACE > CAP:
            return "cap_reached"
        if self.budget[district] < FACE:
            return "budget_exhausted"
        return "issued"

    def issued(self, voucher_id: uuid.UUID, sme: str, district: str, now: datetime) -> None:
        self.held[sme] += FACE
        self.budget[district] -= FACE
        self.vouchers[voucher_id] = ModelVoucher(sme, district, now + VALID)

    def revoked(self, voucher_id: uuid.UUID) -> None:
        voucher = self.vouchers[voucher_id]
        voucher.status = "revoked"
        self.held[voucher.sme] -= FACE  # a revocation frees the cap; an expiry does not
        self.budget[voucher.district] += FACE

    def time_passed(self, now: datetime) -> None:
        for voucher in self.vouchers.values():
            if voucher.status == "active" and voucher.expires_at <= now:
                voucher.status = "expired"
                self.budget[voucher.district] += FACE


class ClaimMachine(RuleBasedStateMachine):
    def __init__(self, databases: Databases, signer: VoucherSigner, seen: Counter[str]) -> None:
        super().__init__()
        self.database = Database(databases.migrated(), pool_size=2)
        self.clock = FrozenClock(START)
        self.uow = unit_of_work(self.database, self.clock)
        self.signer = signer
        self.seen = seen
        self.model = Model()

    @initialize()
    def set_up(self) -> None:
        factories.guangdong(self.uow)
        self.programme = factories.programme(
            self.uow, fund_fen=sum(GIVEN.values()), sme_cap_fen=CAP, period_end=PERIOD_END
        )
        pid = self.programme.id
        programmes.allocate(
            self.uow,
            pid,
            BudgetMove(from_center="440000", to_center="440300", amount_fen=sum(GIVEN.values())),
            actor=ADMIN,
        )
        for district, amount in GIVEN.items():
            programmes.allocate(
                self.uow,
                pid,
                BudgetMove(from_center="440300", to_center=district, amount_fen=amount),
                actor=ADMIN,
            )
        self.smes = [
            factories.sme(self.uow, n, home_center=DISTRICTS[n % 2], region=DISTRICTS[n % 2]).uscc
            for n in range(4)
        ]
        self.homes = {uscc: DISTRICTS[n % 2] for n, uscc in enumerate(self.smes)}

    def teardown(self) -> None:
        self.database.dispose()

    @rule(who=st.integers(0, 3))
    def claim(self, who: int) -> None:
        sme = self.smes[who]
        now = self.clock.now()
        expected = self.model.answer_to_claim(sme, self.homes[sme], now)
        try:
            issued = vouchers.claim_voucher(
                self.uow,
                programme_id=self.programme.id,
                sme_uscc=sme,
                actor=ADMIN,
                signer=self.signer,
            )
        except ClaimRefused as refused:
            assert refused.code == expected
            self.seen[refused.code] += 1
            return
        assert expected == "issued"
        self.model.issued(issued.id, sme, self.homes[sme], now)
        self.seen["issued"] += 1

    @rule(data=st.data())
    def revoke(self, data: st.DataObject) -> None:
        now = self.clock.now()
        active = [
            voucher_id
            for voucher_id, voucher in self.model.vouchers.items()
            if voucher.status == "active" and voucher.expires_at > now
        ]
        if not active:
            return
        target = data.draw(st.sampled_from(active))
        vouchers.revoke_voucher(self.uow, target, "property test", ADMIN)
        self.model.revoked(target)
        self.seen["revoked"] += 1

    @rule(days=st.integers(1, 40) | st.just(91))  # sometimes past every voucher's expiry
    def time_passes(self, days: int) -> None:
        self.clock.advance(timedelta(days=days))
        self.model.time_passed(self.clock.now())
        if vouchers.expire_due(self.uow, ADMIN):
            self.seen["expired"] += 1

    @invariant()
    def the_database_agrees_with_the_model(self) -> None:
        if not hasattr(self, "programme"):
            return
        statuses = {v.id: v.status for v in vouchers.list_vouchers(self.uow)}
        assert statuses == {i: v.status for i, v in self.model.vouchers.items()}
        for district, expected in self.model.budget.items():
            assert programmes.available_budget(self.uow, self.programme.id, district) == expected

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
    every_path = {"issued", "cap_reached", "budget_exhausted", "revoked", "expired"}
    assert_every_path_taken(seen, every_path)
