"""The Merkle log over the journal: sequencing, proofs from stored nodes, checkpoints, verify."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, text

from tests import factories
from tests.harness import disable_append_only_triggers
from voucher_app.domain.programmes import BudgetMove
from voucher_app.ledger import merkle, sequencer, store
from voucher_app.ledger.canonical import canonical_entry
from voucher_app.ledger.checkpoints import CheckpointSigner, InconsistentLog
from voucher_app.ledger.tables import LogQueue
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.database import Database
from voucher_app.persistence.uow import read_only, transaction
from voucher_app.services import ledger, programmes
from voucher_app.signing.note import Verifier, open_checkpoint

ADMIN = factories.ADMIN
CITIES = ["440100", "440200", "440300", "440400", "440500", "440600", "440700"]


@pytest.fixture
def busy_ledger(uow: UnitOfWork) -> UnitOfWork:
    """A programme with 1 funding and 20 allocations, none sequenced yet."""
    factories.guangdong(uow)
    programme = factories.programme(uow, fund_fen=50_000_000)
    for number in range(20):
        city = CITIES[number % len(CITIES)]
        programmes.allocate(
            uow,
            programme.id,
            BudgetMove(from_center="440000", to_center=city, amount_fen=1_000 + number),
            actor=ADMIN,
        )
    return uow


@read_only
def _documents(uow: UnitOfWork) -> list[tuple[int, dict[str, object], bytes]]:
    return list(store.iter_documents(uow.session, store.tree_size(uow.session)))


@read_only
def _root(uow: UnitOfWork, size: int) -> bytes:
    return store.root(uow.session, size)


def _programme_id(uow: UnitOfWork) -> uuid.UUID:
    """The demo programme's id, read back from the first published entry."""
    refs = ledger.entries_page(uow, 0, 1).entries[0][1]["refs"]
    assert isinstance(refs, dict)
    return uuid.UUID(refs["programme"])


def test_sequencing_gives_gapless_indexes_in_commit_order(busy_ledger: UnitOfWork) -> None:
    assert ledger.sequence_log(busy_ledger) == 21
    assert ledger.sequence_log(busy_ledger) == 0
    documents = _documents(busy_ledger)
    assert [index for index, _doc, _leaf in documents] == list(range(21))
    assert documents[0][1]["kind"] == "fund"
    amounts = [doc["postings"][1]["amount_fen"] for _i, doc, _l in documents[1:]]  # type: ignore[index]
    assert amounts == [1_000 + n for n in range(20)]


@transaction
def _integrate(uow: UnitOfWork, batch_size: int) -> int:
    return sequencer.integrate_batch(uow.session, wait=True, batch_size=batch_size)


@read_only
def _queued(uow: UnitOfWork) -> list[int]:
    return list(uow.session.scalars(select(LogQueue.entry_id).order_by(LogQueue.entry_id)))


def test_a_batch_takes_the_first_queued_entries_and_leaves_the_rest_queued(
    busy_ledger: UnitOfWork,
) -> None:
    queued = _queued(busy_ledger)
    assert _integrate(busy_ledger, 8) == 8
    assert _queued(busy_ledger) == queued[8:]
    assert _integrate(busy_ledger, 100) == 13
    assert _queued(busy_ledger) == []
    documents = _documents(busy_ledger)
    # The same documents as read by row id, and the same leaves as one batch of 21 would give.
    by_id = read_only(lambda uow: store.documents(uow.session, queued))(busy_ledger)
    assert [doc for _i, doc, _l in documents] == [by_id[row_id] for row_id in queued]
    leaves = [merkle.leaf_hash(canonical_entry(by_id[row_id])) for row_id in queued]
    assert [stored for _i, _doc, stored in documents] == leaves
    assert _root(busy_ledger, 21) == merkle.root_of(leaves)


def test_stored_leaves_and_root_match_a_recomputation_from_the_entries(
    busy_ledger: UnitOfWork,
) -> None:
    ledger.sequence_log(busy_ledger)
    documents = _documents(busy_ledger)
    leaves = [merkle.leaf_hash(canonical_entry(doc)) for _i, doc, _l in documents]
    assert leaves == [stored for _i, _doc, stored in documents]
    for size in (1, 2, 3, 7, 8, 13, 21):
        assert _root(busy_ledger, size) == merkle.root_of(leaves[:size])


