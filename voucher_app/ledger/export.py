"""Writes the published ledger to a folder from one snapshot: the auditor's export (layout:
`export_format`) and the log's tiles (C2SP tlog-tiles), which a static web server serves."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from voucher_app.ledger import checkpoints, export_format, files, published, store, tiles
from voucher_app.ledger.canonical import canonical_entry
from voucher_app.ledger.checkpoints import InconsistentLog
from voucher_app.signing.note import Verifier, open_checkpoint


def export(session: Session, directory: Path, vkeys: list[str]) -> int:
    """Write every sequenced entry, its stored leaf hash, every checkpoint (with the witnesses'
    cosignatures) and the verifier keys.

    Every checkpoint is written, whatever its size: in a consistent snapshot none can cover more
    than the log holds, and one that does is exactly what an auditor must see.
    """
    size = store.tree_size(session)
    directory.mkdir(parents=True, exist_ok=True)
    notes = directory / export_format.CHECKPOINTS
    notes.mkdir(exist_ok=True)
    for row in checkpoints.all_checkpoints(session):
        (notes / export_format.checkpoint_file(row.tree_size)).write_text(
            checkpoints.cosigned_note(session, row), encoding="utf-8"
        )
    vkey_file = directory / export_format.VKEY
    vkey_file.write_text("".join(f"{v}\n" for v in vkeys), encoding="utf-8")
    with (
        (directory / export_format.ENTRIES).open("wb") as entries,
        (directory / export_format.LEAVES).open("wb") as leaves,
    ):
        for index, document, leaf in store.iter_documents(session, size):
            entries.write(export_format.entry_line(index, canonical_entry(document)))
            leaves.write(leaf)
    return size


#: The file of a tile folder that holds the checkpoint its tiles are of (C2SP tlog-tiles).
CHECKPOINT = "checkpoint"
#: Level-0 tiles (and their bundles) read from the database at a time.
_TILES_PER_READ = 16


@dataclass(frozen=True)
class TileExport:
    """What `export_tiles` did: the folder grew from `previous_size` to `tree_size` entries."""

    previous_size: int
    tree_size: int
    written: int  # tile and bundle files written


def export_tiles(session: Session, directory: Path, verifiers: list[Verifier]) -> TileExport:
    """Bring a tile folder (C2SP tlog-tiles, servable as is) up to the latest checkpoint.

    The folder's own `checkpoint` says what it holds: only the tiles the latest checkpoint's
    tree has and that tree did not are written (`tiles.new_tiles`), then the checkpoint, last,
    so a reader never finds a checkpoint whose tiles are not there (the tiles are flushed to
    disk first). A folder checkpoint that is not this log's (`NoteError`), that this log has
    not reached (`LogBehindPublished`: a database restored from an older state must not
    publish a smaller tree), or whose root is not the log's at its size (`InconsistentLog`) is
    refused before anything is written.
    """
    latest = checkpoints.latest(session)
    checkpoint_file = directory / CHECKPOINT
    previous = 0
    if checkpoint_file.exists():
        origin = open_checkpoint(latest.note, verifiers).origin
        held = open_checkpoint(checkpoint_file.read_text("utf-8"), verifiers, origin=origin)
        if held.size > latest.tree_size:
            raise published.behind(latest.tree_size, held.size)
        if store.root(session, held.size) != held.root:
            raise InconsistentLog(
                f"{checkpoint_file} holds a checkpoint at {held.size} whose root this log does "
                "not have at that size: the log has forked from what the folder published"
            )
        previous = held.size
    wanted = tiles.new_tiles(previous, latest.tree_size)
    bottom = sorted({(t.index, t.width) for t in wanted if t.level == 0})
    for start in range(0, len(bottom), _TILES_PER_READ):
        _write_bottom(session, directory, bottom[start : start + _TILES_PER_READ])
    for tile in wanted:
        if tile.level:
            files.replace(directory / tile.path, store.tile(session, tile))
    if hasattr(os, "sync"):  # the tiles reach the disk before the checkpoint that names them
        os.sync()
    files.replace(
        checkpoint_file, checkpoints.cosigned_note(session, latest).encode(), durable=True
    )
    return TileExport(previous, latest.tree_size, len(wanted))


def _write_bottom(session: Session, directory: Path, chunk: list[tuple[int, int]]) -> None:
    """Write level-0 tiles and their entry bundles, (index, width) each, from one read."""
    first = chunk[0][0] * tiles.WIDTH
    rows = store.indexed_documents(session, first, chunk[-1][0] * tiles.WIDTH + chunk[-1][1])
    for index, width in chunk:
        part = rows[index * tiles.WIDTH - first :][:width]
        files.replace(
            directory / tiles.Tile(0, index, width).path, b"".join(leaf for _, _, leaf in part)
        )
        files.replace(
            directory / tiles.Tile(0, index, width, entries=True).path,
            tiles.bundle(canonical_entry(document) for _, document, _ in part),
        )
