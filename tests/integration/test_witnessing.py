"""The log and two witnesses over HTTP, on both databases: each witness is `voucher-witness`'s
own WSGI app with its own database, served on a localhost port; the log asks them as it does
in production (`services.witnessing`, urllib). Cosignatures verify; a stale log is caught up
through the 409; a forged signature, an inconsistent proof, a fork and a rollback are refused
with the statuses c2sp.org/tlog-witness gives and the conflicting pair is kept; and a log
restored from an older copy of its database cannot get its forked checkpoint cosigned."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests import factories
from tests.harness import Databases
from tests.integration.test_log_tiles import grow
from tests.witness_server import WITNESS_TIME, Served, served_witnesses, witness_key
from voucher_app.cli.audit import main as voucher_audit
from voucher_app.ledger import merkle
from voucher_app.ledger.checkpoints import CheckpointSigner
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.ledger.witnesses import Answer, Witness, WitnessPolicy, http_post
from voucher_app.persistence.database import Database
from voucher_app.services import ledger, witnessing
from voucher_app.signing.cosignature import cosign, cosigned_by
from voucher_app.signing.note import (
    COSIGNATURE,
    Checkpoint,
    Verifier,
    open_checkpoint,
    sign_note,
)
from voucher_app.wiring import unit_of_work
from voucher_app.witness import state
from voucher_app.witness.protocol import request_body

ADMIN = factories.ADMIN


@pytest.fixture
def witnesses(databases: Databases, verifiers: list[Verifier]) -> Iterator[list[Served]]:
    with served_witnesses(databases, verifiers) as served:
        yield served


def policy(served: list[Served], quorum: int = 2) -> WitnessPolicy:
    return WitnessPolicy(tuple(s.witness for s in served), quorum)


@pytest.fixture
def log(uow: UnitOfWork, signer: CheckpointSigner) -> UnitOfWork:
    factories.guangdong(uow)
    assert grow(uow, signer, 30) == 30
    return uow


def test_both_witnesses_cosign_and_the_published_checkpoint_carries_them(
    log: UnitOfWork,
    signer: CheckpointSigner,
    verifiers: list[Verifier],
    witnesses: list[Served],
) -> None:
    outcomes = witnessing.cosign_checkpoint(log, policy(witnesses))
    assert [(o.witness, o.cosigned, o.status) for o in outcomes] == [
        (w.name, True, 200) for w in witnesses
    ]
    note = witnessing.cosigned_note(log)
    assert open_checkpoint(note, verifiers).size == 30  # the log's own signature still opens it
    found = cosigned_by(note, [w.verifier for w in witnesses])
    assert [(c.witness, c.timestamp) for c in found] == [
        (w.name, int(WITNESS_TIME.timestamp())) for w in witnesses
    ]
    standing = witnessing.standing(log, policy(witnesses))
    assert standing is not None and standing.met and standing.tree_size == 30
    # Asked again, nobody is asked: both cosigned this checkpoint already.
    again = witnessing.cosign_checkpoint(log, policy(witnesses), post=_refuse_to_post)
    assert {o.message for o in again} == {"cosigned before"}

    # The log grows: each witness checks the proof from the 30 it holds.
    assert grow(log, signer, 20) == 50
    sent: list[bytes] = []
    outcomes = witnessing.cosign_checkpoint(log, policy(witnesses), post=_recording(sent))
    assert all(o.cosigned for o in outcomes)
    assert all(body.startswith(b"old 30\n") for body in sent)
    assert len(cosigned_by(witnessing.cosigned_note(log), [w.verifier for w in witnesses])) == 2
    held = witnesses[0].get("")
    assert isinstance(held, dict) and held["logs"][0]["tree_size"] == 50
    assert held["vkey"] == witnesses[0].verifier.vkey


def _refuse_to_post(url: str, body: bytes) -> Answer:
    raise AssertionError(f"no witness should be asked: {url}")


def _recording(sent: list[bytes]) -> Callable[[str, bytes], Answer]:
    def post(url: str, body: bytes) -> Answer:
        sent.append(body)
        return http_post(url, body)

    return post


def test_a_log_that_forgot_the_size_a_witness_holds_learns_it_from_the_409(
    log: UnitOfWork, signer: CheckpointSigner, witnesses: list[Served], database: Database
) -> None:
    witnessing.cosign_checkpoint(log, policy(witnesses))
    with database.engine.begin() as connection:  # what the log knew of its witnesses is lost
        connection.exec_driver_sql("DELETE FROM ledger_witness_contacts")
    grow(log, signer, 5)
    answers: list[int] = []

    def post(url: str, body: bytes) -> Answer:
        answer = http_post(url, body)
        answers.append(answer.status)
        return answer

    outcomes = witnessing.cosign_checkpoint(log, policy(witnesses), post=post)
    assert all(o.cosigned for o in outcomes)
    assert answers == [409, 200, 409, 200]


def test_a_witness_down_leaves_the_checkpoint_short_of_the_quorum(
    log: UnitOfWork, witnesses: list[Served]
) -> None:
    down = Witness("down.example/witness", "http://127.0.0.1:9/", witnesses[1].verifier)
    configured = WitnessPolicy((witnesses[0].witness, down), 2)
    outcomes = witnessing.cosign_checkpoint(log, configured)
    assert [(o.cosigned, o.status) for o in outcomes] == [(True, 200), (False, 0)]
    standing = witnessing.standing(log, configured)
    assert standing is not None and not standing.met
    assert [name for name, _ in standing.cosigners] == [witnesses[0].name]
    assert standing.contacts[down.name][1] == 0
    assert "unreachable" in standing.contacts[down.name][2]


def _note(key: Ed25519PrivateKey, origin: str, size: int, root: bytes) -> str:
    return sign_note(Checkpoint(origin, size, root).text(), origin, key)


def test_the_witness_refuses_what_the_spec_says_and_keeps_the_conflicting_pairs(
    log: UnitOfWork,
    signer: CheckpointSigner,
    witnesses: list[Served],
    verifiers: list[Verifier],
) -> None:
    witness = witnesses[0]
    witnessing.cosign_checkpoint(log, policy(witnesses))  # the witness holds 30
    origin, key = signer.origin, signer.private_key
    held = open_checkpoint(ledger.latest_checkpoint(log).note, verifiers)

    forged = witness.post(request_body(30, [], _note(Ed25519PrivateKey.generate(), origin, 31,
                                                     bytes(32))))  # fmt: skip
    assert forged.status == 403
    unknown = witness.post(request_body(0, [], _note(key, "other.example/log", 1, bytes(32))))
    assert unknown.status == 404
    stale = witness.post(request_body(12, [], _note(key, origin, 40, bytes(32))))
    assert (stale.status, stale.content_type, stale.body) == (409, "text/x.tlog.size", "30\n")
    malformed = witness.post(
        b"old 30\nnot base64\n\n" + ledger.latest_checkpoint(log).note.encode()
    )
    assert malformed.status == 400
    assert witness.get("evidence") == []  # none of these is evidence against the log

    inconsistent = witness.post(
        request_body(30, [bytes(32)] * 5, _note(key, origin, 40, bytes([7]) * 32))
    )
    assert inconsistent.status == 422
    fork = witness.post(request_body(30, [], _note(key, origin, 30, bytes([8]) * 32)))
    assert fork.status == 409
    rollback = witness.post(request_body(30, [], _note(key, origin, 20, bytes([9]) * 32)))
    assert rollback.status == 400
    kept = witness.get("evidence")
    assert isinstance(kept, list)
    assert [pair["kind"] for pair in kept] == ["inconsistent", "fork", "rollback"]
    for pair, size in zip(kept, [40, 30, 20], strict=True):
        assert open_checkpoint(pair["held"], verifiers) == held  # the head it held: 30
        assert open_checkpoint(pair["offered"], verifiers).size == size
    assert len(kept[0]["proof"]) == 5
    # The same request again is the same evidence, kept once.
    witness.post(request_body(30, [], _note(key, origin, 30, bytes([8]) * 32)))
    assert len(witness.get("evidence")) == 3  # type: ignore[arg-type]
    # And the witness still holds the log's real head.
    assert state.held_head(witness.database, origin) == state.held_head(
        witnesses[1].database, origin
    )


def test_a_log_restored_from_an_older_copy_cannot_get_its_fork_cosigned(
    databases: Databases,
    database: Database,
    log: UnitOfWork,
    signer: CheckpointSigner,
    witnesses: list[Served],
    verifiers: list[Verifier],
) -> None:
    """The drill: a copy of the database at 30 entries is kept; the log goes on to 50 and both
    witnesses cosign it; the copy is restored and writes other entries. At 45 it is behind what
    the witnesses hold; at 60 its tree is another than the one they cosigned at 50."""
    witnessing.cosign_checkpoint(log, policy(witnesses))
    database.dispose()
    dump = databases.copy(str(database.url))
    grow(log, signer, 20)
    assert all(o.cosigned for o in witnessing.cosign_checkpoint(log, policy(witnesses)))
    published = open_checkpoint(witnessing.cosigned_note(log), verifiers)

    restored_database = Database(dump, pool_size=2)
    restored = unit_of_work(restored_database, log.clock)
    try:
        assert grow(restored, signer, 15) == 45
        behind = witnessing.cosign_checkpoint(restored, policy(witnesses))
        assert [(o.cosigned, o.status) for o in behind] == [(False, 409), (False, 409)]
        assert "cosigned this log at tree size 50, more than its checkpoint of 45" in (
            behind[0].message
        )
        assert grow(restored, signer, 15) == 60
        forked = witnessing.cosign_checkpoint(restored, policy(witnesses))
        assert [(o.cosigned, o.status) for o in forked] == [(False, 422), (False, 422)]
        standing = witnessing.standing(restored, policy(witnesses))
        assert standing is not None and not standing.met and standing.cosigners == []
    finally:
        restored_database.dispose()
    for witness in witnesses:
        kept = witness.get("evidence")
        assert isinstance(kept, list)
        assert [pair["kind"] for pair in kept] == ["rollback", "inconsistent"]
        for pair in kept:  # the two heads: the one published at 50, and the fork's
            assert open_checkpoint(pair["held"], verifiers) == published
        offered = [open_checkpoint(pair["offered"], verifiers) for pair in kept]
        assert [c.size for c in offered] == [45, 60]
        assert offered[1].root != merkle.EMPTY_ROOT


def test_voucher_audit_over_tiles_demands_its_quorum_of_witnesses(
    log: UnitOfWork,
    witnesses: list[Served],
    verifiers: list[Verifier],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Three witnesses listed, two of them cosigned: passes with a quorum of 2, fails with one
    cosignature, and fails on a cosignature over another checkpoint."""
    third = Ed25519PrivateKey.generate().public_key()
    witnessing.cosign_checkpoint(log, policy(witnesses))
    folder = tmp_path / "tiles"
    ledger.export_tiles(log, folder, verifiers)
    flags = ["--tiles", "--vkey", verifiers[0].vkey]
    for verifier in [*(w.verifier for w in witnesses), Verifier("u.example/w", third, COSIGNATURE)]:
        flags += ["--witness", verifier.vkey]

    def audit(quorum: int) -> tuple[int, str]:
        code = voucher_audit([str(folder), *flags, "--quorum", str(quorum)])
        return code, capsys.readouterr().out

    code, output = audit(2)
    assert code == 0, output
    assert output.startswith("OK 30 entries")
    assert output.rstrip().endswith(f"cosigned by {witnesses[0].name}, {witnesses[1].name}")
    code, output = audit(3)
    assert code == 1
    assert output == (
        "FAIL checkpoint 30 carries 2 valid cosignature(s) of the 3 demanded "
        f"(by {witnesses[0].name}, {witnesses[1].name})\n"
    )

    checkpoint = folder / "checkpoint"
    note = checkpoint.read_text()
    lines = note.splitlines(keepends=True)
    one_only = "".join(line for line in lines if not line.startswith(f"— {witnesses[1].name} "))
    checkpoint.write_text(one_only)
    code, output = audit(2)
    assert (code, output) == (
        1,
        f"FAIL checkpoint 30 carries 1 valid cosignature(s) of the 2 demanded "
        f"(by {witnesses[0].name})\n",
    )

    key = witness_key(1)  # the second witness's key
    other = Checkpoint(verifiers[0].name, 29, bytes(32)).text()
    checkpoint.write_text(one_only + cosign(other, witnesses[1].name, key, 1))
    code, output = audit(2)
    assert code == 1
    assert output == f"FAIL checkpoint {checkpoint}: invalid cosignature by {witnesses[1].name}\n"
