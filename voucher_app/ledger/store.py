"""Reads of the journal and its Merkle log: published entry documents, stored nodes, proofs.

Every reader that needs an entry's published form (the sequencer hashing it, the HTTP API, the
export, the in-database verifier) builds it here, from the rows, with `document.entry_document`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator
from typing import Any

from sqlalchemy import bindparam, func, select, tuple_
from sqlalchemy.orm import Session

from voucher_app.domain.entries import Posting
from voucher_app.domain.errors import InvalidLogRange, UnknownTile
from voucher_app.ledger import merkle, tiles
from voucher_app.ledger.canonical import canonical_entry
from voucher_app.ledger.document import entry_document
from voucher_app.ledger.tables import (
    JournalEntry,
    JournalPosting,
    LedgerAccount,
    LogLeaf,
    LogNode,
    LogQueue,
)
from voucher_app.persistence.database import table_of
from voucher_app.persistence.prepared import Prepared

_entries, _postings, _queue = table_of(JournalEntry), table_of(JournalPosting), table_of(LogQueue)
_accounts, _leaves = table_of(LedgerAccount), table_of(LogLeaf)
_reversed = _entries.alias("reversed")
#: Entries as `_documents` reads them, with the public id of the entry each reverses.
_ENTRY_ROWS = select(
    _entries.c.id,
    _entries.c.public_id,
    _entries.c.kind,
    _entries.c.created_at,
    _entries.c.actor_id,
    _entries.c.actor_role,
    _entries.c.refs,
    _reversed.c.public_id.label("reverses_public_id"),
).select_from(_entries.outerjoin(_reversed, _reversed.c.id == _entries.c.reverses_id))
#: Postings as `_documents` reads them: entry row id, account name, amount.
_POSTING_ROWS = select(_postings.c.entry_id, _accounts.c.name, _postings.c.amount_fen).join_from(
    _postings, _accounts, _accounts.c.id == _postings.c.account_id
)


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
    entries = connection.execute(_ENTRY_ROWS.where(_entries.c.id.in_(entry_ids)))
    postings = connection.execute(_POSTING_ROWS.where(_postings.c.entry_id.in_(entry_ids)))
    return _documents(entries, postings)


#: The first queued entries, in entry-id order.
_QUEUED_ENTRIES = Prepared(
    _ENTRY_ROWS.join(_queue, _queue.c.entry_id == _entries.c.id)
    .order_by(_queue.c.entry_id)
    .limit(bindparam("batch_size"))
)
#: The postings of the queued entries with row ids from `first` to `last`.
_QUEUED_POSTINGS = Prepared(
    _POSTING_ROWS.where(
        _postings.c.entry_id.in_(
            select(_queue.c.entry_id).where(
                _queue.c.entry_id.between(bindparam("first"), bindparam("last"))
            )
        )
    )
)
_LAST_LEAF = Prepared(select(func.max(_leaves.c.leaf_index)))


def queued_documents(session: Session, batch_size: int) -> list[tuple[int, dict[str, Any]]]:
    """The first `batch_size` entries of the log's queue, in entry-id order: (row id, document).

    Two reads whatever the batch: the entries, then the postings of the queued entries in their
    range of row ids. An entry queued by a commit between the two adds postings no document
    reads; it stays queued for the next batch.
    """
    connection = session.connection()
    entries = _QUEUED_ENTRIES.run(connection, {"batch_size": batch_size}).rows
    if not entries:
        return []
    postings = _QUEUED_POSTINGS.run(connection, {"first": entries[0][0], "last": entries[-1][0]})
    found = _documents(entries, postings)
    return [(row[0], found[row[0]]) for row in entries]


def tree_size(session: Session) -> int:
    """The number of entries in the Merkle log (indexes are gapless from 0)."""
    last = _LAST_LEAF.run(session.connection()).scalar()
    return 0 if last is None else int(last) + 1


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
        _ENTRY_ROWS.join(LogLeaf, LogLeaf.entry_id == _entries.c.id).where(in_range)
    )
    postings = connection.execute(
        _POSTING_ROWS.join(LogLeaf, LogLeaf.entry_id == _postings.c.entry_id).where(in_range)
    )
    docs = _documents(entries, postings)
    return [(index, docs[entry_id], bytes(leaf)) for index, entry_id, leaf in leaves]


def iter_documents(
    session: Session, size: int, page: int = 5000
) -> Iterator[tuple[int, dict[str, Any], bytes]]:
    for start in range(0, size, page):
        yield from indexed_documents(session, start, min(size, start + page))


#: The hashes of one tree level's nodes with indexes [first, end), in index order.
_LEVEL_HASHES = Prepared(
    select(LogNode.hash)
    .where(
        LogNode.level == bindparam("level"),
        LogNode.node_index >= bindparam("first"),
        LogNode.node_index < bindparam("end"),
    )
    .order_by(LogNode.node_index)
)


def level_hashes(session: Session, level: int, first: int, end: int) -> list[bytes]:
    """The stored hashes of tree level `level`, nodes [first, end); `UnknownTile` unless every
    one is stored (a node is stored once the log holds all its leaves)."""
    found = [
        bytes(row[0])
        for row in _LEVEL_HASHES.run(
            session.connection(), {"level": level, "first": first, "end": end}
        ).rows
    ]
    if len(found) != end - first:
        raise UnknownTile(f"the log has no nodes {first} to {end - 1} at level {level} yet")
    return found


def tile(session: Session, tile: tiles.Tile) -> bytes:
    """A hash tile's bytes (C2SP tlog-tiles): its nodes at tree level 8·L, as stored."""
    first = tile.first
    return b"".join(level_hashes(session, tiles.HEIGHT * tile.level, first, first + tile.width))


def entry_bundle(session: Session, tile: tiles.Tile) -> bytes:
    """An entry bundle's bytes: the RFC 8785 form of each entry the bundle covers."""
    found = indexed_documents(session, tile.first, tile.first + tile.width)
    if len(found) != tile.width:
        raise UnknownTile(f"the log has no entries {tile.first} to {tile.first + tile.width - 1}")
    return tiles.bundle(canonical_entry(document) for _, document, _ in found)
