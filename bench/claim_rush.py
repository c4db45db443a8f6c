"""Claim rush: vouchers claimed per second through the service, next to the same transaction
through the bare driver.

Why it exists: when a programme opens, thousands of SMEs claim vouchers within minutes, and
every claim is one transaction that reads the programme and the SME, checks eligibility, takes
the SME's allowance, posts an `issue` entry from the district's budget and signs a token. The
question is how much the service layer (the unit of work and its retry wrapper, the ORM, the
journal's checks) costs on top of the database work and the signature it cannot avoid. Target:
claims per second at least 50% of the raw-SQL rate, with 1, 8 and 32 concurrent claimants.

What it compares, on SQLite (a file) and PostgreSQL (a fresh `bench_<pid>` database), both
migrated with the real migrations:

- service: `vouchers.claim_voucher(uow, programme_id=…, sme_uscc=…, actor=…, signer=…)`, one
  claim per transaction, with a real Ed25519 voucher key, through a `UnitOfWork` without the
  after-commit sequencing hook (the sequencer runs once, at the end, as in `ledger_post.py`);
- baseline: the same transaction with sqlite3 / psycopg 3, statement for statement what the
  service sends (read with the driver's statement trace): the programme row by public id, the
  SME by code joined to its home center, the recursive walk up from the home center to the
  programme's owner; the allowance upsert (INSERT … ON CONFLICT DO NOTHING) and its conditional
  UPDATE … RETURNING; the token signed by the same PyJWT call (`jws.sign_voucher`); the
  journal's writes exactly as `Journal.post` sends them — UPDATE … RETURNING id per posting in
  account-name order, where the new voucher account misses and is opened holding its amount
  (INSERT … ON CONFLICT DO NOTHING RETURNING), then the entry (RETURNING id), one two-row
  postings INSERT and the queue row; the spend fact (`spend_facts.record`, its entry found by
  public id); the voucher row, every column encoded as SQLAlchemy writes it on that backend;
  COMMIT. It makes the same decisions (period, size class, industry, centers, cap, budget) but
  does not re-validate its inputs (the code's check character, the refs and postings): 13
  statements per claim besides BEGIN and COMMIT, as the service sends.

Each path has its own programme (budget 10^12 fen, per-SME cap as large), and each claimant
its own pool of pre-registered SMEs, claimed round robin, so nothing is refused (a refusal
aborts the run). All claimants of a path draw on one district's budget account (Nanshan's,
440305; the service's programme holds it in one shard, not the default sixteen, so both paths
meet the same single row — `rush.py` measures the shards), so with several claimants the
claims queue for that row's lock:
the time from the budget update to the commit (signing, the voucher row) is what each claim
holds it, in both paths. One claimant runs in this process; 8 and 32 run as processes of their
own with one connection each, as gunicorn's workers would. Service and baseline alternate in
an A-B-B-A order in the same database so drift and noise hit both.

Afterwards it checks the books — balances sum to zero and equal their postings; each path's
voucher count, `issue` entries, allowances and district budget match the claims its claimants
reported; every voucher's account holds its face value; a sample of tokens from each path
verifies and finds its voucher active and whole; then the sequencer puts every entry in the
Merkle log, a checkpoint is signed and `verify_ledger` checks all of it — and exits 1 on a
failure.

Run from the project root: `.venv/bin/python -m bench.claim_rush` (or `make bench`).
BENCH_SECONDS (default 4) is the measured time per configuration and path; BENCH_WARMUP
(default 0.5) the unmeasured lead-in of each run; VOUCHER_BENCH_POSTGRES_URL the server.
"""

from __future__ import annotations

import itertools
import json
import os
import sqlite3
import sys
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any

import psycopg
from psycopg.types.json import Json
from sqlalchemy import func, select, text

