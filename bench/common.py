"""Helpers shared by the benchmark scripts in this folder (`ledger_post.py`, `audit.py`, …).

Scripts run as `python -m bench.<name>` from the project root and import these with
`from bench.common import …`. The API, all of it:

- `fresh_database(backend)`: a context manager yielding the URL of a new, migrated database
  (`"sqlite"`: a file in a temporary folder; `"postgresql"`: `bench_<pid>` on the server of
  `postgres_admin_url()`, dropped on exit, also on error). Raises `BackendUnavailable` on entry
  when the server does not answer, so a script can say it skipped that backend and go on.
- `postgres_admin_url()`: VOUCHER_BENCH_POSTGRES_URL, or the local default.
- `driver_dsn(url)`: what the bare driver connects to for a SQLAlchemy URL.
- `bench_seconds()`, `warmup_seconds()`: the run lengths, from BENCH_SECONDS / BENCH_WARMUP.
- `run_for(seconds, threads, work)`: run `work(thread_index)` in a loop on `threads` threads for
  a fixed wall time after a warm-up; return a `Timing` (count, latencies, calls).
- `run_in_processes(seconds, processes, worker)`: the same with one process per writer, as
  gunicorn runs the service: `worker(index)` runs in the child and returns the operation.
- `percentile(values, q)`, `print_table(headers, rows)`: reporting.
- `Comparison` (a backend, a concurrency, the service's and the baseline's `Timing`),
  `merge(timings)` and `print_comparisons(rows, unit=…, who=…, target=…)`: the table and the
  verdicts of the scripts that race the service against its raw-SQL baseline.
- `for_each_backend(run, report)`: `run(backend, url)` on SQLite, then PostgreSQL, each in a
  fresh database; `report(rows)` of what they returned; exit status 1 after a `BookError`.
- `BookError`, `check_balanced(connection)`, `check_voucher_accounts(connection)`,
  `sequence_and_verify(uow)`: the books checks every script runs afterwards.

Voucher set-up shared by `claim_rush.py` and `bulk_issue.py` (through the services, except the
SME rows, which `insert_smes` writes in bulk because registration is not what they measure):

- `voucher_signer(seed)`: a `VoucherSigner` from a 32-byte Ed25519 seed (kid: its thumbprint);
  a seed, unlike a key object, can be handed to a writer process.
- `voucher_programme(uow, actor, …)`: a funded provincial programme whose whole budget is allocated
  down to one district (Nanshan, 440305, unless told); the Guangdong centers must exist.
- `sme_uscc(serial)`: a valid unified social credit code (python-stdnum's check character).
- `provider_application(serial)`: an approved-to-be provider's application in Shenzhen, with
  bank details that route (`redeem.py`, `statement_import.py`).
- `insert_smes(database, usccs, actor)`: register micro software companies in a district at
  once, with the rows (SME and history) that `services.smes.register_sme` would write.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, String, create_engine, func, insert, literal, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool
from stdnum.cn import uscc as stdnum_uscc

from voucher_app.domain import accounts
from voucher_app.domain.accounts import AccountKind
from voucher_app.domain.actors import Actor
from voucher_app.domain.calendar import local_date
from voucher_app.domain.programmes import BudgetMove, ProgrammeTerms
from voucher_app.domain.sme import SizeClass
from voucher_app.ledger.checkpoints import CheckpointSigner
from voucher_app.ledger.tables import LedgerAccount
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence import migrate
from voucher_app.persistence.database import Database
from voucher_app.persistence.models import Center, Sme, SmeHistory, Voucher
from voucher_app.services import ledger, programmes
from voucher_app.services.providers import ProviderApplication
from voucher_app.services.vouchers import VoucherSigner
from voucher_app.signing.keyring import thumbprint
from voucher_app.signing.note import Verifier

POSTGRES_URL_ENV = "VOUCHER_BENCH_POSTGRES_URL"
R = TypeVar("R")
BENCH_ORIGIN = "bench.gd-sme-vouchers.example/ledger"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BACKENDS = ("sqlite", "postgresql")

_databases = itertools.count()


class BackendUnavailable(Exception):
    """The backend cannot be benchmarked here (the message says why)."""


def postgres_admin_url() -> str:
    """The SQLAlchemy URL of a PostgreSQL database from which `bench_*` databases are created."""
    return os.environ.get(POSTGRES_URL_ENV) or DEFAULT_POSTGRES_URL


def bench_backends() -> list[str]:
    """The backends to measure: BENCH_BACKENDS (comma-separated, e.g. `sqlite`), else both."""
    chosen = os.environ.get("BENCH_BACKENDS")
    if not chosen:
        return list(BACKENDS)
    names = [name.strip() for name in chosen.split(",") if name.strip()]
    unknown = sorted(set(names) - set(BACKENDS))
    if unknown:
        raise SystemExit(f"BENCH_BACKENDS names unknown backends: {', '.join(unknown)}")
    return names


def bench_seconds(default: float = 4.0) -> float:
    """Measured wall time per configuration: BENCH_SECONDS, else `default`."""
    return float(os.environ.get("BENCH_SECONDS") or default)


def warmup_seconds(default: float = 0.5) -> float:
    """Unmeasured time before each measured run: BENCH_WARMUP, else `default`."""
    return float(os.environ.get("BENCH_WARMUP") or default)


@contextmanager
def fresh_database(backend: str, *, migrated: bool = True) -> Iterator[str]:
    """Yield the URL of a new database of `backend`, migrated to head unless told otherwise."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="bench_") as folder:
            url = f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
            if migrated:
                migrate.upgrade(url)
            yield url
    elif backend == "postgresql":
        with _postgres_database() as url:
            if migrated:
                migrate.upgrade(url)
            yield url
    else:
        raise ValueError(f"unknown backend {backend!r}; expected one of {BACKENDS}")


