"""Spend facts: which center's report figures each journal entry moves.

The services that post journal entries `record` here, in the same transaction, which center
(and for a redemption which provider and service category) the entry's money belongs to; reversals
`undo` what their original recorded. The rows (`spend_facts`) are what the spend reports add up
(`services.reports`); the journal stays the truth, and tests replay it to compare every figure.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import bindparam, insert, literal, select

from voucher_app.domain.spend import MEASURE, SIGN, local_month
from voucher_app.ledger.journal import PostedEntry
from voucher_app.ledger.tables import JournalEntry
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.database import among, in_chunks, insert_rows, table_of
from voucher_app.persistence.models import SpendFact
from voucher_app.persistence.prepared import Prepared


@dataclass(frozen=True, slots=True)
class Attribution:
    """Whose figures an entry moves: the center (the budget's owner, or for a redemption the
    voucher's issuing center) and, for redemptions, the provider and the service category."""

    programme_id: int
    center_id: int
    provider_id: int | None = None
    category: str | None = None


_ENTRY_ROW = (
    select(JournalEntry.id).where(JournalEntry.public_id == bindparam("entry")).scalar_subquery()
)
_FACTS = table_of(SpendFact)
_INSERT_FACT = Prepared(
    insert(_FACTS).values(
        entry_id=_ENTRY_ROW,
        center_id=bindparam("center_id"),
        programme_id=bindparam("programme_id"),
        provider_id=bindparam("provider_id"),
        category=bindparam("category"),
        month=bindparam("month"),
        measure=bindparam("measure"),
        amount_fen=bindparam("amount_fen"),
    )
)


#: A fact's columns besides its own id, in the order `undo` copies them.
FACT_COLUMNS = (
    "entry_id",
    "center_id",
    "programme_id",
    "provider_id",
    "category",
    "month",
    "measure",
    "amount_fen",
)


def moved_fen(posted: PostedEntry) -> int:
    """How much money an entry moved: the sum of what its postings put in."""
    return sum(amount for _, amount in posted.postings if amount > 0)


def record(
    uow: UnitOfWork, posted: PostedEntry, attribution: Attribution, *, direction: int = 1
) -> None:
    """Add the entry's money to the figure its kind moves, for the attributed center.
    `direction=-1` takes it off instead (the giving side of an allocation)."""
    if not posted.replayed:  # a replay's facts were recorded with the first post
        fact = _fact(posted, attribution, direction)
        _INSERT_FACT.run(uow.session.connection(), {"entry": posted.id, **fact})


def record_all(uow: UnitOfWork, moves: Iterable[tuple[PostedEntry, Attribution, int]]) -> None:
    """`record` for a set of entries (bulk issuance, a statement's settlements): their row ids
    looked up at once, the facts inserted in bulk."""
    moves = [move for move in moves if not move[0].replayed]
    entry_ids: dict[uuid.UUID, int] = {}
    for chunk in in_chunks([posted.id for posted, _, _ in moves]):
        query = select(JournalEntry.public_id, JournalEntry.id)
        found = uow.session.execute(query.where(among(uow.session, JournalEntry.public_id, chunk)))
        entry_ids.update((public_id, row_id) for public_id, row_id in found)
    rows = [
        {"entry_id": entry_ids[posted.id], **_fact(posted, attribution, direction)}
        for posted, attribution, direction in moves
    ]
    insert_rows(uow.session.connection(), _FACTS, rows)


def _fact(posted: PostedEntry, attribution: Attribution, direction: int) -> dict[str, object]:
    """A fact's columns besides its entry's."""
    return {
        "center_id": attribution.center_id,
        "programme_id": attribution.programme_id,
        "provider_id": attribution.provider_id,
        "category": attribution.category,
        "month": local_month(posted.created_at),
        "measure": MEASURE[posted.kind].value,
        "amount_fen": direction * SIGN[posted.kind] * moved_fen(posted),
    }


def undo(uow: UnitOfWork, reversal: PostedEntry) -> None:
    """Record a reversal: the negation of every fact of the entry it reverses, in the month
    of the reversal."""
    if reversal.reverses is None:
        return
    original = select(JournalEntry.id).where(JournalEntry.public_id == reversal.reverses)
    uow.session.execute(
        insert(SpendFact).from_select(
            list(FACT_COLUMNS),
            select(
                select(JournalEntry.id)
                .where(JournalEntry.public_id == reversal.id)
                .scalar_subquery(),
                SpendFact.center_id,
                SpendFact.programme_id,
                SpendFact.provider_id,
                SpendFact.category,
                literal(local_month(reversal.created_at)),
                SpendFact.measure,
                -SpendFact.amount_fen,
            ).where(SpendFact.entry_id == original.scalar_subquery()),
        )
    )
