"""Where and why the auditor reports what it finds (`voucher_app.ledger.audit`).

A failure is the auditor's whole answer, so each one is checked in full: its index (-1 when no
entry is to blame), its rank (0 a broken rule, 1 an entry that differs from the leaf the log
signed, 2 a fault known only to lie in [index, last_index]), its reason and its range. The rules
come from the module's contract: claimed leaf hashes are trusted to name an entry only when
every entry came with one and together they reproduce a signed root; a bad checkpoint note is
reported and the others still count; all checkpoints are of one origin; the empty tree's root
is SHA-256 of nothing (RFC 9162 §2.1.1); a trusted state from an earlier run must still be
reached and reproduced.
"""

from __future__ import annotations

import copy
import gc

import pytest

from tests.unit.test_ledger_audit import (
    OTHER_KEY,
    VERIFIER,
    checkpoint_notes,
    honest_ledger,
    leaves_of,
    set_amount,
    signed_checkpoint,
    source,
)
from voucher_app.ledger import audit as audit_module
from voucher_app.ledger import merkle
from voucher_app.ledger.audit import AuditReport, Failure, TrustedState, audit
from voucher_app.signing.note import Verifier

ORIGIN = VERIFIER.name
WITNESS_ORIGIN = "other.example/log"


def described(failure: Failure | None) -> tuple[int, int, str, int | None]:
    """Everything a failure says (its equality compares only index and rank)."""
    assert failure is not None
    return failure.index, failure.rank, failure.reason, failure.last_index


def all_described(report: AuditReport) -> list[tuple[int, int, str, int | None]]:
    return [described(f) for f in report.failures]


# --------------------------------------------------------------------------------------------
# Naming the edited entry: exact only with a complete, authenticated set of leaf hashes
# --------------------------------------------------------------------------------------------


def test_an_edit_is_named_exactly_with_a_reason_that_says_it_differs_from_the_signed_leaf() -> None:
    docs = honest_ledger()
    tampered = copy.deepcopy(docs)
    set_amount(tampered[3], 25_000)
    report = audit(source(tampered, leaves_of(docs)), checkpoint_notes(docs), [VERIFIER])
    exact = (3, 1, "entry differs from the leaf the log signed", None)
    assert all_described(report) == [exact, exact]  # under the checkpoints of sizes 6 and 8
    assert str(report.failure) == "index 3: entry differs from the leaf the log signed"


def test_one_missing_leaf_hash_means_the_edit_is_only_located_between_checkpoints() -> None:
    docs = honest_ledger()
    tampered = copy.deepcopy(docs)
    set_amount(tampered[3], 25_000)
    entries = source(tampered, leaves_of(docs))
    entries[1] = entries[1]._replace(claimed_leaf=None)  # none for an honest, earlier entry
    report = audit(entries, checkpoint_notes(docs), [VERIFIER])
    reason = "entries do not reproduce the signed root of tree size 6"
    later = "entries do not reproduce the signed root of tree size 8"
    assert all_described(report) == [(2, 2, reason, 5), (6, 2, later, 7)]


def test_leaf_hashes_that_do_not_reproduce_the_signed_root_do_not_name_an_entry() -> None:
    docs = honest_ledger()
    tampered = copy.deepcopy(docs)
    set_amount(tampered[3], 25_000)
    claimed = leaves_of(docs)
    claimed[3] = merkle.leaf_hash(b"made up")  # differs from the entry, and is not signed
    report = audit(source(tampered, claimed), checkpoint_notes(docs), [VERIFIER])
    reason = "entries do not reproduce the signed root of tree size 6"
    later = "entries do not reproduce the signed root of tree size 8"
    assert all_described(report) == [(2, 2, reason, 5), (6, 2, later, 7)]
    assert str(report.failure) == f"between index 2 and 5: {reason}"


# --------------------------------------------------------------------------------------------
# Missing and repeated entries
# --------------------------------------------------------------------------------------------


def test_a_gap_in_the_indexes_is_reported_as_a_missing_entry_at_the_first_absent_index() -> None:
    docs = honest_ledger()
    report = audit(source(docs[:3] + docs[4:], indexes=[0, 1, 2, 4, 5, 6, 7]), [], [VERIFIER])
    assert all_described(report) == [(3, 0, "entry missing (found index 4)", None)]
    assert report.entries == 3


def test_an_index_seen_before_is_reported_as_out_of_order_or_repeated() -> None:
    docs = honest_ledger()
    report = audit(source(docs[:3], indexes=[0, 1, 1]), [], [VERIFIER])
    assert all_described(report) == [(2, 0, "entry out of order or repeated (found index 1)", None)]


# --------------------------------------------------------------------------------------------
# Checkpoints
# --------------------------------------------------------------------------------------------


