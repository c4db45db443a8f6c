"""Settlement batches: paying providers for approved claims.

Center staff build a batch from the approved claims of one programme whose vouchers were issued
in their center's subtree, one item (one payment) per provider. Building marks each claim with
its item by a conditional update, so two batches built at once never take the same claim.
Exporting freezes the batch and gives the ISO 20022 `pain.001.001.09` credit-transfer file —
one payment per provider, the item's reference as end-to-end id, the programme's funding
account as debtor — and a CSV of the same payments for treasury systems that do not read XML.
Cancelling releases the claims for another batch. The ledger moves only when a bank statement
proves a payment (`services.reconciliation`).
"""

from __future__ import annotations

import csv
import io
import secrets
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update

from voucher_app.domain.actors import Actor
from voucher_app.domain.calendar import local_date
from voucher_app.domain.errors import ConcurrentRequest, InvalidInput, InvalidTransition, NotFound
from voucher_app.domain.money import format_amount
from voucher_app.domain.reasons import require_reason
from voucher_app.persistence.models import (
    Center,
    Programme,
    Provider,
    Redemption,
    SettlementBatch,
    SettlementItem,
    Voucher,
)
from voucher_app.persistence.uow import UnitOfWork, read_only, transaction
from voucher_app.services.centers import center_by_code, subtree_ids
from voucher_app.services.programmes import programme_by_id
from voucher_app.settlement.pain001 import CreditTransfer, Party, Payment, build_pain001

REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U
REFERENCE_LENGTH = 8
CSV_COLUMNS = (
    "end_to_end_id",
    "provider",
    "provider_uscc",
    "bank_name",
    "bank_bic",
    "account_name",
    "account_number",
    "amount_cny",
    "currency",
    "remittance",
)


class UnknownBatch(NotFound):
    code = "unknown_batch"


@dataclass(frozen=True, slots=True)
class BankAccount:
    bank_name: str
    account_name: str
    account_number: str
    bic: str | None = None


@dataclass(frozen=True, slots=True)
class ItemView:
    reference: str
    provider_id: uuid.UUID
    provider_name: str
    amount_fen: int
    paid_fen: int
    returned_fen: int
    claims: tuple[uuid.UUID, ...]


@dataclass(frozen=True, slots=True)
class BatchView:
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


@dataclass(frozen=True, slots=True)
class Export:
    batch: BatchView
    pain001: bytes
    csv: str


@transaction
def set_funding_account(
    uow: UnitOfWork, programme_id: uuid.UUID, account: BankAccount, actor: Actor
) -> None:
    """Record the account the programme pays providers from (the debtor of its payments)."""
    del actor  # who may do this is the access policy's concern; the change has no ledger entry
    programme = programme_by_id(uow.session, programme_id)
    for field in ("bank_name", "account_name", "account_number"):
        if not getattr(account, field).strip():
            raise InvalidInput(f"the funding account needs its {field}", field=field)
    programme.funding_bank_name = account.bank_name.strip()
    programme.funding_bank_bic = account.bic
    programme.funding_account_name = account.account_name.strip()
    programme.funding_account_number = account.account_number.strip()


@transaction
def build_batch(
    uow: UnitOfWork, programme_id: uuid.UUID, center_code: str, actor: Actor
) -> BatchView:
    """A draft batch of every approved claim of the programme not yet in a batch whose voucher
    was issued in the center's subtree; one item per provider."""
    session = uow.session
    programme = programme_by_id(session, programme_id)
    center = center_by_code(session, center_code)
    claims = session.execute(
        select(Redemption.id, Redemption.provider_id, Redemption.subsidy_fen)
        .join(Voucher, Voucher.id == Redemption.voucher_id)
        .where(
            Voucher.programme_id == programme.id,
            Voucher.issuing_center_id.in_(subtree_ids(session, center.id)),
            Redemption.status == "approved",
            Redemption.settlement_item_id.is_(None),
        )
        .order_by(Redemption.provider_id, Redemption.id)
    ).all()
    if not claims:
        raise InvalidInput("no approved claims are waiting for payment here", field="programme")
    by_provider: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for claim_id, provider_id, subsidy in claims:
        by_provider[provider_id].append((claim_id, subsidy))
    reference = _new_reference()
    batch = SettlementBatch(
        public_id=uuid.uuid4(),
        reference=reference,
        programme_id=programme.id,
        center_id=center.id,
        status="draft",
        total_fen=sum(subsidy for _, _, subsidy in claims),
        created_at=uow.clock.now(),
        created_by=actor.id,
    )
    session.add(batch)
    session.flush()
    for number, (provider_id, own) in enumerate(sorted(by_provider.items()), start=1):
        item = SettlementItem(
            batch_id=batch.id,
            provider_id=provider_id,
            reference=f"{reference}-{number:04d}",
            amount_fen=sum(subsidy for _, subsidy in own),
            paid_fen=0,
            returned_fen=0,
        )
        session.add(item)
        session.flush()
        ids = [claim_id for claim_id, _ in own]
        taken = session.execute(
            update(Redemption)
            .where(Redemption.id.in_(ids), Redemption.settlement_item_id.is_(None))
            .values(settlement_item_id=item.id)
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount != len(ids):  # type: ignore[attr-defined]
            raise ConcurrentRequest("another batch took some of these claims")
    return _view(uow, batch)


def _new_reference() -> str:
    return "B" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))


