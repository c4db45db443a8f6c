"""The latest signed checkpoint kept outside the database, and a log restored behind it.

A "backup" here is a copy of the test database (SQLite's backup API, or PostgreSQL's CREATE
DATABASE … TEMPLATE), and a "restore" opens that copy: the log it holds is behind the file.
`tests/e2e/test_restore_drill.py` runs the same with pg_dump and pg_restore.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from tests import factories
from tests.harness import ORIGIN, Databases
from voucher_app.clock import FrozenClock
from voucher_app.domain.errors import InvalidInput, KeyringError, LogBehindPublished
from voucher_app.domain.programmes import BudgetMove
from voucher_app.ledger import merkle, store
from voucher_app.ledger.checkpoints import CheckpointSigner
from voucher_app.ledger.published import PublishedFile
from voucher_app.ledger.tables import JournalEntry, LedgerAccount, LogQueue
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.database import Database
from voucher_app.persistence.uow import read_only
from voucher_app.services import ledger, programmes
from voucher_app.signing.note import Checkpoint, Verifier, open_checkpoint, sign_note
from voucher_app.wiring import unit_of_work

ADMIN = factories.ADMIN
CITIES = ["440100", "440200", "440300"]


@pytest.fixture
def published(tmp_path: Path, verifiers: list[Verifier]) -> PublishedFile:
    return PublishedFile(tmp_path / "keys" / "published-checkpoint", ORIGIN, lambda: verifiers)


@pytest.fixture
def programme_id(uow: UnitOfWork) -> uuid.UUID:
    factories.guangdong(uow)
    return factories.programme(uow, fund_fen=50_000_000).id


def allocate(uow: UnitOfWork, programme_id: uuid.UUID, count: int, amount_fen: int = 100) -> None:
    for number in range(count):
        programmes.allocate(
            uow,
            programme_id,
            BudgetMove(
                from_center="440000",
                to_center=CITIES[number % len(CITIES)],
                amount_fen=amount_fen + number,
            ),
            actor=ADMIN,
        )


def sign(uow: UnitOfWork, signer: CheckpointSigner, published: PublishedFile) -> int:
    ledger.sequence_log(uow, published=published)
    signed = ledger.sign_checkpoint(uow, signer, published)
    assert signed is not None
    return signed.tree_size


def backup(databases: Databases, database: Database, url: str) -> str:
    """A copy of the database as it is now; the URL of the copy."""
    database.dispose()
    if databases.postgres is None:
        copy = databases.folder / f"backup-{uuid.uuid4().hex}.sqlite3"
        with (
            closing(sqlite3.connect(make_url(url).database or "")) as source,
            closing(sqlite3.connect(copy)) as target,
        ):
            source.backup(target)
        return f"sqlite:///{copy}"
    name = databases.postgres.create(template=make_url(url).database)
    databases.created.append(name)
    return databases.postgres.url_for(name)


@pytest.fixture
def restored() -> Iterator[list[Database]]:
    """The databases a test restored (opened from a backup), closed after it."""
    opened: list[Database] = []
    yield opened
    for database in opened:
        database.dispose()


def restore(url: str, clock: FrozenClock, opened: list[Database]) -> UnitOfWork:
    database = Database(url, pool_size=5)
    opened.append(database)
    return unit_of_work(database, clock)


@read_only
def _counts(uow: UnitOfWork) -> tuple[int, int, int, dict[str, int]]:
    session = uow.session
    balances = {
        name: balance
        for name, balance in session.execute(select(LedgerAccount.name, LedgerAccount.balance_fen))
    }
    return (
        store.tree_size(session),
        session.scalar(select(func.count()).select_from(JournalEntry)) or 0,
        session.scalar(select(func.count()).select_from(LogQueue)) or 0,
        balances,
    )


@read_only
def _root(uow: UnitOfWork, size: int) -> bytes:
    return store.root(uow.session, size)


# --- the file ---------------------------------------------------------------------------------


def test_the_first_checkpoint_creates_the_file_and_each_one_replaces_it(
    uow: UnitOfWork,
    programme_id: uuid.UUID,
    signer: CheckpointSigner,
    published: PublishedFile,
    verifiers: list[Verifier],
) -> None:
    assert not published.path.exists()
    assert ledger.behind_published(uow, published) is None
    allocate(uow, programme_id, 3)
    first = sign(uow, signer, published)
    assert published.path.read_text() == ledger.latest_checkpoint(uow).note
    allocate(uow, programme_id, 2)
    second = sign(uow, signer, published)
    note = published.path.read_text()
    assert note == ledger.latest_checkpoint(uow).note
    assert open_checkpoint(note, verifiers, origin=ORIGIN).size == second == first + 2
    assert [p.name for p in published.path.parent.iterdir()] == ["published-checkpoint"]
    assert ledger.behind_published(uow, published) is None


def test_the_file_holds_the_checkpoint_before_it_is_committed(
    uow: UnitOfWork,
    database: Database,
    clock: FrozenClock,
    programme_id: uuid.UUID,
    signer: CheckpointSigner,
    published: PublishedFile,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = sign(uow, signer, published)
    allocate(uow, programme_id, 2)
    ledger.sequence_log(uow, published=published)
    seen: list[tuple[int, int]] = []
    commit = uow.commit

    def checking_commit() -> None:
        on_file = published.read()
        assert on_file is not None
        committed = ledger.latest_checkpoint(unit_of_work(database, clock)).tree_size
        seen.append((on_file.size, committed))
        commit()

    monkeypatch.setattr(uow, "commit", checking_commit)
    ledger.sign_checkpoint(uow, signer, published)
    assert seen == [(first + 2, first)]


def test_a_checkpoint_the_file_cannot_take_is_not_published(
    uow: UnitOfWork,
    programme_id: uuid.UUID,
    signer: CheckpointSigner,
    published: PublishedFile,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def disk_full(_source: object, _target: object) -> None:
        raise OSError("No space left on device")

    monkeypatch.setattr("voucher_app.ledger.published.os.replace", disk_full)
    ledger.sequence_log(uow)
    with pytest.raises(OSError, match="No space"):
        ledger.sign_checkpoint(uow, signer, published)
    assert ledger.unsigned_entries(uow) == 1  # the funding entry: still under no checkpoint
    assert list(published.path.parent.iterdir()) == []  # no file, no temporary left behind


def test_a_missing_file_is_brought_up_to_the_latest_checkpoint(
    uow: UnitOfWork, programme_id: uuid.UUID, signer: CheckpointSigner, published: PublishedFile
) -> None:
    ledger.sequence_log(uow)
    assert ledger.sign_checkpoint(uow, signer) is not None  # signed before there was a file
    assert ledger.sign_checkpoint(uow, signer, published) is None  # nothing new to sign
    assert published.path.read_text() == ledger.latest_checkpoint(uow).note


def test_a_file_that_is_not_a_checkpoint_of_this_ledger_stops_signing(
    uow: UnitOfWork,
    programme_id: uuid.UUID,
    signer: CheckpointSigner,
    published: PublishedFile,
    tmp_path: Path,
) -> None:
    sign(uow, signer, published)
    allocate(uow, programme_id, 1)
    other = Ed25519PrivateKey.generate()
    published.path.write_text(sign_note(Checkpoint(ORIGIN, 1, bytes(32)).text(), ORIGIN, other))
    with pytest.raises(KeyringError, match="not a checkpoint of"):
        ledger.sign_checkpoint(uow, signer, published)
    published.path.write_text("garbage")
    with pytest.raises(KeyringError):
        ledger.behind_published(uow, published)


# --- a log restored behind the file -----------------------------------------------------------


def test_a_restored_log_behind_the_file_refuses_until_import_tail_restores_its_tail(
    uow: UnitOfWork,
    database: Database,
    database_url: str,
    databases: Databases,
    clock: FrozenClock,
    restored: list[Database],
    programme_id: uuid.UUID,
    signer: CheckpointSigner,
    verifiers: list[Verifier],
    published: PublishedFile,
    tmp_path: Path,
) -> None:
    allocate(uow, programme_id, 5)
    old_size = sign(uow, signer, published)
    allocate(uow, programme_id, 2)  # committed, not yet sequenced when the backup is taken
    old_url = backup(databases, database, database_url)
    # After the backup: a new programme (a funding account the backup lacks) and allocations.
    later = factories.programme(uow, fund_fen=1_000_000, name="后来的 Later").id
    allocate(uow, later, 3, amount_fen=1_000)
    allocate(uow, programme_id, 1)
    size = sign(uow, signer, published)
    assert size == old_size + 2 + 1 + 3 + 1
    root = _root(uow, size)
    ledger.export_ledger(uow, tmp_path / "export", [v.vkey for v in verifiers])
    whole = _counts(uow)

    old = restore(old_url, clock, restored)
    assert ledger.behind_published(old, published) == (old_size, size)
    with pytest.raises(LogBehindPublished, match=f"entries {old_size} to {size - 1} are missing"):
        ledger.sign_checkpoint(old, signer, published)
    assert ledger.latest_checkpoint(old).tree_size == old_size
    # The sequencer leaves new entries queued: the next indexes belong to the published tail.
    with pytest.raises(LogBehindPublished):
        ledger.sequence_log(old, published=published)
    assert _counts(old)[0] == old_size

    done = ledger.import_tail(old, tmp_path / "export", verifiers, published)
    assert (done.start, done.end, done.written, done.requeued) == (old_size, size, 5, 2)
    assert _counts(old) == whole  # journal, log, queue and every balance as before the restore
    assert ledger.behind_published(old, published) is None
    assert _root(old, size) == root
    assert ledger.import_tail(old, tmp_path / "export", verifiers, published).written == 0

    allocate(old, programme_id, 1)
    assert sign(old, signer, published) == size + 1
    proof = ledger.consistency_proof(old, size, size + 1)
    merkle.verify_consistency(size, size + 1, proof, root, _root(old, size + 1))
    report = ledger.verify_ledger(old, verifiers)
    assert report.ok, report.failure


def test_a_log_that_went_on_without_the_file_has_forked_and_stays_refused(
    uow: UnitOfWork,
    database: Database,
    database_url: str,
    databases: Databases,
    clock: FrozenClock,
    restored: list[Database],
    programme_id: uuid.UUID,
    signer: CheckpointSigner,
    verifiers: list[Verifier],
    published: PublishedFile,
    tmp_path: Path,
) -> None:
    old_size = sign(uow, signer, published)
    old_url = backup(databases, database, database_url)
    allocate(uow, programme_id, 2)
    size = sign(uow, signer, published)
    ledger.export_ledger(uow, tmp_path / "export", [])

    old = restore(old_url, clock, restored)
    allocate(old, programme_id, 3, amount_fen=7)  # other entries at the published indexes
    ledger.sequence_log(old)  # no file given: nothing stops it
    assert ledger.behind_published(old, published) == (old_size + 3, size)
    with pytest.raises(LogBehindPublished, match="forked"):
        ledger.sign_checkpoint(old, signer, published)
    before = _counts(old)
    with pytest.raises(LogBehindPublished, match="forked"):
        ledger.import_tail(old, tmp_path / "export", verifiers, published)
    assert _counts(old) == before


def test_import_tail_refuses_an_export_that_does_not_give_the_published_root(
    uow: UnitOfWork,
    database: Database,
    database_url: str,
    databases: Databases,
    clock: FrozenClock,
    restored: list[Database],
    programme_id: uuid.UUID,
    signer: CheckpointSigner,
    verifiers: list[Verifier],
    published: PublishedFile,
    tmp_path: Path,
) -> None:
    old_size = sign(uow, signer, published)
    old_url = backup(databases, database, database_url)
    allocate(uow, programme_id, 2)
    size = sign(uow, signer, published)
    export = tmp_path / "export"
    ledger.export_ledger(uow, export, [])
    lines = (export / "entries.jsonl").read_bytes().splitlines(keepends=True)
    lines[-1] = lines[-1].replace(b'"amount_fen":101', b'"amount_fen":999')
    lines[-1] = lines[-1].replace(b'"amount_fen":-101', b'"amount_fen":-999')
    (export / "entries.jsonl").write_bytes(b"".join(lines))

    old = restore(old_url, clock, restored)
    before = _counts(old)
    with pytest.raises(
        LogBehindPublished, match=f"do not reproduce the published root of tree size {size}"
    ):
        ledger.import_tail(old, export, verifiers, published)
    assert _counts(old) == before
    (export / "entries.jsonl").write_bytes(b"".join(lines[: old_size + 1]))
    with pytest.raises(InvalidInput, match="the export ends"):
        ledger.import_tail(old, export, verifiers, published)
    assert _counts(old) == before


def test_a_lost_file_is_recovered_from_the_checkpoints_of_an_export(
    uow: UnitOfWork,
    database: Database,
    database_url: str,
    databases: Databases,
    clock: FrozenClock,
    restored: list[Database],
    programme_id: uuid.UUID,
    signer: CheckpointSigner,
    verifiers: list[Verifier],
    published: PublishedFile,
    tmp_path: Path,
) -> None:
    old_size = sign(uow, signer, published)
    old_url = backup(databases, database, database_url)
    allocate(uow, programme_id, 2)
    size = sign(uow, signer, published)
    note = published.path.read_text()
    ledger.export_ledger(uow, tmp_path / "export", [])
    published.path.unlink()  # the keys folder came back from the same old backup, without it

    old = restore(old_url, clock, restored)
    assert ledger.behind_published(old, published) is None  # nothing says otherwise yet
    done = ledger.import_tail(old, tmp_path / "export", verifiers, published)
    assert (done.start, done.end) == (old_size, size)
    assert published.path.read_text() == note
    assert ledger.behind_published(old, published) is None
