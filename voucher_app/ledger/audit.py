"""Verifies a published ledger from its entries, signed checkpoints and public key alone.

What it checks (DESIGN §4): every checkpoint's signature; every entry's shape, double entry,
flow and reversal rules and the replayed balances (`replay`); every leaf recomputed from the
entry's RFC 8785 bytes; the root at each checkpoint's size; consistency with a checkpoint
verified on an earlier run. It stops at nothing: it reads to the end and reports the first bad
index, so an edit that breaks several rules is named where it starts.

Sources may also offer the leaf hashes they stored (the export's `leaves` file, the server's
`leaf_hash`). Those are untrusted, but once their Merkle root matches a signed checkpoint they are
authenticated, and an entry whose recomputed leaf differs is named exactly; without them, an
edit that keeps an entry valid is only located between two checkpoints.

Given public notice lists (公示, `domain.notice`), it also checks each against the `approve`
entries that published its claims: nothing added, left out or shown otherwise since.

Given witnesses and a quorum (`witnessed`), the latest checkpoint must carry that many valid
cosignatures by them (c2sp.org/tlog-cosignature): then the log showed this reader the same tree
it showed the witnesses, and so everyone else who demands them.
"""

from __future__ import annotations

import base64
import gc
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from voucher_app.domain import notice
from voucher_app.domain.calendar import local_date
from voucher_app.domain.entries import EntryKind
from voucher_app.ledger import merkle
from voucher_app.ledger.document import EntryRecord, MalformedEntry, parse_entry
from voucher_app.ledger.replay import Replay, ReplayError
from voucher_app.signing.cosignature import cosigned_by
from voucher_app.signing.note import (
    Checkpoint,
    NoteError,
    Verifier,
    open_checkpoint,
    parse_checkpoint,
    split_note,
)

#: How often (in entries) the progress callback hears of the audit's progress.
PROGRESS_EVERY = 4096

#: The index of a finding about something published beside the log (a notice list): reported
#: after every fault of the log itself, which is what an auditor must read first.
AFTER_THE_LOG = 2**62

#: Stands in for the leaf of a malformed entry (already reported): no real leaf equals it.
_NOT_A_LEAF = merkle.EMPTY_ROOT


class SourceEntry(NamedTuple):
    """One entry as a source gives it: its index, the decoded JSON, the leaf hash it states."""

    leaf_index: int
    entry: Any  # decoded JSON, validated by `parse_entry`
    claimed_leaf: bytes | None = None


@dataclass(frozen=True, order=True)
class Failure:
    """Something found wrong. `index` is the first bad leaf index (-1: not tied to an entry).

    Failures order by index, then by `rank`, so that at one index a broken rule (rank 0) is
    reported before the leaf mismatch it also causes (rank 1) and before a fault known only to
    lie somewhere in [index, last_index] (rank 2).
    """

    index: int
    rank: int = field(default=0, compare=True)
    reason: str = field(default="", compare=False)
    last_index: int | None = field(default=None, compare=False)

    def __str__(self) -> str:
        if self.index < 0 or self.index == AFTER_THE_LOG:
            return self.reason
        if self.last_index is not None:
            return f"between index {self.index} and {self.last_index}: {self.reason}"
        return f"index {self.index}: {self.reason}"


@dataclass(frozen=True)
class TrustedState:
    """The last checkpoint an earlier run verified, kept in `--state FILE`."""

    origin: str
    size: int
    root: bytes

    def to_json(self) -> str:
        root = base64.b64encode(self.root).decode()
        return json.dumps({"origin": self.origin, "size": self.size, "root": root}) + "\n"

    @classmethod
    def from_json(cls, text: str) -> TrustedState:
        data = json.loads(text)
        return cls(data["origin"], int(data["size"]), base64.b64decode(data["root"]))


@dataclass
class AuditReport:
    entries: int = 0
    checkpoints: list[Checkpoint] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    balances: dict[str, int] = field(default_factory=dict)
    roots: dict[int, bytes] = field(default_factory=dict)
    notice_lists: int = 0  # public notice lists checked against the log
    cosigners: list[str] = field(default_factory=list)  # witnesses of the latest checkpoint
    #: The first index whose leaf hash, as the source states it, is not the entry's (None:
    #: none, or the source states none): a fault of the source itself when it serves the leaves
    #: for proofs (tiles), only a pointer otherwise.
    first_unlike_leaf: int | None = None

    @property
    def failure(self) -> Failure | None:
        return min(self.failures) if self.failures else None

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def latest(self) -> Checkpoint | None:
        return self.checkpoints[-1] if self.checkpoints else None