from bench.common import (
    LABELS,
    BookError,
    Comparison,
    Timing,
    bench_seconds,
    check_balanced,
    check_voucher_accounts,
    driver_dsn,
    for_each_backend,
    insert_smes,
    merge,
    print_comparisons,
    run_for,
    run_in_processes,
    sequence_and_verify,
    sme_uscc,
    voucher_programme,
    voucher_signer,
    warmup_seconds,
)
from voucher_app.clock import SystemClock
from voucher_app.domain import accounts
from voucher_app.domain.accounts import AccountKind
from voucher_app.domain.actors import Actor, Role
from voucher_app.domain.calendar import local_date
from voucher_app.domain.entries import EntryKind
from voucher_app.domain.sme import Industry, classify
from voucher_app.domain.spend import local_month
from voucher_app.domain.voucher_code import random_human_code
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.database import Database
from voucher_app.persistence.models import ClaimAllowance, Programme, Voucher
from voucher_app.services import centers, vouchers
from voucher_app.services.vouchers import VoucherSigner
from voucher_app.signing.jws import VoucherPayload, sign_voucher
from voucher_app.wiring import unit_of_work

CLAIMANT_COUNTS = (1, 8, 32)
MAX_CLAIMANTS = max(CLAIMANT_COUNTS)
POOL = 8  # SMEs per claimant and path, claimed round robin
FACE_FEN = 50_000
BUDGET_FEN = 10**12  # per path: far beyond what a run claims
CAP_FEN = BUDGET_FEN  # per SME: never reached
DISTRICT = "440305"
TARGET = 0.5
SAMPLE = 100  # tokens verified per path afterwards
PATHS = ("service", "baseline")
ADMIN = Actor("bench-admin", Role.CENTER_ADMIN)
ACTORS = {
    "service": Actor("bench-claims", Role.CENTER_STAFF),
    "baseline": Actor("bench-claims-baseline", Role.CENTER_STAFF),
}

# The baseline's statements, in the driver's placeholder style (`?` for sqlite3, `%s` psycopg),
# with the columns, conditions and RETURNING clauses SQLAlchemy emits for the service.
SELECT_PROGRAMME = (
    "SELECT id, public_id, name, owner_center_id, period_start, period_end, total_budget_fen, "
    "subsidy_rate_bp, sme_cap_fen, voucher_face_value_fen, voucher_validity_days, "
    "partial_spending, service_categories, accepted_sizes, accepted_industries, created_at "
    "FROM programmes WHERE public_id = {m}"
)
SELECT_SME = (  # with its home center, in one read
    "SELECT smes.id, smes.public_id, smes.uscc, smes.name, smes.industry, smes.employees, "
    "smes.revenue_fen, smes.assets_fen, smes.home_center_id, smes.registered_at, "
    "smes.updated_at, centers.id, centers.code, centers.name_zh, centers.name_en, "
    "centers.level, centers.parent_id FROM smes JOIN centers ON centers.id = smes.home_center_id "
    "WHERE smes.uscc = {m}"
)
ANCESTOR = (
    "WITH RECURSIVE up(id, parent_id) AS (SELECT centers.id AS id, centers.parent_id AS "
    "parent_id FROM centers WHERE centers.id = {m} UNION ALL SELECT centers.id AS id, "
    "centers.parent_id AS parent_id FROM centers, up WHERE centers.id = up.parent_id) "
    "SELECT up.id FROM up WHERE up.id = {m}"
)
INSERT_ALLOWANCE = (
    "INSERT INTO claim_allowances (sme_id, programme_id, claimed_fen, cap_fen) "
    "VALUES ({m}, {m}, {m}, {m}) ON CONFLICT (sme_id, programme_id) DO NOTHING"
)
TAKE_ALLOWANCE = (
    "UPDATE claim_allowances SET claimed_fen = claimed_fen + {m} "
    "WHERE programme_id = {m} AND sme_id = {m} AND claimed_fen + {m} <= cap_fen "
    "RETURNING sme_id"
)
APPLY = (
    "UPDATE ledger_accounts SET balance_fen = balance_fen + {m} "
    "WHERE name = {m} AND balance_fen + {m} >= floor_fen RETURNING id"
)
OPEN_ACCOUNT = (
    "INSERT INTO ledger_accounts (name, kind, balance_fen, floor_fen) "
    "VALUES ({m}, {m}, {m}, {m}) ON CONFLICT (name) DO NOTHING RETURNING id, name"
)
INSERT_ENTRY = (
    "INSERT INTO journal_entries (public_id, kind, created_at, actor_id, actor_role, refs, "
    "reverses_id, idempotency_key, request_digest) "
    "VALUES ({m}, {m}, {m}, {m}, {m}, {m}, {m}, {m}, {m}) RETURNING id"
)
INSERT_POSTINGS = (
    "INSERT INTO journal_postings (entry_id, account_id, amount_fen) "
    "VALUES ({m}, {m}, {m}), ({m}, {m}, {m})"
)
INSERT_QUEUE = "INSERT INTO ledger_log_queue (entry_id) VALUES ({m})"
#: `services.spend_facts.record`: the entry's report figure, its entry found by public id.
INSERT_FACT = (
    "INSERT INTO spend_facts (entry_id, center_id, programme_id, provider_id, category, month, "
    "measure, amount_fen) VALUES ((SELECT journal_entries.id FROM journal_entries "
    "WHERE journal_entries.public_id = {m}), {m}, {m}, {m}, {m}, {m}, {m}, {m})"
)
INSERT_VOUCHER = (
    "INSERT INTO vouchers (public_id, human_code, programme_id, sme_id, issuing_center_id, "
    "face_value_fen, subsidy_rate_bp, service_categories, issued_at, expires_at, status, "
    "status_reason, closed_at, kid, token, issued_by, claim_key) "
    "VALUES ({m}, {m}, {m}, {m}, {m}, {m}, {m}, {m}, {m}, {m}, {m}, {m}, {m}, {m}, {m}, {m}, {m})"
    "{returning}"
)


