"""Ledger posting throughput: the journal service next to the same SQL through the bare driver.

Why it exists: every money movement goes through `Journal.post` inside a `UnitOfWork`
transaction, so its throughput bounds the whole service. The question is how much the service
layer (validation, digest, SQLAlchemy Core and ORM, session and pool, the retry wrapper) costs
on top of the database work it cannot avoid. The target is at least 50% of the raw-SQL rate.

What it compares, on SQLite (a file) and PostgreSQL (a fresh `bench_<pid>` database), both
migrated with the real migrations, with 1 and 8 writer threads:

- service: each writer posts `allocate` entries of 1 fen from one center account to another
  through a `@transaction` function (`Journal.post`, no idempotency key, no after-commit hook),
  one entry per transaction;
- baseline: the same transaction with the bare driver (sqlite3 / psycopg 3): the conditional
  updates by account name in name order (UPDATE … RETURNING id, a missing row failing), the
  entry insert (RETURNING id), its two postings and its queue row, commit — the statements
  `Journal.post` sends. Rows use the
  column encodings SQLAlchemy writes, so the sequencer and the checks read them like any other.

Every writer has its own accounts (the baseline's are separate from the service's), so the
figures measure throughput, not lock contention. One writer runs in this process; eight run as
eight processes, as gunicorn's workers would (eight threads would mostly measure Python's
global interpreter lock). Service and baseline runs alternate in an
A-B-B-A order in the same database so drift and noise hit both. Afterwards it checks the books
(balances sum to zero, cached balances equal the postings, entry counts equal what the writers
reported; a failure exits 1) and times the sequencer over everything queued.

Run from the project root: `.venv/bin/python -m bench.ledger_post` (or `make bench`).
BENCH_SECONDS (default 4) is the measured time per configuration and path; BENCH_WARMUP
(default 0.5) the unmeasured lead-in of each run; VOUCHER_BENCH_POSTGRES_URL the server.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

import psycopg
from psycopg.types.json import Json
from sqlalchemy import text

from bench.common import (
    LABELS,
    BookError,
    Comparison,
    Timing,
    bench_seconds,
    check_balanced,
    driver_dsn,
    for_each_backend,
    merge,
    print_comparisons,
    run_for,
    run_in_processes,
    warmup_seconds,
)
from voucher_app.clock import SystemClock
from voucher_app.domain import accounts
from voucher_app.domain.actors import Actor, Role
from voucher_app.domain.entries import EntryKind, Posting
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.database import Database
from voucher_app.persistence.uow import transaction
from voucher_app.services.ledger import sequence_log
from voucher_app.wiring import unit_of_work

WRITER_COUNTS = (1, 8)
MAX_WRITERS = max(WRITER_COUNTS)
TARGET = 0.5
FUNDS_FEN = 10**12
SERVICE_ACTOR = Actor("bench", Role.SYSTEM)
BASELINE_ACTOR = Actor("bench-baseline", Role.SYSTEM)

# The baseline's statements, in the driver's placeholder style (`?` for sqlite3, `%s` psycopg).
APPLY = (
    "UPDATE ledger_accounts SET balance_fen = balance_fen + {m} "
    "WHERE name = {m} AND balance_fen + {m} >= floor_fen RETURNING id"
)
INSERT_ENTRY = (
    "INSERT INTO journal_entries (public_id, kind, created_at, actor_id, actor_role, refs, "
    "reverses_id, idempotency_key, request_digest) "
    "VALUES ({m}, {m}, {m}, {m}, {m}, {m}, NULL, NULL, {m}) RETURNING id"
)
INSERT_POSTINGS = (
    "INSERT INTO journal_postings (entry_id, account_id, amount_fen) "
    "VALUES ({m}, {m}, {m}), ({m}, {m}, {m})"
)
INSERT_QUEUE = "INSERT INTO ledger_log_queue (entry_id) VALUES ({m})"


@dataclass(frozen=True, slots=True)
class Lane:
    """One writer's pair of accounts, and the entry it posts again and again."""

    programme: str
    source: str
    target: str

    @property
    def postings(self) -> tuple[Posting, Posting]:
        return Posting(self.source, -1), Posting(self.target, 1)

    @property
    def refs(self) -> dict[str, str]:
        return {"programme": self.programme}


def make_lane(writer: int) -> Lane:
    programme = str(uuid.uuid4())
    return Lane(
        programme,
        accounts.available(f"44{writer:02d}00", programme).name,
        accounts.available(f"44{writer:02d}01", programme).name,
    )


@transaction
def _open_lanes(uow: UnitOfWork, lanes: Sequence[Lane]) -> None:
    """Open each lane's funding and center accounts and fund its source account."""
    journal = uow.journal
    for lane in lanes:
        funding = accounts.funding(lane.programme)
        journal.open_account(funding, floor_fen=-(10**15))
        journal.open_account(accounts.parse_account(lane.source))
        journal.open_account(accounts.parse_account(lane.target))
        journal.post(
            EntryKind.FUND,
            [Posting(funding.name, -FUNDS_FEN), Posting(lane.source, FUNDS_FEN)],
            lane.refs,
            SERVICE_ACTOR,
        )


