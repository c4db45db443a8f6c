"""The auditor (`voucher_app.ledger.audit`) over small in-memory ledgers: it must find each kind
of tampering and name the first bad index."""

from __future__ import annotations

import base64
import copy
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from voucher_app.domain.entries import EntryKind, Posting
from voucher_app.ledger import merkle
from voucher_app.ledger.audit import AuditReport, Failure, SourceEntry, TrustedState, audit
from voucher_app.ledger.canonical import canonical_entry
from voucher_app.ledger.document import entry_document
from voucher_app.signing.note import Checkpoint, Verifier, sign_note

ORIGIN = "gd-sme-vouchers.example/ledger"
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
OTHER_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
VERIFIER = Verifier(ORIGIN, KEY.public_key())
START = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)

PID = "5b0f6c1e-2a55-4c1a-9d3b-1f7e9a7c0b11"
FUNDING = f"programme:{PID}:funding"
PARENT = f"center:440000:{PID}:available"
CHILD = f"center:440300:{PID}:available"
V1 = "voucher:V-1"
V2 = "voucher:V-2"
PENDING = f"provider:R-1:{PID}:pending"
PAYABLE = f"provider:R-1:{PID}:payable"
PAID = f"provider:R-1:{PID}:paid"


def document(
    position: int, kind: EntryKind, source: str, target: str, amount: int, **refs: str
) -> dict[str, Any]:
    return entry_document(
        entry_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"entry-{position}")),
        kind=kind,
        created_at=START + timedelta(seconds=position),
        actor_id="admin-1",
        actor_role="programme_admin",
        postings=[Posting(source, -amount), Posting(target, amount)],
        refs={"programme": PID, **refs},
        reverses=None,
    )


def honest_ledger() -> list[dict[str, Any]]:
    return [
        document(0, EntryKind.FUND, FUNDING, PARENT, 1_000_000),
        document(1, EntryKind.ALLOCATE, PARENT, CHILD, 300_000),
        document(2, EntryKind.ISSUE, CHILD, V1, 50_000, voucher="V-1"),
        document(3, EntryKind.ISSUE, PARENT, V2, 20_000, voucher="V-2"),
        document(4, EntryKind.REDEEM, V1, PENDING, 30_000, voucher="V-1", claim="C-1"),
        document(5, EntryKind.APPROVE, PENDING, PAYABLE, 30_000, claim="C-1"),
        document(6, EntryKind.SETTLE, PAYABLE, PAID, 30_000, batch="B-1"),
        document(7, EntryKind.EXPIRE, V2, PARENT, 20_000, voucher="V-2"),
    ]


EXPECTED_BALANCES = {
    FUNDING: -1_000_000,
    PARENT: 700_000,
    CHILD: 250_000,
    V1: 20_000,
    V2: 0,
    PENDING: 0,
    PAYABLE: 0,
    PAID: 30_000,
}
CHECKPOINT_SIZES = (2, 6, 8)


def leaves_of(documents: Sequence[Any]) -> list[bytes]:
    return [merkle.leaf_hash(canonical_entry(d)) for d in documents]


def signed_checkpoint(
    size: int,
    root: bytes,
    *,
    key: Ed25519PrivateKey = KEY,
    name: str = ORIGIN,
    origin: str = ORIGIN,
) -> str:
    return sign_note(Checkpoint(origin, size, root).text(), name, key)


def checkpoint_notes(
    documents: Sequence[Any], sizes: Sequence[int] = CHECKPOINT_SIZES
) -> list[tuple[str, str]]:
    leaves = leaves_of(documents)
    return [
        (f"{size}.note", signed_checkpoint(size, merkle.root_of(leaves[:size]))) for size in sizes
    ]


def source(
    documents: Sequence[Any],
    claimed: Sequence[bytes] | None = None,
    indexes: Sequence[int] | None = None,
) -> list[SourceEntry]:
    positions = list(indexes) if indexes is not None else list(range(len(documents)))
    return [
        SourceEntry(index, doc, claimed[n] if claimed is not None else None)
        for n, (index, doc) in enumerate(zip(positions, documents, strict=True))
    ]


def set_amount(doc: dict[str, Any], amount: int) -> None:
    """Move `amount` (> 0) in a two-posting entry instead, in the same direction: still balanced."""
    assert amount > 0
    for posting in doc["postings"]:
        posting["amount_fen"] = amount if posting["amount_fen"] > 0 else -amount