class Refused(RuntimeError):
    """The baseline could not issue a voucher: the set-up is wrong (it aborts the run)."""


class RawClaimer(ABC):
    """The baseline's claim with a bare driver; subclasses say how to talk to theirs and how
    SQLAlchemy encodes each column type there."""

    placeholder = "?"
    #: Whether SQLAlchemy asks for the new row's id on the account and voucher INSERTs.
    returns_ids = False

    def __init__(self, signer: VoucherSigner) -> None:
        self.signer = signer
        marks = {"m": self.placeholder, "returning": " RETURNING id" if self.returns_ids else ""}
        self.select_programme = SELECT_PROGRAMME.format(**marks)
        self.select_sme = SELECT_SME.format(**marks)
        self.ancestor = ANCESTOR.format(**marks)
        self.insert_allowance = INSERT_ALLOWANCE.format(**marks)
        self.take_allowance = TAKE_ALLOWANCE.format(**marks)
        self.apply_sql = APPLY.format(**marks)
        self.open_account = OPEN_ACCOUNT.format(**marks)
        self.insert_entry = INSERT_ENTRY.format(**marks)
        self.insert_postings = INSERT_POSTINGS.format(**marks)
        self.insert_queue = INSERT_QUEUE.format(**marks)
        self.insert_fact = INSERT_FACT.format(**marks)
        self.insert_voucher = INSERT_VOUCHER.format(**marks)

    @property
    @abstractmethod
    def cursor(self) -> Any: ...

    @abstractmethod
    def transaction(self) -> AbstractContextManager[object]: ...

    @abstractmethod
    def key(self, value: uuid.UUID) -> object:
        """A UUID as a bound parameter."""

    @abstractmethod
    def uuid_of(self, value: Any) -> uuid.UUID:
        """A UUID column's value as read."""

    @abstractmethod
    def moment(self, value: datetime) -> object:
        """An aware UTC datetime as a bound parameter."""

    @abstractmethod
    def day(self, value: Any) -> date:
        """A DATE column's value as read."""

    @abstractmethod
    def document(self, value: object) -> object:
        """A JSON column's value as a bound parameter."""

    @abstractmethod
    def loaded(self, value: Any) -> Any:
        """A JSON column's value as read."""

    @abstractmethod
    def close(self) -> None: ...

    def claim(self, programme_id: uuid.UUID, uscc: str, actor: Actor) -> None:
        """One voucher for the SME with code `uscc`, one transaction."""
        cur = self.cursor
        with self.transaction():
            cur.execute(self.select_programme, (self.key(programme_id),))
            programme = cur.fetchone()
            if programme is None:
                raise Refused(f"no programme {programme_id}")
            (
                p_id,
                _,
                _,
                owner_id,
                start,
                end,
                _,
                rate,
                cap,
                face,
                days,
                _,
                cats,
                sizes,
                trades,
                _,
            ) = programme
            cur.execute(self.select_sme, (uscc,))
            sme = cur.fetchone()
            if sme is None:
                raise Refused(f"no SME {uscc}")
            s_id, s_public, s_uscc, _, industry, employees, revenue, assets, home_id = sme[:9]
            home_code = sme[12]
            cur.execute(self.ancestor, (home_id, owner_id))
            within = cur.fetchone() is not None
            now = datetime.now(UTC)
            size = classify(Industry(industry), employees, revenue, assets)
            accepted_trades = self.loaded(trades)
            if (
                not self.day(start) <= local_date(now) <= self.day(end)
                or size.value not in self.loaded(sizes)
                or (accepted_trades and industry not in accepted_trades)
                or not within
            ):
                raise Refused(f"{uscc} is not eligible")
            cur.execute(self.insert_allowance, (s_id, p_id, 0, cap))
            cur.execute(self.take_allowance, (face, p_id, s_id, face))
            if cur.fetchone() is None:
                raise Refused(f"{uscc} reached its cap")
            voucher_id = uuid.uuid4()
            expires = now + timedelta(days=days)
            code = random_human_code()
            categories = self.loaded(cats)
            token = self.token(code, s_uscc, face, expires)
            pid = str(programme_id)
            budget = f"center:{home_code}:{pid}:available"
            account = f"voucher:{voucher_id}"
            ids = {
                name: self.apply(name, amount)
                for name, amount in sorted(((budget, -face), (account, face)))
            }
            refs = {
                "programme": pid,
                "voucher": str(voucher_id),
                "sme": str(self.uuid_of(s_public)),
            }
            entry_public, posted_at = uuid.uuid4(), datetime.now(UTC)
            cur.execute(
                self.insert_entry,
                (
                    self.key(entry_public),
                    EntryKind.ISSUE.value,
                    self.moment(posted_at),
                    actor.id,
                    actor.role.value,
                    self.document(refs),
                    None,
                    None,
                    None,
                ),
            )
            (entry_id,) = cur.fetchone()
            cur.execute(
                self.insert_postings, (entry_id, ids[budget], -face, entry_id, ids[account], face)
            )
            cur.execute(self.insert_queue, (entry_id,))
            cur.execute(
                self.insert_fact,
                (
                    self.key(entry_public),
                    home_id,
                    p_id,
                    None,
                    None,
                    local_month(posted_at),
                    "committed",
                    face,
                ),
            )
            cur.execute(
                self.insert_voucher,
                (
                    self.key(voucher_id),
                    code,
                    p_id,
                    s_id,
                    home_id,
                    face,
                    rate,
                    self.document(categories),
                    self.moment(now),
                    self.moment(expires),
                    "active",
                    None,
                    None,
                    self.signer.kid,
                    token,
                    actor.id,
                    None,
                ),
            )
            if self.returns_ids:
                cur.fetchone()

    def token(self, code: str, uscc: str, face: int, expires: datetime) -> str:
        """The voucher's token, signed by the same call the service makes."""
        payload = VoucherPayload(
            human_code=code, sme_uscc=uscc, face_value_fen=face, exp=int(expires.timestamp())
        )
        return sign_voucher(payload, self.signer.kid, self.signer.private_key)

    def apply(self, account: str, amount: int) -> int:
        """`Journal._apply`: the conditional update; a missing account is opened holding it."""
        cur = self.cursor
        cur.execute(self.apply_sql, (amount, account, amount))
        row = cur.fetchone()
        if row is None and amount > 0:
            cur.execute(self.open_account, (account, AccountKind.VOUCHER.value, amount, 0))
            row = cur.fetchone()
        if row is None:
            raise Refused(f"{account} cannot take {amount}")
        return int(row[0])