@transaction
def export_batch(uow: UnitOfWork, batch_id: uuid.UUID, actor: Actor) -> Export:
    """Freeze a draft batch and give its payment files; an exported batch gives the same files
    again (the treasury may ask twice)."""
    del actor
    batch = batch_row(uow, batch_id, lock=True)
    if batch.status == "draft":
        batch.status = "exported"
        batch.exported_at = uow.clock.now()
    elif batch.status not in {"exported", "paid"}:
        raise InvalidTransition(f"a {batch.status} batch is not exported", status=batch.status)
    view = _view(uow, batch)
    transfer, usccs = _transfer(uow, batch, view)
    return Export(view, build_pain001(transfer), _csv(transfer, usccs))


def _transfer(
    uow: UnitOfWork, batch: SettlementBatch, view: BatchView
) -> tuple[CreditTransfer, dict[str, str]]:
    """The batch's credit transfer, and each payment's provider code by end-to-end id."""
    session = uow.session
    programme = session.get_one(Programme, batch.programme_id)
    if not (programme.funding_account_number and programme.funding_account_name):
        raise InvalidInput(
            "record the programme's funding account before exporting its payments",
            field="funding_account",
        )
    assert batch.exported_at is not None  # set on export
    providers = {
        provider.public_id: provider
        for provider in session.scalars(
            select(Provider).where(Provider.public_id.in_([i.provider_id for i in view.items]))
        )
    }
    payments = []
    usccs = {}
    for item in view.items:
        provider = providers[item.provider_id]
        usccs[item.reference] = provider.uscc
        payments.append(
            Payment(
                end_to_end_id=item.reference,
                amount_fen=item.amount_fen,
                creditor=Party(
                    name=provider.bank_account_name,
                    account=provider.bank_account_number,
                    bank_name=provider.bank_name,
                    bic=provider.bank_bic,
                ),
                remittance=f"中小企业服务券兑付 {item.reference} ({len(item.claims)} claims)",
            )
        )
    transfer = CreditTransfer(
        message_id=batch.reference,
        created_at=batch.exported_at,
        initiating_party=programme.name[:140],
        payment_info_id=batch.reference,
        requested_on=local_date(batch.exported_at),
        debtor=Party(
            name=programme.funding_account_name,
            account=programme.funding_account_number,
            bank_name=programme.funding_bank_name or "",
            bic=programme.funding_bank_bic,
        ),
        payments=tuple(payments),
    )
    return transfer, usccs


def _csv(transfer: CreditTransfer, usccs: dict[str, str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for payment in transfer.payments:
        creditor = payment.creditor
        writer.writerow(
            [
                payment.end_to_end_id,
                creditor.name,
                usccs[payment.end_to_end_id],
                creditor.bank_name,
                creditor.bic or "",
                creditor.name,
                creditor.account,
                format_amount(payment.amount_fen),
                "CNY",
                payment.remittance,
            ]
        )
    return out.getvalue()


@transaction
def cancel_batch(uow: UnitOfWork, batch_id: uuid.UUID, reason: str, actor: Actor) -> BatchView:
    """Cancel a batch nothing has been paid from; its claims wait for the next batch."""
    del actor
    text = require_reason(reason)
    batch = batch_row(uow, batch_id, lock=True)
    items = list(
        uow.session.scalars(select(SettlementItem).where(SettlementItem.batch_id == batch.id))
    )
    if batch.status not in {"draft", "exported"} or any(i.paid_fen for i in items):
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
    return _view(uow, batch)


def batch_row(uow: UnitOfWork, batch_id: uuid.UUID, *, lock: bool = False) -> SettlementBatch:
    query = select(SettlementBatch).where(SettlementBatch.public_id == batch_id)
    batch = uow.session.scalar(query.with_for_update() if lock else query)
    if batch is None:
        raise UnknownBatch(f"no settlement batch {batch_id}", batch=str(batch_id))
    return batch


def _view(uow: UnitOfWork, batch: SettlementBatch) -> BatchView:
    session = uow.session
    rows = session.execute(
        select(SettlementItem, Provider.public_id, Provider.name)
        .join(Provider, Provider.id == SettlementItem.provider_id)
        .where(SettlementItem.batch_id == batch.id)
        .order_by(SettlementItem.reference)
    ).all()
    claims: dict[int, list[uuid.UUID]] = defaultdict(list)
    for item_id, public_id in session.execute(
        select(Redemption.settlement_item_id, Redemption.public_id)
        .where(Redemption.settlement_item_id.in_([item.id for item, _, _ in rows]))
        .order_by(Redemption.id)
    ):
        if item_id is not None:
            claims[item_id].append(public_id)
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
                claims=tuple(claims[item.id]),
            )
            for item, provider_id, name in rows
        ),
        created_at=batch.created_at,
        exported_at=batch.exported_at,
        cancel_reason=batch.cancel_reason,
    )


@read_only
def batches_of(uow: UnitOfWork, center_code: str, limit: int = 50) -> list[BatchView]:
    """The batches built by the center or those below it, newest first."""
    session = uow.session
    within = subtree_ids(session, center_by_code(session, center_code).id)
    found = session.scalars(
        select(SettlementBatch)
        .where(SettlementBatch.center_id.in_(within))
        .order_by(SettlementBatch.created_at.desc(), SettlementBatch.id.desc())
        .limit(limit)
    )
    return [_view(uow, batch) for batch in found]


@read_only
def get_batch(uow: UnitOfWork, batch_id: uuid.UUID) -> BatchView:
    return _view(uow, batch_row(uow, batch_id))
