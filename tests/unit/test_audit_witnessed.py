"""`voucher-audit --witness … --quorum N` (`ledger.audit.witnessed`): the latest checkpoint needs
N valid cosignatures by the witnesses listed, counted once per witness over every note that
carries that checkpoint; a listed witness's line that does not verify fails the audit. And the
report's `first_unlike_leaf`, which the tiles audit turns into a finding."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.unit.test_cosignature import LOG_KEY, ORIGIN, log_note, witness
from tests.unit.test_ledger_audit import honest_ledger, leaves_of, source
from voucher_app.ledger.audit import AuditReport, Failure, audit, witnessed
from voucher_app.signing.cosignature import cosign, with_cosignatures
from voucher_app.signing.note import Checkpoint, Verifier, parse_checkpoint, split_note

ROOT = bytes(range(32))
LATEST = Checkpoint(ORIGIN, 42, ROOT)
DFIN_KEY, DFIN = witness("dfin.gd.example/witness", 7)
AUDIT_KEY, AUDIT = witness("audit.gd.example/witness", 8)
UNI_KEY, UNI = witness("scut.edu.example/witness", 9)
WITNESSES = [DFIN, AUDIT, UNI]


def cosigned(note: str, *by: tuple[Ed25519PrivateKey, Verifier], at: int = 1_780_000_000) -> str:
    text = split_note(note)[0]
    lines = [cosign(text, v.name, key, at) for key, v in by]
    return with_cosignatures(note, lines)


def report_on(latest: Checkpoint | None = LATEST) -> AuditReport:
    return AuditReport(checkpoints=[latest] if latest is not None else [])


def reasons(report: AuditReport) -> list[tuple[int, str]]:
    return [(failure.index, failure.reason) for failure in report.failures]


def test_two_of_three_pass_a_quorum_of_two_and_are_named_in_the_order_they_signed() -> None:
    report = report_on()
    note = cosigned(log_note(), (AUDIT_KEY, AUDIT), (DFIN_KEY, DFIN))
    witnessed(report, [("latest", note)], WITNESSES, 2)
    assert reasons(report) == []
    assert report.cosigners == [AUDIT.name, DFIN.name]


def test_one_of_three_fails_a_quorum_of_two_and_says_who_signed() -> None:
    report = report_on()
    witnessed(report, [("latest", cosigned(log_note(), (UNI_KEY, UNI)))], WITNESSES, 2)
    reason = f"checkpoint 42 carries 1 valid cosignature(s) of the 2 demanded (by {UNI.name})"
    assert reasons(report) == [(-1, reason)]
    assert report.cosigners == [UNI.name]
    assert str(report.failure) == reason


def test_no_cosignature_at_all_says_none_of_the_witnesses_given() -> None:
    report = report_on()
    witnessed(report, [("latest", log_note())], WITNESSES, 1)
    reason = "checkpoint 42 carries 0 valid cosignature(s) of the 1 demanded"
    assert reasons(report) == [(-1, f"{reason} (by none of the witnesses given)")]
    assert report.cosigners == []


def test_a_quorum_of_zero_asks_nothing() -> None:
    report = report_on()
    witnessed(report, [("latest", log_note())], WITNESSES, 0)
    assert reasons(report) == []


def test_cosignatures_count_across_the_notes_of_the_latest_checkpoint_once_per_witness() -> None:
    report = report_on()
    older = cosigned(log_note(size=41), (UNI_KEY, UNI))  # another checkpoint: not counted
    first = cosigned(log_note(), (DFIN_KEY, DFIN))
    again = cosigned(log_note(), (DFIN_KEY, DFIN), (AUDIT_KEY, AUDIT), at=1_780_000_100)
    notes = [("41.note", older), ("42.note", first), ("42 again", again)]
    witnessed(report, notes, WITNESSES, 3)
    assert report.cosigners == [DFIN.name, AUDIT.name]
    reason = (
        f"checkpoint 42 carries 2 valid cosignature(s) of the 3 demanded "
        f"(by {DFIN.name}, {AUDIT.name})"
    )
    assert reasons(report) == [(-1, reason)]


def test_lines_of_witnesses_not_listed_do_not_count() -> None:
    report = report_on()
    note = cosigned(log_note(), (DFIN_KEY, DFIN), (UNI_KEY, UNI))
    witnessed(report, [("latest", note)], [DFIN, AUDIT], 2)
    assert report.cosigners == [DFIN.name]
    assert len(report.failures) == 1


def test_a_listed_witness_line_copied_from_another_checkpoint_fails_naming_the_note() -> None:
    other = cosigned(log_note(size=41), (AUDIT_KEY, AUDIT))
    copied = [line for line in other.splitlines(keepends=True) if line.startswith("— audit")]
    note = with_cosignatures(cosigned(log_note(), (DFIN_KEY, DFIN)), copied)
    report = report_on()
    witnessed(report, [("tiles/checkpoint", note)], WITNESSES, 1)
    # The note is not trusted for any of its lines then: not even the good one counts.
    assert reasons(report) == [
        (-1, f"checkpoint tiles/checkpoint: invalid cosignature by {AUDIT.name}"),
        (-1, "checkpoint 42 carries 0 valid cosignature(s) of the 1 demanded "
             "(by none of the witnesses given)"),
    ]  # fmt: skip


def test_a_note_that_is_not_a_checkpoint_is_reported_and_the_others_still_count() -> None:
    report = report_on()
    good = cosigned(log_note(), (DFIN_KEY, DFIN))
    witnessed(report, [("broken", "not a note"), ("42.note", good)], WITNESSES, 1)
    assert report.cosigners == [DFIN.name]
    assert [(f.index, f.reason.split(":")[0]) for f in report.failures] == [
        (-1, "checkpoint broken")
    ]


def test_without_a_verified_checkpoint_there_is_nothing_to_witness() -> None:
    report = report_on(None)
    witnessed(report, [("latest", log_note())], WITNESSES, 3)
    assert (report.failures, report.cosigners) == ([], [])


def test_the_latest_checkpoint_is_the_one_compared() -> None:
    assert parse_checkpoint(split_note(log_note())[0]) == LATEST
    report = AuditReport(checkpoints=[Checkpoint(ORIGIN, 41, ROOT), LATEST])
    witnessed(report, [("41", cosigned(log_note(size=41), (DFIN_KEY, DFIN)))], WITNESSES, 1)
    assert report.cosigners == []
    assert isinstance(report.failure, Failure)


@pytest.mark.parametrize("edited", [0, 5, 7])
def test_the_first_leaf_unlike_its_entry_is_reported(edited: int) -> None:
    documents = honest_ledger()
    claimed = leaves_of(documents)
    claimed[edited] = bytes(32)
    if edited < 7:
        claimed[7] = bytes(32)  # a later one too: the first is the one reported
    report = audit(source(documents, claimed), [], [Verifier(ORIGIN, LOG_KEY.public_key())])
    assert report.first_unlike_leaf == edited


def test_leaves_like_their_entries_or_not_stated_report_none() -> None:
    documents = honest_ledger()
    assert audit(source(documents, leaves_of(documents)), [], []).first_unlike_leaf is None
    assert audit(source(documents), [], []).first_unlike_leaf is None