class SqliteClaimer(RawClaimer):
    """sqlite3 with the pragmas the application's engine sets, `BEGIN IMMEDIATE` per claim.

    SQLAlchemy stores a UUID as 32 hex digits, a datetime as naive UTC text with microseconds,
    JSON as `json.dumps` text and a date as ISO text.
    """

    def __init__(self, path: str, signer: VoucherSigner) -> None:
        super().__init__(signer)
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

    def key(self, value: uuid.UUID) -> object:
        return value.hex

    def uuid_of(self, value: Any) -> uuid.UUID:
        return uuid.UUID(hex=value)

    def moment(self, value: datetime) -> object:
        return value.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")

    def day(self, value: Any) -> date:
        return date.fromisoformat(value)

    def document(self, value: object) -> object:
        return json.dumps(value)

    def loaded(self, value: Any) -> Any:
        return json.loads(value)

    def close(self) -> None:
        self.connection.close()


class PostgresClaimer(RawClaimer):
    """psycopg 3, one plain connection, one explicit transaction per claim; native UUID,
    timestamptz, date and JSON (SQLAlchemy's JSON type binds through psycopg's `Json`)."""

    placeholder = "%s"
    returns_ids = True

    def __init__(self, dsn: str, signer: VoucherSigner) -> None:
        super().__init__(signer)
        self.connection = psycopg.connect(dsn, autocommit=True)
        self._cursor = self.connection.cursor()

    @property
    def cursor(self) -> Any:
        return self._cursor

    def transaction(self) -> AbstractContextManager[object]:
        return self.connection.transaction()

    def key(self, value: uuid.UUID) -> object:
        return value

    def uuid_of(self, value: Any) -> uuid.UUID:
        return value  # type: ignore[no-any-return]

    def moment(self, value: datetime) -> object:
        return value

    def day(self, value: Any) -> date:
        return value  # type: ignore[no-any-return]

    def document(self, value: object) -> object:
        return Json(value)

    def loaded(self, value: Any) -> Any:
        return value

    def close(self) -> None:
        self.connection.close()


