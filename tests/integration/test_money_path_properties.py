"""Property-based: whatever the bank does and however its statements arrive, every yuan out is
traceable to approved redemptions, every yuan back to the redemptions it belongs to, and nothing
is paid twice (DESIGN §4 invariant 6).

A Hypothesis state machine approves redemptions, builds and exports batches, and plays the bank:
it pays items whole, in parts or too much, books a whole batch as one entry (adding up or not),
returns payments in full or in part, refunds overpayments, charges fees — and delivers what
happened as statements covering whole days or the start of the current one, in camt.053 (with
or without the bank's references) or as a Chinese bank's CSV (GB18030, two amount columns or a
借/贷 column), lines in any order, again and again, overlapping, plus a provider's own statement
that must be refused. The model keeps the bank's truth: which transactions happened, which were
delivered, and so what each item was paid and got back.

After every step, against a real database: for each redemption, what the ledger settled equals
its share of the net cash the funding account paid for its item (within what is owed, nothing for
an item whose money all came back) and never exceeds its approved subsidy; no redemption is in two
items that still stand for it; each item's paid and returned amounts are the delivered
transactions'; each batch is paid only while every item is; balances sum to zero and nothing is
negative; the latest statement, sent again in another format and order, changes nothing; and,
whenever the step posted entries, the exported ledger passes `voucher-audit`. A rule also
re-imports any earlier statement, in any format or order, and checks that it changes nothing.
"""

from __future__ import annotations

import random
import tempfile
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

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
from sqlalchemy import select

from tests import factories
from tests.bank_files import DIRECTION_COLUMN, TWO_COLUMNS, BankLine, bank_csv, camt053
from tests.harness import START, Databases, assert_every_path_taken
from tests.integration.ledger_state import snapshot
from tests.integration.test_settlement import FINANCE, FUNDING
from voucher_app.cli.audit import main as voucher_audit
from voucher_app.clock import FrozenClock
from voucher_app.domain.actors import Actor, Role
from voucher_app.domain.calendar import local_date
from voucher_app.domain.errors import ForeignAccount
from voucher_app.domain.redemptions import split_payment
from voucher_app.ledger.checkpoints import CheckpointSigner
from voucher_app.ledger.tables import JournalEntry, JournalPosting, LedgerAccount
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.database import Database
from voucher_app.persistence.models import Redemption, SettlementBatch, SettlementItem
from voucher_app.persistence.uow import read_only
from voucher_app.services import ledger, reconciliation, redemptions, settlement, vouchers
from voucher_app.services.redemptions import Service, VoucherProof
from voucher_app.services.vouchers import VoucherSigner
from voucher_app.settlement.statement_table import ColumnMapping
from voucher_app.signing.note import Verifier
from voucher_app.wiring import unit_of_work

ADMIN = factories.ADMIN
PROVIDER = Actor("provider-desk", Role.PROVIDER)
SME = Actor("sme-clerk", Role.SME)
REVIEWER = Actor("center-reviewer", Role.CENTER_STAFF)
ACCOUNT = FUNDING.account_number
CENTER = "440305"
FORMATS = ("camt", "camt-no-references", "csv-two-columns", "csv-direction")
DAY_ZERO = START.date()


@dataclass(frozen=True)
class Txn:
    """A transaction the bank booked on the funding account."""

    number: int
    day: int
    reference: str | None  # an item's, a batch's, or none (a fee)
    amount: int
    debit: bool
    returned: bool = False
    parts: tuple[str, ...] = ()
    #: What the books should make of it: money for each item (none for fees and for a batch
    #: entry that does not add up).
    pays: tuple[tuple[str, int], ...] = ()

    def line(self, *, references: str | None) -> BankLine:
        return BankLine(
            self.reference,
            self.amount,
            debit=self.debit,
            booked_on=DAY_ZERO.replace(day=DAY_ZERO.day + self.day),
            bank_reference=None if references is None else f"{references}{self.number}",
            returned=self.returned,
            parts=self.parts,
        )


