"""Verifies the ledger inside its database: everything the outside auditor checks, and more.

In one snapshot: the published checks (`audit`) over every sequenced entry, its stored leaf
hash and every signed checkpoint; every stored interior node of the Merkle tree (the nodes
proofs are built from) against the hash of its children; every journal entry either in the
log or queued for it; and every cached balance against the postings.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from voucher_app.ledger import checkpoints, merkle, store
from voucher_app.ledger.audit import AuditReport, Failure, SourceEntry, audit
from voucher_app.ledger.tables import JournalEntry, LedgerAccount, LogNode, LogQueue
from voucher_app.signing.note import Verifier


def verify(
    session: Session,
    verifiers: list[Verifier],
    progress: Callable[[int, int], None] | None = None,
) -> AuditReport:
    size = store.tree_size(session)
    notes = [(f"size {row.tree_size}", row.note) for row in checkpoints.all_checkpoints(session)]
    entries = (
        SourceEntry(index, document, leaf)
        for index, document, leaf in store.iter_documents(session, size)
    )
    report = audit(
        entries,
        notes,
        verifiers,
        progress=(lambda done: progress(done, size)) if progress else None,
    )
    _check_stored_nodes(session, size, report)
    _check_accounting(session, size, report)
    return report


def _check_stored_nodes(session: Session, size: int, report: AuditReport) -> None:
    """Each level holds exactly its complete subtrees, each the hash of its two children."""
    below: list[bytes] = []
    for level in range(size.bit_length()):
        stored = [
            bytes(digest)
            for digest in session.scalars(
                select(LogNode.hash).where(LogNode.level == level).order_by(LogNode.node_index)
            )
        ]
        if len(stored) != size >> level:
            report.failures.append(
                Failure(
                    0,
                    2,
                    f"the log stores {len(stored)} nodes at level {level}, not {size >> level}",
                    last_index=size - 1,
                )
            )
            return
        for index, digest in enumerate(stored if level else ()):
            if digest != merkle.node_hash(below[2 * index], below[2 * index + 1]):
                first = index << level
                report.failures.append(
                    Failure(
                        first,
                        2,
                        f"stored node (level {level}, index {index}) is not "
                        "the hash of its children",
                        last_index=first + (1 << level) - 1,
                    )
                )
                return
        below = stored


def _check_accounting(session: Session, size: int, report: AuditReport) -> None:
    """Every entry is in the log or queued for it; cached balances equal the postings.

    Queued entries (committed, not yet sequenced) count toward the balances here; their rules
    are checked once they are in the log.
    """
    queued = list(session.scalars(select(LogQueue.entry_id).order_by(LogQueue.entry_id)))
    total = session.scalar(select(func.count()).select_from(JournalEntry)) or 0
    if total != size + len(queued):
        missing = total - size - len(queued)
        report.failures.append(
            Failure(size, reason=f"{missing} journal entries are neither in the log nor queued")
        )
    balances = dict(report.balances)
    for document in store.documents(session, queued).values():
        for posting in document["postings"]:
            balances[posting["account"]] = (
                balances.get(posting["account"], 0) + posting["amount_fen"]
            )
    for name, cached in session.execute(select(LedgerAccount.name, LedgerAccount.balance_fen)):
        if balances.get(name, 0) != cached:
            report.failures.append(
                Failure(
                    size,
                    reason=f"cached balance of {name} is {cached} fen, "
                    f"the journal gives {balances.get(name, 0)}",
                )
            )
            return