def raw_claimer(backend: str, url: str, signer: VoucherSigner) -> RawClaimer:
    if backend == "sqlite":
        return SqliteClaimer(driver_dsn(url), signer)
    return PostgresClaimer(driver_dsn(url), signer)


def service_claim(
    uow: UnitOfWork, programme_id: uuid.UUID, usccs: Iterator[str], signer: VoucherSigner
) -> None:
    """The service path under test: one `claim_voucher`, one transaction."""
    vouchers.claim_voucher(
        uow,
        programme_id=programme_id,
        sme_uscc=next(usccs),
        actor=ACTORS["service"],
        signer=signer,
    )


def baseline_claim(claimer: RawClaimer, programme_id: uuid.UUID, usccs: Iterator[str]) -> None:
    claimer.claim(programme_id, next(usccs), ACTORS["baseline"])


@dataclass(frozen=True, slots=True)
class Lanes:
    """One path's programme and each claimant's pool of SMEs."""

    programme: uuid.UUID
    pools: tuple[tuple[str, ...], ...]


def _claimant_process(  # noqa: PLR0917 - bound by position with functools.partial
    path: str,
    backend: str,
    url: str,
    lanes: Lanes,
    seed: bytes,
    index: int,
) -> Callable[[], object]:
    """In a claimant process: open its own connection, return the claim to repeat."""
    signer = voucher_signer(seed)
    usccs = itertools.cycle(lanes.pools[index])
    if path == "service":
        uow = unit_of_work(Database(url, pool_size=1), SystemClock())
        return partial(service_claim, uow, lanes.programme, usccs, signer)
    return partial(baseline_claim, raw_claimer(backend, url, signer), lanes.programme, usccs)