@dataclass
class Item:
    reference: str
    batch: str
    redemptions: list[uuid.UUID]
    subsidies: list[int]
    released: bool = False

    @property
    def amount(self) -> int:
        return sum(self.subsidies)


@dataclass
class Delivery:
    """A statement as it was sent: the transactions it carried, its format and order."""

    transactions: list[Txn]
    form: str
    order: int
    content: bytes = b""
    name: str = ""


@dataclass
class Bank:
    """The bank's truth: what it booked, and what of it the center has seen."""

    booked: list[Txn] = field(default_factory=list)
    delivered: set[int] = field(default_factory=set)
    day: int = 0

    def money(self, reference: str, *, delivered: bool) -> tuple[int, int]:
        """Paid and returned for an item, by the bank's transactions (those delivered)."""
        paid = returned = 0
        for txn in self.booked:
            if delivered and txn.number not in self.delivered:
                continue
            for item, amount in txn.pays:
                if item == reference:
                    paid += amount if txn.debit else 0
                    returned += 0 if txn.debit else amount
        return paid, returned


@read_only
def settled_per_redemption(uow: UnitOfWork) -> dict[str, int]:
    """What the journal settled for each redemption, net of reversals."""
    settled: dict[str, int] = defaultdict(int)
    rows = uow.session.execute(
        select(JournalEntry.refs, JournalPosting.amount_fen)
        .join(JournalPosting, JournalPosting.entry_id == JournalEntry.id)
        .join(LedgerAccount, LedgerAccount.id == JournalPosting.account_id)
        .where(JournalEntry.kind.in_(("settle", "reverse")), LedgerAccount.kind == "paid")
    )
    for refs, amount in rows:  # a reversal takes the paid account's money back out
        if "redemption" in refs:
            settled[refs["redemption"]] += amount
    return dict(settled)


@read_only
def database_items(uow: UnitOfWork) -> dict[str, tuple[int, int, bool, str]]:
    """Each item's paid, returned, released, and its batch's status."""
    return {
        reference: (paid, returned, released is not None, status)
        for reference, paid, returned, released, status in uow.session.execute(
            select(
                SettlementItem.reference,
                SettlementItem.paid_fen,
                SettlementItem.returned_fen,
                SettlementItem.released_at,
                SettlementBatch.status,
            ).join(SettlementBatch, SettlementBatch.id == SettlementItem.batch_id)
        )
    }


@read_only
def redemption_items(uow: UnitOfWork) -> dict[uuid.UUID, str | None]:
    return dict(
        uow.session.execute(
            select(Redemption.public_id, SettlementItem.reference).outerjoin(
                SettlementItem, SettlementItem.id == Redemption.settlement_item_id
            )
        ).all()
    )