def test_every_proof_from_stored_nodes_verifies(busy_ledger: UnitOfWork) -> None:
    ledger.sequence_log(busy_ledger)
    for size in range(1, 22):
        root = _root(busy_ledger, size)
        for index in range(size):
            leaf, proof = ledger.inclusion_proof(busy_ledger, index, size)
            merkle.verify_inclusion(leaf, index, size, proof, root)
        for first in range(1, size + 1):
            proof = ledger.consistency_proof(busy_ledger, first, size)
            merkle.verify_consistency(first, size, proof, _root(busy_ledger, first), root)


def test_checkpoints_are_signed_only_when_the_tree_grew(
    busy_ledger: UnitOfWork, signer: CheckpointSigner, verifiers: list[Verifier]
) -> None:
    ledger.sequence_log(busy_ledger)
    first = ledger.sign_checkpoint(busy_ledger, signer)
    assert first is not None
    assert ledger.sign_checkpoint(busy_ledger, signer) is None
    checkpoint = open_checkpoint(first.note, verifiers, origin=signer.origin)
    assert (checkpoint.size, checkpoint.root) == (21, _root(busy_ledger, 21))

    programme_id = _programme_id(busy_ledger)
    programmes.allocate(
        busy_ledger,
        programme_id,
        BudgetMove(from_center="440000", to_center="440100", amount_fen=5),
        actor=ADMIN,
    )
    ledger.sequence_log(busy_ledger)
    second = ledger.sign_checkpoint(busy_ledger, signer)
    assert second is not None and second.tree_size == 22
    proof = ledger.consistency_proof(busy_ledger, 21, 22)
    merkle.verify_consistency(21, 22, proof, first.root_hash, second.root_hash)
    assert ledger.latest_checkpoint(busy_ledger).tree_size == 22


def test_unsequenced_entries_are_not_published(busy_ledger: UnitOfWork) -> None:
    assert ledger.unsigned_entries(busy_ledger) == 0
    ledger.sequence_log(busy_ledger)
    assert ledger.unsigned_entries(busy_ledger) == 21


# --- tampering behind the triggers' back ------------------------------------------------------


@pytest.fixture
def tamper(database: Database) -> Iterator[Database]:
    """Switch off the append-only triggers, as someone with the database owner's rights could."""
    disable_append_only_triggers(database.engine)
    yield database


def _execute(database: Database, sql: str) -> None:
    with database.engine.begin() as connection:
        connection.execute(text(sql))


def _entry_row_id(database: Database, index: int) -> int:
    with database.engine.connect() as connection:
        return int(
            connection.execute(
                text("SELECT entry_id FROM ledger_log_leaves WHERE leaf_index = :i"), {"i": index}
            ).scalar_one()
        )


@pytest.fixture
def signed_ledger(busy_ledger: UnitOfWork, signer: CheckpointSigner) -> UnitOfWork:
    ledger.sequence_log(busy_ledger)
    assert ledger.sign_checkpoint(busy_ledger, signer) is not None
    return busy_ledger


def test_verify_passes_on_an_untouched_ledger(
    signed_ledger: UnitOfWork, verifiers: list[Verifier]
) -> None:
    report = ledger.verify_ledger(signed_ledger, verifiers)
    assert report.ok, report.failure
    assert report.entries == 21 and len(report.checkpoints) == 1


def test_verify_names_an_entry_whose_amounts_were_edited(
    signed_ledger: UnitOfWork, tamper: Database, verifiers: list[Verifier]
) -> None:
    entry = _entry_row_id(tamper, 7)
    _execute(
        tamper, f"UPDATE journal_postings SET amount_fen = amount_fen * 2 WHERE entry_id = {entry}"
    )
    failure = ledger.verify_ledger(signed_ledger, verifiers).failure
    assert failure is not None and failure.index == 7
    assert "differs from the leaf" in failure.reason


