"""Redemption (兑付): a provider asks to be paid a voucher's subsidy, the SME confirms or disputes,
the center approves or rejects. Every step moves exactly the redemption's value, every refusal
has its code and changes nothing, and the ledger verifies at the end."""

from __future__ import annotations

import dataclasses
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from threading import Barrier

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from tests import factories
from tests.integration.ledger_state import snapshot
from voucher_app.clock import FrozenClock
from voucher_app.domain import accounts
from voucher_app.domain.accounts import AccountKind
from voucher_app.domain.actors import Actor, Role
from voucher_app.domain.errors import (
    InvalidInput,
    InvalidTransition,
    InvalidVoucherToken,
    ProviderNotApproved,
    VoucherError,
)
from voucher_app.ledger.checkpoints import CheckpointSigner
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.database import Database
from voucher_app.persistence.models import Notification
from voucher_app.persistence.uow import read_only
from voucher_app.services import ledger, programmes, redemptions, vouchers
from voucher_app.services.providers import ProviderView
from voucher_app.services.redemptions import RedemptionView, Service, VoucherProof
from voucher_app.services.vouchers import VoucherSigner, VoucherView
from voucher_app.signing.note import Verifier
from voucher_app.wiring import unit_of_work

ADMIN = factories.ADMIN
PROVIDER = Actor("provider-desk", Role.PROVIDER)
SME = Actor("sme-clerk", Role.SME)
STAFF = Actor("center-reviewer", Role.CENTER_STAFF)
FACE = factories.TERMS.voucher_face_value_fen  # ¥5,000.00; the subsidy rate is 50%
TODAY = date(2026, 3, 2)


@dataclasses.dataclass
class World:
    uow: UnitOfWork
    keys: dict[str, Ed25519PublicKey]
    provider: ProviderView
    voucher: VoucherView
    programme: uuid.UUID

    def submit(
        self,
        invoiced_fen: int = 400_000,
        invoice: str = "INV-001",
        *,
        provider: ProviderView | None = None,
        uow: UnitOfWork | None = None,
        **service: object,
    ) -> RedemptionView:
        return redemptions.submit_redemption(
            uow or self.uow,
            provider_id=(provider or self.provider).id,
            proof=VoucherProof(token=self.voucher.token),
            service=Service(
                invoice_number=invoice,
                invoiced_fen=invoiced_fen,
                delivered_on=TODAY,
                category=str(service.get("category", "accounting_tax")),
                description=str(service.get("description", "年度汇算清缴")),
            ),
            actor=PROVIDER,
            public_keys=self.keys,
        )

    def balance(self, account: accounts.Account) -> int:
        return _balance(self.uow, account.name)

    def provider_account(self, kind: AccountKind, provider: ProviderView | None = None) -> int:
        owner = str((provider or self.provider).id)
        return self.balance(accounts.provider(kind, owner, str(self.programme)))

    @property
    def on_voucher(self) -> int:
        return self.balance(accounts.voucher(str(self.voucher.id)))

    @property
    def district_budget(self) -> int:
        return programmes.available_budget(self.uow, self.programme, "440305")


@read_only
def _balance(uow: UnitOfWork, name: str) -> int:
    return uow.journal.balances([accounts.parse_account(name)])[name]


def build(
    uow: UnitOfWork,
    keys: dict[str, Ed25519PublicKey],
    signer: VoucherSigner,
    **terms: object,
) -> World:
    factories.guangdong(uow)
    programme = factories.voucher_programme(uow, vouchers=3, **terms)
    sme = factories.sme(uow, 1)
    voucher = vouchers.claim_voucher(
        uow, programme_id=programme.id, sme_uscc=sme.uscc, actor=ADMIN, signer=signer
    )
    return World(uow, keys, factories.provider(uow, 1), voucher, programme.id)


@pytest.fixture
def world(
    uow: UnitOfWork, voucher_keys: dict[str, Ed25519PublicKey], voucher_signer: VoucherSigner
) -> World:
    return build(uow, voucher_keys, voucher_signer)


def test_a_submission_moves_half_the_invoice_from_the_voucher_to_pending(world: World) -> None:
    redemption = world.submit(invoiced_fen=400_001)
    assert (redemption.status, redemption.subsidy_fen) == (
        "submitted",
        200_000,
    )  # rounded down to the fen
    assert world.on_voucher == FACE - 200_000
    assert world.provider_account(AccountKind.PENDING) == 200_000
    assert redemption.confirm_by == world.uow.clock.now() + timedelta(days=7)


