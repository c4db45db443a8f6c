"""Signed checkpoints (signed tree heads) over the Merkle log.

A new checkpoint is signed only after a consistency proof, built from the stored nodes, shows
that the tree it covers extends the tree of the previous checkpoint: the log never signs two
checkpoints that contradict each other. The database's checkpoints vanish with a restore from an
older backup, so the tree must also extend the checkpoint last published, kept outside the
database (`published`): the new checkpoint is written there before its transaction commits.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from voucher_app.clock import Clock
from voucher_app.domain.errors import LedgerFault, NoCheckpoint
from voucher_app.ledger import merkle, sequencer, store
from voucher_app.ledger.published import PublishedFile, require_extends
from voucher_app.ledger.tables import LedgerCheckpoint, LedgerCosignature
from voucher_app.signing.cosignature import with_cosignatures
from voucher_app.signing.note import Checkpoint, sign_note


class InconsistentLog(LedgerFault):
    """The stored tree no longer extends the last signed checkpoint: stop and investigate."""

    code = "inconsistent_log"


@dataclass(frozen=True)
class CheckpointSigner:
    origin: str
    private_key: Ed25519PrivateKey


def latest(session: Session) -> LedgerCheckpoint:
    checkpoint = session.scalar(
        select(LedgerCheckpoint).order_by(LedgerCheckpoint.tree_size.desc()).limit(1)
    )
    if checkpoint is None:
        raise NoCheckpoint("the ledger has no signed checkpoint yet")
    return checkpoint


def cosigned_note(session: Session, checkpoint: LedgerCheckpoint) -> str:
    """The checkpoint as published: the log's signed note and every witness cosignature it
    got (c2sp.org/tlog-cosignature), in the order they came."""
    lines = session.scalars(
        select(LedgerCosignature.line)
        .where(LedgerCosignature.checkpoint_id == checkpoint.id)
        .order_by(LedgerCosignature.id)
    ).all()
    return with_cosignatures(checkpoint.note, lines)


def all_checkpoints(session: Session) -> list[LedgerCheckpoint]:
    return list(session.scalars(select(LedgerCheckpoint).order_by(LedgerCheckpoint.tree_size)))


def sign(
    session: Session,
    signer: CheckpointSigner,
    clock: Clock,
    published: PublishedFile | None = None,
) -> LedgerCheckpoint | None:
    """Sign the current tree if it grew since the last checkpoint; the caller commits.

    With `published`, refuse (`LogBehindPublished`) unless the tree extends the checkpoint in
    that file, and write the new checkpoint there before returning (so before it is committed
    and served). A file missing, or older than the database's latest checkpoint, is brought up
    to that checkpoint even when there is nothing new to sign.
    """
    sequencer.lock(session, wait=True)
    size = store.tree_size(session)
    try:
        previous: LedgerCheckpoint | None = latest(session)
    except NoCheckpoint:
        previous = None
    root = store.root(session, size)
    on_file = published.read() if published is not None else None
    if on_file is not None:
        require_extends(session, on_file, size, root)
    if size == 0 or (previous is not None and previous.tree_size >= size):
        if (
            published is not None
            and previous is not None
            and (on_file is None or on_file.size < previous.tree_size)
            and store.root(session, previous.tree_size) == bytes(previous.root_hash)
        ):
            published.write(previous.note)
        return None
    if previous is not None:
        proof = store.consistency_proof(session, previous.tree_size, size)
        try:
            merkle.verify_consistency(
                previous.tree_size, size, proof, bytes(previous.root_hash), root
            )
        except merkle.ProofError as exc:
            raise InconsistentLog(
                f"tree of size {size} does not extend checkpoint {previous.tree_size}: {exc}"
            ) from exc
    note = sign_note(
        Checkpoint(signer.origin, size, root).text(), signer.origin, signer.private_key
    )
    row_id = session.execute(
        insert(LedgerCheckpoint)
        .values(tree_size=size, root_hash=root, note=note, created_at=clock.now())
        .returning(LedgerCheckpoint.id)
    ).scalar_one()
    if published is not None:
        published.write(note)
    return session.get_one(LedgerCheckpoint, row_id)
