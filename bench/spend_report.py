"""Spend reports: how long a province-wide report takes over a 1,000,000-entry ledger spread
over 100 centers, next to the same aggregates through the bare driver.

Why it exists: the finance dashboard asks for a center's report on every page view, and the
province's report adds up everything. Target (issue "Redemption, settlement, reconciliation and
spend reports"): a spend report over 1,000,000 ledger entries and 100 centers in under 2 s.

What it loads, into a fresh database of each backend migrated with the real migrations:
Guangdong's centers and two programmes (through the services), 200 providers, then
BENCH_ENTRIES (default 1,000,000) journal entries with the spend facts the services write with
them — a funding and allocations down to 99 centers below the province (the province and its
21 cities, and 78 districts), then per voucher an `issue`, a `redeem` in one of the twelve
service categories by one of the providers, and an `approve` and a `settle`, or (one in ten) a
`reject`, or (one in twenty) an `expire` — spread over the twelve months of 2026. The rows go
straight in (COPY on PostgreSQL, one executemany on SQLite): posting a million entries through
the service would take the better part of an hour. Postings are not loaded: a report reads only
the facts, and every fact names a real entry.

What it compares, five runs each, alternating:

- service: `services.reports.spend_report(uow, "440000")` (the province: every fact) and
  `spend_report(uow, "440300")` (a city and its districts), through a `UnitOfWork`;
- baseline: the report's two GROUP BY scans (by center, programme, month and measure; by
  category, provider and measure over the redemption figures) and its read of the centers,
  through sqlite3 / psycopg, results fetched — without the roll-up, the names or the unit of
  work.

It checks that the service's province total equals the baseline's sums, and exits 1 if not.
Environment: BENCH_ENTRIES, VOUCHER_BENCH_POSTGRES_URL.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg

from bench.common import (
    LABELS,
    BookError,
    driver_dsn,
    for_each_backend,
    print_table,
)
from voucher_app.clock import SystemClock
from voucher_app.domain.actors import Actor, Role
from voucher_app.domain.categories import CATEGORY_CODES
from voucher_app.domain.programmes import ProgrammeTerms
from voucher_app.domain.sme import SizeClass
from voucher_app.domain.spend import Figures, Measure, local_month
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.database import Database
from voucher_app.services import centers, programmes, reports, spend_facts
from voucher_app.wiring import unit_of_work

TARGET_SECONDS = 2.0
RUNS = 5
ADMIN = Actor("bench-admin", Role.ADMIN)
PROVIDERS = 200
CATEGORIES = sorted(CATEGORY_CODES)
FACE = 500_000

ENTRY_COLUMNS = ("id", "public_id", "kind", "created_at", "actor_id", "actor_role", "refs")
FACT_COLUMNS = ("id", *spend_facts.FACT_COLUMNS)


def _terms(name: str) -> ProgrammeTerms:
    return ProgrammeTerms(
        name=name,
        owner_center="440000",
        period_start=date(2026, 1, 1),
        period_end=date(2026, 12, 31),
        total_budget_fen=10**15,
        subsidy_rate_bp=5000,
        sme_cap_fen=FACE,
        voucher_face_value_fen=FACE,
        voucher_validity_days=90,
        partial_spending=True,
        service_categories=tuple(CATEGORIES),
        accepted_sizes=(SizeClass.SMALL, SizeClass.MICRO),
    )


def _set_up(uow: UnitOfWork) -> tuple[list[int], list[int]]:
    """Centers and programmes through the services; returns (100 center ids, programme ids)."""
    centers.import_centers(uow, centers.guangdong_centers())
    for n in (1, 2):
        programmes.create_programme(uow, _terms(f"Bench {n}"), ADMIN)
    with uow.database.engine.begin() as connection:
        rows = connection.exec_driver_sql("SELECT id, code, level FROM centers").all()
        programme_ids = list(
            connection.exec_driver_sql("SELECT id FROM programmes ORDER BY id").scalars()
        )
    by_level: dict[str, list[tuple[str, int]]] = {}
    for center_id, code, level in rows:
        by_level.setdefault(level, []).append((code, center_id))
    chosen = [*by_level["province"], *by_level["city"], *sorted(by_level["county"])[:78]]
    return [center_id for _, center_id in sorted(chosen)], programme_ids


def _provider_rows(center_id: int) -> Iterator[tuple[Any, ...]]:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    for n in range(PROVIDERS):
        yield (
            n + 1,
            str(uuid.UUID(int=n + 1)),
            f"91440300MA{n:07d}X",
            f"服务机构 {n}",
            json.dumps(CATEGORIES),
            "王经理",
            "+86 20 0000 0000",
            f"p{n}@example.cn",
            "银行",
            "机构",
            f"{n:012d}",
            center_id,
            "approved",
            now,
        )


PROVIDER_COLUMNS = (
    "id, public_id, uscc, name, service_categories, contact_name, contact_phone, contact_email,"
    " bank_name, bank_account_name, bank_account_number, center_id, status, applied_at"
)


def generate(
    count: int, center_ids: list[int], programme_ids: list[int]
) -> Iterator[tuple[tuple[Any, ...], list[tuple[Any, ...]]]]:
    """(entry row, its fact rows) for `count` entries, as the services would write them."""
    rng = random.Random(7)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    step = timedelta(days=365) / count
    province, below = center_ids[0], center_ids[1:]
    number = fact = 0

    def entry(kind: str, facts: list[tuple[int, int, int | None, str | None, str, int]]) -> Any:
        nonlocal number, fact
        number += 1
        moment = start + step * number
        month = local_month(moment)
        refs = json.dumps({"programme": str(uuid.UUID(int=facts[0][1]))})
        row = (number, str(uuid.uuid4()), kind, moment, "bench", "center_staff", refs)
        fact_rows = []
        for center, programme_id, provider, category, measure, amount in facts:
            fact += 1
            fact_rows.append(
                (fact, number, center, programme_id, provider, category, month, measure, amount)
            )
        return row, fact_rows

    for programme in programme_ids:
        yield entry("fund", [(province, programme, None, None, "allocated", 10**12)])
        for center in below:
            yield entry(
                "allocate",
                [
                    (center, programme, None, None, "allocated", 10**9),
                    (province, programme, None, None, "allocated", -(10**9)),
                ],
            )
    while number < count:
        center = rng.choice(below)
        programme = rng.choice(programme_ids)
        provider = rng.randrange(PROVIDERS) + 1
        category = rng.choice(CATEGORIES)
        subsidy = rng.randrange(1, FACE // 100) * 100
        yield entry("issue", [(center, programme, None, None, "committed", FACE)])
        attribution = (center, programme, provider, category)
        yield entry("redeem", [(*attribution, "redeemed", subsidy)])
        fate = rng.random()
        if fate < 0.1:
            yield entry("reject", [(*attribution, "redeemed", -subsidy)])
        else:
            yield entry("approve", [(*attribution, "approved", subsidy)])
            yield entry("settle", [(*attribution, "paid", subsidy)])
        if fate > 0.95:
            yield entry("expire", [(center, programme, None, None, "expired", FACE - subsidy)])


def load(backend: str, url: str, count: int) -> tuple[int, float]:
    """Set up and load; returns (facts loaded, seconds)."""
    database = Database(url)
    uow = unit_of_work(database, SystemClock())
    center_ids, programme_ids = _set_up(uow)
    database.dispose()
    began = time.perf_counter()
    facts = 0
    rows = generate(count, center_ids, programme_ids)
    if backend == "postgresql":
        with psycopg.connect(driver_dsn(url)) as connection, connection.cursor() as cursor:
            with cursor.copy(f"COPY providers ({PROVIDER_COLUMNS}) FROM STDIN") as copy:
                for provider in _provider_rows(center_ids[0]):
                    copy.write_row(provider)
            entries, fact_rows = [], []
            for row, found in rows:
                entries.append(row)
                fact_rows.extend(found)
            with cursor.copy(f"COPY journal_entries ({', '.join(ENTRY_COLUMNS)}) FROM STDIN") as c:
                for row in entries:
                    c.write_row(row)
            with cursor.copy(f"COPY spend_facts ({', '.join(FACT_COLUMNS)}) FROM STDIN") as c:
                for row in fact_rows:
                    c.write_row(row)
            facts = len(fact_rows)
            cursor.execute("ANALYZE")
    else:
        lite = sqlite3.connect(driver_dsn(url))
        with lite:
            lite.executemany(
                f"INSERT INTO providers ({PROVIDER_COLUMNS}) VALUES ({', '.join('?' * 14)})",
                [
                    (*provider[:-1], provider[-1].replace(tzinfo=None).isoformat(" "))
                    for provider in _provider_rows(center_ids[0])
                ],
            )
            entries, fact_rows = [], []
            for row, found in rows:
                entries.append((*row[:3], row[3].replace(tzinfo=None).isoformat(" "), *row[4:]))
                fact_rows.extend(found)
            entries_sql = f"INSERT INTO journal_entries ({', '.join(ENTRY_COLUMNS)}) VALUES "
            lite.executemany(entries_sql + f"({', '.join('?' * 7)})", entries)
            facts_sql = f"INSERT INTO spend_facts ({', '.join(FACT_COLUMNS)}) VALUES "
            lite.executemany(facts_sql + f"({', '.join('?' * 9)})", fact_rows)
            facts = len(fact_rows)
        lite.execute("ANALYZE")
        lite.close()
    return facts, time.perf_counter() - began


def baseline(backend: str, url: str) -> Callable[[], dict[str, int]]:
    """The report's two scans through the bare driver (the province's: no center filter);
    returns the sums per measure."""
    queries = [
        "SELECT center_id, programme_id, month, measure, SUM(amount_fen) FROM spend_facts"
        " GROUP BY center_id, programme_id, month, measure",
        "SELECT category, provider_id, measure, SUM(amount_fen) FROM spend_facts"
        " WHERE measure IN ('redeemed', 'approved', 'paid')"
        " GROUP BY category, provider_id, measure",
    ]
    connect: Callable[[], Any] = (
        (lambda: sqlite3.connect(driver_dsn(url)))
        if backend == "sqlite"
        else (lambda: psycopg.connect(driver_dsn(url)))
    )

    def run() -> dict[str, int]:
        connection = connect()
        try:
            cursor = connection.cursor()
            cursor.execute("SELECT id, code, name_zh, parent_id FROM centers")
            cursor.fetchall()
            results = []
            for query in queries:
                cursor.execute(query)
                results.append(cursor.fetchall())
            sums: dict[str, int] = {}
            for *_, measure, amount in results[0]:
                sums[measure] = sums.get(measure, 0) + int(amount)
            return sums
        finally:
            connection.close()

    return run


def run(backend: str, url: str) -> list[list[object]]:
    count = int(os.environ.get("BENCH_ENTRIES") or 1_000_000)
    facts, seconds = load(backend, url, count)
    print(f"{LABELS[backend]}: loaded {count:,} entries, {facts:,} facts in {seconds:.1f} s")
    database = Database(url)
    uow = unit_of_work(database, SystemClock())
    raw = baseline(backend, url)
    timings: dict[str, list[float]] = {"province": [], "city": [], "baseline": []}
    report = None
    sums: dict[str, int] = {}
    for _ in range(RUNS):
        began = time.perf_counter()
        report = reports.spend_report(uow, "440000")
        timings["province"].append(time.perf_counter() - began)
        began = time.perf_counter()
        sums = raw()
        timings["baseline"].append(time.perf_counter() - began)
        began = time.perf_counter()
        reports.spend_report(uow, "440300")
        timings["city"].append(time.perf_counter() - began)
    database.dispose()
    assert report is not None
    province = timings["province"]
    expected = Figures.of({Measure(m): amount for m, amount in sums.items()})
    if report.total != expected:
        raise BookError(f"the report's total {report.total} differs from the raw sums {expected}")
    return [
        [
            LABELS[backend],
            f"{count:,}",
            f"{statistics.median(timings['province']):.3f}",
            f"{min(timings['province']):.3f}",
            f"{statistics.median(timings['city']):.3f}",
            f"{statistics.median(timings['baseline']):.3f}",
            f"{statistics.median(timings['baseline']) / statistics.median(province):.0%}",
        ]
    ]


def report(rows: list[list[object]]) -> None:
    print()
    print_table(
        [
            "backend",
            "entries",
            "province report s (median)",
            "best",
            "city report s",
            "baseline s",
            "baseline/service",
        ],
        rows,
    )
    print()
    for row in rows:
        median = float(str(row[2]))
        verdict = "met" if median < TARGET_SECONDS else "NOT met"
        print(
            f"{row[0]}: province report in {median:.3f} s — target < {TARGET_SECONDS} s: {verdict}"
        )


def main() -> int:
    return for_each_backend(run, report)


if __name__ == "__main__":
    sys.exit(main())