def test_verify_names_an_unbalanced_entry(
    signed_ledger: UnitOfWork, tamper: Database, verifiers: list[Verifier]
) -> None:
    entry = _entry_row_id(tamper, 4)
    _execute(
        tamper,
        "UPDATE journal_postings SET amount_fen = amount_fen + 1 WHERE id = "
        f"(SELECT max(id) FROM journal_postings WHERE entry_id = {entry})",
    )
    failure = ledger.verify_ledger(signed_ledger, verifiers).failure
    assert failure is not None and failure.index == 4
    assert "sum to" in failure.reason


def test_verify_catches_a_cached_balance_that_disagrees(
    signed_ledger: UnitOfWork, database: Database, verifiers: list[Verifier]
) -> None:
    _execute(
        database,
        "UPDATE ledger_accounts SET balance_fen = balance_fen + 1 "
        "WHERE name LIKE 'center:440100:%'",
    )
    failure = ledger.verify_ledger(signed_ledger, verifiers).failure
    assert failure is not None and "cached balance of center:440100" in failure.reason


def test_verify_catches_an_entry_dropped_from_the_queue(
    signed_ledger: UnitOfWork, database: Database, verifiers: list[Verifier]
) -> None:
    programme_id = _programme_id(signed_ledger)
    programmes.allocate(
        signed_ledger,
        programme_id,
        BudgetMove(from_center="440000", to_center="440100", amount_fen=5),
        actor=ADMIN,
    )
    _execute(database, "DELETE FROM ledger_log_queue")
    failure = ledger.verify_ledger(signed_ledger, verifiers).failure
    assert failure is not None and "neither in the log nor queued" in failure.reason


def test_the_log_refuses_to_sign_a_tree_that_does_not_extend_its_last_checkpoint(
    signed_ledger: UnitOfWork, tamper: Database, signer: CheckpointSigner
) -> None:
    # Leaves 16-19 form the stored subtree (level 2, index 4) on the tree's right border.
    with tamper.engine.begin() as connection:
        connection.execute(
            text("UPDATE ledger_log_nodes SET hash = :forged WHERE level = 2 AND node_index = 4"),
            {"forged": bytes(32)},
        )
    programmes.allocate(
        signed_ledger,
        _programme_id(signed_ledger),
        BudgetMove(from_center="440000", to_center="440100", amount_fen=5),
        actor=ADMIN,
    )
    assert ledger.sequence_log(signed_ledger) == 1
    with pytest.raises(InconsistentLog, match="does not extend checkpoint 21"):
        ledger.sign_checkpoint(signed_ledger, signer)
    assert ledger.latest_checkpoint(signed_ledger).tree_size == 21


def test_verify_catches_a_log_cut_short_behind_its_checkpoint(
    signed_ledger: UnitOfWork, tamper: Database, verifiers: list[Verifier], tmp_path: Path
) -> None:
    last = _entry_row_id(tamper, 20)
    for sql in (
        "DELETE FROM ledger_log_nodes WHERE level = 0 AND node_index = 20",
        "DELETE FROM ledger_log_nodes WHERE level > 0 AND node_index >= (20 >> level)",
        "DELETE FROM ledger_log_leaves WHERE leaf_index = 20",
        f"DELETE FROM journal_postings WHERE entry_id = {last}",
        f"DELETE FROM spend_facts WHERE entry_id = {last}",
        f"DELETE FROM journal_entries WHERE id = {last}",
    ):
        _execute(tamper, sql)
    failure = ledger.verify_ledger(signed_ledger, verifiers).failure
    assert failure is not None and "covers missing entries" in failure.reason
    assert ledger.export_ledger(signed_ledger, tmp_path, []) == 20
    assert [p.name for p in (tmp_path / "checkpoints").iterdir()] == ["000000000021.note"]


def test_verify_catches_a_corrupted_interior_node(
    signed_ledger: UnitOfWork, tamper: Database, verifiers: list[Verifier]
) -> None:
    # Node (level 1, index 1) covers leaves 2 and 3; proofs for index 0..3 are built from it.
    with tamper.engine.begin() as connection:
        connection.execute(
            text("UPDATE ledger_log_nodes SET hash = :h WHERE level = 1 AND node_index = 1"),
            {"h": bytes(32)},
        )
    failure = ledger.verify_ledger(signed_ledger, verifiers).failure
    assert failure is not None
    assert (failure.index, failure.last_index) == (2, 3)
    assert "stored node (level 1, index 1)" in failure.reason
