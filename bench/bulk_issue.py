"""Bulk issuance: 10,000 vouchers from one uploaded file, through `services.bulk`.

Why it exists: a district center issues a whole programme's vouchers from a spreadsheet of
SME codes (a dry run first, then the real run), and staff wait for the answer. Target: the
real run issues at least 2,000 vouchers per second. Signing a token, the one piece of work no
implementation avoids, runs at about 20,000 per second on one core, so it is measured in the
same run as the reference that shows how much of the time the rest takes.

What it measures, on SQLite (a file) and PostgreSQL (a fresh `bench_<pid>` database), both
migrated with the real migrations:

- set-up (not measured): the Guangdong centers, a programme funded for the file plus a margin
  and allocated down to Nanshan (440305), one voucher per SME (the cap is one face value), and
  10,000 SMEs with valid codes inserted in bulk (`bench.common.insert_smes`: registration is
  not what is measured); a CSV file of their codes (`uscc,name`) in a temporary folder;
- dry run: reading the file, `bulk.read_rows` and `bulk.issue_from_list(dry_run=True)`, which
  makes every claim for real (`vouchers.claim_many_within`, `BATCH` rows at a time) in one
  transaction and rolls it back; every row must come back `would_issue`, and no voucher may be
  left behind;
- real run: reading the file, `bulk.read_rows` and `bulk.issue_from_list` (`BATCH` rows per
  transaction, each row under a key naming the programme, the list and the SME, with a real
  Ed25519 voucher key), through a `UnitOfWork` without the after-commit sequencing hook; every
  row must come back `issued`;
- raw-SQL baseline: `RawBulkIssuer`, the real run's statements (the spend facts included) with
  sqlite3 / psycopg 3 for a second programme and 10,000 other SMEs, in the same database after
  the real run;
- reference: `jws.sign_voucher` alone, 10,000 times, before and after the databases (the
  machine's speed drifts), with payloads built beforehand.

Afterwards it checks the books — exactly 10,000 vouchers, 10,000 `issue` entries and 10,000
face values of allowances; the district's budget dropped by exactly 10,000 face values and the
programme's funding did not move; every voucher's account holds its face value; balances sum
to zero and equal their postings; a sample of tokens verifies; and for the baseline, one
voucher per SME and its budget down by as much — and exits 1 on a failure.
When PostgreSQL misses the target, `bulk.issue_from_list` of 1,000 more rows (a second
programme) runs under cProfile and the top 15 functions by own time are printed.

Run from the project root: `.venv/bin/python -m bench.bulk_issue` (or `make bench`).
BENCH_VOUCHERS (default 10000) is the file's length; VOUCHER_BENCH_POSTGRES_URL the server.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import re
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import func, select, text

from bench.claim_rush import (
    APPLY,
    INSERT_ALLOWANCE,
    INSERT_ENTRY,
    INSERT_FACT,
    INSERT_VOUCHER,
    SELECT_PROGRAMME,
    Refused,
    raw_claimer,
)
from bench.common import (
    LABELS,
    BookError,
    check_balanced,
    check_voucher_accounts,
    for_each_backend,
    insert_smes,
    print_table,
    sme_uscc,
    voucher_programme,
    voucher_signer,
)
from voucher_app.clock import SystemClock
from voucher_app.domain import accounts
from voucher_app.domain.accounts import AccountKind
from voucher_app.domain.actors import Actor, Role
from voucher_app.domain.entries import EntryKind
from voucher_app.domain.sme import Industry, SizeClass, classify
from voucher_app.domain.spend import local_month
from voucher_app.domain.voucher_code import random_human_code
from voucher_app.persistence.database import Database
from voucher_app.persistence.models import ClaimAllowance, Voucher
from voucher_app.services import bulk, centers, vouchers
from voucher_app.services.bulk import BulkReport, Row
from voucher_app.services.vouchers import VoucherSigner
from voucher_app.signing.jws import VoucherPayload, sign_voucher
from voucher_app.wiring import unit_of_work

VOUCHERS = int(os.environ.get("BENCH_VOUCHERS") or 10_000)
TARGET = 2_000  # vouchers per second, real run
FACE_FEN = 50_000
MARGIN = 1_000  # vouchers' worth of budget beyond the file, so a budget check can fail
DISTRICT = "440305"
SAMPLE = 100  # tokens verified afterwards
PROFILE_ROWS = 1_000
PROFILE_TOP = 15
ADMIN = Actor("bench-admin", Role.CENTER_ADMIN)
STAFF = Actor("bench-staff", Role.CENTER_STAFF)
T = TypeVar("T")
BASELINE_SERIALS = 5_000_000  # the baseline's SMEs: codes far from the service's
SUBTREE = (  # the programme owner's centers, as `centers.subtree_ids` asks for them
    "WITH RECURSIVE down(id) AS (SELECT centers.id AS id FROM centers WHERE centers.id = {m} "
    "UNION ALL SELECT centers.id AS id FROM centers, down WHERE centers.parent_id = down.id) "
    "SELECT down.id FROM down"
)


@dataclass(frozen=True, slots=True)
class Measured:
    """One line of the report."""

    what: str
    backend: str
    vouchers: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.vouchers / self.seconds if self.seconds > 0 else 0.0


def timed(work: Callable[[], T]) -> tuple[T, float]:
    began = time.perf_counter()
    result = work()
    return result, time.perf_counter() - began


def signing_alone(signer: VoucherSigner, count: int) -> float:
    """Seconds to sign `count` distinct voucher tokens (payloads built beforehand)."""
    now = int(time.time())
    payloads = [
        VoucherPayload(
            human_code=random_human_code(),
            sme_uscc=sme_uscc(n, DISTRICT),
            face_value_fen=FACE_FEN,
            exp=now + 90 * 86_400,
        )
        for n in range(count)
    ]
    began = time.perf_counter()
    for payload in payloads:
        sign_voucher(payload, signer.kid, signer.private_key)
    return time.perf_counter() - began


def write_listing(folder: Path, usccs: Sequence[str]) -> Path:
    """The upload: a CSV file with a header row naming the `uscc` column."""
    path = folder / "smes.csv"
    lines = ["uscc,name", *(f"{uscc},基准企业 {n}" for n, uscc in enumerate(usccs, 1))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def read_listing(path: Path) -> list[Row]:
    return bulk.read_rows(path.name, path.read_bytes())


class RawBulkIssuer:
    """The baseline: the real run's statements with the bare driver, batch for batch.

    Per batch of `bulk.BATCH` codes, in one transaction: the programme; the owner's subtree;
    earlier vouchers under the rows' keys; the SMEs with their home centers (one IN list);
    the allowance rows (INSERT … ON CONFLICT DO NOTHING, executemany) and one conditional
    UPDATE … RETURNING for all of them; the district's budget row, locked; the tokens, signed
    by the same PyJWT call; the budget's conditional update; which voucher accounts exist;
    the new voucher accounts, the entries, their postings (INSERT … SELECT by public id and
    account name) and the queue rows, each one executemany; the voucher rows, executemany;
    COMMIT. Like the service it classifies each SME's size; unlike it, it does not parse the
    codes or check the refs and postings.
    """

    def __init__(self, backend: str, url: str, signer: VoucherSigner) -> None:
        self.claimer = raw_claimer(backend, url, signer)
        self.signer = signer
        self.lock = " FOR UPDATE" if backend == "postgresql" else ""
        m = self.claimer.placeholder
        self.m = m
        self.select_programme = SELECT_PROGRAMME.format(m=m)
        self.insert_allowance = INSERT_ALLOWANCE.format(m=m)
        self.apply = APPLY.format(m=m)
        self.open_account = (
            f"INSERT INTO ledger_accounts (name, kind, balance_fen, floor_fen) "
            f"VALUES ({m}, {m}, {m}, {m})"
        )
        self.insert_entry = INSERT_ENTRY.removesuffix(" RETURNING id").format(m=m)
        self.insert_posting = (
            "INSERT INTO journal_postings (entry_id, account_id, amount_fen) SELECT "
            f"(SELECT id FROM journal_entries WHERE public_id = {m}), "
            f"(SELECT id FROM ledger_accounts WHERE name = {m}), {m}"
        )
        self.insert_queue = (
            f"INSERT INTO ledger_log_queue (entry_id) SELECT id FROM journal_entries "
            f"WHERE public_id = {m}"
        )
        self.insert_fact = INSERT_FACT.format(m=m)
        self.insert_voucher = INSERT_VOUCHER.format(m=m, returning="")

    def close(self) -> None:
        self.claimer.close()

    def marks(self, count: int) -> str:
        return ", ".join([self.m] * count)

    def issue(self, programme_id: uuid.UUID, usccs: Sequence[str], actor: Actor) -> int:
        issued = 0
        for start in range(0, len(usccs), bulk.BATCH):
            issued += self.issue_batch(programme_id, usccs[start : start + bulk.BATCH], actor)
        return issued

    def issue_batch(self, programme_id: uuid.UUID, usccs: Sequence[str], actor: Actor) -> int:
        c = self.claimer
        cur = c.cursor
        with c.transaction():
            cur.execute(self.select_programme, (c.key(programme_id),))
            programme = cur.fetchone()
            p_id, owner_id, rate, cap, face, days, cats = (
                programme[i] for i in (0, 3, 7, 8, 9, 10, 12)
            )
            cur.execute(SUBTREE.format(m=self.m), (owner_id,))
            within = {row[0] for row in cur.fetchall()}
            keys = [f"bulk:{programme_id}:baseline:{uscc}" for uscc in usccs]
            cur.execute(
                f"SELECT claim_key FROM vouchers WHERE claim_key IN ({self.marks(len(keys))})",
                keys,
            )
            if cur.fetchall():
                raise Refused("the baseline's keys were used before")
            cur.execute(
                "SELECT smes.id, smes.public_id, smes.uscc, smes.industry, smes.employees, "
                "smes.revenue_fen, smes.assets_fen, centers.id, centers.code FROM smes "
                "JOIN centers ON centers.id = smes.home_center_id "
                f"WHERE smes.uscc IN ({self.marks(len(usccs))})",
                list(usccs),
            )
            smes = {row[2]: row for row in cur.fetchall()}
            for _, _, uscc, industry, staff, revenue, assets, home_id, _ in smes.values():
                size = classify(Industry(industry), staff, revenue, assets)
                if size not in {SizeClass.SMALL, SizeClass.MICRO} or home_id not in within:
                    raise Refused(f"{uscc} is not eligible")
            ids = [smes[uscc][0] for uscc in usccs]
            cur.executemany(self.insert_allowance, [(i, p_id, 0, cap) for i in ids])
            cur.execute(
                f"UPDATE claim_allowances SET claimed_fen = claimed_fen + {self.m} "
                f"WHERE programme_id = {self.m} AND sme_id IN ({self.marks(len(ids))}) "
                f"AND claimed_fen + {self.m} <= cap_fen RETURNING sme_id",
                (face, p_id, *ids, face),
            )
            if len(cur.fetchall()) != len(ids):
                raise Refused("an SME reached its cap")
            budget = accounts.available(DISTRICT, str(programme_id)).name
            cur.execute(
                f"SELECT name, balance_fen FROM ledger_accounts WHERE name IN ({self.m}) "
                f"ORDER BY name{self.lock}",
                (budget,),
            )
            if cur.fetchone()[1] < face * len(ids):
                raise Refused("the budget ran out")
            now = datetime.now(UTC)
            expires = now + timedelta(days=days)
            categories = c.loaded(cats)
            vouchers_out = []
            for uscc in usccs:
                s_id, s_public, _, _, _, _, _, home_id, _ = smes[uscc]
                voucher_id, code = uuid.uuid4(), random_human_code()
                token = c.token(code, uscc, face, expires)
                vouchers_out.append((voucher_id, code, s_id, s_public, home_id, token))
            total = face * len(ids)
            cur.execute(self.apply, (-total, budget, -total))
            cur.fetchone()
            names = [accounts.voucher(str(v[0])).name for v in vouchers_out]
            cur.execute(
                f"SELECT name FROM ledger_accounts WHERE name IN ({self.marks(len(names))})",
                names,
            )
            cur.fetchall()
            cur.executemany(
                self.open_account, [(n, AccountKind.VOUCHER.value, face, 0) for n in names]
            )
            entry_ids = [uuid.uuid4() for _ in vouchers_out]
            moment = c.moment(now)
            cur.executemany(
                self.insert_entry,
                [
                    (
                        c.key(entry_id),
                        EntryKind.ISSUE.value,
                        moment,
                        actor.id,
                        actor.role.value,
                        c.document(
                            {
                                "programme": str(programme_id),
                                "voucher": str(v[0]),
                                "sme": str(c.uuid_of(v[3])),
                            }
                        ),
                        None,
                        None,
                        None,
                    )
                    for entry_id, v in zip(entry_ids, vouchers_out, strict=True)
                ],
            )
            cur.executemany(
                self.insert_posting,
                [
                    posting
                    for entry_id, name in zip(entry_ids, names, strict=True)
                    for posting in (
                        (c.key(entry_id), budget, -face),
                        (c.key(entry_id), name, face),
                    )
                ],
            )
            cur.executemany(self.insert_queue, [(c.key(entry_id),) for entry_id in entry_ids])
            month = local_month(now)
            cur.executemany(
                self.insert_fact,
                [
                    (c.key(entry_id), v[4], p_id, None, None, month, "committed", face)
                    for entry_id, v in zip(entry_ids, vouchers_out, strict=True)
                ],
            )
            document = c.document(categories)
            cur.executemany(
                self.insert_voucher,
                [
                    (
                        c.key(voucher_id),
                        code,
                        p_id,
                        s_id,
                        home_id,
                        face,
                        rate,
                        document,
                        moment,
                        c.moment(expires),
                        "active",
                        None,
                        None,
                        self.signer.kid,
                        token,
                        actor.id,
                        key,
                    )
                    for (voucher_id, code, s_id, _, home_id, token), key in zip(
                        vouchers_out, keys, strict=True
                    )
                ],
            )
        return len(vouchers_out)


class BulkBench:
    """One backend: the set-up, the timed runs and the checks of the books afterwards."""

    def __init__(self, backend: str, url: str, folder: Path) -> None:
        self.backend = backend
        self.database = Database(url, pool_size=2)
        self.uow = unit_of_work(self.database, SystemClock())
        self.signer = voucher_signer(os.urandom(32))
        self.budget_fen = (VOUCHERS + MARGIN) * FACE_FEN
        centers.import_centers(self.uow, centers.guangdong_centers())
        self.programme = self.new_programme("Bulk issue benchmark")
        self.usccs = [sme_uscc(n, DISTRICT) for n in range(1, VOUCHERS + 1)]
        _, self.registering = timed(
            lambda: insert_smes(self.database, self.usccs, ADMIN, home_center=DISTRICT)
        )
        self.listing = write_listing(folder, self.usccs)
        self.baseline_programme = self.new_programme("Bulk issue benchmark (baseline)")
        self.baseline_usccs = [
            sme_uscc(BASELINE_SERIALS + n, DISTRICT) for n in range(1, VOUCHERS + 1)
        ]
        insert_smes(self.database, self.baseline_usccs, ADMIN, home_center=DISTRICT)

    def new_programme(self, name: str, vouchers: int | None = None) -> uuid.UUID:
        """A programme for one voucher per SME, with budget for `vouchers` (or the file and a
        margin) allocated down to the district."""
        return voucher_programme(
            self.uow,
            ADMIN,
            budget_fen=self.budget_fen if vouchers is None else vouchers * FACE_FEN,
            face_fen=FACE_FEN,
            cap_fen=FACE_FEN,
            district=DISTRICT,
            name=name,
        )

    def close(self) -> None:
        self.database.dispose()

    def baseline(self, url: str) -> int:
        issuer = RawBulkIssuer(self.backend, url, self.signer)
        try:
            return issuer.issue(self.baseline_programme, self.baseline_usccs, STAFF)
        finally:
            issuer.close()

    def check_baseline_books(self, issued: int) -> None:
        """The baseline's programme: one voucher per SME, its budget down by exactly as much,
        and the whole ledger still balanced with every cached balance equal to its postings."""
        pid = str(self.baseline_programme)
        with self.database.engine.connect() as connection:
            count = connection.execute(
                text(
                    "SELECT COUNT(*) FROM vouchers v JOIN programmes p ON p.id = v.programme_id "
                    "WHERE p.public_id = :p"
                ),
                {
                    "p": self.baseline_programme
                    if self.backend == "postgresql"
                    else self.baseline_programme.hex
                },
            ).scalar_one()
            left = connection.execute(
                text("SELECT balance_fen FROM ledger_accounts WHERE name = :n"),
                {"n": accounts.available(DISTRICT, pid).name},
            ).scalar_one()
            check_balanced(connection)
        if (issued, count, left) != (VOUCHERS, VOUCHERS, self.budget_fen - VOUCHERS * FACE_FEN):
            raise BookError(f"baseline: {issued} issued, {count} vouchers, budget {left}")

    def dry_run(self) -> BulkReport:
        return self.run(dry_run=True)

    def issue(self) -> BulkReport:
        return self.run(dry_run=False)

    def run(self, *, dry_run: bool) -> BulkReport:
        """`bulk.issue_from_list` of the file, as a center's staff member sends it."""
        rows = read_listing(self.listing)
        return bulk.issue_from_list(
            self.uow,
            programme_id=self.programme,
            rows=rows,
            actor=STAFF,
            signer=self.signer,
            dry_run=dry_run,
        )

    def vouchers_issued(self) -> int:
        with self.database.engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(Voucher)).scalar_one())

    def check_books(self, dry: BulkReport, real: BulkReport) -> None:
        """Raise `BookError` on the first check that fails."""
        for report, outcome in ((dry, "would_issue"), (real, "issued")):
            others = {r.outcome for r in report.rows} - {outcome}
            if report.issued != VOUCHERS or others:
                raise BookError(
                    f"{'dry' if report.dry_run else 'real'} run: {report.issued} of {VOUCHERS} "
                    f"rows {outcome}, other outcomes {sorted(others)}"
                )
        pid = str(self.programme)
        with self.database.engine.connect() as connection:

            def scalar(sql: str, **params: Any) -> int:
                return int(connection.execute(text(sql), params).scalar_one() or 0)

            count, value = connection.execute(
                select(func.count(), func.coalesce(func.sum(Voucher.face_value_fen), 0))
            ).one()
            entries = scalar("SELECT COUNT(*) FROM journal_entries WHERE kind = 'issue'")
            allowed = connection.execute(
                select(func.coalesce(func.sum(ClaimAllowance.claimed_fen), 0))
            ).scalar_one()
            if (count, value, entries, allowed) != (
                VOUCHERS,
                VOUCHERS * FACE_FEN,
                VOUCHERS,
                VOUCHERS * FACE_FEN,
            ):
                raise BookError(
                    f"{count} vouchers worth {value} fen, {entries} issue entries and "
                    f"{allowed} fen of allowances; expected {VOUCHERS} of {FACE_FEN} fen each"
                )

            def balance(name: str) -> int:
                return scalar("SELECT balance_fen FROM ledger_accounts WHERE name = :n", n=name)

            left = balance(accounts.available(DISTRICT, pid).name)
            if left != self.budget_fen - VOUCHERS * FACE_FEN:
                raise BookError(
                    f"{DISTRICT}'s budget went from {self.budget_fen} to {left} fen, not down by "
                    f"exactly {VOUCHERS} x {FACE_FEN}"
                )
            funded = balance(accounts.funding(pid).name)
            if funded != -self.budget_fen:
                raise BookError(f"the funding account holds {funded}, not {-self.budget_fen}")
            check_balanced(connection)
            check_voucher_accounts(connection)
            tokens = list(
                connection.execute(
                    select(Voucher.token).order_by(func.random()).limit(SAMPLE)
                ).scalars()
            )
        keys = {self.signer.kid: self.signer.private_key.public_key()}
        listed = set(self.usccs)
        for token in tokens:
            check = vouchers.verify_token(self.uow, token, keys)
            seen = check.voucher
            if (
                not check.valid
                or seen is None
                or (seen.programme_id, seen.status, seen.remaining_fen)
                != (
                    self.programme,
                    "active",
                    FACE_FEN,
                )
                or seen.sme_uscc not in listed
            ):
                raise BookError(f"a token does not check out: {check}")

    def profile_issue(self, rows: int) -> tuple[pstats.Stats, float]:
        """`bulk.issue_from_list` of the first `rows` SMEs into a second programme, profiled."""
        programme = self.new_programme("Bulk issue benchmark (profiled)", rows)
        listing = [Row(line, uscc) for line, uscc in enumerate(self.usccs[:rows], start=2)]
        profile = cProfile.Profile()
        began = time.perf_counter()
        profile.enable()
        report = bulk.issue_from_list(
            self.uow,
            programme_id=programme,
            rows=listing,
            actor=STAFF,
            signer=self.signer,
            dry_run=False,
        )
        profile.disable()
        took = time.perf_counter() - began
        if report.issued != rows:
            raise BookError(f"profiled run: {report.issued} of {rows} rows issued")
        return pstats.Stats(profile), took