def witnessed(
    report: AuditReport,
    notes: Sequence[tuple[str, str]],
    witnesses: Sequence[Verifier],
    quorum: int,
) -> None:
    """Demand `quorum` valid cosignatures by `witnesses` on the report's latest checkpoint, in
    the notes that carry it; record the cosigners, and a failure when they fall short or when
    a listed witness's line does not verify over that checkpoint."""
    latest = report.latest
    if latest is None:
        return  # reported already: no checkpoint verified
    cosigners: dict[str, None] = {}
    for label, note in notes:
        try:
            if parse_checkpoint(split_note(note)[0]) != latest:
                continue
            cosigners.update(dict.fromkeys(c.witness for c in cosigned_by(note, witnesses)))
        except NoteError as exc:
            report.failures.append(Failure(-1, reason=f"checkpoint {label}: {exc}"))
    report.cosigners = list(cosigners)
    if len(cosigners) < quorum:
        by = ", ".join(cosigners) or "none of the witnesses given"
        reason = (
            f"checkpoint {latest.size} carries {len(cosigners)} valid cosignature(s) of the "
            f"{quorum} demanded (by {by})"
        )
        report.failures.append(Failure(-1, reason=reason))


def open_checkpoints(
    notes: Sequence[tuple[str, str]], verifiers: Sequence[Verifier], report: AuditReport
) -> list[Checkpoint]:
    """Verify (label, note) pairs; record failures; return good checkpoints by size."""
    by_size: dict[int, Checkpoint] = {}
    origins: set[str] = set()
    for label, note in notes:
        try:
            checkpoint = open_checkpoint(note, verifiers)
        except NoteError as exc:
            report.failures.append(Failure(-1, reason=f"checkpoint {label}: {exc}"))
            continue
        origins.add(checkpoint.origin)
        seen = by_size.setdefault(checkpoint.size, checkpoint)
        if seen.root != checkpoint.root:
            report.failures.append(
                Failure(-1, reason=f"two signed checkpoints of size {checkpoint.size} differ")
            )
    if len(origins) > 1:
        report.failures.append(
            Failure(-1, reason=f"checkpoints from several origins: {sorted(origins)}")
        )
    return [by_size[size] for size in sorted(by_size)]


@dataclass
class _Leaves:
    """The tree recomputed from entries, and the tree of the leaf hashes the source states.

    While every claimed leaf equals its recomputed one the two trees are the same tree, so the
    claimed one is only built (from a copy of the recomputed border) after the first mismatch.
    """

    wanted_sizes: set[int]
    recomputed: merkle.CompactTree = field(default_factory=merkle.CompactTree)
    claimed: merkle.CompactTree | None = None  # None: identical to `recomputed` so far
    claimed_complete: bool = True
    first_mismatch: int | None = None
    roots: dict[int, bytes] = field(default_factory=dict)
    claimed_roots: dict[int, bytes] = field(default_factory=dict)

    def add(self, index: int, leaf: bytes, claimed: bytes | None) -> None:
        if claimed is None:
            self.claimed_complete = False
        elif self.claimed_complete and (self.claimed is not None or claimed != leaf):
            if self.claimed is None:
                self.first_mismatch = index
                self.claimed = merkle.CompactTree(
                    self.recomputed.size, list(self.recomputed.border)
                )
            self.claimed.append(claimed)
        self.recomputed.append(leaf)
        size = index + 1
        if size in self.wanted_sizes:
            self.roots[size] = self.recomputed.root()
            if self.claimed_complete:
                tree = self.claimed or self.recomputed
                self.claimed_roots[size] = tree.root()

    def locate(self, previous: int, checkpoint: Checkpoint) -> Failure:
        """Name the first bad index under a checkpoint the entries do not reproduce.

        Exact when the claimed leaves reproduce the signed root (they are then authentic);
        otherwise only the range since the previous checkpoint is known.
        """
        if self.claimed_roots.get(checkpoint.size) == checkpoint.root and (
            self.first_mismatch is not None
        ):
            return Failure(self.first_mismatch, 1, "entry differs from the leaf the log signed")
        reason = f"entries do not reproduce the signed root of tree size {checkpoint.size}"
        return Failure(previous, 2, reason, last_index=checkpoint.size - 1)


def audit(
    entries: Iterable[SourceEntry],
    notes: Sequence[tuple[str, str]],
    verifiers: Sequence[Verifier],
    *,
    trusted: TrustedState | None = None,
    progress: Callable[[int], None] | None = None,
    notice_lists: Sequence[Any] = (),
) -> AuditReport:
    """Check a whole ledger, and the published `notice_lists` (decoded JSON) against it; see the
    module docstring for what and how."""
    # Millions of short-lived, acyclic objects go through here while the replay's tables grow
    # to millions of entries: the cyclic collector would rescan those tables again and again
    # (a third of the run time) and find nothing to free. Reference counting frees the rest.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _audit(
            entries, notes, verifiers, trusted=trusted, progress=progress, notices=notice_lists
        )
    finally:
        if collecting:
            gc.enable()


