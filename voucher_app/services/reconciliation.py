"""Reconciliation: bank statements prove which payments were made, and only then does the
ledger move money from `payable` to `paid`.

A statement (ISO 20022 `camt.053`, or CSV/XLSX with a saved column mapping) is parsed whole
before anything is written; a malformed file is refused naming the line or element at fault
and imports nothing. Each line is matched to a batch item by its end-to-end reference:

- a debit (money left the programme's account) pays the item: the ledger settles what the line
  paid, up to what the item still owes (`settle`: payable → paid, one entry per claim the
  money reaches, so each payment counts for the center behind the claim); the line is `paid`,
  `partial` (less than owed) or `overpaid` (more; the excess is reported, never settled);
- a returned payment (a credit naming the item, or marked as a return) undoes the item's
  settlements (`reverse` entries) and frees the item's claims for a new batch;
- anything else is `unmatched`.

The same statement imported twice changes nothing (its digest is recorded), and a line that an
overlapping statement already carried is recorded as a `duplicate` and not applied again.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from pathlib import PurePath

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import aliased
from sqlalchemy.sql import ColumnElement

from voucher_app.domain import accounts
from voucher_app.domain.accounts import AccountKind
from voucher_app.domain.actors import Actor
from voucher_app.domain.entries import EntryKind, Posting
from voucher_app.domain.errors import InvalidInput, OutsideCenter
from voucher_app.domain.redemptions import split_payment
from voucher_app.persistence.models import (
    BankStatement,
    JournalEntry,
    Programme,
    Provider,
    Redemption,
    SettlementBatch,
    SettlementItem,
    StatementLine,
    StatementMapping,
    Voucher,
)
from voucher_app.persistence.uow import UnitOfWork, read_only, transaction
from voucher_app.services import spend_facts
from voucher_app.services.centers import center_by_code, subtree_ids
from voucher_app.services.ledger import reverse
from voucher_app.services.redemptions import claim_attribution
from voucher_app.settlement.camt053 import Statement, parse_camt053
from voucher_app.settlement.camt053 import StatementLine as ParsedLine
from voucher_app.settlement.statement_table import ColumnMapping, parse_table


@dataclass(frozen=True, slots=True)
class ImportResult:
    statement_id: uuid.UUID
    lines: int
    outcomes: dict[str, int]  # outcome → how many lines
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class ItemStanding:
    batch: str
    reference: str
    provider: str
    amount_fen: int
    paid_fen: int
    returned_fen: int

    @property
    def state(self) -> str:
        if self.paid_fen == 0:
            return "returned" if self.returned_fen else "unpaid"
        if self.paid_fen < self.amount_fen:
            return "partial"
        return "overpaid" if self.paid_fen > self.amount_fen else "paid"


@dataclass(frozen=True, slots=True)
class UnmatchedLine:
    statement: str
    position: str
    end_to_end_id: str | None
    amount_fen: int
    debit: bool


@dataclass(frozen=True, slots=True)
class ReconciliationReport:
    center: str
    items: tuple[ItemStanding, ...]
    unmatched: tuple[UnmatchedLine, ...]

    def count(self, state: str) -> int:
        return sum(item.state == state for item in self.items)


# --- column mappings --------------------------------------------------------------------------


@transaction
def save_mapping(uow: UnitOfWork, center_code: str, name: str, mapping: ColumnMapping) -> None:
    """Save (or replace) a center's named column mapping for CSV/XLSX statements."""
    center = center_by_code(uow.session, center_code)
    label = name.strip()
    if not 0 < len(label) <= 100:
        raise InvalidInput("a mapping has a name of 1 to 100 characters", field="name")
    saved = uow.session.scalar(
        select(StatementMapping).where(
            StatementMapping.center_id == center.id, StatementMapping.name == label
        )
    )
    if saved is None:
        uow.session.add(
            StatementMapping(center_id=center.id, name=label, columns=mapping.to_json())
        )
    else:
        saved.columns = mapping.to_json()


def _mapping(uow: UnitOfWork, center_code: str, name: str) -> ColumnMapping:
    center = center_by_code(uow.session, center_code)
    columns = uow.session.scalar(
        select(StatementMapping.columns).where(
            StatementMapping.center_id == center.id, StatementMapping.name == name
        )
    )
    if columns is None:
        raise InvalidInput(f"center {center_code} has no column mapping {name!r}", field="mapping")
    return ColumnMapping.from_json(columns)


# --- importing --------------------------------------------------------------------------------