def only_failure(report: AuditReport) -> Failure:
    assert not report.ok
    failure = report.failure
    assert failure is not None
    return failure


# --------------------------------------------------------------------------------------------
# An untouched ledger
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("with_leaves", [True, False], ids=["claimed-leaves", "no-leaves"])
def test_an_untouched_ledger_passes_every_check(with_leaves: bool) -> None:
    docs = honest_ledger()
    leaves = leaves_of(docs)
    seen: list[int] = []
    report = audit(
        source(docs, leaves if with_leaves else None),
        checkpoint_notes(docs),
        [VERIFIER],
        progress=seen.append,
    )
    assert report.ok, report.failures
    assert report.failure is None
    assert report.entries == 8
    assert [c.size for c in report.checkpoints] == list(CHECKPOINT_SIZES)
    assert report.latest == Checkpoint(ORIGIN, 8, merkle.root_of(leaves))
    assert report.roots == {size: merkle.root_of(leaves[:size]) for size in CHECKPOINT_SIZES}
    assert report.balances == EXPECTED_BALANCES
    assert seen == [8]  # progress comes every PROGRESS_EVERY entries, and at the end


def test_entries_after_the_latest_checkpoint_are_replayed_but_not_yet_signed() -> None:
    docs = [*honest_ledger(), document(8, EntryKind.ISSUE, CHILD, V1, 1, voucher="V-1")]
    report = audit(source(docs), checkpoint_notes(docs), [VERIFIER])
    assert report.ok, report.failures
    assert report.entries == 9
    assert report.latest is not None
    assert report.latest.size == 8


# --------------------------------------------------------------------------------------------
# Edited, removed and reordered entries
# --------------------------------------------------------------------------------------------

# (edited index, new amount that keeps every balance valid, first and last index of the
# checkpoint interval that holds the edit)
EDITS = [(0, 1_005_000, 0, 1), (3, 25_000, 2, 5), (7, 15_000, 6, 7)]


@pytest.mark.parametrize(("edited", "amount", "first", "last"), EDITS)
def test_a_balanced_amount_edit_is_named_exactly_when_leaf_hashes_are_supplied(
    edited: int, amount: int, first: int, last: int
) -> None:
    docs = honest_ledger()
    tampered = copy.deepcopy(docs)
    set_amount(tampered[edited], amount)
    report = audit(source(tampered, leaves_of(docs)), checkpoint_notes(docs), [VERIFIER])
    failure = only_failure(report)
    assert failure.index == edited
    assert failure.last_index is None
    assert all(f.index == edited for f in report.failures), report.failures


@pytest.mark.parametrize(("edited", "amount", "first", "last"), EDITS)
def test_a_balanced_amount_edit_is_located_between_checkpoints_without_leaf_hashes(
    edited: int, amount: int, first: int, last: int
) -> None:
    docs = honest_ledger()
    tampered = copy.deepcopy(docs)
    set_amount(tampered[edited], amount)
    report = audit(source(tampered), checkpoint_notes(docs), [VERIFIER])
    failure = only_failure(report)
    assert (failure.index, failure.last_index) == (first, last)
    assert "signed root" in failure.reason
    assert str(failure).startswith(f"between index {first} and {last}: ")


@pytest.mark.parametrize("with_leaves", [True, False], ids=["claimed-leaves", "no-leaves"])
def test_an_unbalanced_edit_is_named_exactly(with_leaves: bool) -> None:
    docs = honest_ledger()
    tampered = copy.deepcopy(docs)
    tampered[6]["postings"][0]["amount_fen"] += 1  # the settle entry now sums to 1 fen
    claimed = leaves_of(docs) if with_leaves else None
    report = audit(source(tampered, claimed), checkpoint_notes(docs), [VERIFIER])
    failure = only_failure(report)
    assert failure.index == 6
    assert failure.last_index is None
    assert "sum" in failure.reason