PROJECT = str(Path(__file__).resolve().parent.parent) + "/"
#: psycopg's functions that send a query or block until the server answers: their own time is
#: mostly the database's (on two cores the server often runs while the client is inside them).
ROUND_TRIP = {"wait", "_send_query_prepared", "_execute_send", "_send_prepare"}


def _where(filename: str) -> str:
    """A profile row's file, shortened to its path inside its package or the project."""
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1]
    if filename.startswith(PROJECT):
        return filename.removeprefix(PROJECT)
    match = re.search(r"/lib/python3\.\d+/(.+)", filename)
    return match[1] if match else filename


def _package(filename: str, name: str) -> str:
    """Which package a profile row's own time belongs to (C functions by what they are)."""
    if filename == "~":
        signing = "sign" in name and "Ed25519" in name
        return "Ed25519 signing (C)" if signing else "builtins and C methods"
    if "site-packages/" in filename:
        package = filename.split("site-packages/", 1)[1].split("/", 1)[0]
        if package == "psycopg" and name in ROUND_TRIP:
            return "psycopg send + wait (round trips)"
        return package
    if filename.startswith(PROJECT):
        return filename.removeprefix(PROJECT).split("/", 1)[0]
    if "sqlalchemy" in filename:  # the wrappers SQLAlchemy generates at import
        return "sqlalchemy"
    return "standard library" if re.search(r"/lib/python3\.\d+/", filename) else "other"


