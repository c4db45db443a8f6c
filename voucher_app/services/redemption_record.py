"""One redemption as everyone it concerns reads it on its page: what was asked for, between
whom, on what evidence, and its timeline — each step with who took it and when.

The timeline is read from what the services record anyway, not kept twice: the redemption's
events (submitted, resubmitted, confirmed, disputed, approved, rejected, with their reasons),
the settlement batch items that carried it (the item it is in now, and any whose `settle`
entries name it, so a payment that came back still shows), and the bank statement lines
matched to those items (paid, returned). A batch item pays one provider's redemptions
together, so a payment's amount is the item's, as the bank moved it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select

from voucher_app.domain.entries import EntryKind
from voucher_app.ledger.tables import JournalEntry
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.models import (
    BankStatement,
    Product,
    Redemption,
    RedemptionEvent,
    SettlementBatch,
    SettlementItem,
    StatementLine,
)
from voucher_app.persistence.uow import read_only
from voucher_app.services import evidence
from voucher_app.services.evidence import EvidenceView
from voucher_app.services.redemption_lists import Parties, parties_in
from voucher_app.services.redemptions import RedemptionView, redemption_view

#: What a statement line matched to an item says happened to the money, by its outcome.
PAYMENT_OUTCOMES = {
    "paid": "paid",
    "partial": "paid",
    "overpaid": "paid",
    "returned": "returned",
    "refunded": "returned",
}


@dataclass(frozen=True, slots=True)
class Moment:
    """A step in a redemption's life. `what`: submitted, resubmitted, confirmed, disputed,
    approved, rejected, batched, exported, paid or returned."""

    what: str
    at: datetime
    actor: str | None = None
    role: str | None = None
    reason: str | None = None
    #: The batch's or the payment's reference, and the amount it moved, where it has them.
    reference: str | None = None
    amount_fen: int | None = None


@dataclass(frozen=True, slots=True)
class RedemptionRecord:
    redemption: RedemptionView
    parties: Parties
    product_name: str | None
    evidence: tuple[EvidenceView, ...]
    timeline: tuple[Moment, ...]


@read_only
def redemption_record(uow: UnitOfWork, redemption_id: uuid.UUID) -> RedemptionRecord:
    """The redemption, its parties, evidence and timeline (oldest first)."""
    session = uow.session
    row = uow.redemptions.by_public_id(redemption_id)
    events = session.scalars(
        select(RedemptionEvent)
        .where(RedemptionEvent.redemption_id == row.id)
        .order_by(RedemptionEvent.id)
    ).all()
    product = None
    if row.product_id is not None:
        product = session.scalar(select(Product.name).where(Product.id == row.product_id))
    timeline = [_step(event) for event in events] + _settlement(uow, row.id, redemption_id)
    timeline.sort(key=lambda moment: moment.at)
    return RedemptionRecord(
        redemption=redemption_view(uow, row),
        parties=parties_in(uow, [redemption_id])[redemption_id],
        product_name=product,
        evidence=tuple(evidence.attached(events)),
        timeline=tuple(timeline),
    )


def _step(event: RedemptionEvent) -> Moment:
    resubmitted = event.status == "submitted" and event.details.get("step") == "resubmit"
    return Moment(
        what="resubmitted" if resubmitted else event.status,
        at=event.recorded_at,
        actor=event.actor_id,
        role=event.actor_role,
        reason=event.reason,
    )


def _settlement(uow: UnitOfWork, row_id: int, public_id: uuid.UUID) -> list[Moment]:
    """The batches that carried the redemption and what the bank did with their payments."""
    session = uow.session
    current = select(Redemption.settlement_item_id).where(Redemption.id == row_id)
    settled = select(JournalEntry.refs["item"].as_string()).where(
        JournalEntry.kind == EntryKind.SETTLE.value,
        JournalEntry.refs["redemption"].as_string() == str(public_id),
    )
    items = session.execute(
        select(SettlementItem, SettlementBatch)
        .join(SettlementBatch, SettlementBatch.id == SettlementItem.batch_id)
        .where(
            or_(
                SettlementItem.id == current.scalar_subquery(),
                SettlementItem.reference.in_(settled),
            )
        )
        .order_by(SettlementItem.id)
    ).all()
    moments: list[Moment] = []
    for item, batch in items:
        moments.append(
            Moment(
                "batched",
                batch.created_at,
                batch.created_by,
                reference=batch.reference,
                amount_fen=item.amount_fen,
            )
        )
        if batch.exported_at is not None:
            moments.append(
                Moment(
                    "exported",
                    batch.exported_at,
                    reference=item.reference,
                    amount_fen=item.amount_fen,
                )
            )
    lines = session.execute(
        select(StatementLine, BankStatement)
        .join(BankStatement, BankStatement.id == StatementLine.statement_id)
        .where(
            StatementLine.item_id.in_([item.id for item, _ in items]),
            StatementLine.outcome.in_(PAYMENT_OUTCOMES),
        )
        .order_by(StatementLine.id)
    ).all()
    for line, statement in lines:
        moments.append(
            Moment(
                PAYMENT_OUTCOMES[line.outcome],
                statement.imported_at,
                statement.imported_by,
                reason=line.return_reason,
                reference=line.end_to_end_id,
                amount_fen=line.amount_fen,
            )
        )
    return moments
