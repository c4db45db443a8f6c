"""Settlement batches: paying providers for approved redemptions.

Finance staff build a batch from the approved redemptions of one programme whose vouchers were
issued in their center's subtree, one item (one payment) per provider. Building marks each
redemption with its item by a conditional update, so two batches built at once never take the same
redemption.
Exporting freezes the batch and gives the files the bank takes: the ISO 20022 `pain.001.001.09`
credit transfer — one payment per provider, the item's reference as end-to-end id, the
programme's funding account as debtor, each creditor's bank by its CNAPS code — a CSV of the
same payments, and a Chinese bank's bulk-transfer (批量转账) sheet. Every provider's bank details
pass the same check as at registration (`domain.bank`), and a refusal names the provider.

Approving and paying are different jobs (不相容职务分离): whoever approved a redemption does not
export the batch that pays it, and a batch over the configured total waits for a second finance
officer's approval (not the one who built it). Cancelling releases the redemptions for another
batch. The ledger moves only when a bank statement proves a payment (`services.reconciliation`).
"""

from __future__ import annotations

import dataclasses
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update

from voucher_app.domain.actors import Actor
from voucher_app.domain.bank import PROVIDER_FIELDS as PROVIDER_BANK_FIELDS
from voucher_app.domain.bank import BankDetails, check_bank_details
from voucher_app.domain.calendar import local_date
from voucher_app.domain.errors import (
    ConcurrentRequest,
    DutiesNotSeparated,
    InvalidBankDetails,
    InvalidInput,
    InvalidTransition,
    SecondApprovalNeeded,
)
from voucher_app.domain.money import format_yuan
from voucher_app.domain.payments import item_reference, item_state, new_batch_reference
from voucher_app.domain.reasons import require_reason
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.models import (
    Center,
    Programme,
    Provider,
    Redemption,
    RedemptionEvent,
    SettlementBatch,
    SettlementItem,
    Voucher,
)
from voucher_app.persistence.uow import read_only, transaction
from voucher_app.services import parties
from voucher_app.services.bank_accounts import register_within
from voucher_app.services.centers import subtree_ids
from voucher_app.services.notice import notice_over
from voucher_app.services.programmes import funding_account
from voucher_app.settlement.pain001 import CreditTransfer, Party, Payment, build_pain001
from voucher_app.settlement.payment_tables import Payee, bulk_transfer_sheet, payments_csv


@dataclass(frozen=True, slots=True)
class ItemView:
    """One provider's payment in a batch: what it owes, what the bank paid and returned."""

    reference: str
    provider_id: uuid.UUID
    provider_name: str
    amount_fen: int
    paid_fen: int
    returned_fen: int
    redemptions: tuple[uuid.UUID, ...]
    settled_fen: int = 0
    state: str = "unpaid"


@dataclass(frozen=True, slots=True)
class BatchView:
    """A payment batch as finance sees it: its items, its state and who made and approved it."""

    id: uuid.UUID
    reference: str
    programme_id: uuid.UUID
    center: str
    status: str
    total_fen: int
    items: tuple[ItemView, ...]
    created_at: datetime
    exported_at: datetime | None
    cancel_reason: str | None
    created_by: str = ""
    approved_by: str | None = None
    debtor_account: str | None = None


@dataclass(frozen=True, slots=True)
class Export:
    """An approved batch as the files a bank takes: pain.001, a CSV and a 批量转账 sheet."""

    batch: BatchView
    pain001: bytes
    csv: bytes  # UTF-8 with a BOM, Chinese headers
    bulk_sheet: bytes  # a bank's 批量转账 sheet, GB18030


@transaction
def set_funding_account(
    uow: UnitOfWork, programme_id: uuid.UUID, account: BankDetails, actor: Actor
) -> BankDetails:
    """Record the account the programme pays providers from (the debtor of its payments), and
    register it as an account of the programme's owner: its statements move these books."""
    programme = uow.programmes.by_public_id(programme_id)
    checked = check_bank_details(account, require_cnaps=False)
    owner = uow.session.get_one(Center, programme.owner_center_id)
    register_within(uow, owner, checked, actor)
    programme.funding_bank_name = checked.bank_name
    programme.funding_bank_bic = checked.bic
    programme.funding_bank_cnaps = checked.cnaps
    programme.funding_account_name = checked.account_name
    programme.funding_account_number = checked.account_number
    return checked