def print_profile(stats: pstats.Stats, rows: int, took: float, top: int) -> None:
    entries = stats.stats.items()  # type: ignore[attr-defined]
    table = sorted(entries, key=lambda item: item[1][2], reverse=True)[:top]
    print(
        f"\nPostgreSQL: cProfile of bulk.issue_from_list, {rows:,} rows in {took:.1f} s under the "
        f"profiler (top {top} by own time; per row = own time / {rows:,} rows)"
    )
    print_table(
        ["function", "calls", "own s", "own µs/row", "cumulative s"],
        [
            [
                f"{_where(filename)}:{line}({name})",
                f"{calls:,}",
                f"{own:.3f}",
                f"{own / rows * 1e6:.0f}",
                f"{cumulative:.3f}",
            ]
            for (filename, line, name), (_, calls, own, cumulative, _) in table
        ],
    )
    packages: dict[str, float] = {}
    for (filename, _line, name), (_, _calls, own, _cumulative, _) in entries:
        package = _package(filename, name)
        packages[package] = packages.get(package, 0.0) + own
    total = sum(packages.values())
    print(f"\nOwn time by package ({total:.1f} s profiled):")
    print_table(
        ["package", "own s", "share", "µs/row"],
        [
            [package, f"{own:.2f}", f"{own / total:.0%}", f"{own / rows * 1e6:,.0f}"]
            for package, own in sorted(packages.items(), key=lambda item: -item[1])
        ],
    )


