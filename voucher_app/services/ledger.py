"""Ledger use cases: reversals, sequencing, checkpoints, public reads, verification, export,
and the check of the log against its published checkpoint (with the restore of a lost tail).

The services that need the published-checkpoint file (`ledger.published`) find it on the unit
of work (`UnitOfWork.published`, which the wiring sets); a test may pass its own as `published`.
A unit of work without one (tests, tools) checks against no file.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from voucher_app.domain.actors import Actor
from voucher_app.domain.errors import InvalidLogRange, UnknownTile
from voucher_app.ledger import (
    checkpoints,
    export,
    published,
    sequencer,
    store,
    tail,
    tiles,
    verify,
)
from voucher_app.ledger.audit import AuditReport
from voucher_app.ledger.checkpoints import CheckpointSigner
from voucher_app.ledger.journal import PostedEntry
from voucher_app.ledger.published import PublishedFile
from voucher_app.ledger.tables import LedgerCheckpoint
from voucher_app.ledger.tail import TailImport
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.uow import read_only, transaction
from voucher_app.services import spend_facts
from voucher_app.signing.note import Checkpoint, Verifier

MAX_ENTRIES_PAGE = 1000


@dataclass(frozen=True, slots=True)
class CheckpointView:
    tree_size: int
    root_hash: bytes
    note: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class EntriesPage:
    tree_size: int
    entries: list[tuple[int, dict[str, Any], bytes]]  # (index, document, leaf hash)


@transaction
def reverse_entry(uow: UnitOfWork, entry_id: uuid.UUID, actor: Actor) -> PostedEntry:
    return reverse(uow, entry_id, actor)


def reverse(uow: UnitOfWork, entry_id: uuid.UUID, actor: Actor) -> PostedEntry:
    """Post the negation of an entry and take back the report figures it moved."""
    posted = uow.journal.reverse(entry_id, actor)
    spend_facts.undo(uow, posted)
    return posted


def _published_file(uow: UnitOfWork, given: PublishedFile | None) -> PublishedFile | None:
    """The published-checkpoint file: the one given, else the unit of work's."""
    return given if given is not None else uow.published


@transaction
def _integrate_batch(uow: UnitOfWork, *, wait: bool, published: PublishedFile | None) -> int:
    return sequencer.integrate_batch(uow.session, wait=wait, published=published)


def sequence_log(
    uow: UnitOfWork,
    *,
    wait: bool = True,
    batches: int | None = None,
    published: PublishedFile | None = None,
) -> int:
    """Move queued entries into the Merkle log, a batch per transaction; return how many.

    With `wait=False` it returns at once when another sequencer holds the lock (that one, or the
    next run of the job, will take the entries). `batches` bounds the work (a request that
    sequences after its commit does one batch; the job drains the rest). While the log is behind
    its published checkpoint it sequences nothing (`LogBehindPublished`): entries stay queued.
    """
    published = _published_file(uow, published)
    total = done = 0
    while (batches is None or done < batches) and (
        count := _integrate_batch(uow, wait=wait, published=published)
    ):
        total += count
        done += 1
    return total


@transaction
def sign_checkpoint(
    uow: UnitOfWork, signer: CheckpointSigner, published: PublishedFile | None = None
) -> CheckpointView | None:
    """Sign the current tree when it grew since the last checkpoint.

    The checkpoint is written to the published-checkpoint file before it is committed; signing
    is refused (`LogBehindPublished`) while the log is behind that file's checkpoint, has forked
    from it, or would not extend it.
    """
    signed = checkpoints.sign(uow.session, signer, uow.clock, _published_file(uow, published))
    return _checkpoint_view(signed) if signed else None


def behind_published(
    uow: UnitOfWork, published: PublishedFile | None = None
) -> tuple[int, int] | None:
    """None when the log reaches its published checkpoint and agrees with it (or nothing was
    published yet); else (the log's tree size, the published tree size). A log that reaches
    the published size with another root has forked: it is reported the same way."""
    on_file = _published_file(uow, published)
    checkpoint = on_file.read() if on_file is not None else None
    if checkpoint is None:
        return None
    return _gap(uow, checkpoint)