@transaction
def build_batch(
    uow: UnitOfWork, programme_id: uuid.UUID, center_code: str, actor: Actor
) -> BatchView:
    """A draft batch of every approved redemption of the programme not yet in a batch whose voucher
    was issued in the center's subtree and whose public notice is over with no objection open,
    between parties that are not related (`services.parties`); one item per provider."""
    session = uow.session
    programme = uow.programmes.by_public_id(programme_id)
    center = uow.centers.by_code(center_code)
    found = session.execute(
        select(Redemption.id, Redemption.provider_id, Redemption.subsidy_fen, Voucher.sme_id)
        .join(Voucher, Voucher.id == Redemption.voucher_id)
        .where(
            Voucher.programme_id == programme.id,
            Voucher.issuing_center_id.in_(subtree_ids(session, center.id)),
            Redemption.status == "approved",
            Redemption.settlement_item_id.is_(None),
            notice_over(local_date(uow.clock.now())),
        )
        .order_by(Redemption.provider_id, Redemption.id)
    ).all()
    # Found related after approval: left out, for the reviewers to take up.
    related = parties.related_pairs(uow, {(r.sme_id, r.provider_id) for r in found}, programme)
    redemptions = [
        (r.id, r.provider_id, r.subsidy_fen)
        for r in found
        if (r.sme_id, r.provider_id) not in related
    ]
    if not redemptions:
        raise InvalidInput(
            "no approved redemptions are waiting for payment here", field="programme"
        )
    by_provider: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for redemption_id, provider_id, subsidy in redemptions:
        by_provider[provider_id].append((redemption_id, subsidy))
    reference = new_batch_reference()
    batch = SettlementBatch(
        public_id=uuid.uuid4(),
        reference=reference,
        programme_id=programme.id,
        center_id=center.id,
        status="draft",
        total_fen=sum(subsidy for _, _, subsidy in redemptions),
        created_at=uow.clock.now(),
        created_by=actor.id,
    )
    session.add(batch)
    session.flush()
    for number, (provider_id, own) in enumerate(sorted(by_provider.items()), start=1):
        item = SettlementItem(
            batch_id=batch.id,
            provider_id=provider_id,
            reference=item_reference(reference, number),
            amount_fen=sum(subsidy for _, subsidy in own),
            paid_fen=0,
            returned_fen=0,
        )
        session.add(item)
        session.flush()
        ids = [redemption_id for redemption_id, _ in own]
        taken = session.execute(
            update(Redemption)
            .where(
                Redemption.id.in_(ids),
                Redemption.settlement_item_id.is_(None),
                Redemption.held.is_(False),  # rechecked on the row an objection just locked
            )
            .values(settlement_item_id=item.id)
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount != len(ids):  # type: ignore[attr-defined]
            raise ConcurrentRequest("another batch took some of these redemptions")
    return _batch_view(uow, batch)


@transaction
def approve_batch(uow: UnitOfWork, batch_id: uuid.UUID, actor: Actor) -> BatchView:
    """A second finance officer's approval of a draft batch, which a batch over the configured
    total needs before its export: not by whoever built it, nor by whoever approved one of its
    redemptions."""
    batch = uow.batches.by_public_id(batch_id, lock=True)
    if batch.status != "draft":
        raise InvalidTransition(
            f"a {batch.status} batch is not approved for export", status=batch.status
        )
    if actor.id == batch.created_by:
        raise DutiesNotSeparated(
            f"{actor.id} built batch {batch.reference}: another finance officer approves it",
            batch=batch.reference,
        )
    _refuse_approvers(uow, batch, actor)
    batch.approved_by, batch.approved_at = actor.id, uow.clock.now()
    return _batch_view(uow, batch)


@transaction
def export_batch(
    uow: UnitOfWork,
    batch_id: uuid.UUID,
    actor: Actor,
    *,
    second_approval_over_fen: int | None = None,
) -> Export:
    """Freeze a draft batch and give its payment files; an exported batch gives the same files
    again (the treasury may ask twice). A batch whose total is over `second_approval_over_fen`
    is exported only once a second finance officer approved it (`approve_batch`)."""
    batch = uow.batches.by_public_id(batch_id, lock=True)
    _refuse_approvers(uow, batch, actor)
    if batch.status == "draft":
        over = second_approval_over_fen is not None and batch.total_fen > second_approval_over_fen
        if over and batch.approved_by is None:
            raise SecondApprovalNeeded(
                f"batch {batch.reference} pays {format_yuan(batch.total_fen)}, over the "
                f"{format_yuan(second_approval_over_fen or 0)} a second finance officer must "
                "approve first",
                batch=batch.reference,
            )
        batch.status = "exported"
        batch.exported_at = uow.clock.now()
        batch.debtor_account = _funding_account(uow, batch).account_number
    elif batch.status not in {"exported", "partly_paid", "paid"}:
        raise InvalidTransition(f"a {batch.status} batch is not exported", status=batch.status)
    view = _batch_view(uow, batch)
    transfer, payees = _transfer(uow, batch, view)
    return Export(
        view,
        build_pain001(transfer),
        payments_csv(transfer, payees),
        bulk_transfer_sheet(transfer, payees),
    )


def _refuse_approvers(uow: UnitOfWork, batch: SettlementBatch, actor: Actor) -> None:
    """不相容职务分离: nobody pays money they approved."""
    approved = uow.session.scalar(
        select(Redemption.public_id)
        .join(RedemptionEvent, RedemptionEvent.redemption_id == Redemption.id)
        .join(SettlementItem, SettlementItem.id == Redemption.settlement_item_id)
        .where(
            SettlementItem.batch_id == batch.id,
            RedemptionEvent.status == "approved",
            RedemptionEvent.actor_id == actor.id,
        )
        .limit(1)
    )
    if approved is not None:
        raise DutiesNotSeparated(
            f"{actor.id} approved redemption {approved}, which batch {batch.reference} pays: "
            "another finance officer exports it",
            batch=batch.reference,
            redemption=str(approved),
        )


def _funding_account(uow: UnitOfWork, batch: SettlementBatch) -> BankDetails:
    programme = uow.session.get_one(Programme, batch.programme_id)
    account = funding_account(programme)
    if account is None:
        raise InvalidInput(
            "record the programme's funding account before exporting its payments",
            rule="funding_account_missing",
            extra={"programme_name": programme.name},
            field="funding_account",
            programme=str(programme.public_id),
        )
    return account


def _transfer(
    uow: UnitOfWork, batch: SettlementBatch, view: BatchView
) -> tuple[CreditTransfer, dict[str, Payee]]:
    """The batch's credit transfer, and who each payment is for by end-to-end id."""
    session = uow.session
    programme = session.get_one(Programme, batch.programme_id)
    debtor = _funding_account(uow, batch)
    assert batch.exported_at is not None  # set on export
    providers = {
        provider.public_id: provider
        for provider in session.scalars(
            select(Provider).where(Provider.public_id.in_([i.provider_id for i in view.items]))
        )
    }
    payments = []
    payees = {}
    for item in view.items:
        provider = providers[item.provider_id]
        payees[item.reference] = Payee(provider.name, provider.uscc)
        payments.append(
            Payment(
                end_to_end_id=item.reference,
                amount_fen=item.amount_fen,
                creditor=Party.of(_payee_bank_details(provider)),
                remittance=(
                    f"中小企业服务券兑付 {item.reference} ({len(item.redemptions)} redemptions)"
                ),
            )
        )
    transfer = CreditTransfer(
        message_id=batch.reference,
        created_at=batch.exported_at,
        initiating_party=programme.name[:140],
        payment_info_id=batch.reference,
        requested_on=local_date(batch.exported_at),
        debtor=Party.of(
            dataclasses.replace(
                debtor, account_number=batch.debtor_account or debtor.account_number
            )
        ),
        payments=tuple(payments),
    )
    return transfer, payees


def _payee_bank_details(provider: Provider) -> BankDetails:
    """The provider's bank details as a bank needs them, checked by the rules registration
    applies; a refusal names the provider, so finance knows whom to call."""
    details = BankDetails(
        bank_name=provider.bank_name,
        account_name=provider.bank_account_name,
        account_number=provider.bank_account_number,
        cnaps=provider.bank_cnaps,
        bic=provider.bank_bic,
    )
    try:
        return check_bank_details(details, names=PROVIDER_BANK_FIELDS)
    except InvalidBankDetails as refused:
        raise InvalidBankDetails(
            f"provider {provider.name} ({provider.uscc}): {refused.message}",
            rule=refused.rule,
            extra={**refused.params, "provider_name": provider.name},
            field=refused.details.get("field"),
            provider=provider.uscc,
        ) from None


@transaction
def cancel_batch(uow: UnitOfWork, batch_id: uuid.UUID, reason: str, actor: Actor) -> BatchView:
    """Cancel a batch nothing has been paid from; its redemptions wait for the next batch."""
    del actor
    text = require_reason(reason)
    batch = uow.batches.by_public_id(batch_id, lock=True)
    items = list(
        uow.session.scalars(select(SettlementItem).where(SettlementItem.batch_id == batch.id))
    )
    if batch.status not in {"draft", "exported"} or any(
        i.paid_fen or i.returned_fen for i in items
    ):
        raise InvalidTransition(
            f"a {batch.status} batch, or one with payments on a statement, is not cancelled",
            status=batch.status,
        )
    uow.session.execute(
        update(Redemption)
        .where(Redemption.settlement_item_id.in_([i.id for i in items]))
        .values(settlement_item_id=None)
        .execution_options(synchronize_session=False)
    )
    batch.status, batch.cancelled_at, batch.cancel_reason = "cancelled", uow.clock.now(), text
    return _batch_view(uow, batch)


def _batch_view(uow: UnitOfWork, batch: SettlementBatch) -> BatchView:
    session = uow.session
    rows = session.execute(
        select(SettlementItem, Provider.public_id, Provider.name)
        .join(Provider, Provider.id == SettlementItem.provider_id)
        .where(SettlementItem.batch_id == batch.id)
        .order_by(SettlementItem.reference)
    ).all()
    redemptions: dict[int, list[uuid.UUID]] = defaultdict(list)
    for item_id, public_id in session.execute(
        select(Redemption.settlement_item_id, Redemption.public_id)
        .where(Redemption.settlement_item_id.in_([item.id for item, _, _ in rows]))
        .order_by(Redemption.id)
    ):
        if item_id is not None:
            redemptions[item_id].append(public_id)
    return BatchView(
        id=batch.public_id,
        reference=batch.reference,
        programme_id=session.get_one(Programme, batch.programme_id).public_id,
        center=session.get_one(Center, batch.center_id).code,
        status=batch.status,
        total_fen=batch.total_fen,
        items=tuple(
            ItemView(
                reference=item.reference,
                provider_id=provider_id,
                provider_name=name,
                amount_fen=item.amount_fen,
                paid_fen=item.paid_fen,
                returned_fen=item.returned_fen,
                redemptions=tuple(redemptions[item.id]),
                settled_fen=item.settled_fen,
                state=item_state(
                    item.amount_fen,
                    item.paid_fen,
                    item.returned_fen,
                    released=item.released_at is not None,
                ).value,
            )
            for item, provider_id, name in rows
        ),
        created_at=batch.created_at,
        exported_at=batch.exported_at,
        cancel_reason=batch.cancel_reason,
        created_by=batch.created_by,
        approved_by=batch.approved_by,
        debtor_account=batch.debtor_account,
    )


@read_only
def batches_of(uow: UnitOfWork, center_code: str, limit: int = 50) -> list[BatchView]:
    """The batches built by the center or those below it, newest first."""
    session = uow.session
    within = subtree_ids(session, uow.centers.by_code(center_code).id)
    found = session.scalars(
        select(SettlementBatch)
        .where(SettlementBatch.center_id.in_(within))
        .order_by(SettlementBatch.created_at.desc(), SettlementBatch.id.desc())
        .limit(limit)
    )
    return [_batch_view(uow, batch) for batch in found]


@read_only
def get_batch(uow: UnitOfWork, batch_id: uuid.UUID) -> BatchView:
    return _batch_view(uow, uow.batches.by_public_id(batch_id))