def test_an_unbalanced_edit_inside_a_checkpoint_interval_is_named_exactly_with_leaf_hashes() -> (
    None
):
    docs = honest_ledger()
    tampered = copy.deepcopy(docs)
    tampered[4]["postings"][1]["amount_fen"] += 1  # the redeem entry now sums to 1 fen
    report = audit(source(tampered, leaves_of(docs)), checkpoint_notes(docs), [VERIFIER])
    failure = only_failure(report)
    assert failure.index == 4
    assert "sum" in failure.reason

    # Without leaf hashes the replay still names index 4 exactly (later entries that needed the
    # refused one fail after it), while the signed root only says something in [2, 5] changed.
    report = audit(source(tampered), checkpoint_notes(docs), [VERIFIER])
    exact = sorted(f for f in report.failures if f.last_index is None)
    assert exact[0].index == 4
    assert "sum" in exact[0].reason
    failure = only_failure(report)
    assert failure.last_index is not None
    assert failure.index <= 4 <= failure.last_index


@pytest.mark.parametrize("removed", [0, 4, 7])
def test_a_removed_entry_is_named_at_the_gap(removed: int) -> None:
    docs = honest_ledger()
    leaves = leaves_of(docs)
    keep = [i for i in range(len(docs)) if i != removed]
    report = audit(
        source([docs[i] for i in keep], [leaves[i] for i in keep], indexes=keep),
        checkpoint_notes(docs),
        [VERIFIER],
    )
    failure = only_failure(report)
    assert failure.index == removed
    assert "missing" in failure.reason


def test_a_removed_entry_with_the_rest_renumbered_is_named_where_it_was() -> None:
    docs = honest_ledger()
    leaves = leaves_of(docs)
    shifted = docs[:4] + docs[5:]  # the redeem at index 4 is gone; indexes stay gapless
    report = audit(source(shifted, leaves[:7]), checkpoint_notes(docs), [VERIFIER])
    assert only_failure(report).index == 4


def test_an_entry_repeated_at_an_index_already_seen_is_named() -> None:
    docs = honest_ledger()
    leaves = leaves_of(docs)
    indexes = [0, 1, 2, 3, 3, 4, 5, 6]
    report = audit(
        source([docs[i] for i in indexes], [leaves[i] for i in indexes], indexes=indexes),
        checkpoint_notes(docs),
        [VERIFIER],
    )
    failure = only_failure(report)
    assert failure.index == 4
    assert "out of order or repeated" in failure.reason


@pytest.mark.parametrize(("first", "second"), [(2, 3), (1, 3)])
def test_two_swapped_entries_are_named_at_the_first_swapped_index(first: int, second: int) -> None:
    docs = honest_ledger()
    swapped = list(docs)
    swapped[first], swapped[second] = swapped[second], swapped[first]
    report = audit(source(swapped, leaves_of(docs)), checkpoint_notes(docs), [VERIFIER])
    assert only_failure(report).index == first


def test_swapping_the_leaf_hashes_along_with_the_entries_does_not_hide_the_swap() -> None:
    docs = honest_ledger()
    swapped = list(docs)
    swapped[2], swapped[3] = swapped[3], swapped[2]
    report = audit(source(swapped, leaves_of(swapped)), checkpoint_notes(docs), [VERIFIER])
    failure = only_failure(report)
    assert (failure.index, failure.last_index) == (2, 5)


def test_a_malformed_entry_is_named_exactly() -> None:
    docs = honest_ledger()
    tampered = copy.deepcopy(docs)
    tampered[5]["memo"] = "not part of the format"
    report = audit(source(tampered, leaves_of(docs)), checkpoint_notes(docs), [VERIFIER])
    assert only_failure(report).index == 5
    assert any(f.index == 5 and "fields" in f.reason for f in report.failures)


def test_an_entry_holding_a_non_finite_number_is_reported_at_its_index_not_raised() -> None:
    # `json.loads` turns `1e400` into float('inf'); the auditor must report, not crash.
    docs = honest_ledger()
    tampered = copy.deepcopy(docs)
    tampered[4]["postings"][1]["amount_fen"] = float("inf")
    report = audit(source(tampered, leaves_of(docs)), checkpoint_notes(docs), [VERIFIER])
    assert only_failure(report).index == 4


