"""Prebuilt statements run straight on the database driver: the hot paths' statements.

`Connection.execute` of a compiled, cached Core statement still costs 40 to 60 µs of Python per
call (an execution context, statement events, a result object) — ten times what SQLite takes to
run a claim's or a ledger post's statement, and on PostgreSQL a large share of each round trip.
The paths every request takes (a ledger post, a claim, a redemption's steps) run a fixed set of
statements whose text never depends on their values; a `Prepared` statement is compiled once per
dialect and set of value names, and running it does only what SQLAlchemy would do to its values
and results — the same bind and result processors of the column types — around the driver's
own `cursor.execute`, on the connection of the transaction in progress.

What the callers keep: driver errors are raised as SQLAlchemy's (`IntegrityError`,
`OperationalError`, …), and a connection the server dropped is invalidated, so the unit of
work's retry sees what it saw before. What they give up: statement events
(`before_cursor_execute`) and echo logging do not see these statements. Statements whose text
depends on the values (expanding `IN` lists, literal-execute values) and inserts that leave a
column with a Python-side default to SQLAlchemy are refused when compiled.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Table, text
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.expression import ClauseElement, Select, TextClause

from voucher_app.domain.errors import VoucherError

Processor = Callable[[Any], Any]

#: Values per statement of `insert_values`, at most: under SQLite's oldest limit of 999.
VALUES_PER_INSERT = 900


class NotPreparable(VoucherError):
    """A statement whose text or values SQLAlchemy completes when it runs them, or a value it
    was not given: a fault in the code that prepared it, found when it is compiled."""

    code = "not_preparable"


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    keys: tuple[str, ...]  # the values' names, in the statement's order
    names: tuple[str, ...] | None  # their names in the text; None for a positional driver
    defaults: dict[str, Any]  # the values the statement itself holds
    binds: tuple[tuple[int, Processor], ...]  # the values a type converts, by position
    columns: tuple[str, ...]
    results: tuple[tuple[int, Processor], ...]  # the columns a type converts, by position
    #: Whether it returns rows; None: ask the cursor (plain SQL). Asking costs psycopg a
    #: description object per column, on every run.
    returns_rows: bool | None


class Rows:
    """A statement's rows (read at once, each value converted) and the rows it changed."""

    __slots__ = ("columns", "rowcount", "rows")

    def __init__(self, columns: tuple[str, ...], rows: list[tuple[Any, ...]], rowcount: int):
        self.columns = columns
        self.rows = rows
        self.rowcount = rowcount

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self.rows)

    def first(self) -> tuple[Any, ...] | None:
        return self.rows[0] if self.rows else None

    def scalar(self) -> Any:
        """The first column of the first row, or None without a row."""
        return self.rows[0][0] if self.rows else None

    def scalar_one(self) -> Any:
        """The first column of the only row; `LookupError` without exactly one."""
        if len(self.rows) != 1:
            raise LookupError(f"expected one row, the statement returned {len(self.rows)}")
        return self.rows[0][0]

    def mapping(self) -> dict[str, Any] | None:
        """The first row by column name, or None without a row."""
        return dict(zip(self.columns, self.rows[0], strict=True)) if self.rows else None


class Prepared:
    """A Core statement, compiled once per dialect and set of value names, run on the driver."""

    __slots__ = ("_compiled", "statement")

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._compiled: dict[tuple[str, frozenset[str]], _Compiled] = {}

    def run(self, connection: Connection, values: Mapping[str, Any] | None = None) -> Rows:
        """Run the statement in `connection`'s transaction with `values` (by bind or column
        name); return its rows."""
        values = values or {}
        compiled = self.compiled(connection.dialect, values.keys())
        parameters = _parameters(compiled, values)
        if not connection.in_transaction():
            connection.begin()  # as `Connection.execute` begins one: the statement joins it
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(compiled.sql, parameters)
            returns_rows = compiled.returns_rows
            if returns_rows is None:
                returns_rows = cursor.description is not None
            fetched = cursor.fetchall() if returns_rows else []
            changed = cursor.rowcount  # psycopg forgets it when the cursor closes
        except connection.dialect.loaded_dbapi.Error as error:
            raise _translated(connection, error, compiled.sql, parameters) from error
        finally:
            cursor.close()
        if compiled.results:
            fetched = [_converted(row, compiled.results) for row in fetched]
        return Rows(compiled.columns, fetched, changed)

    def compiled(self, dialect: Dialect, names: Iterable[str]) -> _Compiled:
        """The statement's text and value handling for `dialect` and these value names."""
        key = (dialect.name, frozenset(names))
        found = self._compiled.get(key)
        if found is None:
            found = self._compiled[key] = _compile(self.statement, dialect, key[1])
        return found


