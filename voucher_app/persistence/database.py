"""The engine and session factory for one database URL, tuned per backend.

SQLite: foreign keys on, WAL journal, a busy timeout, and every transaction opened with
`BEGIN IMMEDIATE` so that a transaction that will write takes the write lock before it reads
(DESIGN §4, invariant 4). PostgreSQL: READ COMMITTED plus the ledger's conditional updates and
row locks. `insert_ignoring_duplicates`, `among` and `insert_rows` hide the dialect differences
the services need.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, TypeVar

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Engine,
    Table,
    any_,
    bindparam,
    create_engine,
    event,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import QueryableAttribute, Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.sql.expression import Insert

from voucher_app.persistence.prepared import Prepared

SQLITE_BUSY_TIMEOUT_SECONDS = 30
T = TypeVar("T")


class Database:
    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        echo: bool = False,
        busy_timeout: float = SQLITE_BUSY_TIMEOUT_SECONDS,
    ) -> None:
        self.url = url
        options: dict[str, Any] = {"echo": echo, "future": True}
        if url.startswith("sqlite"):
            options["connect_args"] = {
                "timeout": busy_timeout,
                "check_same_thread": False,
            }
        else:
            options["pool_size"] = pool_size
            options["max_overflow"] = pool_size
            # No ping per checkout (a round trip per transaction); a connection the server
            # dropped fails once, is invalidated, and the unit of work retries on a fresh one.
            options["pool_recycle"] = 1800
        self.engine: Engine = create_engine(url, **options)
        if self.is_sqlite:
            _configure_sqlite(self.engine)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        # Readers see one consistent snapshot and never take SQLite's write lock.
        reader = (
            self.engine.execution_options(sqlite_begin="DEFERRED")
            if self.is_sqlite
            else self.engine.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
        )
        self.read_sessions = sessionmaker(reader, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def session(self, *, read_only: bool = False) -> Session:
        return self.read_sessions() if read_only else self.sessions()

    def dispose(self) -> None:
        self.engine.dispose()

    def answers(self) -> bool:
        """Whether the database answers a query (without taking SQLite's write lock)."""
        session = self.read_sessions()
        try:
            session.execute(text("SELECT 1"))
        except (SQLAlchemyError, sqlite3.Error):
            return False
        finally:
            session.close()
        return True

    def server_time(self) -> datetime:
        """The database server's clock (UTC; SQLite's to the second)."""
        session = self.read_sessions()
        try:
            value = session.execute(text("SELECT CURRENT_TIMESTAMP")).scalar_one()
        finally:
            session.close()
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value  # SQLite: text
        assert isinstance(moment, datetime)
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Take transaction control away from the sqlite3 module so BEGIN is ours to emit.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        # Straight to the driver: BEGIN needs no statement processing, and this runs per
        # transaction.
        connection.connection.driver_connection.execute(f"BEGIN {mode}")  # type: ignore[union-attr]


@contextmanager
def planning_each_query(session: Session) -> Iterator[None]:
    """Within the block, let PostgreSQL plan each query for its values.

    psycopg prepares a statement on the server after it ran a few times, and PostgreSQL may
    then switch to a generic plan that cannot use an index for `column IN (…many values…)`:
    a lookup of a few hundred keys becomes a scan of the whole table. Lookups run many times
    in one transaction (a statement import's) ask for custom plans — only they: planning every
    row of a bulk insert again would cost more than it saves. SQLite plans every query anyway.
    """
    postgresql = session.get_bind().dialect.name == "postgresql"
    if postgresql:
        session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    try:
        yield
    finally:
        if postgresql:
            session.execute(text("SET LOCAL plan_cache_mode = auto"))


def among(
    session: Session,
    column: ColumnElement[Any] | QueryableAttribute[Any],
    values: Sequence[Any],
) -> ColumnElement[bool]:
    """`column IN (values)`; on PostgreSQL `column = ANY(:values)`, one array parameter.

    An IN list has a parameter per value, so each length is another statement text: psycopg
    converts a long one again on every call (it caches only short ones) and never prepares it.
    The array keeps one short text, converted once and prepared by the server, whatever the
    number of values. SQLite has no arrays; there the IN list stays (callers chunk it).
    """
    if session.get_bind().dialect.name == "postgresql":
        array = ARRAY(column.expression.type)
        return column == any_(bindparam(None, list(values), type_=array))
    return column.in_(values)


#: Values per `among` lookup: SQLite's IN lists stay well under its parameter limit.
IN_LIST_CHUNK = 500


def in_chunks(values: Sequence[T]) -> Iterator[Sequence[T]]:
    """`values` in slices of `IN_LIST_CHUNK`, one lookup each."""
    for start in range(0, len(values), IN_LIST_CHUNK):
        yield values[start : start + IN_LIST_CHUNK]


def table_of(model: type[Any]) -> Table:
    """A declarative model's table, for the Core statements the hot paths build once."""
    table: Table = model.__table__
    return table


def insert_rows(connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert many rows, each with the same keys (columns of `table`).

    PostgreSQL takes them by COPY, thousands for the cost of a few statements; elsewhere an
    executemany INSERT. For rows written in bulk and never read back as ORM objects.
    """
    if not rows:
        return
    if connection.dialect.name != "postgresql":
        connection.execute(table.insert(), list(rows))
        return
    columns = list(rows[0])
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[column] for column in columns])


def dialect_insert(dialect: str, table: Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT into `table` in `dialect`'s own form, which takes ON CONFLICT clauses."""
    return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)


@lru_cache(maxsize=64)
def insert_or_ignore(dialect: str, table: Table, key: tuple[str, ...]) -> Insert:
    """INSERT … ON CONFLICT (key) DO NOTHING in `dialect`, built once (claims run it often)."""
    return dialect_insert(dialect, table).on_conflict_do_nothing(index_elements=list(key))


def _insert_or_ignore(session: Session, table: Table, key: Sequence[str]) -> Insert:
    return insert_or_ignore(session.get_bind().dialect.name, table, tuple(key))


def insert_ignoring_duplicates(
    session: Session, table: Table, rows: Sequence[Mapping[str, Any]], key: Sequence[str]
) -> None:
    """Insert the rows whose `key` is not there yet."""
    if rows:
        session.execute(_insert_or_ignore(session, table, key), rows)


def insert_if_new(
    session: Session, table: Table, row: Mapping[str, Any], key: Sequence[str]
) -> bool:
    """Insert one row unless its `key` is there already; say whether it was inserted."""
    connection = session.connection()
    statement = _inserting_if_new(connection.dialect.name, table, tuple(key))
    return statement.run(connection, row).first() is not None


@lru_cache(maxsize=64)
def _inserting_if_new(dialect: str, table: Table, key: tuple[str, ...]) -> Prepared:
    # RETURNING, not rowcount: drivers differ in what they count for a skipped row.
    return Prepared(insert_or_ignore(dialect, table, key).returning(table.c[key[0]]))
