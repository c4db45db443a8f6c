"""Property-based: random runs of the whole voucher life cycle keep the ledger's invariants.

A Hypothesis state machine funds the programme, allocates and claws back budget down the
hierarchy and reverses budget moves, claims vouchers, redeems them with two providers, confirms,
disputes, approves and rejects redemptions, lets time pass and vouchers expire, revokes, pays
batches by bank statement (whole or in two parts) and has payments returned — against a real
database. After every step: balances sum to zero; no account but funding is negative; no
voucher paid out more than its face value; each provider's `pending` holds exactly its open
redemptions, and `payable` plus `paid` exactly its approved and settled ones; and every figure of
the spend reports of the province, Shenzhen and Nanshan equals what a replay of the journal gives,
their available budget the balance of their `available` accounts.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
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
from sqlalchemy import func, select

from tests import factories
from tests.harness import START, Databases, assert_every_path_taken
from tests.integration import spend_replay
from tests.integration.test_settlement import FINANCE, FUNDING, camt053, entry
from voucher_app.clock import FrozenClock
from voucher_app.domain.accounts import AccountKind, parse_account
from voucher_app.domain.actors import Actor, Role
from voucher_app.domain.calendar import local_date
from voucher_app.domain.errors import InvalidInput, VoucherError
from voucher_app.domain.money import format_amount
from voucher_app.domain.programmes import BudgetMove
from voucher_app.domain.redemptions import HOLDING, STEPS, Step
from voucher_app.ledger.tables import JournalEntry, JournalPosting, LedgerAccount
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.database import Database
from voucher_app.persistence.models import Provider, Redemption, SettlementItem, Voucher
from voucher_app.persistence.uow import read_only
from voucher_app.services import (
    ledger,
    programmes,
    reconciliation,
    redemptions,
    reports,
    settlement,
    vouchers,
)
from voucher_app.services.redemptions import Service, VoucherProof
from voucher_app.services.vouchers import VoucherSigner
from voucher_app.wiring import unit_of_work

T = TypeVar("T")
ADMIN = factories.ADMIN
PROVIDER = Actor("provider-desk", Role.PROVIDER)
SME = Actor("sme-clerk", Role.SME)
STAFF = Actor("center-reviewer", Role.CENTER_STAFF)
FACE = factories.TERMS.voucher_face_value_fen
#: Refusals a random run may meet; anything else fails the test.
EXPECTED = {
    "cap_reached",
    "budget_exhausted",
    "voucher_not_active",
    "voucher_in_use",
    "nothing_to_pay",
    "invalid_transition",
    "invalid_voucher_token",  # a token past its expiry
    "programme_closed",  # time ran past the programme's period
    "insufficient_funds",  # a budget move or correction bigger than what is there
    "funding_exceeds_budget",
    "already_reversed",
}
#: Where budget moves: (parent, child) pairs down to the SMEs' district and to a sibling.
BUDGET_PATHS = [("440000", "440300"), ("440300", "440305"), ("440300", "440304")]
REPORTED = ("440000", "440300", "440305")
BUDGET_STEPS = 6  # budget rules per run: enough to mix them in, few enough to leave room
TIME_STEPS = 6  # likewise for time passing, which would otherwise expire most runs early


@read_only
def _books(uow: UnitOfWork) -> dict[str, object]:
    """What the invariants compare: balances, per-voucher payouts and per-provider redemptions."""
    session = uow.session
    balances = dict(session.execute(select(LedgerAccount.name, LedgerAccount.balance_fen)).all())
    # Per voucher: value redeemed (voucher → pending) minus value put back (pending → voucher).
    moved: dict[str, int] = defaultdict(int)
    for name, amount in session.execute(
        select(LedgerAccount.name, JournalPosting.amount_fen)
        .select_from(JournalEntry)
        .join(JournalPosting, JournalPosting.entry_id == JournalEntry.id)
        .join(LedgerAccount, LedgerAccount.id == JournalPosting.account_id)
        .where(LedgerAccount.kind == "voucher", JournalEntry.kind.in_(("redeem", "reject")))
    ):
        moved[name] -= amount
    faces = {
        f"voucher:{public_id}": face
        for public_id, face in session.execute(select(Voucher.public_id, Voucher.face_value_fen))
    }
    subsidies: dict[tuple[str, str], int] = defaultdict(int)
    for provider, status, subsidy in session.execute(
        select(Provider.public_id, Redemption.status, func.sum(Redemption.subsidy_fen))
        .join(Provider, Provider.id == Redemption.provider_id)
        .group_by(Provider.public_id, Redemption.status)
    ):
        subsidies[(str(provider), status)] = int(subsidy)
    return {"balances": balances, "moved": moved, "faces": faces, "redemptions": subsidies}


class LifecycleMachine(RuleBasedStateMachine):
    def __init__(
        self,
        databases: Databases,
        keys: dict[str, Ed25519PublicKey],
        signer: VoucherSigner,
        seen: Counter[str],
    ) -> None:
        super().__init__()
        self.seen = seen
        self.database = Database(databases.migrated(), pool_size=2)
        self.clock = FrozenClock(START)
        self.uow = unit_of_work(self.database, self.clock)
        self.keys = keys
        self.signer = signer
        self.vouchers: list[vouchers.VoucherView] = []
        self.redemptions: list[redemptions.RedemptionView] = []
        self.paid_items: list[str] = []
        self.approved = 0  # redemptions approved since the last batch
        self.status: dict[uuid.UUID, str] = {}  # each redemption's status, as its last step left it
        self.invoices = 0
        self.statements = 0
        self.budget_moves: list[uuid.UUID] = []
        self.budget_steps = 0
        self.days_passed = 0
        self.seen_here: Counter[str] = Counter()  # this run's attempts, to ration some rules

    @initialize(partial=st.booleans())
    def set_up(self, partial: bool) -> None:
        factories.guangdong(self.uow)
        self.programme = factories.voucher_programme(
            self.uow,
            vouchers=5,
            sme_cap_fen=2 * FACE,
            partial_spending=partial,
            total_budget_fen=2 * factories.TERMS.total_budget_fen,  # half funded: room to fund
        ).id
        self.smes = [factories.sme(self.uow, n).uscc for n in range(3)]
        self.providers = [factories.provider(self.uow, n) for n in range(2)]
        settlement.set_funding_account(self.uow, self.programme, FUNDING, ADMIN)

    def teardown(self) -> None:
        self.database.dispose()

    def _attempt(self, name: str, work: Callable[[], T]) -> T | None:
        """Run `work()`; count the outcome; a refusal must be one a random run may meet."""
        try:
            result = work()
        except VoucherError as refused:
            assert refused.code in EXPECTED, refused
            self.seen[f"{name} refused"] += 1
            return None
        self.seen[name] += 1
        return result

    @precondition(lambda self: self.budget_steps < BUDGET_STEPS)
    @rule(amount=st.integers(1, 3 * FACE))
    def fund(self, amount: int) -> None:
        self.budget_steps += 1
        posted = self._attempt(
            "fund",
            lambda: programmes.fund_programme(
                self.uow, self.programme, amount_fen=amount, actor=ADMIN
            ),
        )
        if posted is not None:
            self.budget_moves.append(posted.id)

    @precondition(lambda self: self.budget_steps < BUDGET_STEPS)
    @rule(path=st.sampled_from(BUDGET_PATHS), down=st.booleans(), vouchers=st.integers(1, 3))
    def move_budget(self, path: tuple[str, str], down: bool, vouchers: int) -> None:
        self.budget_steps += 1
        parent, child = path
        move = programmes.allocate if down else programmes.claw_back
        ends = (parent, child) if down else (child, parent)
        posted = self._attempt(
            "allocate" if down else "claw back",
            lambda: move(self.uow, self.programme, BudgetMove(*ends, vouchers * FACE), actor=ADMIN),
        )
        if posted is not None:
            self.budget_moves.append(posted.id)

    @precondition(lambda self: self.budget_moves and self.budget_steps < BUDGET_STEPS)
    @rule(data=st.data())
    def correct_budget_move(self, data: st.DataObject) -> None:
        """Reverse a funding or allocation, as a correction would."""
        move = data.draw(st.sampled_from(self.budget_moves))
        self.budget_steps += 1
        self._attempt("reverse", lambda: ledger.reverse_entry(self.uow, move, ADMIN))

    @precondition(lambda self: len(self.vouchers) < 4)
    @rule(sme=st.integers(0, 2))
    def claim(self, sme: int) -> None:
        voucher = self._attempt(
            "claim",
            lambda: vouchers.claim_voucher(
                self.uow,
                programme_id=self.programme,
                sme_uscc=self.smes[sme],
                actor=ADMIN,
                signer=self.signer,
            ),
        )
        if voucher is not None:
            self.vouchers.append(voucher)

    @precondition(lambda self: self.vouchers)
    @rule(data=st.data(), invoiced=st.integers(1, FACE), provider=st.integers(0, 1))
    def redeem(self, data: st.DataObject, invoiced: int, provider: int) -> None:
        voucher = data.draw(st.sampled_from(self.vouchers))
        self.invoices += 1
        service = Service(
            f"INV-{self.invoices}",
            invoiced,
            local_date(self.clock.now()),
            category="legal",
            description="合同审查",
        )
        redemption = self._attempt(
            "redeem",
            lambda: redemptions.submit_redemption(
                self.uow,
                provider_id=self.providers[provider].id,
                proof=VoucherProof(token=voucher.token),
                service=service,
                actor=PROVIDER,
                public_keys=self.keys,
            ),
        )
        if redemption is not None:
            self.redemptions.append(redemption)
            self.status[redemption.id] = redemption.status

    @precondition(lambda self: self.redemptions)
    @rule(data=st.data(), step=st.sampled_from(list(Step)))
    def review(self, data: st.DataObject, step: Step) -> None:
        """Take a step on a redemption, mostly one whose status allows it (so every step comes
        up)."""
        starts, _ = STEPS[step]
        ready = [c for c in self.redemptions if self.status[c.id] in starts]
        redemption = data.draw(st.sampled_from(ready or self.redemptions))
        today = local_date(self.clock.now())
        invoice = f"INV-R{len(self.redemptions)}-{redemption.id.hex[:6]}"
        service = Service(invoice, FACE // 4, today, category="legal", description="更正")
        actions = {
            Step.CONFIRM: lambda: redemptions.confirm_redemption(self.uow, redemption.id, SME),
            Step.DISPUTE: lambda: redemptions.dispute_redemption(
                self.uow, redemption.id, "no", SME
            ),
            Step.APPROVE: lambda: self._approve(redemption.id),
            Step.REJECT: lambda: redemptions.reject_redemption(
                self.uow, redemption.id, "no", STAFF
            ),
            Step.RESUBMIT: lambda: redemptions.resubmit_redemption(
                self.uow, redemption.id, service, PROVIDER
            ),
        }
        done = self._attempt(str(step), actions[step])
        if done is not None:
            self.status[redemption.id] = done.status

    def _approve(self, redemption_id: uuid.UUID) -> redemptions.RedemptionView:
        approved = redemptions.approve_redemption(self.uow, redemption_id, STAFF)
        self.approved += 1
        return approved

    @precondition(lambda self: self.vouchers and self.days_passed < TIME_STEPS)
    @rule(days=st.sampled_from([1, 2, 8, 8, 95]))
    def time_passes(self, days: int) -> None:
        self.days_passed += 1
        self.clock.advance(timedelta(days=days))
        vouchers.expire_all(self.uow, ADMIN)
        self.seen["time passes"] += 1

    @precondition(lambda self: self.vouchers and self.seen_here["revoke"] < 2)
    @rule(data=st.data())
    def revoke(self, data: st.DataObject) -> None:
        self.seen_here["revoke"] += 1
        voucher = data.draw(st.sampled_from(self.vouchers))
        self._attempt("revoke", lambda: vouchers.revoke_voucher(self.uow, voucher.id, "x", ADMIN))

    @precondition(lambda self: self.approved)
    @rule(in_parts=st.booleans())
    def pay(self, in_parts: bool) -> None:
        """Build and export a batch, and import statements that pay every item in full: in
        one payment, or in two whose split may fall inside a redemption."""
        try:
            batch = settlement.build_batch(self.uow, self.programme, "440305", FINANCE)
        except InvalidInput:
            self.seen["pay: nothing to pay"] += 1
            return
        self.approved = 0
        settlement.export_batch(self.uow, batch.id, FINANCE)
        for part in (0, 1):  # the first payment, then what it left (nothing when whole)
            lines = [
                entry(
                    i.reference,
                    format_amount(amount),
                    bank_ref=f"PAY-{self.statements}-{i.reference}",
                )
                for i in batch.items
                if (amount := _payments(i.amount_fen, in_parts)[part])
            ]
            if lines:
                self.statements += 1
                self._import(camt053(f"S{self.statements}", lines))
        self.paid_items += [item.reference for item in batch.items]
        self.seen["pay"] += 1
        if not self.seen_here["payment returned"]:
            # A run's first payment is returned at once, so every run that pays takes the
            # return path whatever the sample draws next; later returns are drawn at random.
            self._return(self.paid_items[0])

    @precondition(lambda self: self.paid_items)
    @rule(data=st.data())
    def payment_returned(self, data: st.DataObject) -> None:
        self._return(data.draw(st.sampled_from(self.paid_items)))

    def _return(self, reference: str) -> None:
        """The bank sends back the payment of the item with this reference."""
        self.paid_items.remove(reference)
        self.seen_here["payment returned"] += 1
        items = item_amount(self.uow, reference)
        self.statements += 1
        returned = entry(reference, format_amount(items), debit=False, returned=True,
                         bank_ref=f"RET-{self.statements}")  # fmt: skip
        self._import(camt053(f"S{self.statements}", [returned]))
        self.seen["payment returned"] += 1

    def _import(self, content: bytes) -> None:
        reconciliation.import_statement(
            self.uow, filename=f"s{self.statements}.xml", content=content, actor=FINANCE
        )

    @invariant()
    def reports_match_the_replay(self) -> None:
        for center in REPORTED:
            spend_replay.assert_matches_replay(self.uow, reports.spend_report(self.uow, center))
        balances: dict[str, int] = _books(self.uow)["balances"]  # type: ignore[assignment]
        province = reports.spend_report(self.uow, "440000")
        assert province.total.available_fen == sum(
            balance
            for name, balance in balances.items()
            if parse_account(name).kind is AccountKind.AVAILABLE  # every shard of every center
        )

    @invariant()
    def books_hold(self) -> None:
        books = _books(self.uow)
        balances: dict[str, int] = books["balances"]  # type: ignore[assignment]
        assert sum(balances.values()) == 0
        negative = {n: b for n, b in balances.items() if b < 0 and not n.startswith("programme:")}
        assert not negative, negative
        moved: dict[str, int] = books["moved"]  # type: ignore[assignment]
        faces: dict[str, int] = books["faces"]  # type: ignore[assignment]
        for account, paid_out in moved.items():
            assert 0 <= paid_out <= faces[account], (account, paid_out)
        subsidies: dict[tuple[str, str], int] = books["redemptions"]  # type: ignore[assignment]
        for provider in self.providers:
            owner = str(provider.id)

            def balance(kind: str, owner: str = owner) -> int:
                return balances.get(f"provider:{owner}:{self.programme}:{kind}", 0)

            holding = sum(subsidies.get((owner, status), 0) for status in HOLDING)
            assert balance("pending") == holding
            owed = sum(subsidies.get((owner, status), 0) for status in ("approved", "settled"))
            assert balance("payable") + balance("paid") == owed


def _payments(amount_fen: int, in_parts: bool) -> tuple[int, int]:
    """An item paid whole, or half (rounded down) first and the rest second."""
    first = amount_fen // 2 if in_parts else amount_fen
    return first, amount_fen - first


@read_only
def item_amount(uow: UnitOfWork, reference: str) -> int:
    """What the item with this reference pays."""
    amount = uow.session.scalar(
        select(SettlementItem.amount_fen).where(SettlementItem.reference == reference)
    )
    assert amount is not None
    return int(amount)


EXERCISED = {
    "fund",
    "allocate",
    "claw back",
    "reverse",
    "claim",
    "redeem",
    *(str(step) for step in Step),
    "pay",
    "revoke",
    "payment returned",
}


def test_the_life_cycle_keeps_every_invariant(
    databases: Databases,
    voucher_keys: dict[str, Ed25519PublicKey],
    voucher_signer: VoucherSigner,
    backend: str,
) -> None:
    seen: Counter[str] = Counter()
    run_state_machine_as_test(
        lambda: LifecycleMachine(databases, voucher_keys, voucher_signer, seen),  # type: ignore[arg-type]  # a factory works
        settings=settings(
            max_examples=40 if backend == "sqlite" else 15,
            stateful_step_count=40,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
    assert_every_path_taken(seen, EXERCISED)
