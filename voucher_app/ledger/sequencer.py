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

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from voucher_app.ledger import merkle, store
from voucher_app.ledger.canonical import canonical_entry
from voucher_app.ledger.published import PublishedFile, behind
from voucher_app.ledger.tables import LedgerLock, LogLeaf, LogNode, LogQueue
from voucher_app.persistence.database import table_of
from voucher_app.persistence.prepared import Prepared, insert_values

SEQUENCER_LOCK = "sequencer"
BATCH_SIZE = 2000


_locks, _leaves, _nodes = table_of(LedgerLock), table_of(LogLeaf), table_of(LogNode)
_queue = table_of(LogQueue)
_LOCK = {
    wait: Prepared(
        select(_locks.c.name)
        .where(_locks.c.name == bindparam("name"))
        .with_for_update(skip_locked=not wait)
    )
    for wait in (True, False)
}
#: The queue's rows of the entries given leaves from `size` on: the batch just appended.
_DEQUEUE = Prepared(
    delete(_queue).where(
        _queue.c.entry_id.in_(
            select(_leaves.c.entry_id).where(_leaves.c.leaf_index >= bindparam("size"))
        )
    )
)


def lock(session: Session, *, wait: bool) -> bool:
    """Take the sequencer lock for this transaction; without `wait`, give up if it is held."""
    taken = _LOCK[wait].run(session.connection(), {"name": SEQUENCER_LOCK})
    return taken.first() is not None


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
    queued = store.queued_documents(session, batch_size)
    if not queued:
        return 0
    size = store.tree_size(session)
    on_file = published.read() if published is not None else None
    if on_file is not None and size < on_file.size:
        raise behind(size, on_file.size)
    append(
        session,
        size,
        [(entry_id, merkle.leaf_hash(canonical_entry(document))) for entry_id, document in queued],
    )
    _DEQUEUE.run(session.connection(), {"size": size})
    return len(queued)


def append(session: Session, size: int, leaves: Sequence[tuple[int, bytes]]) -> None:
    """Give entries (row id, leaf hash) the log indexes from `size` (the tree size) on: store
    their leaves and every complete subtree they finish. The caller holds the lock."""
    tree = merkle.CompactTree.from_border(
        size, store.nodes(session, merkle.CompactTree.border_nodes(size))
    )
    leaf_rows: list[tuple[int, int]] = []
    node_rows: list[tuple[int, int, bytes]] = []
    for entry_id, leaf in leaves:
        leaf_rows.append((tree.size, entry_id))
        node_rows.extend((level, index, digest) for (level, index), digest in tree.append(leaf))
    connection = session.connection()
    insert_values(connection, _leaves, ("leaf_index", "entry_id"), leaf_rows)
    insert_values(connection, _nodes, ("level", "node_index", "hash"), node_rows)