@transaction
def import_statement(
    uow: UnitOfWork,
    *,
    filename: str,
    content: bytes,
    actor: Actor,
    center_code: str | None = None,
    mapping: str | None = None,
) -> ImportResult:
    """Import a bank statement and reconcile each line (see the module docstring). A CSV or
    XLSX statement is read with `mapping`, a column mapping `center_code` saved.

    Imported for a center (`center_code`), the statement may pay only batches of that center
    or those below it: a line naming another center's payment refuses the whole file."""
    session = uow.session
    digest = hashlib.sha256(content).digest()
    earlier = session.scalar(select(BankStatement).where(BankStatement.digest == digest))
    if earlier is not None:
        return _result(uow, earlier, replayed=True)
    statement = _parse(uow, filename, content, center_code, mapping)
    center = None if center_code is None else center_by_code(session, center_code)
    if center is not None:
        _refuse_other_centers(uow, statement, center.id)
    row = BankStatement(
        center_id=None if center is None else center.id,
        public_id=uuid.uuid4(),
        digest=digest,
        bank_statement_id=statement.statement_id[:100],
        account=statement.account[:64],
        filename=PurePath(filename).name[:200],
        imported_at=uow.clock.now(),
        imported_by=actor.id,
    )
    session.add(row)
    session.flush()
    for line in statement.lines:
        _reconcile(uow, row, statement.account, line, actor)
    return _result(uow, row)


def _refuse_other_centers(uow: UnitOfWork, statement: Statement, center_id: int) -> None:
    references = {line.end_to_end_id for line in statement.lines if line.end_to_end_id}
    if not references:
        return
    foreign = uow.session.scalar(
        select(SettlementItem.reference)
        .join(SettlementBatch, SettlementBatch.id == SettlementItem.batch_id)
        .where(
            SettlementItem.reference.in_(references),
            SettlementBatch.center_id.not_in(subtree_ids(uow.session, center_id)),
        )
        .limit(1)
    )
    if foreign is not None:
        raise OutsideCenter(
            f"payment {foreign} belongs to a batch of another center", reference=foreign
        )


def _parse(
    uow: UnitOfWork, filename: str, content: bytes, center_code: str | None, mapping: str | None
) -> Statement:
    suffix = PurePath(filename).suffix.lower()
    if suffix == ".xml":
        return parse_camt053(content)
    if suffix in {".csv", ".xlsx"}:
        if not (center_code and mapping):
            raise InvalidInput(
                "a CSV or XLSX statement needs a saved column mapping", field="mapping"
            )
        columns = _mapping(uow, center_code, mapping)
        name = PurePath(filename).stem
        return parse_table(filename, content, columns, statement_id=name, account=mapping)
    raise InvalidInput("a statement is a camt.053 .xml, .csv or .xlsx file", field="file")


def _line_key(account: str, line: ParsedLine) -> bytes:
    """The bank's line, whichever statement carries it."""
    material = "|".join(
        str(part)
        for part in (
            account,
            line.bank_reference or line.where,
            line.end_to_end_id,
            line.amount_fen,
            line.debit,
            line.booked_on,
            line.returned,
        )
    )
    return hashlib.sha256(material.encode()).digest()


def _reconcile(
    uow: UnitOfWork, statement: BankStatement, account: str, line: ParsedLine, actor: Actor
) -> None:
    session = uow.session
    key = _line_key(account, line)
    seen = session.scalar(select(StatementLine.id).where(StatementLine.line_key == key).limit(1))
    item = None
    if line.end_to_end_id:
        item = session.scalar(
            select(SettlementItem)
            .join(SettlementBatch, SettlementBatch.id == SettlementItem.batch_id)
            .where(
                SettlementItem.reference == line.end_to_end_id,
                SettlementBatch.status.in_(("exported", "paid")),
            )
            .with_for_update()
        )
    if seen is not None:
        outcome = "duplicate"
    elif item is None:
        outcome = "unmatched"
    elif line.returned or not line.debit:
        outcome = _returned(uow, item, line, actor)
    else:
        outcome = _paid(uow, item, line, actor)
    session.add(
        StatementLine(
            statement_id=statement.id,
            position=line.where[:200],
            end_to_end_id=line.end_to_end_id,
            amount_fen=line.amount_fen,
            debit=line.debit,
            booked_on=line.booked_on,
            returned=line.returned,
            return_reason=line.return_reason,
            bank_reference=line.bank_reference,
            item_id=item.id if item is not None and outcome != "duplicate" else None,
            outcome=outcome,
            line_key=key,
        )
    )


def _paid(uow: UnitOfWork, item: SettlementItem, line: ParsedLine, actor: Actor) -> str:
    """Settle what the line paid, up to what the item still owes, claim by claim."""
    settled = min(item.paid_fen, item.amount_fen)
    if line.amount_fen and settled < item.amount_fen:
        _post_settle(uow, item, settled, line.amount_fen, actor)
    item.paid_fen += line.amount_fen
    if item.paid_fen >= item.amount_fen:
        _claims_settled(uow, item)
    if item.paid_fen < item.amount_fen:
        return "partial"
    return "overpaid" if item.paid_fen > item.amount_fen else "paid"