@transaction
def _allocate(uow: UnitOfWork, lane: Lane) -> None:
    """The service path under test: one `allocate` entry, one transaction."""
    uow.journal.post(EntryKind.ALLOCATE, lane.postings, lane.refs, SERVICE_ACTOR)


class RawWriter(ABC):
    """The baseline's transaction with a bare driver; subclasses say how to talk to theirs."""

    placeholder = "?"

    def __init__(self) -> None:
        marks = {"m": self.placeholder}
        self.apply = APPLY.format(**marks)
        self.insert_entry = INSERT_ENTRY.format(**marks)
        self.insert_postings = INSERT_POSTINGS.format(**marks)
        self.insert_queue = INSERT_QUEUE.format(**marks)

    @property
    @abstractmethod
    def cursor(self) -> Any: ...

    @abstractmethod
    def transaction(self) -> AbstractContextManager[object]: ...

    @abstractmethod
    def entry_row(self, lane: Lane) -> tuple[object, ...]:
        """The entry's column values, encoded as SQLAlchemy would for this database."""

    def post(self, lane: Lane) -> None:
        cur = self.cursor
        with self.transaction():
            moves = []
            for account, amount in sorted(lane.postings):
                cur.execute(self.apply, (amount, account, amount))
                updated = cur.fetchone()
                if updated is None:
                    raise BookError(f"account {account} cannot take {amount}")
                moves.append((updated[0], amount))
            cur.execute(self.insert_entry, self.entry_row(lane))
            (entry_id,) = cur.fetchone()
            cur.execute(self.insert_postings, (entry_id, *moves[0], entry_id, *moves[1]))
            cur.execute(self.insert_queue, (entry_id,))

    @abstractmethod
    def close(self) -> None: ...