def bench_backend(backend: str, url: str, folder: Path) -> list[Measured]:
    label = LABELS[backend]
    with ExitStack() as stack:
        began = time.perf_counter()
        bench = BulkBench(backend, url, folder)
        stack.callback(bench.close)
        print(
            f"{label}: set-up in {time.perf_counter() - began:.1f} s ({VOUCHERS:,} SMEs inserted "
            f"in {bench.registering:.2f} s); dry run …",
            file=sys.stderr,
        )
        parsed, reading = timed(lambda: read_listing(bench.listing))
        dry, dry_seconds = timed(bench.dry_run)
        if left_behind := bench.vouchers_issued():
            raise BookError(f"the dry run left {left_behind} vouchers behind")
        print(f"{label}: real run …", file=sys.stderr)
        real, real_seconds = timed(bench.issue)
        bench.check_books(dry, real)
        print(
            f"{label}: books check out ({VOUCHERS:,} vouchers, issue entries and allowances; "
            f"budget down by exactly {VOUCHERS:,} x {FACE_FEN:,} fen; voucher accounts; "
            f"balances; {SAMPLE} tokens)"
        )
        print(f"{label}: raw-SQL baseline …", file=sys.stderr)
        baseline, baseline_seconds = timed(lambda: bench.baseline(url))
        bench.check_baseline_books(baseline)
        measured = [
            Measured("read_rows alone", backend, len(parsed), reading),
            Measured("read_rows + dry_run", backend, dry.issued, dry_seconds),
            Measured("raw-SQL baseline", backend, baseline, baseline_seconds),
            Measured("read_rows + issue", backend, real.issued, real_seconds),
        ]
        if backend == "postgresql" and measured[-1].rate < TARGET:
            print(f"{label}: profiling bulk.issue_from_list …", file=sys.stderr)
            rows = min(PROFILE_ROWS, VOUCHERS)
            stats, took = bench.profile_issue(rows)
            print_profile(stats, rows, took, PROFILE_TOP)
        return measured


