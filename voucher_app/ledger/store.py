"""Reads of the journal and its Merkle log: published entry documents, stored nodes, proofs.

Every reader that needs an entry's published form (the sequencer hashing it, the HTTP API, the
export, the in-database verifier) builds it here, from the rows, with `document.entry_document`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator
from typing import Any

from sqlalchemy import bindparam, func, select, tuple_
from sqlalchemy.orm import Session, aliased

from voucher_app.domain.entries import Posting
from voucher_app.domain.errors import InvalidLogRange
from voucher_app.ledger import merkle
from voucher_app.ledger.document import entry_document
from voucher_app.ledger.tables import JournalEntry, JournalPosting, LedgerAccount, LogLeaf, LogNode

_Reversed = aliased(JournalEntry)
_ENTRY_COLUMNS = (
    JournalEntry.id,
    JournalEntry.public_id,
    JournalEntry.kind,
    JournalEntry.created_at,
    JournalEntry.actor_id,
    JournalEntry.actor_role,
    JournalEntry.refs,
    _Reversed.public_id,
)
_POSTING_COLUMNS = (JournalPosting.entry_id, LedgerAccount.name, JournalPosting.amount_fen)


def _documents(entry_rows: Iterable[Any], posting_rows: Iterable[Any]) -> dict[int, dict[str, Any]]:
    """Assemble published documents (keyed by entry row id) from entry and posting rows."""
    postings: dict[int, list[Posting]] = defaultdict(list)
    for entry_id, account, amount in posting_rows:
        postings[entry_id].append(Posting(account, amount))
    return {
        row_id: entry_document(
            entry_id=str(public_id),
            kind=kind,
            created_at=created_at,
            actor_id=actor_id,
            actor_role=actor_role,
            postings=postings[row_id],
            refs=refs,
            reverses=str(reversed_id) if reversed_id else None,
        )
        for (
            row_id,
            public_id,
            kind,
            created_at,
            actor_id,
            actor_role,
            refs,
            reversed_id,
        ) in entry_rows
    }


def documents(session: Session, entry_ids: Collection[int]) -> dict[int, dict[str, Any]]:
    """Published documents of the entries with these row ids, keyed by row id."""
    if not entry_ids:
        return {}
    connection = session.connection()
    entries = connection.execute(
        select(*_ENTRY_COLUMNS)
        .outerjoin(_Reversed, _Reversed.id == JournalEntry.reverses_id)
        .where(JournalEntry.id.in_(entry_ids))
    )
    postings = connection.execute(
        select(*_POSTING_COLUMNS)
        .join(LedgerAccount, LedgerAccount.id == JournalPosting.account_id)
        .where(JournalPosting.entry_id.in_(entry_ids))
    )
    return _documents(entries, postings)


def tree_size(session: Session) -> int:
    """The number of entries in the Merkle log (indexes are gapless from 0)."""
    last = session.scalar(select(func.max(LogLeaf.leaf_index)))
    return 0 if last is None else last + 1


_NODES = select(LogNode.level, LogNode.node_index, LogNode.hash).where(
    tuple_(LogNode.level, LogNode.node_index).in_(bindparam("wanted", expanding=True))
)


def nodes(session: Session, wanted: Iterable[merkle.NodeId]) -> dict[merkle.NodeId, bytes]:
    """The stored subtree hashes among `wanted` (one query per 500; absent ones are left out)."""
    keys = list(set(wanted))
    connection = session.connection()  # Core: proofs are on the public API's hot path
    found: dict[merkle.NodeId, bytes] = {}
    for start in range(0, len(keys), 500):
        for level, index, digest in connection.execute(
            _NODES, {"wanted": keys[start : start + 500]}
        ):
            found[(level, index)] = bytes(digest)
    return found


def _stored(session: Session, wanted: set[merkle.NodeId], size: int) -> dict[merkle.NodeId, bytes]:
    """The nodes a proof at tree size `size` needs; a missing one means the log is smaller."""
    found = nodes(session, wanted)
    if len(found) != len(wanted):
        current = tree_size(session)
        raise InvalidLogRange(f"tree size must be between 1 and {current}", tree_size=current)
    return found


def root(session: Session, size: int) -> bytes:
    if size == 0:
        return merkle.EMPTY_ROOT
    return merkle.range_hash(0, size, nodes(session, merkle.subtrees(0, size)))


def inclusion_proof(session: Session, index: int, size: int) -> tuple[bytes, list[bytes]]:
    """The leaf hash at `index` and its inclusion proof in the tree of `size` leaves."""
    if not 0 <= index < size:
        raise InvalidLogRange(f"index must be between 0 and {size - 1}")
    ranges = merkle.inclusion_proof_ranges(index, size)
    stored = _stored(session, merkle.nodes_needed(ranges) | {(0, index)} | {(0, size - 1)}, size)
    return stored[(0, index)], merkle.proof_hashes(ranges, stored)


def consistency_proof(session: Session, first: int, second: int) -> list[bytes]:
    if not 0 < first <= second:
        raise InvalidLogRange(f"first must be between 1 and {second}")
    ranges = merkle.consistency_proof_ranges(first, second)
    wanted = merkle.nodes_needed(ranges) | {(0, second - 1)}
    return merkle.proof_hashes(ranges, _stored(session, wanted, second))


def indexed_documents(
    session: Session, start: int, end: int
) -> list[tuple[int, dict[str, Any], bytes]]:
    """(index, published document, stored leaf hash) for log indexes [start, end)."""
    connection = session.connection()
    in_range = (LogLeaf.leaf_index >= start) & (LogLeaf.leaf_index < end)
    leaves = connection.execute(
        select(LogLeaf.leaf_index, LogLeaf.entry_id, LogNode.hash)
        .join(LogNode, (LogNode.level == 0) & (LogNode.node_index == LogLeaf.leaf_index))
        .where(in_range)
        .order_by(LogLeaf.leaf_index)
    ).all()
    entries = connection.execute(
        select(*_ENTRY_COLUMNS)
        .join(LogLeaf, LogLeaf.entry_id == JournalEntry.id)
        .outerjoin(_Reversed, _Reversed.id == JournalEntry.reverses_id)
        .where(in_range)
    )
    postings = connection.execute(
        select(*_POSTING_COLUMNS)
        .join(LedgerAccount, LedgerAccount.id == JournalPosting.account_id)
        .join(LogLeaf, LogLeaf.entry_id == JournalPosting.entry_id)
        .where(in_range)
    )
    docs = _documents(entries, postings)
    return [(index, docs[entry_id], bytes(leaf)) for index, entry_id, leaf in leaves]


def iter_documents(
    session: Session, size: int, page: int = 5000
) -> Iterator[tuple[int, dict[str, Any], bytes]]:
    for start in range(0, size, page):
        yield from indexed_documents(session, start, min(size, start + page))