class SqliteWriter(RawWriter):
    """sqlite3 with the pragmas the application's engine sets, `BEGIN IMMEDIATE` per entry."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.connection = sqlite3.connect(
            path, isolation_level=None, timeout=30, check_same_thread=False
        )
        for pragma in ("foreign_keys = ON", "journal_mode = WAL", "synchronous = NORMAL"):
            self.connection.execute(f"PRAGMA {pragma}")
        self._cursor = self.connection.cursor()

    @property
    def cursor(self) -> Any:
        return self._cursor

    @contextmanager
    def transaction(self) -> Iterator[object]:
        self._cursor.execute("BEGIN IMMEDIATE")
        try:
            yield self
        except BaseException:
            if self.connection.in_transaction:
                self._cursor.execute("ROLLBACK")
            raise
        self._cursor.execute("COMMIT")

    def entry_row(self, lane: Lane) -> tuple[object, ...]:
        now = datetime.now(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
        return (
            uuid.uuid4().hex,
            EntryKind.ALLOCATE.value,
            now,
            BASELINE_ACTOR.id,
            BASELINE_ACTOR.role.value,
            json.dumps(lane.refs),
            None,
        )

    def close(self) -> None:
        self.connection.close()


class PostgresWriter(RawWriter):
    """psycopg 3, one plain connection, one explicit transaction per entry."""

    placeholder = "%s"

    def __init__(self, dsn: str) -> None:
        super().__init__()
        self.connection = psycopg.connect(dsn, autocommit=True)
        self._cursor = self.connection.cursor()

    @property
    def cursor(self) -> Any:
        return self._cursor

    def transaction(self) -> AbstractContextManager[object]:
        return self.connection.transaction()

    def entry_row(self, lane: Lane) -> tuple[object, ...]:
        return (
            uuid.uuid4(),
            EntryKind.ALLOCATE.value,
            datetime.now(UTC),
            BASELINE_ACTOR.id,
            BASELINE_ACTOR.role.value,
            Json(lane.refs),
            None,
        )

    def close(self) -> None:
        self.connection.close()


def _writer_process(
    path: str, backend: str, url: str, lanes: Sequence[Lane], index: int
) -> Callable[[], object]:
    """In a writer process: open its own connections, return the operation to repeat."""
    lane = lanes[index]
    if path == "service":
        uow = unit_of_work(Database(url, pool_size=1), SystemClock())
        return partial(_allocate, uow, lane)
    writer = (SqliteWriter if backend == "sqlite" else PostgresWriter)(driver_dsn(url))
    return partial(writer.post, lane)


class LedgerBench:
    """The two workloads on one database, and the checks of its books afterwards."""

    def __init__(self, backend: str, url: str) -> None:
        self.backend = backend
        self.url = url
        self.database = Database(url, pool_size=16)
        self.uows = [unit_of_work(self.database, SystemClock()) for _ in range(MAX_WRITERS)]
        self.service_lanes = [make_lane(i) for i in range(MAX_WRITERS)]
        self.baseline_lanes = [make_lane(i) for i in range(MAX_WRITERS)]
        _open_lanes(self.uows[0], [*self.service_lanes, *self.baseline_lanes])
        dsn = driver_dsn(url)
        factory: Callable[[str], RawWriter] = (
            SqliteWriter if backend == "sqlite" else PostgresWriter
        )
        self.raw: list[RawWriter] = []
        for _ in range(MAX_WRITERS):
            self.raw.append(factory(dsn))
        self.service_posted = [0] * MAX_WRITERS
        self.baseline_posted = [0] * MAX_WRITERS

    def close(self) -> None:
        for writer in self.raw:
            writer.close()
        self.database.dispose()

    def service(self, index: int) -> None:
        _allocate(self.uows[index], self.service_lanes[index])
        self.service_posted[index] += 1

    def baseline(self, index: int) -> None:
        self.raw[index].post(self.baseline_lanes[index])
        self.baseline_posted[index] += 1

    def measure(self, writers: int, seconds: float, warmup: float) -> Comparison:
        """Service and baseline in A-B-B-A order, half the time each, pooled per path.

        One writer runs in this process; several run as processes of their own, the way
        gunicorn's workers post (threads would measure Python's global lock instead).
        """
        half = seconds / 2
        service: list[Timing] = []
        baseline: list[Timing] = []
        for path in ("service", "baseline", "baseline", "service"):
            timings, posted = (
                (service, self.service_posted)
                if path == "service"
                else (baseline, self.baseline_posted)
            )
            if writers == 1:
                work = self.service if path == "service" else self.baseline
                timings.append(run_for(half, 1, work, warmup=warmup))
                continue
            lanes = self.service_lanes if path == "service" else self.baseline_lanes
            worker = partial(_writer_process, path, self.backend, self.url, lanes)
            timing, calls = run_in_processes(half, writers, worker, warmup=warmup)
            timings.append(timing)
            for index, made in enumerate(calls):
                posted[index] += made
        return Comparison(self.backend, writers, merge(service), merge(baseline))

    def sequence(self) -> tuple[int, float]:
        """Run the sequencer once over everything queued: (leaves, seconds)."""
        began = time.perf_counter()
        leaves = sequence_log(self.uows[0])
        return leaves, time.perf_counter() - began

    def check_books(self, *, sequenced: int) -> None:
        """Cheap whole-database checks; raise `BookError` on the first that fails."""
        with self.database.engine.connect() as connection:

            def scalar(sql: str, **params: Any) -> int:
                return int(connection.execute(text(sql), params).scalar_one() or 0)

            check_balanced(connection)
            for actor, posted, lanes in (
                (SERVICE_ACTOR, self.service_posted, self.service_lanes),
                (BASELINE_ACTOR, self.baseline_posted, self.baseline_lanes),
            ):
                entries = scalar(
                    "SELECT COUNT(*) FROM journal_entries WHERE kind = 'allocate'"
                    " AND actor_id = :actor",
                    actor=actor.id,
                )
                if entries != sum(posted):
                    raise BookError(
                        f"{entries} {actor.id} entries in the journal, "
                        f"the writers reported {sum(posted)}"
                    )
                for lane, count in zip(lanes, posted, strict=True):
                    balance = scalar(
                        "SELECT balance_fen FROM ledger_accounts WHERE name = :name",
                        name=lane.target,
                    )
                    if balance != count:
                        raise BookError(f"{lane.target} holds {balance}, expected {count}")
            all_entries = scalar("SELECT COUNT(*) FROM journal_entries")
            leaves = scalar("SELECT COUNT(*) FROM ledger_log_leaves")
            queued = scalar("SELECT COUNT(*) FROM ledger_log_queue")
            if leaves != all_entries or queued or sequenced != all_entries:
                raise BookError(
                    f"{all_entries} entries but {leaves} log leaves and {queued} still queued "
                    f"(the sequencer reported {sequenced})"
                )


def bench_backend(backend: str, url: str, seconds: float, warmup: float) -> list[Comparison]:
    label = LABELS[backend]
    with ExitStack() as stack:
        bench = LedgerBench(backend, url)
        stack.callback(bench.close)
        rows = []
        for writers in WRITER_COUNTS:
            print(f"{label}: {writers} writer(s), service and baseline …", file=sys.stderr)
            rows.append(bench.measure(writers, seconds, warmup))
        leaves, took = bench.sequence()
        bench.check_books(sequenced=leaves)
        print(
            f"{label}: sequencer integrated {leaves:,} queued entries in {took:.2f} s"
            f" ({leaves / took:,.0f} leaves/s); books check out"
        )
        return rows


def main() -> int:
    seconds = bench_seconds()
    warmup = warmup_seconds()
    print(
        f"Ledger posting: {seconds:g} s measured per path and configuration "
        f"(A-B-B-A halves, {warmup:g} s warm-up each), one 1-fen allocate entry per transaction"
    )
    return for_each_backend(
        lambda backend, url: bench_backend(backend, url, seconds, warmup),
        lambda rows: print_comparisons(rows, unit="posts", who="writer", target=TARGET),
    )


if __name__ == "__main__":
    sys.exit(main())