class MoneyPath(RuleBasedStateMachine):
    def __init__(
        self,
        databases: Databases,
        keys: dict[str, Ed25519PublicKey],
        signer: VoucherSigner,
        ledger_signer: CheckpointSigner,
        verifiers: list[Verifier],
        seen: Counter[str],
    ) -> None:
        super().__init__()
        self.seen = seen
        self.database = Database(databases.migrated(), pool_size=2)
        self.clock = FrozenClock(START)
        self.uow = unit_of_work(self.database, self.clock)
        self.keys, self.signer = keys, signer
        self.ledger_signer, self.verifiers = ledger_signer, verifiers
        self.bank = Bank()
        self.items: dict[str, Item] = {}
        self.batches: dict[str, list[str]] = {}  # batch reference → its items
        self.subsidy: dict[uuid.UUID, int] = {}
        self.history: dict[uuid.UUID, list[str]] = defaultdict(list)  # redemption → items it was in
        self.waiting: list[uuid.UUID] = []  # approved, not in any item that stands for it
        self.deliveries: list[Delivery] = []
        self.invoices = 0
        self.seen_here: Counter[str] = Counter()  # this run's attempts, to ration some rules
        self.checks = 0  # re-imports made by the invariant, each in another format and order
        self.audited = -1  # how many entries the ledger held at its last audit

    @initialize()
    def set_up(self) -> None:
        factories.guangdong(self.uow)
        self.programme = factories.voucher_programme(self.uow, vouchers=6).id
        self.providers = [factories.provider(self.uow, n) for n in range(3)]
        self.vouchers = [
            vouchers.claim_voucher(
                self.uow,
                programme_id=self.programme,
                sme_uscc=factories.sme(self.uow, n).uscc,
                actor=ADMIN,
                signer=self.signer,
            )
            for n in range(3)
        ]
        settlement.set_funding_account(self.uow, self.programme, FUNDING, ADMIN)
        for name, columns in (("两栏", TWO_COLUMNS), ("借贷", DIRECTION_COLUMN)):
            mapping = ColumnMapping.from_json(columns)
            reconciliation.save_mapping(self.uow, CENTER, name, mapping)

    def teardown(self) -> None:
        try:
            self.the_exported_ledger_passes_the_audit()
        finally:
            self.database.dispose()

    def _audit(self) -> None:
        """The exported ledger passes the outside auditor's checks."""
        ledger.sequence_log(self.uow)
        ledger.sign_checkpoint(self.uow, self.ledger_signer)
        with tempfile.TemporaryDirectory() as folder:
            directory = Path(folder) / "export"
            ledger.export_ledger(self.uow, directory, [v.vkey for v in self.verifiers])
            code = voucher_audit([str(directory), "--vkey", str(directory / "ledger.vkey")])
        assert code == 0

    # --- redemptions and batches ---------------------------------------------------------------

    @precondition(lambda self: self.invoices < 10)
    @rule(provider=st.integers(0, 2), voucher=st.integers(0, 2), invoiced=st.integers(2, 90_001))
    def approve_redemption(self, provider: int, voucher: int, invoiced: int) -> None:
        self.invoices += 1
        service = Service(
            f"INV-{self.invoices}",
            invoiced,
            local_date(self.clock.now()),
            category="legal",
            description="合同审查",
        )
        redemption = redemptions.submit_redemption(
            self.uow,
            provider_id=self.providers[provider].id,
            proof=VoucherProof(token=self.vouchers[voucher].token),
            service=service,
            actor=PROVIDER,
            public_keys=self.keys,
        )
        redemptions.confirm_redemption(self.uow, redemption.id, SME)
        redemptions.approve_redemption(self.uow, redemption.id, REVIEWER)
        self.subsidy[redemption.id] = redemption.subsidy_fen
        self.waiting.append(redemption.id)
        self.seen["approve"] += 1

    @precondition(lambda self: self.waiting)
    @rule()
    def build_and_export(self) -> None:
        batch = settlement.build_batch(self.uow, self.programme, CENTER, FINANCE)
        assert sorted(c for i in batch.items for c in i.redemptions) == sorted(self.waiting)
        settlement.export_batch(self.uow, batch.id, FINANCE)
        self.batches[batch.reference] = []
        for view in batch.items:
            item = Item(
                view.reference,
                batch.reference,
                list(view.redemptions),
                [self.subsidy[c] for c in view.redemptions],
            )
            self.items[item.reference] = item
            self.batches[batch.reference].append(item.reference)
            for redemption in item.redemptions:
                self.history[redemption].append(item.reference)
        self.waiting = []
        self.seen["batch"] += 1

    # --- the bank --------------------------------------------------------------------------------

    def _book(self, reference: str | None, amount: int, *, debit: bool, **more: object) -> None:
        pays = more.pop("pays", ((reference, amount),) if reference in self.items else ())
        txn = Txn(
            len(self.bank.booked),
            self.bank.day,
            reference,
            amount,
            debit,
            pays=pays,  # type: ignore[arg-type]
            **more,  # type: ignore[arg-type]
        )
        self.bank.booked.append(txn)

    def _free(self) -> list[str]:
        """Items the bank may move money for: none waits behind a batch entry not yet seen
        (which pays only what the books know is still owed when it arrives)."""
        frozen = {
            item
            for txn in self.bank.booked
            if txn.reference in self.batches and txn.number not in self.bank.delivered
            for item in self.batches[txn.reference]
        }
        return [reference for reference in self.items if reference not in frozen]  # made order

    @precondition(lambda self: self._free())
    @rule(data=st.data(), how=st.sampled_from(["whole", "half", "over"]))
    def bank_pays(self, data: st.DataObject, how: str) -> None:
        """The bank pays an item what it still owes, half of it, or too much."""
        owing = [reference for reference in self._free() if self._due(reference) > 0]
        if not owing:
            how = "over"
        reference = data.draw(st.sampled_from(self._free() if how == "over" else owing))
        due = self._due(reference)
        self._book(reference, {"whole": due, "half": max(due // 2, 1), "over": due + 1_000}[how],
                   debit=True)  # fmt: skip
        self.seen[f"pay {how}"] += 1

    def _due(self, reference: str) -> int:
        paid, returned = self.bank.money(reference, delivered=False)
        return max(self.items[reference].amount - (paid - returned), 0)

    @precondition(lambda self: self._returnable())
    @rule(data=st.data(), how=st.sampled_from(["all", "part", "excess"]))
    def bank_returns(self, data: st.DataObject, how: str) -> None:
        reference = data.draw(st.sampled_from(self._returnable()))
        paid, returned = self.bank.money(reference, delivered=False)
        net, excess = paid - returned, paid - returned - self.items[reference].amount
        amount = {"all": net, "part": max(net // 3, 1), "excess": excess}[how]
        if amount > 0:
            self._book(reference, amount, debit=False, returned=how != "excess")
            self.seen[f"return {how}"] += 1

    def _returnable(self) -> list[str]:
        return [r for r in self._free() if (m := self.bank.money(r, delivered=False))[0] > m[1]]

    @precondition(lambda self: self._untouched_batches())
    @rule(data=st.data(), adds_up=st.booleans(), named=st.booleans())
    def bank_books_a_batch(self, data: st.DataObject, adds_up: bool, named: bool) -> None:
        """One entry for a whole batch nothing was paid for yet, naming its payments or only
        the batch: it pays each item exactly when its amount is theirs, else it waits for
        review and pays nothing."""
        batch = data.draw(st.sampled_from(self._untouched_batches()))
        items = self.batches[batch]
        total = sum(self.items[r].amount for r in items)
        self._book(
            batch,
            total if adds_up else total + 100,
            debit=True,
            parts=tuple(items) if named else (),
            pays=tuple((r, self.items[r].amount) for r in items) if adds_up else (),
        )
        self.seen["batch booked" if adds_up else "batch booked, wrong total"] += 1

    def _untouched_batches(self) -> list[str]:
        touched = {item for txn in self.bank.booked for item, _ in txn.pays}
        touched |= {txn.reference for txn in self.bank.booked if txn.reference}
        return [
            batch
            for batch, items in self.batches.items()
            if batch not in touched and not touched & set(items)
        ]

    @precondition(lambda self: self.seen_here["fee"] < 2)
    @rule(amount=st.sampled_from([500, 1_500]))
    def bank_charges_a_fee(self, amount: int) -> None:
        self.seen_here["fee"] += 1
        self._book(None, amount, debit=True)
        self.seen["fee"] += 1

    @precondition(lambda self: self.bank.day < 4)
    @rule()
    def next_day(self) -> None:
        self.bank.day += 1
        self.seen["next day"] += 1

    # --- statements --------------------------------------------------------------------------

    @precondition(lambda self: self.bank.booked)
    @rule(days=st.integers(0, 4), form=st.sampled_from(FORMATS), order=st.integers(0, 99))
    def deliver(self, days: int, form: str, order: int) -> None:
        """A statement of the days up to today (today's so far), in some format and order."""
        first = max(self.bank.day - days, 0)
        carried = [txn for txn in self.bank.booked if txn.day >= first]
        if not carried:
            return
        delivery = Delivery(carried, form, order)
        result = self._import(delivery)
        if result.replayed:  # the very file sent before: nothing in it can be new
            assert {txn.number for txn in carried} <= self.bank.delivered
        self.bank.delivered |= {txn.number for txn in carried}
        self._release()
        self.deliveries.append(delivery)
        self.seen[f"deliver {form}"] += 1

    @precondition(lambda self: self.deliveries)
    @rule(data=st.data(), form=st.sampled_from([*FORMATS, "same bytes"]), order=st.integers(0, 99))
    def deliver_again(self, data: st.DataObject, form: str, order: int) -> None:
        """A statement already delivered, sent again: the same bytes, or the same lines in
        another format or order. Nothing changes."""
        earlier = data.draw(st.sampled_from(self.deliveries))
        before = (snapshot(self.uow).balances, database_items(self.uow), redemption_items(self.uow))
        again = earlier if form == "same bytes" else Delivery(earlier.transactions, form, order)
        result = self._import(again)
        assert result.replayed or set(result.outcomes) == {"duplicate"}, result.outcomes
        after = (snapshot(self.uow).balances, database_items(self.uow), redemption_items(self.uow))
        assert after == before
        self.seen["deliver again"] += 1

    @precondition(lambda self: self.bank.booked and not self.seen_here["foreign"])
    @rule()
    def a_providers_own_statement(self) -> None:
        """What arrives in a provider's account is not the programme's books."""
        self.seen_here["foreign"] += 1
        before = snapshot(self.uow)
        lines = [txn.line(references="P") for txn in self.bank.booked if txn.reference]
        own = [BankLine(line.reference, line.amount_fen, debit=not line.debit) for line in lines]
        content = camt053("7440000000000000001", own or [BankLine(None, 100)], statement_id="P")
        try:
            reconciliation.import_statement(
                self.uow, filename="own.xml", content=content, actor=FINANCE, center_code=CENTER
            )
        except ForeignAccount:
            self.seen["foreign account refused"] += 1
        else:
            raise AssertionError("another account's statement moved the books")
        assert snapshot(self.uow) == before

    def _import(self, delivery: Delivery) -> reconciliation.ImportResult:
        if not delivery.content:
            delivery.name = delivery.name or f"S{len(self.deliveries)}-{delivery.order}"
            delivery.content = self._render(delivery)
        suffix = ".xml" if delivery.form.startswith("camt") else ".csv"
        mapping = {"csv-two-columns": "两栏", "csv-direction": "借贷"}.get(delivery.form)
        return reconciliation.import_statement(
            self.uow,
            filename=delivery.name + suffix,
            content=delivery.content,
            actor=FINANCE,
            center_code=CENTER,
            mapping=mapping,
        )

    @staticmethod
    def _render(delivery: Delivery) -> bytes:
        transactions = list(delivery.transactions)
        random.Random(delivery.order).shuffle(transactions)
        if delivery.form.startswith("camt"):
            references = "R" if delivery.form == "camt" else None
            lines = [t.line(references=references) for t in transactions]
            return camt053(ACCOUNT, lines, statement_id=delivery.name)
        layout = "two_columns" if delivery.form == "csv-two-columns" else "direction"
        return bank_csv(
            ACCOUNT,
            [t.line(references="C" if layout == "two_columns" else None) for t in transactions],
            layout=layout,
        )

    def _release(self) -> None:
        """An item whose delivered money all came back lets its redemptions go (and stays so)."""
        for item in self.items.values():
            paid, returned = self.bank.money(item.reference, delivered=True)
            if not item.released and paid > 0 and returned >= paid:
                item.released = True
                self.waiting += item.redemptions

    # --- what must hold ------------------------------------------------------------------------

    def _expected_settled(self) -> dict[str, int]:
        expected: dict[str, int] = defaultdict(int)
        for item in self.items.values():
            paid, returned = self.bank.money(item.reference, delivered=True)
            owed = 0 if item.released else item.amount
            settled = max(0, min(paid - returned, owed))
            for redemption, share in zip(
                item.redemptions, split_payment(item.subsidies, 0, settled), strict=True
            ):
                expected[str(redemption)] += share
        return expected

    @invariant()
    def each_claim_is_settled_by_exactly_its_net_cash(self) -> None:
        settled = settled_per_redemption(self.uow)
        expected = self._expected_settled()
        for redemption, subsidy in self.subsidy.items():
            assert settled.get(str(redemption), 0) == expected.get(str(redemption), 0), redemption
            assert 0 <= settled.get(str(redemption), 0) <= subsidy

    @invariant()
    def each_item_holds_the_delivered_money(self) -> None:
        found = database_items(self.uow)
        for reference, item in self.items.items():
            paid, returned = self.bank.money(reference, delivered=True)
            assert found[reference][:3] == (paid, returned, item.released), reference
        for batch, references in self.batches.items():
            statuses = {found[r][3] for r in references}
            assert len(statuses) == 1
            money = {r: (self.bank.money(r, delivered=True), self.items[r]) for r in references}
            assert statuses.pop() == self._batch_status(references), (batch, money, found)

    def _batch_status(self, references: list[str]) -> str:
        money = [self.bank.money(r, delivered=True) for r in references]
        if all(
            not self.items[r].released and paid - returned >= self.items[r].amount
            for r, (paid, returned) in zip(references, money, strict=True)
        ):
            return "paid"
        return "partly_paid" if any(paid or returned for paid, returned in money) else "exported"

    @invariant()
    def no_claim_is_in_two_standing_items(self) -> None:
        for redemption, items in self.history.items():
            standing = [r for r in items if not self.items[r].released]
            assert len(standing) <= 1, (redemption, standing)
        in_database = redemption_items(self.uow)
        for redemption in self.subsidy:
            standing = [r for r in self.history[redemption] if not self.items[r].released]
            assert in_database[redemption] == (standing[0] if standing else None)

    @invariant()
    def reimporting_the_latest_statement_changes_nothing(self) -> None:
        """The latest statement, sent again in another format and order after whatever step
        came since, is all duplicates and moves nothing."""
        if not self.deliveries:
            return
        self.checks += 1
        latest = self.deliveries[-1]
        form = FORMATS[self.checks % len(FORMATS)]
        again = Delivery(latest.transactions, form, self.checks, name=f"again-{self.checks}")
        before = (snapshot(self.uow), database_items(self.uow), redemption_items(self.uow))
        result = self._import(again)
        assert result.replayed or set(result.outcomes) == {"duplicate"}, result.outcomes
        assert (snapshot(self.uow), database_items(self.uow), redemption_items(self.uow)) == before

    @invariant()
    def the_exported_ledger_passes_the_audit(self) -> None:
        """Whenever a step posted entries, the outside auditor's checks pass on the export."""
        entries = snapshot(self.uow).entries
        if entries != self.audited:
            self._audit()
            self.audited = entries

    @invariant()
    def the_books_balance(self) -> None:
        balances = snapshot(self.uow).balances
        assert sum(balances.values()) == 0
        negative = {n: b for n, b in balances.items() if b < 0 and not n.startswith("programme:")}
        assert not negative, negative


EXERCISED = {
    "approve",
    "batch",
    "pay whole",
    "pay half",
    "pay over",
    "return all",
    "return part",
    "return excess",
    "batch booked",
    "batch booked, wrong total",
    "fee",
    "next day",
    *(f"deliver {form}" for form in FORMATS),
    "deliver again",
    "foreign account refused",
}


def test_money_reaches_providers_exactly_whatever_the_banks_files(
    databases: Databases,
    voucher_keys: dict[str, Ed25519PublicKey],
    voucher_signer: VoucherSigner,
    signer: CheckpointSigner,
    verifiers: list[Verifier],
    backend: str,
) -> None:
    seen: Counter[str] = Counter()
    run_state_machine_as_test(
        lambda: MoneyPath(databases, voucher_keys, voucher_signer, signer, verifiers, seen),  # type: ignore[arg-type]  # a factory works
        settings=settings(
            max_examples=30 if backend == "sqlite" else 12,
            stateful_step_count=40,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
    assert_every_path_taken(seen, EXERCISED)