def insert_values(
    connection: Connection, table: Table, columns: tuple[str, ...], rows: Sequence[Sequence[Any]]
) -> None:
    """Insert `rows` (each its values in `columns`' order) into `table` as multi-row INSERTs of
    up to `VALUES_PER_INSERT` values: one round trip for the few rows of a ledger post or a
    sequencer's batch after a commit, where an executemany would cost several.

    No column type converts these values, so only integers, bytes and NULLs are taken (every
    driver stores them as they are); anything else — a time, a UUID, an enum, whose column type
    would check or convert it — is refused (`NotPreparable`) before a row is written.
    """
    for row in rows:
        if len(row) != len(columns):
            raise NotPreparable(f"a row of {len(row)} values for {len(columns)} columns")
        if any(value is not None and type(value) not in _AS_THEY_ARE for value in row):
            raise NotPreparable(f"only integers, bytes and NULLs go in as they are: {row!r}")
    per_statement = max(1, VALUES_PER_INSERT // len(columns))
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        values = {
            f"{column}_{number}": value
            for number, row in enumerate(chunk)
            for column, value in zip(columns, row, strict=True)
        }
        _multi_row_insert(table, columns, len(chunk)).run(connection, values)


_AS_THEY_ARE = (int, bytes)


@lru_cache(maxsize=512)
def _multi_row_insert(table: Table, columns: tuple[str, ...], count: int) -> Prepared:
    """INSERT INTO `table` of `count` rows, the value of a column in row n named `<column>_<n>`.

    Plain SQL: SQLAlchemy does not cache the compiled form of a multi-row `insert().values()`.
    """
    rows = ", ".join(
        "(" + ", ".join(f":{column}_{number}" for column in columns) + ")"
        for number in range(count)
    )
    return Prepared(text(f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES {rows}"))


def _compile(statement: ClauseElement, dialect: Dialect, names: frozenset[str]) -> _Compiled:
    column_keys = sorted(names) if isinstance(statement, UpdateBase) else None
    compiled = statement.compile(dialect=dialect, column_keys=column_keys)
    assert isinstance(compiled, SQLCompiler)
    if compiled.literal_execute_params or compiled.post_compile_params:
        raise NotPreparable("the statement's text depends on its values (an expanding IN list?)")
    if compiled.insert_prefetch or compiled.update_prefetch:
        missing = [c.key for c in [*compiled.insert_prefetch, *compiled.update_prefetch]]
        raise NotPreparable(f"give the values SQLAlchemy would compute: {', '.join(missing)}")
    in_text = list(compiled.positiontup or ()) if compiled.positional else list(compiled.binds)
    binds = [compiled.binds[name] for name in in_text]
    defaults: dict[str, Any] = {}
    for bind in binds:
        if bind.key in names:
            continue
        if bind.required:
            raise NotPreparable(f"no value for {bind.key!r}")
        defaults[bind.key] = None if bind.callable else bind.value
    escaped: Mapping[str, str] = compiled.escaped_bind_names or {}
    converting = [bind.type.dialect_impl(dialect).bind_processor(dialect) for bind in binds]
    columns = _result_columns(statement)
    reading = [
        column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
    ]
    return _Compiled(
        sql=compiled.string,
        keys=tuple(bind.key for bind in binds),
        names=None if compiled.positional else tuple(escaped.get(n, n) for n in in_text),
        defaults=defaults,
        binds=_by_position(converting),
        columns=tuple(column.key or "" for column in columns),
        results=_by_position(reading),
        returns_rows=_returns_rows(statement, compiled),
    )


def _returns_rows(statement: ClauseElement, compiled: SQLCompiler) -> bool | None:
    """Whether the statement returns rows: a SELECT does, a DML statement if it has RETURNING
    (its own, or the one SQLAlchemy adds for a new row's key); plain SQL does not say."""
    if isinstance(statement, TextClause):
        return None
    if isinstance(statement, UpdateBase):
        return bool(compiled.effective_returning)
    return True


def _by_position(processors: Sequence[Processor | None]) -> tuple[tuple[int, Processor], ...]:
    return tuple((index, process) for index, process in enumerate(processors) if process)


def _result_columns(statement: ClauseElement) -> Sequence[ColumnElement[Any]]:
    if isinstance(statement, Select):
        return list(statement.selected_columns)
    if isinstance(statement, UpdateBase):
        return list(statement.exported_columns)
    return []


def _parameters(compiled: _Compiled, values: Mapping[str, Any]) -> Any:
    if compiled.defaults:
        values = {**compiled.defaults, **values}
    converted = [values[key] for key in compiled.keys]
    for index, process in compiled.binds:
        converted[index] = process(converted[index])
    if compiled.names is None:
        return converted
    return dict(zip(compiled.names, converted, strict=True))


def _converted(row: Sequence[Any], results: tuple[tuple[int, Processor], ...]) -> tuple[Any, ...]:
    values = list(row)
    for index, process in results:
        values[index] = process(values[index])
    return tuple(values)


def _translated(connection: Connection, error: Any, sql: str, parameters: Any) -> DBAPIError:
    """The driver's error as SQLAlchemy raises it, the connection invalidated if it was lost."""
    dialect = connection.dialect
    lost = dialect.is_disconnect(error, connection.connection.dbapi_connection, None)
    if lost:
        connection.invalidate(error)
    translated = DBAPIError.instance(
        sql,
        parameters,
        error,
        dialect.loaded_dbapi.Error,
        connection_invalidated=lost,
        dialect=dialect,
    )
    assert isinstance(translated, DBAPIError)  # a driver's error is always one
    return translated