def test_a_bad_checkpoint_note_is_reported_and_the_notes_after_it_still_count() -> None:
    docs = honest_ledger()
    notes = [("0.note", "not a signed note"), *checkpoint_notes(docs)]
    report = audit(source(docs), notes, [VERIFIER])
    assert [c.size for c in report.checkpoints] == [2, 6, 8]
    reason = "checkpoint 0.note: a signed note is text, a blank line and signature lines"
    assert all_described(report) == [(-1, 0, reason, None)]


def test_checkpoints_of_two_origins_are_reported_naming_both() -> None:
    docs = honest_ledger()
    root = merkle.root_of(leaves_of(docs)[:2])
    other = signed_checkpoint(2, root, key=OTHER_KEY, name=WITNESS_ORIGIN, origin=WITNESS_ORIGIN)
    notes = [*checkpoint_notes(docs), ("other.note", other)]
    witness = Verifier(WITNESS_ORIGIN, OTHER_KEY.public_key())
    report = audit(source(docs), notes, [VERIFIER, witness])
    reason = f"checkpoints from several origins: {[ORIGIN, WITNESS_ORIGIN]}"
    assert all_described(report) == [(-1, 0, reason, None)]


def test_a_checkpoint_of_the_empty_tree_must_carry_the_hash_of_nothing() -> None:
    docs = honest_ledger()
    empty = ("empty.note", signed_checkpoint(0, merkle.EMPTY_ROOT))
    report = audit(source(docs), [empty, *checkpoint_notes(docs)], [VERIFIER])
    assert report.ok, report.failures
    assert [c.size for c in report.checkpoints] == [0, 2, 6, 8]

    wrong = ("empty.note", signed_checkpoint(0, merkle.leaf_hash(b"")))
    report = audit(source(docs), [wrong, *checkpoint_notes(docs)], [VERIFIER])
    reason = "entries do not reproduce the signed root of tree size 0"
    assert all_described(report) == [(0, 2, reason, -1)]


# --------------------------------------------------------------------------------------------
# A trusted state from an earlier run
# --------------------------------------------------------------------------------------------


def test_a_trusted_state_with_no_checkpoint_left_is_reported_as_no_longer_reached() -> None:
    docs = honest_ledger()
    trusted = TrustedState(ORIGIN, 6, merkle.root_of(leaves_of(docs)[:6]))
    report = audit(source(docs), [], [VERIFIER], trusted=trusted)
    reason = "the log no longer reaches the tree size 6 verified before"
    assert all_described(report) == [(-1, 0, reason, None)]


def test_a_trusted_state_at_exactly_the_logs_size_must_have_its_root() -> None:
    docs = honest_ledger()
    trusted = TrustedState(ORIGIN, 8, merkle.root_of(leaves_of(docs)[1:]))
    report = audit(source(docs), checkpoint_notes(docs), [VERIFIER], trusted=trusted)
    reason = "not consistent with the checkpoint of size 8 verified before"
    assert all_described(report) == [(0, 2, reason, 7)]
    assert str(report.failure) == f"between index 0 and 7: {reason}"


def test_a_trusted_state_of_another_origin_names_the_origin_it_had() -> None:
    docs = honest_ledger()
    trusted = TrustedState(WITNESS_ORIGIN, 6, merkle.root_of(leaves_of(docs)[:6]))
    report = audit(source(docs), checkpoint_notes(docs), [VERIFIER], trusted=trusted)
    assert all_described(report) == [(-1, 0, f"origin changed from {WITNESS_ORIGIN!r}", None)]


# --------------------------------------------------------------------------------------------
# Progress and the garbage collector
# --------------------------------------------------------------------------------------------


def test_progress_is_reported_every_progress_every_entries_and_at_the_end(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(audit_module, "PROGRESS_EVERY", 3)
    docs = honest_ledger()
    seen: list[int] = []
    assert audit(source(docs), checkpoint_notes(docs), [VERIFIER], progress=seen.append).ok
    assert seen == [3, 6, 8]
    assert audit(source(docs), checkpoint_notes(docs), [VERIFIER], progress=None).ok


@pytest.mark.parametrize("enabled", [True, False])
def test_the_audit_pauses_the_cyclic_collector_and_leaves_it_as_it_found_it(
    enabled: bool,
) -> None:
    docs = honest_ledger()
    during: list[bool] = []
    was_enabled = gc.isenabled()
    try:
        if enabled:
            gc.enable()
        else:
            gc.disable()
        audit(source(docs), [], [VERIFIER], progress=lambda _: during.append(gc.isenabled()))
        assert gc.isenabled() is enabled
    finally:
        if was_enabled:
            gc.enable()
        else:
            gc.disable()
    assert during == [False]