def report(lines: Sequence[Measured], signing: Sequence[float]) -> None:
    reference = [
        Measured(f"sign_voucher alone ({when})", "-", VOUCHERS, seconds)
        for when, seconds in zip(("before", "after"), signing, strict=False)
    ]
    print()
    print_table(
        ["what", "backend", "vouchers", "seconds", "vouchers/s"],
        [
            [
                m.what,
                LABELS.get(m.backend, m.backend),
                f"{m.vouchers:,}",
                f"{m.seconds:.2f}",
                f"{m.rate:,.0f}",
            ]
            for m in [*reference, *lines]
        ],
        left=2,
    )
    print()
    signing_per_voucher = min(signing) / VOUCHERS
    baselines = {m.backend: m.rate for m in lines if m.what == "raw-SQL baseline"}
    for m in lines:
        if m.what == "read_rows + issue":
            verdict = "met" if m.rate >= TARGET else "NOT met"
            share = signing_per_voucher * m.rate
            print(
                f"{LABELS[m.backend]}: bulk issue at {m.rate:,.0f} vouchers/s, "
                f"{m.rate / baselines[m.backend]:.0%} of the raw-SQL baseline (signing is "
                f"{share:.0%} of its time) — target >= {TARGET:,}/s: {verdict}"
            )


def main() -> int:
    print(
        f"Bulk issuance: {VOUCHERS:,} vouchers from one CSV file, dry run then real run "
        f"({bulk.BATCH} rows per transaction), next to the same statements with the bare driver"
    )
    reference = voucher_signer(os.urandom(32))
    signing = [signing_alone(reference, VOUCHERS)]

    def run(backend: str, url: str) -> list[Measured]:
        with tempfile.TemporaryDirectory(prefix="bench_") as folder:
            return bench_backend(backend, url, Path(folder))

    def finish(lines: list[Measured]) -> None:
        signing.append(signing_alone(reference, VOUCHERS))
        report(lines, signing)

    return for_each_backend(run, finish)


if __name__ == "__main__":
    sys.exit(main())
