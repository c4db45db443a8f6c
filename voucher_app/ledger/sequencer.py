"""Appends committed journal entries to the Merkle log, one sequencer at a time.

Business transactions only queue their entries (`ledger_log_queue`); this short transaction,
run after commits and by a job, locks the `sequencer` row, takes queued entries in entry-id
order (which orders conflicting entries as they committed, see `journal`), gives them the next
gapless leaf indexes, and stores the leaf hashes and every complete subtree they finish.
"""

from __future__ import annotations

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from voucher_app.ledger import merkle, store
from voucher_app.ledger.canonical import canonical_entry
from voucher_app.persistence.models import LedgerLock, LogLeaf, LogNode, LogQueue

SEQUENCER_LOCK = "sequencer"
BATCH_SIZE = 2000


def lock(session: Session, *, wait: bool) -> bool:
    """Take the sequencer lock for this transaction; without `wait`, give up if it is held."""
    query = select(LedgerLock.name).where(LedgerLock.name == SEQUENCER_LOCK)
    query = query.with_for_update(skip_locked=not wait)
    return session.scalar(query) is not None


def integrate_batch(session: Session, *, wait: bool, batch_size: int = BATCH_SIZE) -> int:
    """Sequence up to `batch_size` queued entries; return how many. The caller commits."""
    if not lock(session, wait=wait):
        return 0
    queued = list(
        session.scalars(select(LogQueue.entry_id).order_by(LogQueue.entry_id).limit(batch_size))
    )
    if not queued:
        return 0
    size = store.tree_size(session)
    tree = merkle.CompactTree.from_border(
        size, store.nodes(session, merkle.CompactTree.border_nodes(size))
    )
    docs = store.documents(session, queued)
    leaf_rows: list[dict[str, int]] = []
    node_rows: list[dict[str, int | bytes]] = []
    for entry_id in queued:
        leaf_rows.append({"leaf_index": tree.size, "entry_id": entry_id})
        created = tree.append(merkle.leaf_hash(canonical_entry(docs[entry_id])))
        node_rows.extend(
            {"level": level, "node_index": index, "hash": digest}
            for (level, index), digest in created
        )
    session.execute(insert(LogLeaf), leaf_rows)
    session.execute(insert(LogNode), node_rows)
    session.execute(delete(LogQueue).where(LogQueue.entry_id.in_(queued)))
    return len(queued)