# --------------------------------------------------------------------------------------------
# Balances
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(
            document(8, EntryKind.ISSUE, CHILD, V2, 250_001, voucher="V-2"),
            id="center-overspent",
        ),
        pytest.param(
            document(8, EntryKind.REDEEM, V1, PENDING, 20_001, voucher="V-1"),
            id="voucher-over-redeemed",
        ),
        pytest.param(document(8, EntryKind.SETTLE, PAYABLE, PAID, 1), id="payable-negative"),
    ],
)
def test_a_signed_entry_that_drives_a_balance_negative_is_named_exactly(
    bad: dict[str, Any],
) -> None:
    docs = [*honest_ledger(), bad, document(9, EntryKind.ALLOCATE, PARENT, CHILD, 1)]
    report = audit(source(docs, leaves_of(docs)), checkpoint_notes(docs, (4, 10)), [VERIFIER])
    failure = only_failure(report)
    assert failure.index == 8
    assert "would go to" in failure.reason
    assert [f.index for f in report.failures] == [8]


def test_an_overspend_in_the_middle_is_named_at_its_own_index() -> None:
    docs = honest_ledger()
    docs[2] = document(2, EntryKind.ISSUE, CHILD, V1, 300_001, voucher="V-1")
    report = audit(source(docs), checkpoint_notes(docs), [VERIFIER])
    failure = only_failure(report)
    assert failure.index == 2
    assert failure.last_index is None


# --------------------------------------------------------------------------------------------
# Checkpoints
# --------------------------------------------------------------------------------------------


def _forged_by_another_key(root: bytes) -> str:
    return signed_checkpoint(8, root, key=OTHER_KEY)


def _signature_bytes_altered(root: bytes) -> str:
    note = signed_checkpoint(8, root)
    prefix, _, encoded = note.rstrip("\n").rpartition(" ")
    raw = bytearray(base64.b64decode(encoded))
    raw[10] ^= 0x40
    return f"{prefix} {base64.b64encode(bytes(raw)).decode()}\n"


def _text_altered_after_signing(root: bytes) -> str:
    return signed_checkpoint(8, root).replace(f"{ORIGIN}\n8\n", f"{ORIGIN}\n7\n", 1)


def _signed_under_another_name(root: bytes) -> str:
    return signed_checkpoint(8, root, name="someone-else.example")


@pytest.mark.parametrize(
    "forge",
    [
        _forged_by_another_key,
        _signature_bytes_altered,
        _text_altered_after_signing,
        _signed_under_another_name,
    ],
    ids=lambda f: f.__name__.strip("_").replace("_", "-"),
)
def test_a_forged_checkpoint_signature_is_reported_without_an_index(forge: Any) -> None:
    docs = honest_ledger()
    notes = checkpoint_notes(docs, (2, 6))
    notes.append(("8.note", forge(merkle.root_of(leaves_of(docs)))))
    report = audit(source(docs, leaves_of(docs)), notes, [VERIFIER])
    failure = only_failure(report)
    assert failure.index == -1
    assert "checkpoint 8.note" in failure.reason
    assert str(failure) == failure.reason
    assert [c.size for c in report.checkpoints] == [2, 6]


@pytest.mark.parametrize("with_leaves", [True, False], ids=["claimed-leaves", "no-leaves"])
def test_a_checkpoint_signed_by_the_right_key_over_a_wrong_root_is_reported(
    with_leaves: bool,
) -> None:
    docs = honest_ledger()
    leaves = leaves_of(docs)
    notes = checkpoint_notes(docs, (2, 8))
    notes.append(("6.note", signed_checkpoint(6, merkle.root_of(leaves[:5]))))
    report = audit(source(docs, leaves if with_leaves else None), notes, [VERIFIER])
    failure = only_failure(report)
    assert (failure.index, failure.last_index) == (2, 5)
    assert "tree size 6" in failure.reason


def test_a_checkpoint_larger_than_the_entries_is_reported_at_the_end() -> None:
    docs = honest_ledger()
    report = audit(source(docs[:7]), checkpoint_notes(docs), [VERIFIER])
    failure = only_failure(report)
    assert failure.index == 7
    assert "missing entries" in failure.reason


def test_two_signed_checkpoints_of_one_size_with_different_roots_are_reported() -> None:
    docs = honest_ledger()
    leaves = leaves_of(docs)
    notes = [*checkpoint_notes(docs), ("8b.note", signed_checkpoint(8, merkle.root_of(leaves[1:])))]
    report = audit(source(docs), notes, [VERIFIER])
    failure = only_failure(report)
    assert failure.index == -1
    assert "differ" in failure.reason