def test_the_subsidy_never_exceeds_what_the_voucher_has_left(world: World) -> None:
    first = world.submit(invoiced_fen=800_000, invoice="A")  # ¥4,000 of the ¥5,000
    second = world.submit(invoiced_fen=800_000, invoice="B")  # only ¥1,000 left
    assert (first.subsidy_fen, second.subsidy_fen) == (400_000, 100_000)
    assert world.on_voucher == 0
    refused = snapshot(world.uow)
    with pytest.raises(VoucherError) as used_up:
        world.submit(invoiced_fen=800_000, invoice="C")
    assert used_up.value.code == "voucher_not_active"
    assert snapshot(world.uow) == refused


def test_confirm_then_approve_makes_the_subsidy_payable(world: World) -> None:
    redemption = world.submit()
    assert redemptions.confirm_redemption(world.uow, redemption.id, SME).status == "confirmed"
    approved = redemptions.approve_redemption(world.uow, redemption.id, STAFF)
    assert approved.status == "approved"
    assert world.provider_account(AccountKind.PENDING) == 0
    assert world.provider_account(AccountKind.PAYABLE) == 200_000
    history = redemptions.redemption_history(world.uow, redemption.id)
    assert [(h["status"], h["role"]) for h in history] == [
        ("submitted", "provider"),
        ("confirmed", "sme"),
        ("approved", "center_staff"),
    ]


def test_an_unanswered_redemption_waits_for_the_confirmation_window(
    world: World, clock: FrozenClock
) -> None:
    redemption = world.submit()
    with pytest.raises(InvalidTransition, match="until"):
        redemptions.approve_redemption(world.uow, redemption.id, STAFF)
    clock.advance(timedelta(days=7))
    assert redemptions.approve_redemption(world.uow, redemption.id, STAFF).status == "approved"


@pytest.mark.parametrize("step", ["dispute", "reject"])
def test_a_disputed_or_rejected_redemption_puts_the_value_back_and_can_be_corrected(
    world: World, step: str
) -> None:
    redemption = world.submit(invoiced_fen=600_000)
    if step == "dispute":
        undone = redemptions.dispute_redemption(world.uow, redemption.id, "price was ¥5,000", SME)
    else:
        undone = redemptions.reject_redemption(
            world.uow, redemption.id, "invoice unreadable", STAFF
        )
    assert undone.status == {"dispute": "disputed", "reject": "rejected"}[step]
    assert undone.status_reason
    assert world.on_voucher == FACE
    assert world.provider_account(AccountKind.PENDING) == 0
    corrected = redemptions.resubmit_redemption(
        world.uow,
        redemption.id,
        Service("INV-001-R", 500_000, TODAY, category="accounting_tax", description="更正"),
        PROVIDER,
    )
    assert (corrected.status, corrected.subsidy_fen, corrected.invoice_number) == (
        "submitted", 250_000, "INV-001-R",
    )  # fmt: skip
    assert world.on_voucher == FACE - 250_000
    steps = [h["status"] for h in redemptions.redemption_history(world.uow, redemption.id)]
    assert steps == ["submitted", undone.status, "submitted"]


def test_a_step_out_of_order_is_refused_and_changes_nothing(world: World) -> None:
    redemption = world.submit()
    redemptions.confirm_redemption(world.uow, redemption.id, SME)
    before = snapshot(world.uow)
    with pytest.raises(InvalidTransition):
        redemptions.dispute_redemption(world.uow, redemption.id, "too late", SME)
    with pytest.raises(InvalidTransition):
        redemptions.resubmit_redemption(
            world.uow, redemption.id, Service("X", 1_000, TODAY, category="legal", description="x"),
            PROVIDER,
        )  # fmt: skip
    with pytest.raises(InvalidInput, match="say why"):
        redemptions.reject_redemption(world.uow, redemption.id, " ", STAFF)
    assert snapshot(world.uow) == before