@contextmanager
def _postgres_database() -> Iterator[str]:
    try:
        admin_url = make_url(postgres_admin_url())
        admin = create_engine(
            admin_url,
            isolation_level="AUTOCOMMIT",
            poolclass=NullPool,
            connect_args={"connect_timeout": 5},
        )
        with admin.connect() as connection:
            connection.execute(text("SELECT 1"))
    except (SQLAlchemyError, ImportError, OSError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        raise BackendUnavailable(reason[0] if reason else type(exc).__name__) from exc
    number = next(_databases)
    name = f"bench_{os.getpid()}" + (f"_{number}" if number else "")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        connection.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def driver_dsn(url: str) -> str:
    """The bare driver's connect argument: the file path (SQLite) or a libpq URI (PostgreSQL)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return parsed.database or ""
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


@dataclass(frozen=True, slots=True)
class Timing:
    """What `run_for` measured."""

    count: int  # operations started inside the measured window
    latencies: list[float] = field(repr=False)  # seconds, one per counted operation
    seconds: float  # length of the measured window
    calls: int  # every operation that returned, warm-up included

    @property
    def rate(self) -> float:
        """Operations per second over the measured window."""
        return self.count / self.seconds if self.seconds > 0 else 0.0


def run_for(
    seconds: float, threads: int, work: Callable[[int], object], *, warmup: float = 0.0
) -> Timing:
    """Call `work(i)` in a loop on threads i = 0 … threads-1, for `warmup` then `seconds` more.

    All threads start together; operations started during the warm-up run but are not counted.
    An exception on any thread stops them all and is raised here.
    """
    if threads < 1 or seconds <= 0:
        raise ValueError("need at least one thread and a positive duration")
    window: list[float] = []
    stop = threading.Event()
    errors: list[BaseException] = []
    latencies: list[list[float]] = [[] for _ in range(threads)]
    calls = [0] * threads

    def open_window() -> None:
        start = time.perf_counter() + warmup
        window.extend((start, start + seconds))

    barrier = threading.Barrier(threads, action=open_window)

    def loop(index: int) -> None:
        mine = latencies[index]
        try:
            barrier.wait()
            start, end = window
            while not stop.is_set():
                began = time.perf_counter()
                if began >= end:
                    break
                work(index)
                ended = time.perf_counter()
                calls[index] += 1
                if began >= start:
                    mine.append(ended - began)
        except BaseException as exc:
            errors.append(exc)
            stop.set()
            barrier.abort()

    workers = [threading.Thread(target=loop, args=(i,), name=f"bench-{i}") for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    if errors:
        raise errors[0]
    merged = [value for mine in latencies for value in mine]
    return Timing(len(merged), merged, seconds, sum(calls))


def run_in_processes(
    seconds: float,
    processes: int,
    worker: Callable[[int], Callable[[], object]],
    *,
    warmup: float = 0.0,
) -> tuple[Timing, list[int]]:
    """Like `run_for`, with writer i in a process of its own; also return each one's calls.

    `worker` must be picklable (a module-level function, or a `functools.partial` of one): it
    runs in the child, opens its own connections and returns the operation to repeat. Children
    are spawned, not forked, so none inherits the parent's database connections.
    """
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(processes)
    results: multiprocessing.Queue[tuple[int, list[float], int, str | None]] = context.Queue()
    children = [
        context.Process(target=_child, args=(worker, i, barrier, seconds, warmup, results))
        for i in range(processes)
    ]
    for child in children:
        child.start()
    reports = [results.get() for _ in children]
    for child in children:
        child.join()
    errors = [error for *_rest, error in reports if error]
    if errors:
        raise RuntimeError(f"a writer process failed: {errors[0]}")
    calls = [0] * processes
    latencies: list[float] = []
    for index, mine, made, _error in reports:
        calls[index] = made
        latencies.extend(mine)
    return Timing(len(latencies), latencies, seconds, sum(calls)), calls


def _child(  # noqa: PLR0917 - a process target takes its arguments by position
    worker: Callable[[int], Callable[[], object]],
    index: int,
    barrier: threading.Barrier,
    seconds: float,
    warmup: float,
    results: multiprocessing.Queue[tuple[int, list[float], int, str | None]],
) -> None:
    latencies: list[float] = []
    calls = 0
    try:
        work = worker(index)
        barrier.wait()
        # CLOCK_MONOTONIC is system-wide: every child's window starts within a barrier's release.
        start = time.monotonic() + warmup
        end = start + seconds
        while (began := time.monotonic()) < end:
            work()
            calls += 1
            if began >= start:
                latencies.append(time.monotonic() - began)
    except BaseException as exc:  # reported to the parent, which raises it
        barrier.abort()
        results.put((index, [], calls, repr(exc)))
        return
    results.put((index, latencies, calls, None))


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0 ≤ q ≤ 100) with linear interpolation between closest ranks."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError("q must be between 0 and 100")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]], *, left: int = 1) -> None:
    """Print rows under headers in aligned columns: the first `left` columns flush left."""
    cells = [[str(h) for h in headers], *([str(c) for c in row] for row in rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for number, row in enumerate(cells):
        print(
            "  ".join(
                cell.ljust(width) if i < left else cell.rjust(width)
                for i, (cell, width) in enumerate(zip(row, widths, strict=True))
            ).rstrip()
        )
        if number == 0:
            print("  ".join("-" * width for width in widths))


# --- voucher set-up (claim_rush.py, bulk_issue.py) ---------------------------------------------


def voucher_signer(seed: bytes) -> VoucherSigner:
    """The voucher signer of the Ed25519 key with this 32-byte seed, named by its thumbprint."""
    key = Ed25519PrivateKey.from_private_bytes(seed)
    return VoucherSigner(thumbprint(key.public_key()), key)


def programme_terms(
    uow: UnitOfWork,
    *,
    budget_fen: int,
    face_fen: int,
    cap_fen: int,
    name: str = "Benchmark vouchers",
    budget_shards: int | None = None,
) -> ProgrammeTerms:
    """A provincial (440000) programme for small and micro SMEs, open today."""
    today = local_date(uow.clock.now())
    return ProgrammeTerms(
        name=name,
        owner_center="440000",
        period_start=today - timedelta(days=1),
        period_end=today + timedelta(days=365),
        total_budget_fen=budget_fen,
        subsidy_rate_bp=5000,
        sme_cap_fen=cap_fen,
        voucher_face_value_fen=face_fen,
        voucher_validity_days=90,
        partial_spending=True,
        service_categories=("legal", "accounting_tax"),
        accepted_sizes=(SizeClass.SMALL, SizeClass.MICRO),
        budget_shards=budget_shards,
    )


def voucher_programme(
    uow: UnitOfWork,
    actor: Actor,
    *,
    budget_fen: int,
    face_fen: int,
    cap_fen: int,
    district: str = "440305",
    name: str = "Benchmark vouchers",
    budget_shards: int | None = None,
) -> uuid.UUID:
    """Create a provincial (440000) programme for small and micro SMEs, open today, fund it with
    `budget_fen` and allocate all of it through the city to `district`; return its id.
    `budget_shards`: the accounts each center's budget is held in (default: the programme's)."""
    terms = programme_terms(
        uow,
        budget_fen=budget_fen,
        face_fen=face_fen,
        cap_fen=cap_fen,
        name=name,
        budget_shards=budget_shards,
    )
    programme = programmes.create_programme(uow, terms, actor).id
    programmes.fund_programme(uow, programme, amount_fen=budget_fen, actor=actor)
    path = ("440000", district[:4] + "00", district)  # province, city, district
    for parent, child in itertools.pairwise(path):
        programmes.allocate(
            uow,
            programme,
            BudgetMove(from_center=parent, to_center=child, amount_fen=budget_fen),
            actor=actor,
        )
    return programme


def sme_uscc(serial: int, region: str = "440305") -> str:
    """A valid unified social credit code (an enterprise, 91…) registered in `region`."""
    body = f"91{region}MA{serial:07d}"
    return body + stdnum_uscc.calc_check_digit(body)


def provider_application(serial: int) -> ProviderApplication:
    """A provider's application in Shenzhen (440300), with bank details a bank pays to, as
    `tests.factories.application` makes one."""
    return ProviderApplication(
        uscc=sme_uscc(serial, "440300"),
        name=f"基准服务机构 {serial}",
        service_categories=("legal", "accounting_tax"),
        contact_name="王经理",
        contact_phone="+86 755 8888 0000",
        contact_email=f"provider{serial}@example.cn",
        bank_name="中国银行深圳分行",
        bank_account_name=f"基准服务机构 {serial}",
        bank_account_number=f"7440000000{serial:08d}",
        bank_cnaps="104584000003",
        center="440300",
    )


def insert_smes(
    database: Database, usccs: Iterable[str], actor: Actor, *, home_center: str = "440305"
) -> int:
    """Register micro software companies (8 staff, ¥300,000 revenue) with these codes, homed at
    `home_center`, in one transaction: the `smes` rows and their first `sme_history` rows, as
    `register_sme` writes them, but in two statements. Return how many."""
    moment = datetime.now(UTC)
    with database.engine.begin() as connection:
        home_id = connection.execute(
            select(Center.id).where(Center.code == home_center)
        ).scalar_one()
        before = connection.execute(select(func.coalesce(func.max(Sme.id), 0))).scalar_one()
        rows = [
            {
                "public_id": uuid.uuid4(),
                "uscc": uscc,
                "name": f"基准企业 {uscc}",
                "industry": "software_it",
                "employees": 8,
                "revenue_fen": 30 * 1_000_000,
                "assets_fen": 10 * 1_000_000,
                "home_center_id": home_id,
                "registered_at": moment,
                "updated_at": moment,
            }
            for uscc in usccs
        ]
        if not rows:
            return 0
        connection.execute(insert(Sme), rows)
        figures = ("name", "industry", "employees", "revenue_fen", "assets_fen", "home_center_id")
        connection.execute(
            insert(SmeHistory).from_select(
                ["sme_id", "recorded_at", "actor_id", "actor_role", *figures],
                select(
                    Sme.id,
                    Sme.registered_at,
                    literal(actor.id, String),
                    literal(actor.role.value, String),
                    *(getattr(Sme, name) for name in figures),
                ).where(Sme.id > before),
            )
        )
        return len(rows)


# --- running and checking ----------------------------------------------------------------------

LABELS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


class BookError(Exception):
    """The books are wrong after a run: a correctness failure, not a slow result."""


def for_each_backend(
    run: Callable[[str, str], Sequence[R]], report: Callable[[list[R]], None]
) -> int:
    """Run `run(backend, url)` on each backend's fresh database, then `report` every row they
    returned; stop at the first `BookError` (reporting what was measured) and return 1."""
    rows: list[R] = []
    status = 0
    for backend in bench_backends():
        label = LABELS[backend]
        with ExitStack() as stack:
            try:
                url = stack.enter_context(fresh_database(backend))
            except BackendUnavailable as exc:
                print(f"{label} skipped: {exc}")
                continue
            try:
                rows.extend(run(backend, url))
            except BookError as exc:
                print(f"{label}: CORRECTNESS FAILURE: {exc}")
                status = 1
                break
    report(rows)
    return status


def check_balanced(connection: Connection) -> None:
    """Balances sum to zero and each equals the sum of its account's postings."""
    total = connection.execute(
        text("SELECT COALESCE(SUM(balance_fen), 0) FROM ledger_accounts")
    ).scalar_one()
    if total != 0:
        raise BookError(f"balances sum to {total} fen, not 0")
    drift = connection.execute(
        text(
            "SELECT COUNT(*) FROM ledger_accounts a LEFT JOIN ("
            " SELECT account_id, SUM(amount_fen) AS total FROM journal_postings"
            " GROUP BY account_id) p ON p.account_id = a.id"
            " WHERE a.balance_fen <> COALESCE(p.total, 0)"
        )
    ).scalar_one()
    if drift:
        raise BookError(f"{drift} cached balances differ from their postings")


