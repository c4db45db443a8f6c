"""Puts back the tail of a log that a restore from an older backup cut short, from an export.

After such a restore the database's log stops at the backup's tree size while a larger
checkpoint was published (`published`). An export taken before the restore, or a mirror's
copy (layout: `export_format`), still holds the missing entries. `import_tail` appends the
entries from the database's tree size up to the published size exactly as they were published
(same ids, times, actors, refs), so their leaves reproduce, with their postings applied to the
balances and their leaves and subtrees stored — and only after checking, with the Merkle maths,
that they give the published root: an export that does not is refused before anything is
written.

The export is untrusted: its entries are authenticated by the published root alone, its
checkpoints by the ledger's own verifier keys (never by the `ledger.vkey` it carries). A
checkpoint in the export that is newer than the published file is one this ledger signed, so
the tail is restored up to it and the file brought up to it.

Entries the restored database already holds, queued but not yet in the log (committed just
before the backup), are placed at their published indexes instead of written again. Business
rows (vouchers, redemptions, report figures) of the tail are not in an export: the ledger is
whole again, the business tables lag until a newer dump is restored.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import orjson
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from voucher_app.clock import Clock
from voucher_app.domain.errors import InvalidInput, LogBehindPublished
from voucher_app.ledger import export_format, merkle, sequencer, store
from voucher_app.ledger.canonical import canonical_entry
from voucher_app.ledger.document import EntryRecord, MalformedEntry, parse_entry
from voucher_app.ledger.journal import Journal
from voucher_app.ledger.merkle import leaf_hash
from voucher_app.ledger.published import PublishedFile
from voucher_app.ledger.tables import JournalEntry, LogLeaf, LogQueue
from voucher_app.signing.note import Checkpoint, NoteError, Verifier, open_checkpoint


@dataclass(frozen=True, slots=True)
class TailImport:
    """What `import_tail` did: log indexes [start, end) appended, to the checkpoint of `end`."""

    start: int
    end: int
    written: int  # entries written to the journal
    requeued: int  # entries the database held queued, placed at their published indexes


def import_tail(
    session: Session,
    clock: Clock,
    directory: Path,
    published: PublishedFile,
    verifiers: Iterable[Verifier],
) -> TailImport:
    """Append the published entries the log lacks, from the export in `directory`; the caller
    commits. Refuses (`LogBehindPublished`, `InvalidInput`) with nothing written unless the
    result reproduces the published root."""
    sequencer.lock(session, wait=True)
    size = store.tree_size(session)
    on_file = published.read()
    target, note = _target(directory, published.origin, list(verifiers), on_file)
    if target is None or target.size <= size:
        if target is not None and store.root(session, target.size) != target.root:
            raise LogBehindPublished(
                f"the log's first {target.size} entries are not the published ones: it has "
                "forked, and no export can mend that",
                tree_size=size,
                published_size=target.size,
            )
        return TailImport(size, size, 0, 0)
    records = _read_entries(directory, size, target.size)
    tree = merkle.CompactTree.from_border(
        size, store.nodes(session, merkle.CompactTree.border_nodes(size))
    )
    for _record, data in records:
        tree.append(leaf_hash(data))
    if tree.root() != target.root:
        raise LogBehindPublished(
            f"the export's entries {size} to {target.size - 1}, after the log's {size}, do not "
            f"reproduce the published root of tree size {target.size}: wrong export, or the "
            "log has forked",
            tree_size=size,
            published_size=target.size,
        )
    held = _queued_rows(session, records)
    try:
        written = Journal(session, clock).restore(
            [record for record, _data in records if uuid.UUID(record.id) not in held]
        )
    except IntegrityError as exc:
        raise LogBehindPublished(
            f"the database holds entries that contradict the published tail ({exc.orig})",
            tree_size=size,
            published_size=target.size,
        ) from exc
    new_rows = iter(written)
    leaves: list[tuple[int, bytes]] = []
    for record, data in records:
        public_id = uuid.UUID(record.id)
        leaves.append((held[public_id] if public_id in held else next(new_rows), leaf_hash(data)))
    if held:
        session.execute(delete(LogQueue).where(LogQueue.entry_id.in_(held.values())))
    sequencer.append(session, size, leaves)
    if note is not None:  # the export's checkpoint is newer than the file's: it becomes the file
        if on_file is not None and store.root(session, on_file.size) != on_file.root:
            raise LogBehindPublished(
                f"the export's checkpoint of {target.size} does not extend the published "
                f"checkpoint of {on_file.size}",
                tree_size=size,
                published_size=on_file.size,
            )
        published.write(note)
    return TailImport(size, target.size, len(written), len(held))


def _target(
    directory: Path, origin: str, verifiers: list[Verifier], on_file: Checkpoint | None
) -> tuple[Checkpoint | None, str | None]:
    """The newest checkpoint this ledger signed, from the file or the export; with the note to
    write to the file when the export's is newer. The file's must then be on the same tree."""
    newest: tuple[Checkpoint, str] | None = None
    folder = directory / export_format.CHECKPOINTS
    for path in sorted(folder.glob("*.note")) if folder.is_dir() else []:
        note = path.read_text(encoding="utf-8")
        try:
            checkpoint = open_checkpoint(note, verifiers, origin=origin)
        except NoteError:
            continue  # not signed by this ledger: it proves nothing
        if newest is None or checkpoint.size > newest[0].size:
            newest = (checkpoint, note)
    if newest is None or (on_file is not None and newest[0].size <= on_file.size):
        return on_file, None
    return newest


def _read_entries(directory: Path, start: int, end: int) -> list[tuple[EntryRecord, bytes]]:
    """The export's entries for log indexes [start, end), parsed, with their canonical bytes."""
    path = directory / export_format.ENTRIES
    if not path.is_file():
        raise InvalidInput(f"{directory} has no {export_format.ENTRIES}: is it a ledger export?")
    found: list[tuple[EntryRecord, bytes]] = []
    with path.open("rb") as lines:
        for line in lines:
            try:
                item = orjson.loads(line)
                index = item["index"]
                if index < start:
                    continue
                if index != start + len(found):
                    raise InvalidInput(
                        f"the export's entry {start + len(found)} is missing (found {index})"
                    )
                found.append(parse_entry(item["entry"]))
            except (orjson.JSONDecodeError, KeyError, TypeError, MalformedEntry) as exc:
                raise InvalidInput(
                    f"the export's entry {start + len(found)} cannot be read: {exc}"
                ) from exc
            if len(found) == end - start:
                return found
    raise InvalidInput(
        f"the export ends at entry {start + len(found) - 1}; the log lacks entries "
        f"{start} to {end - 1}"
    )


def _queued_rows(
    session: Session, records: list[tuple[EntryRecord, bytes]]
) -> dict[uuid.UUID, int]:
    """Row ids of the tail's entries the database already holds; each must be queued, not in
    the log, and publish exactly as the export has it."""
    ids = [uuid.UUID(record.id) for record, _data in records]
    held: dict[uuid.UUID, int] = {}
    for start in range(0, len(ids), 500):
        rows = session.execute(
            select(JournalEntry.public_id, JournalEntry.id).where(
                JournalEntry.public_id.in_(ids[start : start + 500])
            )
        )
        held.update((public_id, row_id) for public_id, row_id in rows)
    if not held:
        return held
    in_log = session.scalars(
        select(LogLeaf.entry_id).where(LogLeaf.entry_id.in_(held.values()))
    ).first()
    if in_log is not None:
        raise LogBehindPublished("an entry of the published tail is already in the log elsewhere")
    documents = store.documents(session, list(held.values()))
    data_of = {uuid.UUID(record.id): data for record, data in records}
    for public_id, row_id in held.items():
        if canonical_entry(documents[row_id]) != data_of[public_id]:
            raise LogBehindPublished(
                f"the database's entry {public_id} differs from the published one"
            )
    return held