class ClaimBench:
    """The two paths on one database, and the checks of its books afterwards."""

    def __init__(self, backend: str, url: str) -> None:
        self.backend = backend
        self.url = url
        self.seed = os.urandom(32)
        self.signer = voucher_signer(self.seed)
        self.database = Database(url, pool_size=2)
        self.uow = unit_of_work(self.database, SystemClock())
        centers.import_centers(self.uow, centers.guangdong_centers())
        serials = itertools.count(1)
        self.lanes = {
            path: Lanes(
                voucher_programme(
                    self.uow,
                    ADMIN,
                    budget_fen=BUDGET_FEN,
                    face_fen=FACE_FEN,
                    cap_fen=CAP_FEN,
                    district=DISTRICT,
                    name=f"Claim rush ({path})",
                    budget_shards=1,  # one row, as the baseline's (bench/rush.py: the shards)
                ),
                tuple(
                    tuple(sme_uscc(next(serials), DISTRICT) for _ in range(POOL))
                    for _ in range(MAX_CLAIMANTS)
                ),
            )
            for path in PATHS
        }
        insert_smes(
            self.database,
            [uscc for lanes in self.lanes.values() for pool in lanes.pools for uscc in pool],
            ADMIN,
            home_center=DISTRICT,
        )
        self.raw = raw_claimer(backend, url, self.signer)
        # The claimant that runs in this process (index 0): its round robin carries over runs.
        service_usccs = itertools.cycle(self.lanes["service"].pools[0])
        baseline_usccs = itertools.cycle(self.lanes["baseline"].pools[0])
        self.local: dict[str, Callable[[int], object]] = {
            "service": lambda _index: service_claim(
                self.uow, self.lanes["service"].programme, service_usccs, self.signer
            ),
            "baseline": lambda _index: baseline_claim(
                self.raw, self.lanes["baseline"].programme, baseline_usccs
            ),
        }
        self.claimed = dict.fromkeys(PATHS, 0)

    def close(self) -> None:
        self.raw.close()
        self.database.dispose()

    def measure(self, claimants: int, seconds: float, warmup: float) -> Comparison:
        """Service and baseline in A-B-B-A order, half the time each, pooled per path."""
        half = seconds / 2
        timings: dict[str, list[Timing]] = {path: [] for path in PATHS}
        for path in ("service", "baseline", "baseline", "service"):
            if claimants == 1:
                timing = run_for(half, 1, self.local[path], warmup=warmup)
                self.claimed[path] += timing.calls
            else:
                worker = partial(
                    _claimant_process, path, self.backend, self.url, self.lanes[path], self.seed
                )
                timing, calls = run_in_processes(half, claimants, worker, warmup=warmup)
                self.claimed[path] += sum(calls)
            timings[path].append(timing)
        return Comparison(
            self.backend, claimants, merge(timings["service"]), merge(timings["baseline"])
        )

    def check_books(self) -> None:
        """Whole-database checks of both paths; raise `BookError` on the first that fails."""
        with self.database.engine.connect() as connection:

            def scalar(sql: str, **params: Any) -> int:
                return int(connection.execute(text(sql), params).scalar_one() or 0)

            check_balanced(connection)
            for path, lanes in self.lanes.items():
                claimed = self.claimed[path]
                pid = connection.execute(
                    select(Programme.id).where(Programme.public_id == lanes.programme)
                ).scalar_one()
                issued, value = connection.execute(
                    select(func.count(), func.coalesce(func.sum(Voucher.face_value_fen), 0)).where(
                        Voucher.programme_id == pid
                    )
                ).one()
                if issued != claimed or value != claimed * FACE_FEN:
                    raise BookError(
                        f"{path}: {issued} vouchers worth {value} fen, "
                        f"the claimants reported {claimed} claims"
                    )
                entries = scalar(
                    "SELECT COUNT(*) FROM journal_entries WHERE kind = 'issue' AND actor_id = :a",
                    a=ACTORS[path].id,
                )
                allowed = connection.execute(
                    select(func.coalesce(func.sum(ClaimAllowance.claimed_fen), 0)).where(
                        ClaimAllowance.programme_id == pid
                    )
                ).scalar_one()
                budget = scalar(
                    "SELECT balance_fen FROM ledger_accounts WHERE name = :name",
                    name=accounts.available(DISTRICT, str(lanes.programme)).name,
                )
                if entries != claimed or allowed != claimed * FACE_FEN:
                    raise BookError(
                        f"{path}: {entries} issue entries and {allowed} fen of allowances "
                        f"for {claimed} claims"
                    )
                if budget != BUDGET_FEN - claimed * FACE_FEN:
                    raise BookError(f"{path}: {DISTRICT} holds {budget} fen after {claimed} claims")
            check_voucher_accounts(connection)
            samples = {
                path: list(
                    connection.execute(
                        select(Voucher.token)
                        .join(Programme, Programme.id == Voucher.programme_id)
                        .where(Programme.public_id == lanes.programme)
                        .order_by(func.random())
                        .limit(SAMPLE)
                    ).scalars()
                )
                for path, lanes in self.lanes.items()
            }
        keys = {self.signer.kid: self.signer.private_key.public_key()}
        for path, tokens in samples.items():
            lanes = self.lanes[path]
            smes = {uscc for pool in lanes.pools for uscc in pool}
            for token in tokens:
                check = vouchers.verify_token(self.uow, token, keys)
                seen = check.voucher
                if (
                    not check.valid
                    or seen is None
                    or (seen.programme_id, seen.status, seen.remaining_fen, seen.center)
                    != (lanes.programme, "active", FACE_FEN, DISTRICT)
                    or seen.sme_uscc not in smes
                ):
                    raise BookError(f"{path}: a token does not check out: {check}")

    def verify_ledger(self) -> tuple[int, float, float]:
        return sequence_and_verify(self.uow)


