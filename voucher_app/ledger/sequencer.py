"""Appends committed journal entries to the Merkle log, one sequencer at a time.

Business transactions only queue their entries (`ledger_log_queue`); this short transaction,
run after commits and by a job, locks the `sequencer` row, takes queued entries in entry-id
order (which orders conflicting entries as they committed, see `journal`), gives them the next
gapless leaf indexes, and stores the leaf hashes and every complete subtree they finish.

A log behind its published checkpoint (`published`) sequences nothing: its next indexes belong
to published entries it has lost, which `tail.import_tail` puts back (through `append`, as here).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from voucher_app.ledger import merkle, store
from voucher_app.ledger.canonical import canonical_entry
from voucher_app.ledger.published import PublishedFile, behind
from voucher_app.ledger.tables import LedgerLock, LogLeaf, LogNode, LogQueue

SEQUENCER_LOCK = "sequencer"
BATCH_SIZE = 2000


def lock(session: Session, *, wait: bool) -> bool:
    """Take the sequencer lock for this transaction; without `wait`, give up if it is held."""
    query = select(LedgerLock.name).where(LedgerLock.name == SEQUENCER_LOCK)
    query = query.with_for_update(skip_locked=not wait)
    return session.scalar(query) is not None


def integrate_batch(
    session: Session,
    *,
    wait: bool,
    batch_size: int = BATCH_SIZE,
    published: PublishedFile | None = None,
) -> int:
    """Sequence up to `batch_size` queued entries; return how many. The caller commits.

    Refuses (`LogBehindPublished`) while the log is smaller than the `published` checkpoint.
    """
    if not lock(session, wait=wait):
        return 0
    queued = list(
        session.scalars(select(LogQueue.entry_id).order_by(LogQueue.entry_id).limit(batch_size))
    )
    if not queued:
        return 0
    size = store.tree_size(session)
    on_file = published.read() if published is not None else None
    if on_file is not None and size < on_file.size:
        raise behind(size, on_file.size)
    docs = store.documents(session, queued)
    append(
        session,
        size,
        [(entry_id, merkle.leaf_hash(canonical_entry(docs[entry_id]))) for entry_id in queued],
    )
    session.execute(delete(LogQueue).where(LogQueue.entry_id.in_(queued)))
    return len(queued)


def append(session: Session, size: int, leaves: Sequence[tuple[int, bytes]]) -> None:
    """Give entries (row id, leaf hash) the log indexes from `size` (the tree size) on: store
    their leaves and every complete subtree they finish. The caller holds the lock."""
    tree = merkle.CompactTree.from_border(
        size, store.nodes(session, merkle.CompactTree.border_nodes(size))
    )
    leaf_rows: list[dict[str, int]] = []
    node_rows: list[dict[str, int | bytes]] = []
    for entry_id, leaf in leaves:
        leaf_rows.append({"leaf_index": tree.size, "entry_id": entry_id})
        node_rows.extend(
            {"level": level, "node_index": index, "hash": digest}
            for (level, index), digest in tree.append(leaf)
        )
    session.execute(insert(LogLeaf), leaf_rows)
    session.execute(insert(LogNode), node_rows)
