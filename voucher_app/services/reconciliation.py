"""Reconciliation: bank statements prove which payments were made, and only then does the
ledger move money from `payable` to `paid` (DESIGN §4 invariant 6).

A statement (ISO 20022 `camt.053`, or CSV/XLSX with a saved column mapping) is parsed whole
before anything is written; a malformed file is refused naming the line or element at fault
and imports nothing. Then:

- **the account**: only a statement of an account a center registered moves the books
  (`bank_accounts`); any other is refused whole, and a line pays an item only when the item's
  batch was exported to be paid from that very account;
- **the same money once**: lines an earlier statement already carried — the same file again,
  an intraday and an end-of-day file, camt.053 and CSV of one day — are recorded as
  `duplicate` and applied no more (`settlement.overlap`);
- **each new line** is matched to a batch item by its payment reference: a debit is money paid
  for the item, a credit money back (a return, or a refund of an overpayment). A batch booked
  as one entry pays its items when its amount is exactly what they still owe, and is listed
  for review otherwise. Anything else is `unmatched`;
- **each touched item** is then restated from its totals (`domain.payments`): the ledger settles
  exactly the net cash within what is owed (`settle` entries, one per redemption the money reaches;
  whole reversals and a new `settle` for a return, so each redemption keeps what is still paid),
  and once everything paid has come back the item's redemptions are freed for a new batch.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from pathlib import PurePath
from typing import Any, NamedTuple

from sqlalchemy import BigInteger, Select, Table, bindparam, cast, func, insert, or_, select, update
from sqlalchemy.orm import aliased
from sqlalchemy.sql import ColumnElement

from voucher_app.domain import accounts
from voucher_app.domain.accounts import AccountKind
from voucher_app.domain.actors import Actor
from voucher_app.domain.entries import EntryKind, Posting
from voucher_app.domain.errors import InvalidInput, InvalidMapping, OutsideCenter
from voucher_app.domain.payments import (
    ItemState,
    item_state,
    owed,
    releases,
    settled_target,
    unwind,
)
from voucher_app.domain.redemptions import split_payment
from voucher_app.ledger.journal import NewEntry
from voucher_app.ledger.tables import JournalEntry, JournalPosting
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.database import among, in_chunks, insert_rows, planning_each_query
from voucher_app.persistence.models import (
    BankStatement,
    Center,
    Programme,
    Provider,
    Redemption,
    SettlementBatch,
    SettlementItem,
    StatementLine,
    StatementMapping,
    Voucher,
)
from voucher_app.persistence.uow import read_only, transaction
from voucher_app.services import spend_facts
from voucher_app.services.bank_accounts import statement_account
from voucher_app.services.centers import subtree_ids
from voucher_app.services.ledger import reverse
from voucher_app.settlement import overlap
from voucher_app.settlement.camt053 import Statement, parse_camt053
from voucher_app.settlement.camt053 import StatementLine as ParsedLine
from voucher_app.settlement.statement_table import ColumnMapping, parse_table
from voucher_app.tabular.reading import MAX_ROWS

#: Batches whose items a statement may pay: exported, and not cancelled.
PAYABLE_BATCH = ("exported", "partly_paid", "paid")
#: How many skipped lines an import names (it counts them all).
SKIPPED_SHOWN = 100
_LINES: Table = StatementLine.__table__  # type: ignore[assignment]  # a declarative model's
_ITEMS: Table = SettlementItem.__table__  # type: ignore[assignment]
_WRITE_ITEM = (
    update(_ITEMS)
    .where(_ITEMS.c.id == bindparam("item"))
    .values(
        paid_fen=bindparam("paid_fen"),
        returned_fen=bindparam("returned_fen"),
        settled_fen=bindparam("settled_fen"),
        released_at=bindparam("released_at"),
    )
)


@dataclass(frozen=True, slots=True)
class ImportResult:
    statement_id: uuid.UUID
    lines: int
    outcomes: dict[str, int]  # outcome → how many lines
    replayed: bool = False
    #: Where the lines an earlier statement already carried are (the first SKIPPED_SHOWN).
    skipped: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ItemStanding:
    batch: str
    reference: str
    provider: str
    amount_fen: int
    paid_fen: int
    returned_fen: int
    settled_fen: int = 0
    released: bool = False

    @property
    def state(self) -> str:
        return item_state(
            self.amount_fen, self.paid_fen, self.returned_fen, released=self.released
        ).value


@dataclass(frozen=True, slots=True)
class UnmatchedLine:
    statement: str
    position: str
    end_to_end_id: str | None
    amount_fen: int
    debit: bool
    outcome: str = "unmatched"  # or "review": a batch booked as one entry that does not add up


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
    center = uow.centers.by_code(center_code)
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
    center = uow.centers.by_code(center_code)
    columns = uow.session.scalar(
        select(StatementMapping.columns).where(
            StatementMapping.center_id == center.id, StatementMapping.name == name
        )
    )
    if columns is None:
        raise InvalidInput(f"center {center_code} has no column mapping {name!r}", field="mapping")
    try:
        return ColumnMapping.from_json(columns)
    except InvalidMapping as outdated:
        raise InvalidMapping(
            f"column mapping {name!r} cannot be used: {outdated.message}; save it again",
            field=outdated.details.get("field", "mapping"),
        ) from None


# --- importing --------------------------------------------------------------------------------


@dataclass(slots=True)
class _Item:
    """A batch item as an import reads and restates it (a statement touches thousands: plain
    rows, written back in one statement, not ORM objects)."""

    id: int
    batch_id: int
    provider_id: int
    reference: str
    amount_fen: int
    paid_fen: int
    returned_fen: int
    settled_fen: int
    released_at: datetime | None


_ITEM_COLUMNS = tuple(getattr(SettlementItem, column.name) for column in fields(_Item))


def _read_items(uow: UnitOfWork, query: Select[Any]) -> list[_Item]:
    return [_Item(*row) for row in uow.session.execute(query)]


def _item_rows() -> Select[Any]:
    """Items of exported batches, locked for the import with their batches: a batch being
    cancelled (`settlement.cancel_batch` locks it) is waited for and then no longer payable, and
    a cancel waits for the import, then sees what it paid."""
    return (
        select(*_ITEM_COLUMNS)
        .join(SettlementBatch, SettlementBatch.id == SettlementItem.batch_id)
        .where(SettlementBatch.status.in_(PAYABLE_BATCH))
        .order_by(SettlementItem.id)
        .with_for_update(of=(SettlementItem, SettlementBatch))
    )


@dataclass(slots=True)
class _Standing:
    """An item's totals as the import goes, from what the database held before it. Whether
    its money all came back is decided on the totals once the whole statement is read, so the
    order of the lines within a statement does not change what it means."""

    item: _Item
    paid_fen: int
    returned_fen: int
    released: bool

    @classmethod
    def of(cls, item: _Item) -> _Standing:
        return cls(item, item.paid_fen, item.returned_fen, item.released_at is not None)

    def take(self, line: ParsedLine, amount_fen: int) -> str:
        """Add a line's money and say what it made of the item."""
        amount = self.item.amount_fen
        excess_before = self.paid_fen - self.returned_fen - owed(amount, released=self.released)
        if line.debit:
            self.paid_fen += amount_fen
        else:
            self.returned_fen += amount_fen
        if not line.debit:
            return "refunded" if 0 < amount_fen <= excess_before else "returned"
        state = item_state(amount, self.paid_fen, self.returned_fen, released=self.released)
        return state.value if state in _PAYING_STATES else ItemState.PARTIAL.value