def _audit(
    entries: Iterable[SourceEntry],
    notes: Sequence[tuple[str, str]],
    verifiers: Sequence[Verifier],
    *,
    trusted: TrustedState | None,
    progress: Callable[[int], None] | None,
    notices: Sequence[Any],
) -> AuditReport:
    report = AuditReport()
    # The approvals that published a claim on a list given: list key → item digest → claim.
    published: dict[str, dict[bytes, str]] = {
        notice.list_key_of(document): {} for document in notices
    }
    last_created = ""
    report.checkpoints = open_checkpoints(notes, verifiers, report)
    leaves = _Leaves({c.size for c in report.checkpoints})
    if trusted is not None:
        leaves.wanted_sizes.add(trusted.size)
    replay = Replay()
    apply, add, leaf_hash = replay.apply, leaves.add, merkle.leaf_hash  # the hot loop's calls
    expected = 0
    for item in entries:
        if item.leaf_index != expected:
            problem = "missing" if item.leaf_index > expected else "out of order or repeated"
            report.failures.append(
                Failure(expected, reason=f"entry {problem} (found index {item.leaf_index})")
            )
            break
        leaf = _NOT_A_LEAF
        try:
            record, data = parse_entry(item.entry)
            leaf = leaf_hash(data)
            apply(record)
            if published:
                last_created = record.created_at
                if record.kind is EntryKind.APPROVE:
                    late = _note_publication(record, published)
                    if late is not None:
                        report.failures.append(Failure(expected, reason=late))
        except (MalformedEntry, ReplayError) as exc:
            report.failures.append(Failure(expected, reason=str(exc)))
        add(expected, leaf, item.claimed_leaf)
        expected += 1
        if progress is not None and not expected % PROGRESS_EVERY:
            progress(expected)
    report.entries = expected
    if progress is not None:
        progress(expected)
    report.balances = replay.balances
    report.roots = leaves.roots
    report.first_unlike_leaf = leaves.first_mismatch
    _compare_checkpoints(report, leaves)
    if trusted is not None:
        _check_trusted(trusted, report.checkpoints, report, report.entries)
    report.notice_lists = len(notices)
    log_ends_on = _local_day(last_created) if last_created else ""
    for document in notices:
        # The log went past the list's day: no approval can join it any more.
        final = log_ends_on > document["day"]
        logged = published[notice.list_key_of(document)]
        for problem in notice.compare(document, logged, final=final):
            report.failures.append(Failure(AFTER_THE_LOG, reason=f"notice list {problem}"))
    return report


def _local_day(created_at: str) -> str:
    """The day in China of an entry's `created_at`, as ISO text (lists name their day so)."""
    return local_date(datetime.fromisoformat(created_at)).isoformat()


def _note_publication(record: EntryRecord, published: dict[str, dict[bytes, str]]) -> str | None:
    """Keep the item digest of an approval published on one of the lists checked; answer why
    the approval cannot have published it when it names a list of another day than its own."""
    refs = record.refs
    key = refs.get(notice.LIST_REF)
    found = published.get(key or "")
    if found is None:
        return None
    made_on = _local_day(record.created_at)
    if not str(key).endswith(f":{made_on}"):
        return f"an approval made on {made_on} names the notice list {key}"
    try:
        digest = bytes.fromhex(refs.get(notice.ITEM_REF, ""))
    except ValueError:
        digest = b""
    found[digest] = refs.get("redemption", "")
    return None


def _compare_checkpoints(report: AuditReport, leaves: _Leaves) -> None:
    previous = 0
    for checkpoint in report.checkpoints:
        if checkpoint.size > report.entries:
            reason = f"checkpoint of size {checkpoint.size} covers missing entries"
            report.failures.append(Failure(report.entries, reason=reason))
        elif leaves.roots.get(checkpoint.size, merkle.EMPTY_ROOT) != checkpoint.root:
            report.failures.append(leaves.locate(previous, checkpoint))
        previous = checkpoint.size


def _check_trusted(
    trusted: TrustedState, checkpoints: list[Checkpoint], report: AuditReport, entries: int
) -> None:
    latest = checkpoints[-1] if checkpoints else None
    if latest is None or latest.size < trusted.size:
        report.failures.append(
            Failure(
                -1, reason=f"the log no longer reaches the tree size {trusted.size} verified before"
            )
        )
    elif latest.origin != trusted.origin:
        report.failures.append(Failure(-1, reason=f"origin changed from {trusted.origin!r}"))
    elif trusted.size <= entries and report.roots.get(trusted.size) != trusted.root:
        report.failures.append(
            Failure(
                0,
                2,
                f"not consistent with the checkpoint of size {trusted.size} verified before",
                last_index=trusted.size - 1,
            )
        )