def test_without_partial_spending_one_redemption_uses_the_voucher_and_releases_the_rest(
    uow: UnitOfWork, voucher_keys: dict[str, Ed25519PublicKey], voucher_signer: VoucherSigner
) -> None:
    world = build(uow, voucher_keys, voucher_signer, partial_spending=False)
    budget = world.district_budget
    redemption = world.submit(invoiced_fen=600_000)  # ¥3,000 of the ¥5,000
    with pytest.raises(VoucherError) as second:
        world.submit(invoiced_fen=100_000, invoice="B")
    assert second.value.code == "voucher_in_use"
    assert world.district_budget == budget  # nothing released before approval
    redemptions.confirm_redemption(uow, redemption.id, SME)
    redemptions.approve_redemption(uow, redemption.id, STAFF)
    assert world.on_voucher == 0
    assert world.district_budget == budget + FACE - 300_000
    assert vouchers.get_voucher(uow, world.voucher.id).status == "exhausted"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"category": "legal_aid_for_pets"}, "category_not_allowed"),
        ({"category": "", "description": ""}, "invalid_input"),
        ({"invoiced_fen": 1}, "nothing_to_pay"),
        ({"invoiced_fen": 0}, "invalid_amount"),
        ({"invoiced_fen": -5}, "invalid_amount"),
        ({"invoice": " "}, "invalid_input"),
        ({"invoice": "I" * 65}, "invalid_input"),
        ({"description": "d" * 501}, "invalid_input"),
    ],
)
def test_bad_submissions_are_refused_with_their_code_and_post_nothing(
    world: World, change: dict[str, object], code: str
) -> None:
    before = snapshot(world.uow)
    with pytest.raises(VoucherError) as refused:
        world.submit(**change)  # type: ignore[arg-type]
    assert refused.value.code == code
    assert snapshot(world.uow) == before


def test_an_invoice_is_redeemed_once_per_provider(world: World) -> None:
    world.submit(invoiced_fen=100_000, invoice="INV-9")
    with pytest.raises(VoucherError) as again:
        world.submit(invoiced_fen=100_000, invoice="INV-9")
    assert again.value.code == "invoice_reused"
    other = factories.provider(world.uow, 2)
    assert world.submit(invoiced_fen=100_000, invoice="INV-9", provider=other).status == (
        "submitted"
    )


def test_only_an_approved_provider_redeems(world: World) -> None:
    pending = factories.provider(world.uow, 3, approved=False)
    with pytest.raises(ProviderNotApproved):
        world.submit(provider=pending)


def test_a_tampered_token_is_refused(world: World) -> None:
    forged = dataclasses.replace(world, voucher=dataclasses.replace(
        world.voucher, token=world.voucher.token[:-4] + "AAAA"
    ))  # fmt: skip
    with pytest.raises(InvalidVoucherToken):
        forged.submit()


def test_the_human_code_needs_the_smes_one_time_passcode(world: World) -> None:
    def by_code(passcode: str, invoice: str) -> RedemptionView:
        return redemptions.submit_redemption(
            world.uow,
            provider_id=world.provider.id,
            proof=VoucherProof(human_code=world.voucher.human_code.lower(), passcode=passcode),
            service=Service(invoice, 100_000, TODAY, category="legal", description="合同审查"),
            actor=PROVIDER,
            public_keys=world.keys,
        )

    with pytest.raises(VoucherError) as wrong:
        by_code("000000", "P-1")
    assert wrong.value.code == "wrong_passcode"
    passcode = redemptions.new_passcode(world.uow, world.voucher.id).code
    assert by_code(passcode, "P-1").status == "submitted"
    with pytest.raises(VoucherError) as reused:
        by_code(passcode, "P-2")
    assert reused.value.code == "wrong_passcode"


def test_a_voucher_that_expires_while_a_redemption_is_pending_returns_a_rejected_one_to_its_center(
    world: World, clock: FrozenClock
) -> None:
    redemption = world.submit()
    clock.advance(timedelta(days=91))
    vouchers.expire_all(world.uow, ADMIN)
    budget = world.district_budget
    redemptions.reject_redemption(world.uow, redemption.id, "no proof of delivery", STAFF)
    assert world.on_voucher == 0
    assert world.district_budget == budget + redemption.subsidy_fen


def test_the_life_cycle_leaves_a_ledger_that_verifies(
    world: World, signer: CheckpointSigner, verifiers: list[Verifier]
) -> None:
    a = world.submit(invoiced_fen=300_000, invoice="A")
    b = world.submit(invoiced_fen=300_000, invoice="B")
    redemptions.confirm_redemption(world.uow, a.id, SME)
    redemptions.approve_redemption(world.uow, a.id, STAFF)
    redemptions.dispute_redemption(world.uow, b.id, "not delivered", SME)
    ledger.sequence_log(world.uow)
    ledger.sign_checkpoint(world.uow, signer)
    report = ledger.verify_ledger(world.uow, verifiers)
    assert report.ok, report.failure
    assert world.on_voucher + world.provider_account(AccountKind.PAYABLE) == FACE


@read_only
def _outbox(uow: UnitOfWork, prefix: str) -> list[str]:
    keys = uow.session.scalars(select(Notification.dedupe_key).order_by(Notification.id))
    return [key for key in keys if key.startswith(prefix)]