def _returned(uow: UnitOfWork, item: SettlementItem, line: ParsedLine, actor: Actor) -> str:
    """Undo the settlements the bank returned; the claims wait for a new batch."""
    session = uow.session
    reversal = aliased(JournalEntry)
    settlements = session.scalars(
        select(JournalEntry.public_id)
        .where(
            JournalEntry.kind == EntryKind.SETTLE.value,
            JournalEntry.refs["item"].as_string() == item.reference,
            ~select(reversal.id).where(reversal.reverses_id == JournalEntry.id).exists(),
        )
        .order_by(JournalEntry.id)
    ).all()
    if not settlements:
        return "unmatched"  # nothing settled to undo: left for a person to look at
    for settlement in settlements:
        reverse(uow, settlement, actor)
    item.paid_fen = max(item.paid_fen - line.amount_fen, 0)
    item.returned_fen += line.amount_fen
    session.execute(
        update(Redemption)
        .where(Redemption.settlement_item_id == item.id)
        .values(settlement_item_id=None, status="approved")
        .execution_options(synchronize_session=False)
    )
    return "returned"


def _post_settle(
    uow: UnitOfWork, item: SettlementItem, settled_fen: int, amount_fen: int, actor: Actor
) -> None:
    """Post one `settle` entry per claim the payment reaches (`split_payment`), so each
    payment counts for the center that issued the claim's voucher."""
    session = uow.session
    batch = session.get_one(SettlementBatch, item.batch_id)
    programme = str(session.get_one(Programme, batch.programme_id).public_id)
    provider = str(session.get_one(Provider, item.provider_id).public_id)
    payable = accounts.provider(AccountKind.PAYABLE, provider, programme).name
    paid = accounts.provider(AccountKind.PAID, provider, programme).name
    claims = session.execute(
        select(Redemption, Voucher)
        .join(Voucher, Voucher.id == Redemption.voucher_id)
        .where(Redemption.settlement_item_id == item.id)
        .order_by(Redemption.id)
    ).all()
    shares = split_payment([claim.subsidy_fen for claim, _ in claims], settled_fen, amount_fen)
    for (claim, voucher), share in zip(claims, shares, strict=True):
        if not share:
            continue
        posted = uow.journal.post(
            EntryKind.SETTLE,
            [Posting(payable, -share), Posting(paid, share)],
            {
                "programme": programme,
                "provider": provider,
                "item": item.reference,
                "redemption": str(claim.public_id),
                "voucher": str(voucher.public_id),
            },
            actor,
        )
        spend_facts.record(uow, posted, claim_attribution(voucher, claim))


def _claims_settled(uow: UnitOfWork, item: SettlementItem) -> None:
    session = uow.session
    session.execute(
        update(Redemption)
        .where(Redemption.settlement_item_id == item.id)
        .values(status="settled")
        .execution_options(synchronize_session=False)
    )
    batch = session.get_one(SettlementBatch, item.batch_id)
    owing = session.scalar(
        select(func.count()).where(
            SettlementItem.batch_id == batch.id,
            SettlementItem.paid_fen < SettlementItem.amount_fen,
        )
    )
    if not owing:
        batch.status = "paid"


def _result(uow: UnitOfWork, statement: BankStatement, *, replayed: bool = False) -> ImportResult:
    session = uow.session
    session.flush()
    counts = dict(
        session.execute(
            select(StatementLine.outcome, func.count())
            .where(StatementLine.statement_id == statement.id)
            .group_by(StatementLine.outcome)
        ).all()
    )
    return ImportResult(statement.public_id, sum(counts.values()), counts, replayed)


# --- the report -------------------------------------------------------------------------------


@read_only
def reconciliation_report(
    uow: UnitOfWork, center_code: str, batch_reference: str | None = None
) -> ReconciliationReport:
    """Per item of the center's (and its descendants') exported batches: owed, paid, returned;
    and the unmatched lines of the statements imported for them."""
    session = uow.session
    center = center_by_code(session, center_code)
    query = (
        select(SettlementItem, SettlementBatch.reference, Provider.name)
        .join(SettlementBatch, SettlementBatch.id == SettlementItem.batch_id)
        .join(Provider, Provider.id == SettlementItem.provider_id)
        .where(
            SettlementBatch.center_id.in_(subtree_ids(session, center.id)),
            SettlementBatch.status.in_(("exported", "paid")),
        )
        .order_by(SettlementItem.reference)
    )
    if batch_reference is not None:
        query = query.where(SettlementBatch.reference == batch_reference)
    items = tuple(
        ItemStanding(batch, item.reference, name, item.amount_fen, item.paid_fen, item.returned_fen)
        for item, batch, name in session.execute(query)
    )
    imported_here: ColumnElement[bool] = BankStatement.center_id.in_(
        subtree_ids(session, center.id)
    )
    if center.parent_id is None:  # the top center also sees what operators imported
        imported_here = or_(imported_here, BankStatement.center_id.is_(None))
    unmatched = tuple(
        UnmatchedLine(statement, line.position, line.end_to_end_id, line.amount_fen, line.debit)
        for line, statement in session.execute(
            select(StatementLine, BankStatement.bank_statement_id)
            .join(BankStatement, BankStatement.id == StatementLine.statement_id)
            .where(StatementLine.outcome == "unmatched", imported_here)
            .order_by(StatementLine.id)
        )
    )
    return ReconciliationReport(center.code, items, unmatched)