def check_voucher_accounts(connection: Connection) -> None:
    """Every voucher's account holds its face value, and every voucher account has a voucher."""
    held = dict(
        connection.execute(
            select(LedgerAccount.name, LedgerAccount.balance_fen).where(
                LedgerAccount.kind == AccountKind.VOUCHER.value
            )
        ).all()
    )
    for public_id, face in connection.execute(select(Voucher.public_id, Voucher.face_value_fen)):
        found = held.pop(accounts.voucher(str(public_id)).name, None)
        if found != face:
            raise BookError(f"voucher {public_id} of {face} fen: its account holds {found}")
    if held:
        raise BookError(f"{len(held)} voucher accounts without a voucher")


# --- service against baseline ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Comparison:
    """One line of a service-against-baseline report: a backend and a concurrency."""

    backend: str
    concurrency: int
    service: Timing
    baseline: Timing

    @property
    def ratio(self) -> float:
        return self.service.rate / self.baseline.rate if self.baseline.rate else 0.0


def merge(parts: Sequence[Timing]) -> Timing:
    """One timing of several runs (the A-B-B-A halves)."""
    return Timing(
        sum(p.count for p in parts),
        [value for p in parts for value in p.latencies],
        sum(p.seconds for p in parts),
        sum(p.calls for p in parts),
    )