def test_a_checkpoint_of_another_origin_signed_by_this_logs_key_is_refused() -> None:
    docs = honest_ledger()
    leaves = leaves_of(docs)
    other = signed_checkpoint(4, merkle.root_of(leaves[:4]), origin="elsewhere.example/log")
    report = audit(source(docs), [*checkpoint_notes(docs), ("4.note", other)], [VERIFIER])
    failure = only_failure(report)
    assert failure.index == -1
    assert "is not signed by that log's key" in failure.reason


# --------------------------------------------------------------------------------------------
# Trusted state from an earlier run
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [2, 5, 6, 8])
def test_a_trusted_state_the_log_still_extends_passes(size: int) -> None:
    docs = honest_ledger()
    trusted = TrustedState(ORIGIN, size, merkle.root_of(leaves_of(docs)[:size]))
    report = audit(source(docs), checkpoint_notes(docs), [VERIFIER], trusted=trusted)
    assert report.ok, report.failures


def test_a_trusted_state_whose_root_the_log_no_longer_reproduces_is_reported() -> None:
    docs = honest_ledger()
    leaves = leaves_of(docs)
    trusted = TrustedState(ORIGIN, 6, merkle.root_of(leaves[1:7]))
    report = audit(source(docs), checkpoint_notes(docs), [VERIFIER], trusted=trusted)
    failure = only_failure(report)
    assert (failure.index, failure.last_index) == (0, 5)
    assert "verified before" in failure.reason


def test_a_rewritten_history_signed_anew_is_caught_by_the_trusted_state() -> None:
    docs = honest_ledger()
    trusted = TrustedState(ORIGIN, 6, merkle.root_of(leaves_of(docs)[:6]))
    rewritten = copy.deepcopy(docs)
    set_amount(rewritten[3], 25_000)
    report = audit(
        source(rewritten, leaves_of(rewritten)),
        checkpoint_notes(rewritten),  # every checkpoint re-signed over the new history
        [VERIFIER],
        trusted=trusted,
    )
    failure = only_failure(report)
    assert (failure.index, failure.last_index) == (0, 5)
    assert [f.index for f in report.failures] == [0]


def test_a_log_that_shrank_below_the_trusted_size_is_reported() -> None:
    docs = honest_ledger()
    trusted = TrustedState(ORIGIN, 8, merkle.root_of(leaves_of(docs)))
    report = audit(source(docs[:6]), checkpoint_notes(docs, (2, 6)), [VERIFIER], trusted=trusted)
    failure = only_failure(report)
    assert failure.index == -1
    assert "no longer reaches" in failure.reason


def test_a_trusted_state_from_another_origin_is_reported() -> None:
    docs = honest_ledger()
    trusted = TrustedState("elsewhere.example/log", 6, merkle.root_of(leaves_of(docs)[:6]))
    report = audit(source(docs), checkpoint_notes(docs), [VERIFIER], trusted=trusted)
    failure = only_failure(report)
    assert failure.index == -1
    assert "origin" in failure.reason


def test_trusted_state_round_trips_through_json() -> None:
    state = TrustedState(ORIGIN, 6, merkle.root_of(leaves_of(honest_ledger())[:6]))
    assert TrustedState.from_json(state.to_json()) == state
    assert state.to_json().endswith("\n")


# --------------------------------------------------------------------------------------------
# Report plumbing
# --------------------------------------------------------------------------------------------


def test_the_report_leads_with_the_lowest_index_then_the_lowest_rank() -> None:
    late = Failure(5, reason="late")
    exact = Failure(2, reason="broken rule")
    leaf = Failure(2, 1, "entry differs from the leaf the log signed")
    interval = Failure(2, 2, "root", last_index=4)
    report = AuditReport(failures=[late, interval, leaf, exact])
    assert report.failure is exact
    assert AuditReport(failures=[late, interval, leaf]).failure is leaf
    assert AuditReport(failures=[late, interval]).failure is interval
    assert AuditReport(failures=[late, Failure(-1, reason="bad note")]).failure == Failure(-1)


def test_failures_print_their_place_in_the_log() -> None:
    assert str(Failure(3, reason="exact")) == "index 3: exact"
    assert str(Failure(2, 2, "range", last_index=4)) == "between index 2 and 4: range"
    assert str(Failure(-1, reason="bad signature")) == "bad signature"
    assert AuditReport().ok
    assert AuditReport().failure is None
    assert AuditReport().latest is None
