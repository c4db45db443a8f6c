"""The latest signed checkpoint, also kept outside the database (DESIGN §4 and §7).

A database restored from an older backup has forgotten the checkpoints signed after that
backup; signing from it again would publish a second tree head, under the same key, that
contradicts the first. So every checkpoint is first written to a file (config
`CHECKPOINT_FILE`, by default `published-checkpoint` in the keys folder) — atomically, and
before the transaction that publishes it commits — and the log is checked against that file:

- a log smaller than the file's tree size is *behind*: the sequencer leaves new entries queued
  (the missing indexes belong to the published entries) and nothing is signed until the tail is
  restored (`tail.import_tail`, or a newer dump);
- a log whose root at the file's size is another is *forked*: nothing is signed;
- a new checkpoint is signed only when a consistency proof from the stored nodes shows that it
  extends the file's (RFC 9162 §2.1.4).

The file holds the checkpoint's signed note exactly as it is served (C2SP signed-note, the
`tlog-checkpoint` text), so anyone can read it, and it is verified with the ledger's keys when
read.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

from sqlalchemy.orm import Session

from voucher_app.domain.errors import KeyringError, LogBehindPublished
from voucher_app.ledger import files, merkle, store
from voucher_app.signing.note import Checkpoint, NoteError, Verifier, open_checkpoint

FILE_NAME = "published-checkpoint"


class PublishedFile:
    """The file holding the latest checkpoint this ledger signed.

    Reads are cached until the file changes (the sequencer asks after every commit); the
    verifier keys are loaded only to read a file that changed.
    """

    def __init__(
        self, path: Path, origin: str, verifiers: Callable[[], Iterable[Verifier]]
    ) -> None:
        self.path = path
        self.origin = origin
        self._verifiers = verifiers
        self._cached: tuple[tuple[int, int, int], Checkpoint] | None = None

    def read(self) -> Checkpoint | None:
        """The checkpoint in the file, or None when there is no file yet.

        A file that is not a checkpoint of this origin signed by a ledger key is refused
        (`KeyringError`): the log cannot be checked against it, so it must not sign.
        """
        try:
            with self.path.open("rb") as file:
                stat = os.fstat(file.fileno())
                version = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
                cached = self._cached
                if cached is not None and cached[0] == version:
                    return cached[1]
                data = file.read()
        except FileNotFoundError:
            return None
        try:
            checkpoint = open_checkpoint(data.decode(), self._verifiers(), origin=self.origin)
        except (NoteError, UnicodeDecodeError) as exc:
            raise KeyringError(
                f"{self.path} is not a checkpoint of {self.origin} signed by a ledger key "
                f"({exc}): put back a good copy of the latest checkpoint (docs/restore.md)"
            ) from exc
        self._cached = (version, checkpoint)
        return checkpoint

    def write(self, note: str) -> None:
        """Replace the file with `note` atomically: a crash leaves the old file or the new one.

        Flushed to disk, rename included, before it returns (`files.replace`).
        """
        files.replace(self.path, note.encode(), durable=True)


def behind(size: int, published_size: int) -> LogBehindPublished:
    """The error for a log of `size` entries behind the checkpoint of `published_size`."""
    return LogBehindPublished(
        f"the log holds {size} entries but a checkpoint of {published_size} was published: "
        f"entries {size} to {published_size - 1} are missing",
        tree_size=size,
        published_size=published_size,
    )


def describe_gap(size: int, published_size: int) -> str:
    """What an operator is told of a log of `size` entries that does not reach, or does not
    agree with, the checkpoint of `published_size` it published."""
    if size < published_size:
        return (
            f"the log holds {size} entries, its published checkpoint {published_size}: "
            f"entries {size} to {published_size - 1} are missing"
        )
    return (
        f"the log's first {published_size} entries are not those of its published checkpoint: "
        "it has forked from what was published"
    )


def gap(session: Session, published: Checkpoint) -> tuple[int, int] | None:
    """None when the log reaches the published checkpoint with the same root; else (the log's
    tree size, the published tree size)."""
    size = store.tree_size(session)
    if size >= published.size and (
        published.size == 0 or store.root(session, published.size) == published.root
    ):
        return None
    return size, published.size


def require_extends(session: Session, published: Checkpoint, size: int, root: bytes) -> None:
    """Refuse (`LogBehindPublished`) unless the tree of `size` leaves and `root` extends the
    published checkpoint, shown by a consistency proof built from the stored nodes."""
    if size < published.size:
        raise behind(size, published.size)
    if published.size == 0:
        return
    proof = store.consistency_proof(session, published.size, size)
    try:
        merkle.verify_consistency(published.size, size, proof, published.root, root)
    except merkle.ProofError as exc:
        raise LogBehindPublished(
            f"the log of {size} entries does not extend the checkpoint of {published.size} "
            f"it published ({exc}): it has forked from what was published",
            tree_size=size,
            published_size=published.size,
        ) from exc