_PAYING_STATES = (ItemState.PAID, ItemState.PARTIAL, ItemState.OVERPAID)


@dataclass(slots=True)
class _Import:
    """One statement's import in progress."""

    uow: UnitOfWork
    row: BankStatement
    statement: Statement
    actor: Actor
    standings: dict[int, _Standing] = field(default_factory=dict)
    lines: list[dict[str, Any]] = field(default_factory=list)


@transaction
def import_statement(
    uow: UnitOfWork,
    *,
    filename: str,
    content: bytes,
    actor: Actor,
    center_code: str | None = None,
    mapping: str | None = None,
    account: str | None = None,
    max_rows: int = MAX_ROWS,
) -> ImportResult:
    """Import a bank statement and reconcile each line (see the module docstring). A CSV or
    XLSX statement is read with `mapping`, a column mapping `center_code` saved, and is of the
    `account` given here, in the mapping, or above its header.

    Imported for a center (`center_code`), the statement may pay only batches of that center
    or those below it: a line naming another center's payment refuses the whole file."""
    session = uow.session
    digest = hashlib.sha256(content).digest()
    if (earlier := _imported(uow, digest)) is not None:  # the same file: nothing to read
        return _result(uow, earlier, replayed=True)
    statement = _parse(
        uow,
        filename=filename,
        content=content,
        center_code=center_code,
        mapping=mapping,
        account=account,
        max_rows=max_rows,
    )
    center = None if center_code is None else uow.centers.by_code(center_code)
    registered = statement_account(uow, statement.account, center)  # imports take turns
    statement = replace(statement, account=registered.account_number)
    if (earlier := _imported(uow, digest)) is not None:  # uploaded at the same time, twice
        return _result(uow, earlier, replayed=True)
    with planning_each_query(session):
        if center is not None:
            _refuse_other_centers(uow, statement, center.id)
        identities = [_identity(statement, line) for line in statement.lines]
        known = _known(uow, statement.account, identities)
        items = _items_named(uow, statement)
    row = BankStatement(
        center_id=None if center is None else center.id,
        public_id=uuid.uuid4(),
        digest=digest,
        bank_statement_id=statement.statement_id[:100],
        account=statement.account,
        source=statement.source,
        filename=PurePath(filename).name[:200],
        imported_at=uow.clock.now(),
        imported_by=actor.id,
    )
    session.add(row)
    session.flush()
    work = _Import(uow, row, statement, actor)
    new = overlap.fresh(identities, known)
    for line, identity, fresh in zip(statement.lines, identities, new, strict=True):
        if not fresh:
            work.lines.append(_line_row(work, line, identity, "duplicate"))
        elif line.batch_booked:
            _batch_booked(work, line, identity)
        else:
            _apply(work, line, identity, items.get(line.end_to_end_id or ""))
    insert_rows(session.connection(), _LINES, work.lines)  # never loaded as ORM objects
    _restate(uow, [standing for _, standing in sorted(work.standings.items())], actor)
    return _result(uow, row)