@read_only
def _gap(uow: UnitOfWork, checkpoint: Checkpoint) -> tuple[int, int] | None:
    return published.gap(uow.session, checkpoint)


@transaction
def import_tail(
    uow: UnitOfWork,
    directory: Path,
    verifiers: list[Verifier],
    published: PublishedFile | None = None,
) -> TailImport:
    """Append the published entries a restored log lacks from a ledger export (`ledger.tail`);
    nothing is written unless they reproduce the published root."""
    on_file = _published_file(uow, published)
    if on_file is None:
        raise RuntimeError("no published-checkpoint file: pass one, or run inside the app")
    return tail.import_tail(uow.session, uow.clock, directory, on_file, verifiers)


@read_only
def unsigned_entries(uow: UnitOfWork) -> int:
    """How many sequenced entries no checkpoint covers yet."""
    session = uow.session
    signed = session.scalar(
        select(LedgerCheckpoint.tree_size).order_by(LedgerCheckpoint.tree_size.desc()).limit(1)
    )
    return store.tree_size(session) - (signed or 0)


def _checkpoint_view(row: LedgerCheckpoint) -> CheckpointView:
    return CheckpointView(row.tree_size, bytes(row.root_hash), row.note, row.created_at)


@read_only
def latest_checkpoint(uow: UnitOfWork) -> CheckpointView:
    return _checkpoint_view(checkpoints.latest(uow.session))


@read_only
def entries_page(uow: UnitOfWork, start: int, end: int) -> EntriesPage:
    """Published entries for log indexes [start, end), at most MAX_ENTRIES_PAGE of them."""
    session = uow.session
    size = store.tree_size(session)
    if not 0 <= start < size or end <= start:
        raise InvalidLogRange(
            f"need 0 <= start < {size} and end > start", tree_size=size, start=start, end=end
        )
    end = min(end, size, start + MAX_ENTRIES_PAGE)
    return EntriesPage(size, store.indexed_documents(session, start, end))


@read_only
def inclusion_proof(uow: UnitOfWork, index: int, tree_size: int) -> tuple[bytes, list[bytes]]:
    return store.inclusion_proof(uow.session, index, tree_size)


@read_only
def consistency_proof(uow: UnitOfWork, first: int, second: int) -> list[bytes]:
    return store.consistency_proof(uow.session, first, second)


@read_only
def tile_resource(uow: UnitOfWork, path: str) -> bytes:
    """The bytes of the hash tile or entry bundle at `path` (`tile/...`, C2SP tlog-tiles).

    Tiles are cached as immutable, so only those whose entries the latest checkpoint covers are
    served: entries sequenced since may still be lost to a restore and sequenced again.
    """
    tile = tiles.parse_path(path)
    signed = checkpoints.latest(uow.session).tree_size
    if tiles.end_of(tile) > signed:  # served forever: only what a signed checkpoint covers
        raise UnknownTile(f"{path} covers entries no checkpoint covers yet (signed: {signed})")
    if tile.entries:
        return store.entry_bundle(uow.session, tile)
    return store.tile(uow.session, tile)


# --- verification and export ------------------------------------------------------------------


@read_only
def verify_ledger(
    uow: UnitOfWork,
    verifiers: list[Verifier],
    progress: Callable[[int, int], None] | None = None,
) -> AuditReport:
    """Check the whole ledger inside the database, in one snapshot (see `ledger.verify`)."""
    return verify.verify(uow.session, verifiers, progress)


@read_only
def export_ledger(uow: UnitOfWork, directory: Path, vkeys: list[str]) -> int:
    """Write the published ledger to `directory` (see `ledger.export_format`); return entries."""
    return export.export(uow.session, directory, vkeys)


@read_only
def export_tiles(uow: UnitOfWork, directory: Path, verifiers: list[Verifier]) -> export.TileExport:
    """Bring a folder of the log's tiles up to the latest checkpoint (see `export.export_tiles`)."""
    return export.export_tiles(uow.session, directory, verifiers)
