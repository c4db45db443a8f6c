"""Journal tables (and the spend facts written with them) refuse UPDATE, DELETE and (PostgreSQL)
TRUNCATE in the database itself."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from tests import factories
from voucher_app.ledger.checkpoints import CheckpointSigner
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.database import Database
from voucher_app.services import ledger

STATEMENTS = {
    "journal_entries": ["UPDATE journal_entries SET kind = 'fund'", "DELETE FROM journal_entries"],
    "journal_postings": [
        "UPDATE journal_postings SET amount_fen = amount_fen + 1",
        "DELETE FROM journal_postings",
    ],
    "ledger_log_leaves": [
        "UPDATE ledger_log_leaves SET leaf_index = leaf_index + 100",
        "DELETE FROM ledger_log_leaves",
    ],
    "ledger_log_nodes": [
        "UPDATE ledger_log_nodes SET hash = hash",
        "DELETE FROM ledger_log_nodes",
    ],
    "ledger_checkpoints": [
        "UPDATE ledger_checkpoints SET note = 'forged'",
        "DELETE FROM ledger_checkpoints",
    ],
    "spend_facts": [
        "UPDATE spend_facts SET amount_fen = amount_fen * 2",
        "DELETE FROM spend_facts",
    ],
}
CASES = [(table, sql) for table, statements in STATEMENTS.items() for sql in statements]


@pytest.fixture
def populated(uow: UnitOfWork, signer: CheckpointSigner) -> UnitOfWork:
    factories.guangdong(uow)
    factories.programme(uow, fund_fen=1_000_000)
    ledger.sequence_log(uow)
    assert ledger.sign_checkpoint(uow, signer) is not None
    return uow


def _count(database: Database, table: str) -> int:
    with database.engine.connect() as connection:
        return int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


@pytest.mark.parametrize(("table", "statement"), CASES)
def test_changing_a_journal_row_is_refused(
    populated: UnitOfWork, database: Database, table: str, statement: str
) -> None:
    before = _count(database, table)
    assert before > 0
    with pytest.raises(DatabaseError, match="append-only"), database.engine.begin() as connection:
        connection.execute(text(statement))
    assert _count(database, table) == before


@pytest.mark.postgres_only
@pytest.mark.parametrize("table", list(STATEMENTS))
def test_truncate_is_refused_on_postgresql_even_for_replicas(
    populated: UnitOfWork, database: Database, table: str
) -> None:
    with pytest.raises(DatabaseError, match="append-only"), database.engine.begin() as connection:
        # Replication-role sessions skip ordinary triggers; ENABLE ALWAYS ones still fire.
        connection.execute(text("SET LOCAL session_replication_role = replica"))
        connection.execute(text(f"TRUNCATE {table} CASCADE"))
    assert _count(database, table) > 0