def bench_backend(backend: str, url: str, seconds: float, warmup: float) -> list[Comparison]:
    label = LABELS[backend]
    with ExitStack() as stack:
        began = time.perf_counter()
        bench = ClaimBench(backend, url)
        stack.callback(bench.close)
        print(
            f"{label}: set-up (centers, 2 programmes, {2 * MAX_CLAIMANTS * POOL} SMEs) in "
            f"{time.perf_counter() - began:.1f} s",
            file=sys.stderr,
        )
        rows = []
        for claimants in CLAIMANT_COUNTS:
            print(f"{label}: {claimants} claimant(s), service and baseline …", file=sys.stderr)
            rows.append(bench.measure(claimants, seconds, warmup))
        bench.check_books()
        leaves, sequencing, verifying = bench.verify_ledger()
        print(
            f"{label}: {bench.claimed['service']:,} service and {bench.claimed['baseline']:,} "
            f"baseline claims; books check out (balances, counts, allowances, budgets, voucher "
            f"accounts, {SAMPLE} tokens per path); sequenced {leaves:,} entries in "
            f"{sequencing:.1f} s, checkpoint signed, verify_ledger OK in {verifying:.1f} s"
        )
        return rows


def main() -> int:
    seconds = bench_seconds()
    warmup = warmup_seconds()
    print(
        f"Claim rush: {seconds:g} s measured per path and configuration (A-B-B-A halves, "
        f"{warmup:g} s warm-up each), one claim per transaction, claimants of a path sharing "
        f"one district budget, each claiming round robin for its own {POOL} SMEs"
    )
    return for_each_backend(
        lambda backend, url: bench_backend(backend, url, seconds, warmup),
        lambda rows: print_comparisons(rows, unit="claims", who="claimant", target=TARGET),
    )


if __name__ == "__main__":
    sys.exit(main())
