"""Prepared statements run at the driver: the same values in and out as SQLAlchemy's own
execution, the same transaction, the same errors (a lost connection invalidated and retried),
and a clear refusal of the statements whose text SQLAlchemy completes when it runs them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    create_engine,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError

from voucher_app.ledger.tables import JournalEntry, LedgerAccount, LogNode
from voucher_app.persistence.database import Database, table_of
from voucher_app.persistence.prepared import (
    VALUES_PER_INSERT,
    NotPreparable,
    Prepared,
    Rows,
    insert_values,
)
from voucher_app.persistence.uow import is_retryable

_entries = table_of(JournalEntry)
INSERT_ENTRY = Prepared(insert(_entries).returning(_entries.c.id))
SELECT_ENTRY = select(_entries).where(_entries.c.public_id == bindparam("public_id"))
ENTRY = Prepared(SELECT_ENTRY)


def entry_row(**changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "public_id": uuid.uuid4(),
        "kind": "fund",
        "created_at": datetime(2026, 12, 7, 3, 4, 5, 678901, tzinfo=UTC),
        "actor_id": "admin-1",
        "actor_role": "admin",
        "refs": {"programme": "p-1", "note": "资金 ¥"},
        "reverses_id": None,
        "idempotency_key": "key-1",
        "request_digest": bytes(range(32)),
    }
    row.update(changes)
    return row


@pytest.fixture
def connection(database: Database) -> Iterator[Connection]:
    with database.engine.connect() as opened:
        opened.begin()
        yield opened
        opened.rollback()


def test_values_go_in_and_come_out_as_sqlalchemy_converts_them(connection: Connection) -> None:
    by_driver, by_sqlalchemy = entry_row(), entry_row(idempotency_key="key-2")
    INSERT_ENTRY.run(connection, by_driver)
    connection.execute(insert(_entries), by_sqlalchemy)
    for row in (by_driver, by_sqlalchemy):
        prepared = ENTRY.run(connection, {"public_id": row["public_id"]}).mapping()
        plain = connection.execute(SELECT_ENTRY, {"public_id": row["public_id"]}).mappings()
        assert prepared == dict(plain.one())
        assert prepared is not None
        assert {key: prepared[key] for key in row} == row  # a UUID, an aware time, JSON, bytes
        assert prepared["created_at"].utcoffset() == timedelta(0)


def test_it_runs_in_the_transaction_of_its_connection(database: Database) -> None:
    row = entry_row()
    with database.engine.connect() as connection:
        connection.begin()
        row_id = INSERT_ENTRY.run(connection, row).scalar_one()
        assert isinstance(row_id, int)
        connection.rollback()
        assert ENTRY.run(connection, {"public_id": row["public_id"]}).first() is None
        connection.commit()
    with database.engine.connect() as connection:
        INSERT_ENTRY.run(connection, row)
        connection.commit()
    with database.engine.connect() as connection:
        found = connection.execute(
            select(_entries.c.kind).where(_entries.c.public_id == row["public_id"])
        )
        assert found.scalar_one() == "fund"


def test_driver_errors_arrive_as_sqlalchemys(connection: Connection) -> None:
    row = entry_row()
    INSERT_ENTRY.run(connection, row)
    with pytest.raises(IntegrityError) as raised:
        INSERT_ENTRY.run(connection, {**row, "public_id": uuid.uuid4()})  # the same key
    assert raised.value.orig is not None
    assert raised.value.statement is not None and "journal_entries" in raised.value.statement
    assert not raised.value.connection_invalidated


def test_a_connection_the_server_dropped_is_invalidated_and_the_work_may_run_again(
    database: Database, backend: str
) -> None:
    if backend != "postgresql":
        pytest.skip("only a server can drop a connection")
    with database.engine.connect() as connection:
        connection.begin()
        pid = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with database.engine.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        with pytest.raises(DBAPIError) as raised:
            INSERT_ENTRY.run(connection, entry_row())
        assert raised.value.connection_invalidated
        assert connection.invalidated
        assert is_retryable(raised.value)
    with database.engine.connect() as fresh:  # the pool does not hand the dead one out again
        assert fresh.execute(text("SELECT 1")).scalar_one() == 1


def test_rows_say_what_the_statement_returned() -> None:
    rows = Rows(("id", "name"), [(1, "a"), (2, "b")], 2)
    assert rows.first() == (1, "a") and rows.scalar() == 1
    assert rows.mapping() == {"id": 1, "name": "a"}
    assert list(rows) == [(1, "a"), (2, "b")]
    with pytest.raises(LookupError, match="returned 2"):
        rows.scalar_one()
    empty = Rows(("id",), [], 0)
    assert empty.first() is None and empty.scalar() is None and empty.mapping() is None
    with pytest.raises(LookupError, match="returned 0"):
        empty.scalar_one()


_things = Table(
    "things",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("name", String(20)),
    Column("rank", Integer, default=0),  # computed by SQLAlchemy when not given
)


@pytest.mark.parametrize("url", ["sqlite://", "postgresql+psycopg://"])
def test_statements_whose_text_or_values_sqlalchemy_completes_are_refused(url: str) -> None:
    dialect = create_engine(url).dialect  # not connected: compiling needs only the dialect
    expanding = Prepared(select(_things).where(_things.c.name.in_(["a", "b"])))
    with pytest.raises(NotPreparable, match="expanding IN"):
        expanding.compiled(dialect, [])
    with pytest.raises(NotPreparable, match="rank"):
        Prepared(insert(_things)).compiled(dialect, ["id", "name"])
    given = Prepared(insert(_things)).compiled(dialect, ["id", "name", "rank"])
    assert "rank" in given.sql
    assert Prepared(insert(_things)).compiled(dialect, ["name", "rank"]) is not given


def test_a_missing_value_is_named(connection: Connection) -> None:
    with pytest.raises(NotPreparable, match="'public_id'"):
        ENTRY.run(connection, {})


PER_STATEMENT = VALUES_PER_INSERT // 3  # rows of a node: level, index, hash


@pytest.mark.parametrize("count", [0, 1, PER_STATEMENT, PER_STATEMENT + 1, 2 * PER_STATEMENT + 7])
def test_insert_values_writes_every_row_once_across_statements(
    connection: Connection, count: int
) -> None:
    nodes = table_of(LogNode)
    rows = [(7, index, index.to_bytes(32, "big")) for index in range(count)]
    insert_values(connection, nodes, ("level", "node_index", "hash"), rows)
    stored = connection.execute(
        select(nodes.c.level, nodes.c.node_index, nodes.c.hash)
        .where(nodes.c.level == 7)
        .order_by(nodes.c.node_index)
    ).all()
    assert [(level, index, bytes(digest)) for level, index, digest in stored] == rows


@pytest.mark.parametrize(
    ("row", "refusal"),
    [
        ((7, 1), "a row of 2 values for 3 columns"),
        ((7, 1, b"x", 4), "a row of 4 values for 3 columns"),
        ((7, 1, datetime(2026, 12, 7, tzinfo=UTC)), "only integers, bytes and NULLs"),
        ((7, True, b"x"), "only integers, bytes and NULLs"),
    ],
)
def test_insert_values_refuses_what_it_cannot_pass_as_it_is_and_writes_nothing(
    connection: Connection, row: tuple[Any, ...], refusal: str
) -> None:
    nodes = table_of(LogNode)
    good = (7, 0, bytes(32))
    with pytest.raises(NotPreparable, match=refusal):
        insert_values(connection, nodes, ("level", "node_index", "hash"), [good, row])
    assert connection.execute(select(nodes.c.level).where(nodes.c.level == 7)).all() == []


def test_what_each_kind_of_statement_returns(connection: Connection) -> None:
    accounts = table_of(LedgerAccount)
    name = "center:440300:p-1:available"
    row = {"name": name, "kind": "available", "balance_fen": 5, "floor_fen": 0}
    Prepared(insert(accounts)).run(connection, row)
    credit = Prepared(
        update(accounts)
        .where(accounts.c.name == bindparam("account"))
        .values(balance_fen=accounts.c.balance_fen + bindparam("amount"))
    )
    changed = credit.run(connection, {"account": name, "amount": 7})
    assert (changed.rows, changed.rowcount) == ([], 1)
    plain = Prepared(text("SELECT balance_fen FROM ledger_accounts WHERE name = :account"))
    assert plain.run(connection, {"account": name}).rows == [(12,)]
    returned = Prepared(
        update(accounts)
        .where(accounts.c.name == bindparam("account"))
        .values(balance_fen=accounts.c.balance_fen + 1)
        .returning(accounts.c.balance_fen)
    )
    assert returned.run(connection, {"account": name}).rows == [(13,)]
