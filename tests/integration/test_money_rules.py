"""The money rules no other test held: each test here fails when its rule is taken out of the
service (tests/money_rules.toml names which; `make rules` proves it). A refusal is asserted by
its code, and the field it names where it names one, and by nothing written: no entry, no
balance moved, no redemption, event, batch or statement row."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from threading import Thread
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import func, select

from tests import factories
from tests.bank_files import BankLine, camt053
from tests.faults.deployment import table_locked, waiting_for
from tests.integration.ledger_state import LedgerState, snapshot
from tests.integration.test_redemptions import PROVIDER, SME, STAFF, TODAY, World, at_once, build
from tests.integration.test_settlement import FINANCE, FUNDING, paying, provider_balance
from voucher_app.clock import FrozenClock
from voucher_app.domain.accounts import AccountKind
from voucher_app.domain.actors import Actor, Role
from voucher_app.domain.bank import BankDetails
from voucher_app.domain.errors import VoucherError
from voucher_app.domain.providers import ProviderDecision
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.database import Database
from voucher_app.persistence.models import (
    BankStatement,
    ClaimAllowance,
    Redemption,
    RedemptionEvent,
    SettlementBatch,
    StatementLine,
    Voucher,
)
from voucher_app.persistence.uow import read_only, transaction
from voucher_app.services import (
    bank_accounts,
    providers,
    reconciliation,
    redemptions,
    settlement,
    vouchers,
)
from voucher_app.services.providers import ProviderView
from voucher_app.services.redemptions import RedemptionView, Service, VoucherProof
from voucher_app.services.settlement import BatchView
from voucher_app.services.vouchers import VoucherSigner
from voucher_app.wiring import unit_of_work

__all__ = ["paying"]  # the fixture, shared with the settlement tests

ADMIN = factories.ADMIN
CENTER = "440300"
#: A second account Shenzhen's center holds: registered, but no batch is paid from it.
OTHER_ACCOUNT = BankDetails(
    "中国工商银行深圳分行", "深圳市中小企业服务中心", "4000000000000000002", "102584000002",
)  # fmt: skip


# --- what a refusal must leave as it was ------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Written:
    ledger: LedgerState
    rows: dict[str, int]


@read_only
def _rows(uow: UnitOfWork) -> dict[str, int]:
    counted = (
        Voucher, Redemption, RedemptionEvent, SettlementBatch, BankStatement, StatementLine,
    )  # fmt: skip
    rows = {
        model.__name__: uow.session.scalar(select(func.count()).select_from(model)) or 0
        for model in counted
    }
    rows["claimed_fen"] = uow.session.scalar(select(func.sum(ClaimAllowance.claimed_fen))) or 0
    return rows


def written(uow: UnitOfWork) -> Written:
    return Written(snapshot(uow), _rows(uow))


def refused(uow: UnitOfWork, attempt: Callable[[], object]) -> VoucherError:
    """The refusal `attempt` ends in, having checked it wrote nothing."""
    before = written(uow)
    with pytest.raises(VoucherError) as raised:
        attempt()
    assert written(uow) == before
    return raised.value


# --- vouchers -----------------------------------------------------------------------------------


@pytest.fixture
def world(
    uow: UnitOfWork, voucher_keys: dict[str, Ed25519PublicKey], voucher_signer: VoucherSigner
) -> World:
    return build(uow, voucher_keys, voucher_signer)


def by_code(
    world: World, passcode: str, invoice: str = "P-1", uow: UnitOfWork | None = None
) -> RedemptionView:
    """A redemption shown by the voucher's human code and the SME's passcode (no token)."""
    return redemptions.submit_redemption(
        uow or world.uow,
        provider_id=world.provider.id,
        proof=VoucherProof(human_code=world.voucher.human_code, passcode=passcode),
        service=Service(invoice, 300_000, TODAY, category="legal", description="合同审查"),
        actor=PROVIDER,
        public_keys=world.keys,
    )


def test_a_revoked_voucher_is_not_redeemed(world: World) -> None:
    vouchers.revoke_voucher(world.uow, world.voucher.id, "issued to the wrong SME", ADMIN)
    refusal = refused(world.uow, world.submit)
    assert (refusal.code, refusal.details["status"]) == ("voucher_not_active", "revoked")


def test_a_voucher_past_its_date_is_not_redeemed_before_the_expiry_job_runs(
    world: World, clock: FrozenClock
) -> None:
    clock.advance(timedelta(days=90, seconds=1))  # the token has expired too: show the code
    passcode = redemptions.new_passcode(world.uow, world.voucher.id).code
    refusal = refused(world.uow, lambda: by_code(world, passcode))
    assert (refusal.code, refusal.details["status"]) == ("voucher_not_active", "expired")


def test_a_voucher_pays_only_for_its_programmes_categories(
    uow: UnitOfWork, voucher_keys: dict[str, Ed25519PublicKey], voucher_signer: VoucherSigner
) -> None:
    world = build(uow, voucher_keys, voucher_signer)
    trainer = factories.provider(uow, 5, categories=("legal", "training"))
    refusal = refused(uow, lambda: world.submit(provider=trainer, category="training"))
    assert (refusal.code, refusal.details["category"]) == ("category_not_allowed", "training")


def test_a_bulk_key_used_for_another_smes_claim_is_refused(
    uow: UnitOfWork, voucher_signer: VoucherSigner
) -> None:
    factories.guangdong(uow)
    programme = factories.voucher_programme(uow, vouchers=3)
    first, second = factories.sme(uow, 1), factories.sme(uow, 2)
    claim_many = transaction(vouchers.claim_many_within)
    claim_many(
        uow, programme_id=programme.id, keys={first.uscc: "row-1"}, actor=ADMIN,
        signer=voucher_signer,
    )  # fmt: skip
    refusal = refused(
        uow,
        lambda: claim_many(
            uow,
            programme_id=programme.id,
            keys={second.uscc: "row-1"},
            actor=ADMIN,
            signer=voucher_signer,
        ),
    )
    assert (refusal.code, refusal.details["key"]) == ("idempotency_key_reused", "row-1")


def test_a_voucher_revoked_from_eight_threads_at_once_frees_its_cap_once(
    database_url: str,
    clock: FrozenClock,
    voucher_keys: dict[str, Ed25519PublicKey],
    voucher_signer: VoucherSigner,
) -> None:
    database = Database(database_url, pool_size=10)
    try:
        world = build(unit_of_work(database, clock), voucher_keys, voucher_signer)
        budget = world.district_budget
        outcomes = at_once(
            [
                lambda: vouchers.revoke_voucher(
                    unit_of_work(database, clock), world.voucher.id, "issued twice", ADMIN
                )
                for _ in range(8)
            ]
        )
        assert outcomes == Counter({"done": 1, "invalid_transition": 7})
        assert world.district_budget == budget + factories.TERMS.voucher_face_value_fen
        assert _rows(world.uow)["claimed_fen"] == 0
    finally:
        database.dispose()


# --- redemptions --------------------------------------------------------------------------------


def test_a_passcode_past_its_fifteen_minutes_is_refused(world: World, clock: FrozenClock) -> None:
    passcode = redemptions.new_passcode(world.uow, world.voucher.id).code
    clock.advance(timedelta(minutes=15))
    refusal = refused(world.uow, lambda: by_code(world, passcode))
    assert (refusal.code, refusal.details["field"]) == ("wrong_passcode", "passcode")


def test_a_suspended_provider_does_not_resubmit_a_redemption(world: World) -> None:
    redemption = world.submit()
    redemptions.dispute_redemption(world.uow, redemption.id, "not delivered", SME)
    providers.decide_provider(
        world.uow, world.provider.id, ProviderDecision.SUSPEND, ADMIN, "complaints"
    )
    correction = Service("INV-001-R", 300_000, TODAY, category="legal", description="更正")
    refusal = refused(
        world.uow,
        lambda: redemptions.resubmit_redemption(world.uow, redemption.id, correction, PROVIDER),
    )
    assert refusal.code == "provider_not_approved"


def test_a_provider_redeems_only_in_its_own_categories(world: World) -> None:
    lawyers = factories.provider(world.uow, 4, categories=("legal",))
    refusal = refused(world.uow, lambda: world.submit(provider=lawyers, category="accounting_tax"))
    assert (refusal.code, refusal.details["category"]) == ("category_not_allowed", "accounting_tax")


@pytest.mark.parametrize("days", [-1, 1], ids=["before-the-voucher", "tomorrow"])
def test_a_service_delivered_before_the_voucher_or_in_the_future_is_refused(
    world: World, days: int
) -> None:
    service = Service(
        "INV-D", 300_000, TODAY + timedelta(days=days), category="legal", description="合同审查"
    )

    def submit() -> RedemptionView:
        return redemptions.submit_redemption(
            world.uow,
            provider_id=world.provider.id,
            proof=VoucherProof(token=world.voucher.token),
            service=service,
            actor=PROVIDER,
            public_keys=world.keys,
        )

    refusal = refused(world.uow, submit)
    assert (refusal.code, refusal.details["field"]) == ("invalid_input", "delivered_on")


def test_a_redemption_rejected_after_its_dispute_returns_its_value_once(world: World) -> None:
    redemption = world.submit(invoiced_fen=600_000)
    redemptions.dispute_redemption(world.uow, redemption.id, "price was wrong", SME)
    assert world.on_voucher == factories.TERMS.voucher_face_value_fen
    budget = world.district_budget
    rejected = redemptions.reject_redemption(world.uow, redemption.id, "no correction came", STAFF)
    assert rejected.status == "rejected"
    assert world.on_voucher == factories.TERMS.voucher_face_value_fen
    assert world.provider_account(AccountKind.PENDING) == 0
    assert world.district_budget == budget


def test_human_code_submissions_at_once_never_spend_more_than_the_voucher(
    database_url: str,
    clock: FrozenClock,
    voucher_keys: dict[str, Ed25519PublicKey],
    voucher_signer: VoucherSigner,
) -> None:
    database = Database(database_url, pool_size=12)
    try:
        world = build(unit_of_work(database, clock), voucher_keys, voucher_signer)
        passcodes = [redemptions.new_passcode(world.uow, world.voucher.id).code for _ in range(10)]
        outcomes = at_once(
            [
                lambda n=n, code=code: by_code(  # type: ignore[misc]
                    world, code, f"H-{n}", unit_of_work(database, clock)
                )
                for n, code in enumerate(passcodes)
            ]
        )  # ¥1,500 each: three fit in ¥5,000, the fourth gets the last ¥500
        assert outcomes == Counter({"done": 4, "voucher_not_active": 6})
        assert (world.provider_account(AccountKind.PENDING), world.on_voucher) == (
            factories.TERMS.voucher_face_value_fen,
            0,
        )
    finally:
        database.dispose()


def test_a_redemption_resubmitted_from_eight_threads_at_once_is_resubmitted_once(
    database_url: str,
    clock: FrozenClock,
    voucher_keys: dict[str, Ed25519PublicKey],
    voucher_signer: VoucherSigner,
) -> None:
    database = Database(database_url, pool_size=10)
    try:
        world = build(unit_of_work(database, clock), voucher_keys, voucher_signer)
        redemption = world.submit(invoiced_fen=600_000)
        redemptions.dispute_redemption(world.uow, redemption.id, "price was wrong", SME)
        correction = Service("INV-R", 500_000, TODAY, category="legal", description="更正")
        outcomes = at_once(
            [
                lambda: redemptions.resubmit_redemption(
                    unit_of_work(database, clock), redemption.id, correction, PROVIDER
                )
                for _ in range(8)
            ]
        )
        assert outcomes == Counter({"done": 1, "invalid_transition": 7})
        face = factories.TERMS.voucher_face_value_fen
        assert (world.provider_account(AccountKind.PENDING), world.on_voucher) == (
            250_000,
            face - 250_000,
        )
    finally:
        database.dispose()


# --- settlement ---------------------------------------------------------------------------------


def test_a_batch_pays_only_the_redemptions_of_its_programme(
    uow: UnitOfWork, voucher_keys: dict[str, Ed25519PublicKey], voucher_signer: VoucherSigner
) -> None:
    world = build(uow, voucher_keys, voucher_signer)
    other = factories.voucher_programme(uow, vouchers=1, name="另一期服务券 Another round")
    voucher = vouchers.claim_voucher(
        uow, programme_id=other.id, sme_uscc=factories.uscc(1), actor=ADMIN,
        signer=voucher_signer,
    )  # fmt: skip
    for each, invoice in ((world, "MINE"), (dataclasses.replace(world, voucher=voucher), "OTHER")):
        redemption = each.submit(200_000, invoice)
        redemptions.confirm_redemption(uow, redemption.id, SME)
        redemptions.approve_redemption(uow, redemption.id, STAFF)
    batch = settlement.build_batch(uow, world.programme, CENTER, FINANCE)
    assert (batch.total_fen, [len(item.redemptions) for item in batch.items]) == (100_000, [1])


def exported(world: World) -> BatchView:
    batch = settlement.build_batch(world.uow, world.programme, CENTER, FINANCE)
    return settlement.export_batch(world.uow, batch.id, FINANCE).batch


def test_only_a_draft_batch_is_approved(paying: tuple[World, ProviderView]) -> None:
    world, _ = paying
    batch = exported(world)
    checker = Actor("finance-checker", Role.CENTER_FINANCE)
    refusal = refused(world.uow, lambda: settlement.approve_batch(world.uow, batch.id, checker))
    assert (refusal.code, refusal.details["status"]) == ("invalid_transition", "exported")


def test_a_cancelled_batch_is_not_exported(paying: tuple[World, ProviderView]) -> None:
    world, _ = paying
    batch = settlement.build_batch(world.uow, world.programme, CENTER, FINANCE)
    settlement.cancel_batch(world.uow, batch.id, "built by mistake", FINANCE)
    refusal = refused(world.uow, lambda: settlement.export_batch(world.uow, batch.id, FINANCE))
    assert (refusal.code, refusal.details["status"]) == ("invalid_transition", "cancelled")
    assert settlement.get_batch(world.uow, batch.id).exported_at is None


# --- reconciliation -----------------------------------------------------------------------------


def import_camt(
    world: World, lines: list[BankLine], name: str, *, account: str = FUNDING.account_number,
    center: str | None = CENTER,
) -> reconciliation.ImportResult:  # fmt: skip
    return reconciliation.import_statement(
        world.uow,
        filename=f"{name}.xml",
        content=camt053(account, lines, statement_id=name),
        actor=FINANCE,
        center_code=center,
    )


def paid_and_payable(world: World, second: ProviderView) -> dict[str, Any]:
    return {
        kind.value: [
            provider_balance(world.uow, kind, provider, world.programme)
            for provider in (world.provider, second)
        ]
        for kind in (AccountKind.PAYABLE, AccountKind.PAID)
    }


def test_a_center_importing_another_centers_batch_entry_is_refused_whole(
    paying: tuple[World, ProviderView],
) -> None:
    world, _ = paying
    batch = exported(world)  # Shenzhen's (440300)
    line = BankLine(batch.reference, batch.total_fen)  # booked as one entry, by batch reference
    refusal = refused(world.uow, lambda: import_camt(world, [line], "gz", center="440100"))
    assert (refusal.code, refusal.details["reference"]) == ("outside_center", batch.reference)


def test_a_statement_of_another_registered_account_does_not_pay_the_batch(
    paying: tuple[World, ProviderView],
) -> None:
    world, second = paying
    batch = exported(world)  # to be paid from the funding account
    bank_accounts.register_account(world.uow, CENTER, OTHER_ACCOUNT, ADMIN)
    before = paid_and_payable(world, second)
    first = batch.items[0]
    lines = [
        BankLine(first.reference, first.amount_fen, bank_reference="OTHER-1"),
        BankLine(
            batch.reference,
            batch.total_fen,
            bank_reference="OTHER-2",
            parts=tuple(item.reference for item in batch.items),
        ),
    ]
    result = import_camt(world, lines, "other", account=OTHER_ACCOUNT.account_number)
    assert result.outcomes == {"unmatched": 1, "review": 1}
    assert paid_and_payable(world, second) == before
    assert settlement.get_batch(world.uow, batch.id).status == "exported"


def test_a_statement_does_not_pay_a_cancelled_batch(paying: tuple[World, ProviderView]) -> None:
    world, second = paying
    batch = exported(world)
    settlement.cancel_batch(world.uow, batch.id, "wrong bank details", FINANCE)
    before = paid_and_payable(world, second)
    first = batch.items[0]
    result = import_camt(world, [BankLine(first.reference, first.amount_fen)], "late")
    assert result.outcomes == {"unmatched": 1}
    assert paid_and_payable(world, second) == before
    assert settlement.get_batch(world.uow, batch.id).status == "cancelled"


@pytest.mark.postgres_only  # row locks; SQLite runs one writer at a time
def test_a_batch_cancelled_while_a_statement_pays_it_waits_and_is_refused(
    paying: tuple[World, ProviderView], database: Database, database_url: str, clock: FrozenClock
) -> None:
    """The import has locked the items it pays and is held before it stores the statement; a
    cancel of their batch then waits for it, and is refused once it sees the payment. Without
    the wait, the cancel freed the redemptions and the import then marked the batch paid: the next
    batch would have paid them again."""
    world, _ = paying
    batch = exported(world)
    first = batch.items[0]
    content = camt053(FUNDING.account_number, [BankLine(first.reference, first.amount_fen)])
    outcome: dict[str, str] = {}

    def pay() -> None:
        result = reconciliation.import_statement(
            unit_of_work(database, clock),
            filename="race.xml",
            content=content,
            actor=FINANCE,
            center_code=CENTER,
        )
        outcome["import"] = ",".join(sorted(result.outcomes))

    def cancel() -> None:
        try:
            settlement.cancel_batch(unit_of_work(database, clock), batch.id, "wrong bank", FINANCE)
            outcome["cancel"] = "cancelled"
        except VoucherError as refused:
            outcome["cancel"] = refused.code

    paying_thread, cancelling_thread = Thread(target=pay), Thread(target=cancel)
    with table_locked(database_url, "bank_statements", "EXCLUSIVE"):
        paying_thread.start()
        waiting_for(database_url, "bank_statements", 1)  # items locked, the statement not stored
        cancelling_thread.start()
        cancelling_thread.join(timeout=2)  # a cancel that does not wait ends here
    paying_thread.join(timeout=30)
    cancelling_thread.join(timeout=30)
    assert outcome == {"import": "paid", "cancel": "invalid_transition"}
    assert settlement.get_batch(world.uow, batch.id).status == "partly_paid"
    assert None not in _batched_approved_redemptions(world.uow)  # none is free to be paid again


@read_only
def _batched_approved_redemptions(uow: UnitOfWork) -> set[int | None]:
    """The settlement item of each approved redemption (None: free for the next batch)."""
    query = select(Redemption.settlement_item_id).where(Redemption.status == "approved")
    return set(uow.session.scalars(query))


def test_a_credit_booked_for_a_whole_batch_pays_nothing(
    paying: tuple[World, ProviderView],
) -> None:
    world, second = paying
    batch = exported(world)
    before = paid_and_payable(world, second)
    references = tuple(item.reference for item in batch.items)
    credit = BankLine(batch.reference, batch.total_fen, debit=False, parts=references)
    result = import_camt(world, [credit], "credit")
    assert result.outcomes == {"review": 1}
    assert paid_and_payable(world, second) == before


def test_a_payment_returned_for_one_item_leaves_the_others_settled(
    paying: tuple[World, ProviderView],
) -> None:
    world, second = paying
    batch = exported(world)
    import_camt(world, [BankLine(i.reference, i.amount_fen) for i in batch.items], "s1")
    assert paid_and_payable(world, second) == {"payable": [0, 0], "paid": [150_000, 75_000]}
    back = BankLine(batch.items[0].reference, 150_000, debit=False, returned=True)
    import_camt(world, [back], "s2")
    assert paid_and_payable(world, second) == {"payable": [150_000, 0], "paid": [0, 75_000]}


def test_a_second_return_reverses_only_the_settlements_still_standing(
    paying: tuple[World, ProviderView],
) -> None:
    world, second = paying
    batch = exported(world)
    first = batch.items[0].reference  # ¥1,500 owed: redemptions of ¥1,000 and ¥500
    pay_back_pay_back = [
        BankLine(first, 60_000, bank_reference="PAY-1"),
        BankLine(first, 90_000, bank_reference="PAY-2"),
        BankLine(first, 90_000, debit=False, returned=True, bank_reference="RET-2"),
        BankLine(first, 90_000, bank_reference="PAY-3"),
        BankLine(first, 90_000, debit=False, returned=True, bank_reference="RET-3"),
    ]
    for number, line in enumerate(pay_back_pay_back):
        import_camt(world, [line], f"s{number}")
    assert paid_and_payable(world, second) == {"payable": [90_000, 75_000], "paid": [60_000, 0]}