def test_the_sme_is_asked_on_submission_and_reminded_once_before_its_window_closes(
    world: World, clock: FrozenClock
) -> None:
    redemption = world.submit()
    answered = world.submit(invoiced_fen=100_000, invoice="INV-2")
    redemptions.confirm_redemption(world.uow, answered.id, SME)
    assert len(_outbox(world.uow, "redemption-confirm:")) == 2
    assert redemptions.queue_confirmation_reminders(world.uow, timedelta(days=1)) == 0
    clock.advance(timedelta(days=6, hours=1))  # the window closes in 23 hours
    assert redemptions.queue_confirmation_reminders(world.uow, timedelta(days=1)) == 1
    assert redemptions.queue_confirmation_reminders(world.uow, timedelta(days=1)) == 0
    assert _outbox(world.uow, "redemption-remind:") == [
        f"redemption-remind:{redemption.id}:{redemption.submitted_at.isoformat()}"
    ]


@pytest.mark.parametrize(
    "statement",
    ["UPDATE redemption_events SET reason = 'edited'", "DELETE FROM redemption_events"],
)
def test_a_redemptions_history_cannot_be_edited(
    world: World, database: Database, statement: str
) -> None:
    redemption = world.submit()
    redemptions.dispute_redemption(world.uow, redemption.id, "never delivered", SME)
    before = redemptions.redemption_history(world.uow, redemption.id)
    with pytest.raises(DatabaseError, match="append-only"), database.engine.begin() as connection:
        connection.execute(text(statement))
    assert redemptions.redemption_history(world.uow, redemption.id) == before


# --- concurrency ------------------------------------------------------------------------------


def at_once(tasks: list[Callable[[], object]]) -> Counter[str]:
    barrier = Barrier(len(tasks))

    def attempt(task: Callable[[], object]) -> str:
        barrier.wait()
        try:
            task()
        except VoucherError as refused:
            return refused.code
        return "done"

    with ThreadPoolExecutor(len(tasks)) as pool:
        return Counter(pool.map(attempt, tasks))


def test_twenty_submissions_from_two_providers_never_spend_more_than_the_voucher(
    database_url: str,
    clock: FrozenClock,
    voucher_keys: dict[str, Ed25519PublicKey],
    voucher_signer: VoucherSigner,
) -> None:
    database = Database(database_url, pool_size=12)
    try:
        world = build(unit_of_work(database, clock), voucher_keys, voucher_signer)
        second = factories.provider(world.uow, 2)
        tasks: list[Callable[[], object]] = [
            lambda n=n: world.submit(  # type: ignore[misc]
                invoiced_fen=300_000,  # ¥1,500 each: three fit in ¥5,000, the fourth gets ¥500
                invoice=f"R-{n}",
                provider=second if n % 2 else None,
                uow=unit_of_work(database, clock),
            )
            for n in range(20)
        ]
        outcomes = at_once(tasks)
        assert outcomes == Counter({"done": 4, "voucher_not_active": 16})
        pending = world.provider_account(AccountKind.PENDING) + world.provider_account(
            AccountKind.PENDING, second
        )
        assert (pending, world.on_voucher) == (FACE, 0)
    finally:
        database.dispose()


def test_fifty_racing_approvals_and_rejections_of_one_redemption_have_one_winner(
    database_url: str,
    clock: FrozenClock,
    voucher_keys: dict[str, Ed25519PublicKey],
    voucher_signer: VoucherSigner,
) -> None:
    database = Database(database_url, pool_size=30)
    try:
        world = build(unit_of_work(database, clock), voucher_keys, voucher_signer)
        redemption = world.submit()
        redemptions.confirm_redemption(world.uow, redemption.id, SME)
        tasks: list[Callable[[], object]] = [
            (
                lambda: redemptions.approve_redemption(
                    unit_of_work(database, clock), redemption.id, STAFF
                )
            )
            if n % 2
            else (
                lambda: redemptions.reject_redemption(
                    unit_of_work(database, clock), redemption.id, "duplicate", STAFF
                )
            )
            for n in range(50)
        ]
        outcomes = at_once(tasks)
        assert outcomes == Counter({"done": 1, "invalid_transition": 49})
        final = redemptions.get_redemption(world.uow, redemption.id)
        payable = world.provider_account(AccountKind.PAYABLE)
        assert (payable, world.on_voucher) == (
            (redemption.subsidy_fen, FACE - redemption.subsidy_fen)
            if final.status == "approved"
            else (0, FACE)
        )
    finally:
        database.dispose()