def _imported(uow: UnitOfWork, digest: bytes) -> BankStatement | None:
    return uow.session.scalar(select(BankStatement).where(BankStatement.digest == digest))


def _parse(
    uow: UnitOfWork,
    *,
    filename: str,
    content: bytes,
    center_code: str | None,
    mapping: str | None,
    account: str | None,
    max_rows: int,
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
        return parse_table(
            filename,
            content,
            columns,
            statement_id=PurePath(filename).stem,
            account=account,
            max_rows=max_rows,
        )
    raise InvalidInput("a statement is a camt.053 .xml, .csv or .xlsx file", field="file")


def _refuse_other_centers(uow: UnitOfWork, statement: Statement, center_id: int) -> None:
    items = {ref for line in statement.lines for ref in (line.end_to_end_id, *line.parts) if ref}
    batches = {line.batch_reference for line in statement.lines if line.batch_reference}
    within = subtree_ids(uow.session, center_id)
    for chunk in in_chunks(sorted(items)):
        foreign = uow.session.scalar(
            select(SettlementItem.reference)
            .join(SettlementBatch, SettlementBatch.id == SettlementItem.batch_id)
            .where(
                among(uow.session, SettlementItem.reference, chunk),
                SettlementBatch.center_id.not_in(within),
            )
            .limit(1)
        )
        if foreign is not None:
            raise OutsideCenter(
                f"payment {foreign} belongs to a batch of another center", reference=foreign
            )
    for chunk in in_chunks(sorted(batches)):
        foreign = uow.session.scalar(
            select(SettlementBatch.reference)
            .where(
                among(uow.session, SettlementBatch.reference, chunk),
                SettlementBatch.center_id.not_in(within),
            )
            .limit(1)
        )
        if foreign is not None:
            raise OutsideCenter(f"batch {foreign} belongs to another center", reference=foreign)


def _identity(statement: Statement, line: ParsedLine) -> overlap.LineIdentity:
    return overlap.LineIdentity(
        overlap.fingerprint(
            statement.account,
            line.booked_on,
            line.debit,
            line.amount_fen,
            line.end_to_end_id or line.batch_reference,
        ),
        (statement.source, line.bank_reference) if line.bank_reference else None,
        line.counterparty_account,
    )


def _known(
    uow: UnitOfWork, account: str, identities: Sequence[overlap.LineIdentity]
) -> list[overlap.LineIdentity]:
    """The lines earlier statements of the account hold that a new line may repeat."""
    fingerprints = sorted({identity.fingerprint for identity in identities})
    references = sorted(
        {
            overlap.reference_key(account, *identity.reference)
            for identity in identities
            if identity.reference is not None
        }
    )
    found: dict[int, overlap.LineIdentity] = {}
    for column, keys in (
        (StatementLine.fingerprint, fingerprints),
        (StatementLine.reference_key, references),
    ):
        for chunk in in_chunks(keys):
            rows = uow.session.execute(
                select(
                    StatementLine.id,
                    StatementLine.fingerprint,
                    BankStatement.source,
                    StatementLine.bank_reference,
                    StatementLine.counterparty_account,
                )
                .join(BankStatement, BankStatement.id == StatementLine.statement_id)
                .where(
                    among(uow.session, column, chunk),
                    BankStatement.account == account,
                    StatementLine.parent_id.is_(None),
                    StatementLine.outcome != "duplicate",
                )
            )
            for line_id, fingerprint, source, bank_reference, counterparty in rows:
                found[line_id] = overlap.LineIdentity(
                    fingerprint or b"",
                    (source, bank_reference) if bank_reference else None,
                    counterparty,
                )
    return list(found.values())


def _items_named(uow: UnitOfWork, statement: Statement) -> dict[str, _Item]:
    """The items the statement's lines name that this account was instructed to pay, locked."""
    references = sorted({line.end_to_end_id for line in statement.lines if line.end_to_end_id})
    found: dict[str, _Item] = {}
    for chunk in in_chunks(references):
        query = _item_rows().where(
            among(uow.session, SettlementItem.reference, chunk),
            SettlementBatch.debtor_account == statement.account,
        )
        found.update((item.reference, item) for item in _read_items(uow, query))
    return found


def _apply(
    work: _Import,
    line: ParsedLine,
    identity: overlap.LineIdentity,
    item: _Item | None,
    *,
    parent: int | None = None,
    amount_fen: int | None = None,
) -> None:
    if item is None:
        work.lines.append(_line_row(work, line, identity, "unmatched"))
        return
    standing = work.standings.setdefault(item.id, _Standing.of(item))
    amount = line.amount_fen if amount_fen is None else amount_fen
    outcome = standing.take(line, amount)
    work.lines.append(
        _line_row(work, line, identity, outcome, item=item, parent=parent, amount_fen=amount)
    )


def _batch_booked(work: _Import, line: ParsedLine, identity: overlap.LineIdentity) -> None:
    """One entry for a whole batch: it pays each item what it still owes when it is exactly
    their sum (of the items it names, or of the whole batch) and, when the bank counts the
    payments (`NbOfTxs`), there are that many; otherwise a person looks at it."""
    items = _batch_items(work, line)
    outstanding = [(item, _outstanding(work, item)) for item in items]
    adds_up = (
        line.debit
        and bool(outstanding)
        and all(due > 0 for _, due in outstanding)
        and sum(due for _, due in outstanding) == line.amount_fen
        and line.batch_size in (None, len(outstanding))
    )
    if not adds_up:
        work.lines.append(_line_row(work, line, identity, "review"))
        return
    parent_id = (
        work.uow.session.connection()
        .execute(insert(_LINES).returning(_LINES.c.id), _line_row(work, line, identity, "batch"))
        .scalar_one()
    )
    for item, due in outstanding:
        part = replace(line, where=f"{line.where} {item.reference}", end_to_end_id=item.reference)
        _apply(work, part, identity, item, parent=parent_id, amount_fen=due)


def _batch_items(work: _Import, line: ParsedLine) -> list[_Item]:
    """The items a batch-booked line names, all of one batch paid from this account; none
    when they are not."""
    query = _item_rows().where(SettlementBatch.debtor_account == work.statement.account)
    if line.batch_reference is not None:
        query = query.where(SettlementBatch.reference == line.batch_reference)
    if line.parts:
        query = query.where(SettlementItem.reference.in_(line.parts))
    # An item this import already holds is that one: its totals so far are in its standing.
    items = [
        work.standings[item.id].item if item.id in work.standings else item
        for item in _read_items(work.uow, query)
    ]
    named = {item.reference for item in items}
    if len({item.batch_id for item in items}) != 1 or (line.parts and named != set(line.parts)):
        return []
    return items


def _outstanding(work: _Import, item: _Item) -> int:
    standing = work.standings.get(item.id) or _Standing.of(item)
    net = standing.paid_fen - standing.returned_fen
    return owed(item.amount_fen, released=standing.released) - net


def _line_row(
    work: _Import,
    line: ParsedLine,
    identity: overlap.LineIdentity,
    outcome: str,
    *,
    item: _Item | None = None,
    parent: int | None = None,
    amount_fen: int | None = None,
) -> dict[str, Any]:
    account = work.statement.account
    return {
        "statement_id": work.row.id,
        "position": line.where[:200],
        "end_to_end_id": (line.end_to_end_id or None) and line.end_to_end_id[:35],
        "amount_fen": line.amount_fen if amount_fen is None else amount_fen,
        "debit": line.debit,
        "booked_on": line.booked_on,
        "returned": line.returned,
        "return_reason": (line.return_reason or None) and line.return_reason[:35],
        "bank_reference": (line.bank_reference or None) and line.bank_reference[:100],
        "item_id": None if item is None else item.id,
        "outcome": outcome,
        # Lines under a batch line are its parts: the batch line alone is the bank's line.
        "fingerprint": None if parent is not None else identity.fingerprint,
        "reference_key": None
        if parent is not None or identity.reference is None
        else overlap.reference_key(account, *identity.reference),
        "counterparty_account": (line.counterparty_account or None)
        and line.counterparty_account[:34],
        "batch_reference": (line.batch_reference or None) and line.batch_reference[:16],
        "parent_id": parent,
    }


# --- restating items --------------------------------------------------------------------------


def _restate(uow: UnitOfWork, standings: list[_Standing], actor: Actor) -> None:
    """Bring each touched item's ledger settlement, redemptions and batch to what its totals say."""
    if not standings:
        return
    redemptions = _redemptions_of(uow, [standing.item for standing in standings])
    settlements: list[tuple[_Item, int, int]] = []
    for standing in standings:
        item = standing.item
        standing.released = standing.released or releases(standing.paid_fen, standing.returned_fen)
        target = settled_target(
            item.amount_fen, standing.paid_fen, standing.returned_fen, released=standing.released
        )
        position = item.settled_fen
        if target < position:
            position = _unsettle(uow, item, target, actor)
        if target > position:
            settlements.append((item, position, target - position))
        item.paid_fen, item.returned_fen, item.settled_fen = (
            standing.paid_fen,
            standing.returned_fen,
            target,
        )
    _post_settlements(uow, settlements, redemptions, actor)
    _redemptions_follow(uow, standings, redemptions)
    uow.session.connection().execute(
        _WRITE_ITEM,
        [
            {
                "item": standing.item.id,
                "paid_fen": standing.item.paid_fen,
                "returned_fen": standing.item.returned_fen,
                "settled_fen": standing.item.settled_fen,
                "released_at": standing.item.released_at,
            }
            for standing in standings
        ],
    )
    for batch_id in sorted({standing.item.batch_id for standing in standings}):
        _batch_follows(uow, batch_id)


class _Redemption(NamedTuple):
    """What settling a redemption needs of it and of its voucher."""

    id: int
    public_id: uuid.UUID
    subsidy_fen: int
    status: str
    voucher: uuid.UUID
    attribution: spend_facts.Attribution


def _redemptions_of(uow: UnitOfWork, items: list[_Item]) -> dict[int, list[_Redemption]]:
    """Each item's redemptions, laid end to end in the order they were made."""
    found: dict[int, list[_Redemption]] = {}
    for chunk in in_chunks([item.id for item in items]):
        for row in uow.session.execute(
            select(
                Redemption.settlement_item_id,
                Redemption.id,
                Redemption.public_id,
                Redemption.subsidy_fen,
                Redemption.status,
                Redemption.provider_id,
                Redemption.category,
                Voucher.public_id,
                Voucher.programme_id,
                Voucher.issuing_center_id,
            )
            .join(Voucher, Voucher.id == Redemption.voucher_id)
            .where(among(uow.session, Redemption.settlement_item_id, chunk))
            .order_by(Redemption.id)
        ):
            item, redemption, public_id, subsidy, status, provider, category, *voucher = row
            assert item is not None  # selected by it
            code, programme, center = voucher
            attribution = spend_facts.Attribution(programme, center, provider, category)
            found.setdefault(item, []).append(
                _Redemption(redemption, public_id, subsidy, status, code, attribution)
            )
    return found


def _unsettle(uow: UnitOfWork, item: _Item, target: int, actor: Actor) -> int:
    """Reverse the item's latest settlements until no more than `target` stays settled; return
    where that leaves it (the caller settles the rest up to the target again)."""
    reversal = aliased(JournalEntry)
    entries = uow.session.execute(
        # A whole number: PostgreSQL sums bigints as numeric, which the driver reads as Decimal.
        select(JournalEntry.public_id, cast(func.sum(JournalPosting.amount_fen), BigInteger))
        .join(JournalPosting, JournalPosting.entry_id == JournalEntry.id)
        .where(
            JournalEntry.kind == EntryKind.SETTLE.value,
            JournalEntry.refs["item"].as_string() == item.reference,
            JournalPosting.amount_fen > 0,
            ~select(reversal.id).where(reversal.reverses_id == JournalEntry.id).exists(),
        )
        .group_by(JournalEntry.id, JournalEntry.public_id)
        .order_by(JournalEntry.id)
    ).all()
    count, _ = unwind([amount for _, amount in entries], target)
    for public_id, _ in entries[len(entries) - count :]:
        reverse(uow, public_id, actor)
    return sum(amount for _, amount in entries[: len(entries) - count])


def _post_settlements(
    uow: UnitOfWork,
    settlements: list[tuple[_Item, int, int]],
    redemptions: dict[int, list[_Redemption]],
    actor: Actor,
) -> None:
    """Post one `settle` entry per redemption each payment reaches (`split_payment`), so each
    payment counts for the center that issued the redemption's voucher; all in one set."""
    if not settlements:
        return
    session = uow.session
    programme_of = dict(
        session.execute(
            select(SettlementBatch.id, Programme.public_id)
            .join(Programme, Programme.id == SettlementBatch.programme_id)
            .where(SettlementBatch.id.in_({item.batch_id for item, _, _ in settlements}))
        ).all()
    )
    provider_of: dict[int, uuid.UUID] = {}
    for chunk in in_chunks(sorted({item.provider_id for item, _, _ in settlements})):
        provider_of.update(
            session.execute(
                select(Provider.id, Provider.public_id).where(among(session, Provider.id, chunk))
            ).all()
        )
    entries: list[NewEntry] = []
    attributions: list[spend_facts.Attribution] = []
    for item, start, amount in settlements:
        programme, provider = str(programme_of[item.batch_id]), str(provider_of[item.provider_id])
        payable = accounts.provider(AccountKind.PAYABLE, provider, programme).name
        paid = accounts.provider(AccountKind.PAID, provider, programme).name
        own = redemptions.get(item.id, [])
        shares = split_payment([redemption.subsidy_fen for redemption in own], start, amount)
        for redemption, share in zip(own, shares, strict=True):
            if not share:
                continue
            entries.append(
                NewEntry(
                    [Posting(payable, -share), Posting(paid, share)],
                    {
                        "programme": programme,
                        "provider": provider,
                        "item": item.reference,
                        "redemption": str(redemption.public_id),
                        "voucher": str(redemption.voucher),
                    },
                )
            )
            attributions.append(redemption.attribution)
    posted = uow.journal.post_many(EntryKind.SETTLE, entries, actor)
    spend_facts.record_all(
        uow,
        ((entry, attribution, 1) for entry, attribution in zip(posted, attributions, strict=True)),
    )


def _redemptions_follow(
    uow: UnitOfWork, standings: list[_Standing], redemptions: dict[int, list[_Redemption]]
) -> None:
    """A redemption is `settled` while all of it is; an item whose money all came back lets its
    redemptions go, to be paid by a new batch."""
    released: list[int] = []
    becoming: dict[str, list[int]] = {"settled": [], "approved": []}
    for standing in standings:
        item, own = standing.item, redemptions.get(standing.item.id, [])
        if standing.released and item.released_at is None:
            item.released_at = uow.clock.now()
            released += [redemption.id for redemption in own]
            continue
        shares = split_payment([redemption.subsidy_fen for redemption in own], 0, item.settled_fen)
        for redemption, share in zip(own, shares, strict=True):
            status = "settled" if share == redemption.subsidy_fen else "approved"
            if redemption.status != status:
                becoming[status].append(redemption.id)
    changes = [(released, {"settlement_item_id": None, "status": "approved"})]
    changes += [(ids, {"status": status}) for status, ids in becoming.items()]
    for ids, values in changes:
        for chunk in in_chunks(ids):
            uow.session.execute(
                update(Redemption)
                .where(among(uow.session, Redemption.id, chunk))
                .values(**values)
                .execution_options(synchronize_session=False)
            )


def _batch_follows(uow: UnitOfWork, batch_id: int) -> None:
    """`paid` while every item is paid; `partly_paid` once any money moved and one is not."""
    batch = uow.session.get_one(SettlementBatch, batch_id)
    items = list(
        uow.session.scalars(select(SettlementItem).where(SettlementItem.batch_id == batch_id))
    )
    states = [
        item_state(
            item.amount_fen, item.paid_fen, item.returned_fen, released=item.released_at is not None
        )
        for item in items
    ]
    if all(state in (ItemState.PAID, ItemState.OVERPAID) for state in states) and not any(
        item.released_at for item in items
    ):
        batch.status = "paid"
    elif any(state is not ItemState.UNPAID for state in states):
        batch.status = "partly_paid"
    else:
        batch.status = "exported"


def _result(uow: UnitOfWork, statement: BankStatement, *, replayed: bool = False) -> ImportResult:
    session = uow.session
    session.flush()
    top = StatementLine.parent_id.is_(None)
    counts = Counter(
        dict(
            session.execute(
                select(StatementLine.outcome, func.count())
                .where(StatementLine.statement_id == statement.id, top)
                .group_by(StatementLine.outcome)
            ).all()
        )
    )
    skipped = session.scalars(
        select(StatementLine.position)
        .where(
            StatementLine.statement_id == statement.id,
            StatementLine.outcome == "duplicate",
        )
        .order_by(StatementLine.id)
        .limit(SKIPPED_SHOWN)
    ).all()
    return ImportResult(
        statement.public_id, sum(counts.values()), dict(counts), replayed, tuple(skipped)
    )


# --- the report -------------------------------------------------------------------------------


@read_only
def reconciliation_report(
    uow: UnitOfWork, center_code: str, batch_reference: str | None = None
) -> ReconciliationReport:
    """Per item of the center's (and its descendants') exported batches: owed, paid, returned,
    settled; and the lines of the statements imported for them that nothing matched or that
    wait for a person (a batch booked as one entry that does not add up)."""
    session = uow.session
    center = uow.centers.by_code(center_code)
    query = (
        select(SettlementItem, SettlementBatch.reference, Provider.name)
        .join(SettlementBatch, SettlementBatch.id == SettlementItem.batch_id)
        .join(Provider, Provider.id == SettlementItem.provider_id)
        .where(
            SettlementBatch.center_id.in_(subtree_ids(session, center.id)),
            SettlementBatch.status.in_(PAYABLE_BATCH),
        )
        .order_by(SettlementItem.reference)
    )
    if batch_reference is not None:
        query = query.where(SettlementBatch.reference == batch_reference)
    items = tuple(
        ItemStanding(
            batch,
            item.reference,
            name,
            item.amount_fen,
            item.paid_fen,
            item.returned_fen,
            item.settled_fen,
            item.released_at is not None,
        )
        for item, batch, name in session.execute(query)
    )
    return ReconciliationReport(center.code, items, _unmatched(uow, center))


def _unmatched(uow: UnitOfWork, center: Center) -> tuple[UnmatchedLine, ...]:
    session = uow.session
    imported_here: ColumnElement[bool] = BankStatement.center_id.in_(
        subtree_ids(session, center.id)
    )
    if center.parent_id is None:  # the top center also sees what operators imported
        imported_here = or_(imported_here, BankStatement.center_id.is_(None))
    return tuple(
        UnmatchedLine(
            statement,
            line.position,
            line.end_to_end_id or line.batch_reference,
            line.amount_fen,
            line.debit,
            line.outcome,
        )
        for line, statement in session.execute(
            select(StatementLine, BankStatement.bank_statement_id)
            .join(BankStatement, BankStatement.id == StatementLine.statement_id)
            .where(StatementLine.outcome.in_(("unmatched", "review")), imported_here)
            .order_by(StatementLine.id)
        )
    )
