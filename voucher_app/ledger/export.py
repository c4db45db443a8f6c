"""Writes the published ledger to a folder (layout: `export_format`) from one snapshot."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from voucher_app.ledger import checkpoints, export_format, store
from voucher_app.ledger.canonical import canonical_entry


def export(session: Session, directory: Path, vkeys: list[str]) -> int:
    """Write every sequenced entry, its stored leaf hash, every checkpoint and the verifier keys.

    Every checkpoint is written, whatever its size: in a consistent snapshot none can cover more
    than the log holds, and one that does is exactly what an auditor must see.
    """
    size = store.tree_size(session)
    directory.mkdir(parents=True, exist_ok=True)
    notes = directory / export_format.CHECKPOINTS
    notes.mkdir(exist_ok=True)
    for row in checkpoints.all_checkpoints(session):
        (notes / export_format.checkpoint_file(row.tree_size)).write_text(
            row.note, encoding="utf-8"
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