def print_comparisons(rows: Sequence[Comparison], *, unit: str, who: str, target: float) -> None:
    """The table of rates and latencies of both paths, then a verdict per line: `unit` names
    what is counted ("claims"), `who` the concurrent actors ("claimant")."""

    def figures(timing: Timing) -> list[str]:
        if not timing.latencies:  # nothing started in the window finished: say so, go on
            return [f"{timing.rate:,.0f}", "n/a", "n/a"]
        return [
            f"{timing.rate:,.0f}",
            f"{percentile(timing.latencies, 50) * 1000:.2f}",
            f"{percentile(timing.latencies, 99) * 1000:.2f}",
        ]

    print()
    print_table(
        [
            "backend",
            f"{who}s",
            f"service {unit}/s",
            "p50 ms",
            "p99 ms",
            f"baseline {unit}/s",
            "p50 ms",
            "p99 ms",
            "service/baseline",
        ],
        [
            [
                LABELS[row.backend],
                row.concurrency,
                *figures(row.service),
                *figures(row.baseline),
                f"{row.ratio:.0%}",
            ]
            for row in rows
        ],
    )
    print()
    for row in rows:
        verdict = "met" if row.ratio >= target else "NOT met"
        actors = f"{row.concurrency} {who}{'s' if row.concurrency > 1 else ''}"
        print(
            f"{LABELS[row.backend]}, {actors}: service at {row.ratio:.0%} of the baseline"
            f" — target >= {target:.0%}: {verdict}"
        )


def sequence_and_verify(uow: UnitOfWork) -> tuple[int, float, float]:
    """Sequence every entry, sign a checkpoint with a throwaway key and verify the whole
    ledger; return the leaves sequenced and the seconds each part took."""
    key = Ed25519PrivateKey.generate()
    began = time.perf_counter()
    leaves = ledger.sequence_log(uow)
    sequenced = time.perf_counter()
    ledger.sign_checkpoint(uow, CheckpointSigner(BENCH_ORIGIN, key))
    report = ledger.verify_ledger(uow, [Verifier(BENCH_ORIGIN, key.public_key())])
    verified = time.perf_counter()
    if not report.ok:
        raise BookError(f"verify_ledger: {report.failure}")
    return leaves, sequenced - began, verified - sequenced
