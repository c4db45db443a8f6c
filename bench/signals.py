"""Fraud signals: claims scored per second over 100,000 claims of 10,000 providers, and the
review queue's first page with its signals over that data — next to hand-written SQL over the
bare driver in the same run.

Why it exists: a threshold changed in configuration means rescoring every waiting claim, and
the review queue is the page reviewers open all day (issue 18). Targets: the first page in
under 200 ms on PostgreSQL; scoring fast enough that a province's waiting claims are rescored
in a minute.

The data (written with bulk INSERTs, not through the services: only what the rules read): the
Guangdong centers, one provincial programme, 10,000 approved providers, 50,000 SMEs (one in
fifty sharing a phone with others), 50,000 vouchers spread over the province's districts, and
100,000 claims over 60 days — a third confirmed (waiting for review), the rest approved or
settled — with invoice amounts of which one in eight is round, network addresses from a pool
of 20,000, and 2,000 complaints.

What it compares:
- scoring: `services.signals.score(uow, ids, DEFAULT_THRESHOLDS)` over every claim (facts in
  chunks of `CHUNK`, the rules, the signals written back), and `services.signals.gather` alone;
- baseline: the same facts read by hand-written SQL, each one query over the whole table with
  the bare driver (no chunks, no SQLAlchemy), evaluated by the same `domain.signals.evaluate`
  and not written back;
- the review queue's first page (20 claims, those with signals first) for the province and for
  one district: `redemption_lists.review_queue` (with each claim's view) against the one
  SELECT it runs, median of 15.

Run from the project root: `.venv/bin/python -m bench.signals` (or `make bench`).
BENCH_BACKENDS picks the backends (default both); VOUCHER_BENCH_POSTGRES_URL the server;
BENCH_CLAIMS the number of claims (default 100,000).
"""

from __future__ import annotations

import os
import random
import sqlite3
import statistics
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any

import psycopg
from sqlalchemy import insert, select

from bench.common import (
    LABELS,
    driver_dsn,
    for_each_backend,
    print_table,
    voucher_programme,
)
from voucher_app.clock import SystemClock
from voucher_app.domain.actors import Actor, Role
from voucher_app.domain.calendar import local_date
from voucher_app.domain.signals import (
    DEFAULT_THRESHOLDS,
    ClaimFacts,
    Code,
    evaluate,
    invoice_series,
)
from voucher_app.persistence.database import Database
from voucher_app.persistence.models import (
    Center,
    Complaint,
    Programme,
    Provider,
    Redemption,
    Sme,
    SmeHistory,
    Voucher,
)
from voucher_app.persistence.uow import read_only, transaction
from voucher_app.services import centers, redemption_lists, signals
from voucher_app.wiring import unit_of_work

CLAIMS = int(os.environ.get("BENCH_CLAIMS") or 100_000)
PROVIDERS = max(CLAIMS // 10, 10)
SMES = max(CLAIMS // 2, 10)
PAGE = 20
RUNS = 15
TARGET_MS = 200
ADMIN = Actor("bench-admin", Role.ADMIN)
NOW = datetime.now(UTC)


@dataclass(frozen=True)
class Row:
    backend: str
    what: str
    service: float  # seconds
    baseline: float

    def cells(self) -> list[object]:
        return [
            LABELS[self.backend],
            self.what,
            f"{self.service * 1000:,.1f} ms",
            f"{self.baseline * 1000:,.1f} ms",
            f"{self.baseline / self.service:.0%}" if self.service else "-",
        ]


def load(database: Database) -> None:
    """The data described in the module docstring."""
    uow = unit_of_work(database, SystemClock())
    centers.import_centers(uow, centers.guangdong_centers())
    programme_public = voucher_programme(
        uow, ADMIN, budget_fen=10**12, face_fen=500_000, cap_fen=10**9
    )
    rng = random.Random(18)
    with database.engine.begin() as connection:
        programme_id = connection.execute(
            select(Programme.id).where(Programme.public_id == programme_public)
        ).scalar_one()
        districts = [
            row.id
            for row in connection.execute(select(Center.id, Center.code))
            if not row.code.endswith("00")
        ]
        province = connection.execute(select(Center.id).where(Center.code == "440000")).scalar_one()
        connection.execute(
            insert(Provider),
            [
                {
                    "public_id": uuid.uuid4(),
                    "uscc": f"P{n:017d}",
                    "name": f"基准服务机构 {n}",
                    "service_categories": ["legal", "accounting_tax"],
                    "contact_name": "王经理",
                    "contact_phone": "+86 755 8888 0000",
                    "contact_email": f"p{n}@example.cn",
                    "bank_name": "中国银行",
                    "bank_account_name": f"基准服务机构 {n}",
                    "bank_account_number": f"74400{n:013d}",
                    "center_id": province,
                    "status": "approved",
                    "applied_at": NOW - timedelta(days=400),
                }
                for n in range(PROVIDERS)
            ],
        )
        sme_rows = []
        for n in range(SMES):
            shared = n % 50 == 0
            sme_rows.append(
                {
                    "public_id": uuid.uuid4(),
                    "uscc": f"S{n:017d}",
                    "name": f"基准企业 {n}",
                    "industry": "software_it",
                    "employees": 8,
                    "revenue_fen": 30_000_000,
                    "assets_fen": 10_000_000,
                    "home_center_id": districts[n % len(districts)],
                    "registered_at": NOW - timedelta(days=rng.randint(1, 700)),
                    "updated_at": NOW,
                    "contact_phone": f"1380000{(n // 200) % 10000:04d}" if shared else None,
                    "phone_key": f"1380000{(n // 200) % 10000:04d}" if shared else None,
                }
            )
        connection.execute(insert(Sme), sme_rows)
        sme_ids = list(connection.execute(select(Sme.id, Sme.registered_at)))
        connection.execute(
            insert(SmeHistory),
            [
                {
                    "sme_id": sme_id,
                    "recorded_at": registered,
                    "actor_id": "bench",
                    "actor_role": "admin",
                    "name": "x",
                    "industry": "software_it",
                    "employees": 8,
                    "revenue_fen": 30_000_000,
                    "assets_fen": 10_000_000,
                    "home_center_id": districts[0],
                }
                for sme_id, registered in sme_ids
            ],
        )
        connection.execute(
            insert(Voucher),
            [
                {
                    "public_id": uuid.uuid4(),
                    "human_code": f"B{n:010d}",
                    "programme_id": programme_id,
                    "sme_id": sme_id,
                    "issuing_center_id": districts[n % len(districts)],
                    "face_value_fen": 500_000,
                    "subsidy_rate_bp": 5000,
                    "service_categories": ["legal", "accounting_tax"],
                    "issued_at": NOW - timedelta(days=90),
                    "expires_at": NOW + timedelta(days=90),
                    "status": "active",
                    "kid": "bench",
                    "token": "bench",
                    "issued_by": "bench",
                }
                for n, (sme_id, _) in enumerate(sme_ids)
            ],
        )
        voucher_ids = [
            row[0] for row in connection.execute(select(Voucher.id).order_by(Voucher.id))
        ]
        provider_ids = [row[0] for row in connection.execute(select(Provider.id))]
        rows = []
        for n in range(CLAIMS):
            submitted = NOW - timedelta(days=rng.randint(0, 59), minutes=rng.randint(0, 1440))
            invoiced = (
                rng.randint(5, 40) * 100_000 if n % 8 == 0 else rng.randint(10_000, 4_000_000)
            )
            invoice = f"{rng.randint(10**11, 10**12 - 1)}"
            status = "confirmed" if n % 3 == 0 else rng.choice(("approved", "settled"))
            rows.append(
                {
                    "public_id": uuid.uuid4(),
                    "voucher_id": voucher_ids[n % len(voucher_ids)],
                    "provider_id": rng.choice(provider_ids),
                    "category": "accounting_tax",
                    "description": "代理记账",
                    "invoice_number": invoice,
                    "invoiced_fen": invoiced,
                    "subsidy_fen": min(invoiced // 2, 250_000),
                    "delivered_on": local_date(submitted),
                    "status": status,
                    "submitted_at": submitted,
                    "confirm_by": submitted + timedelta(days=7),
                    "submitted_on": local_date(submitted),
                    "submitted_from": f"10.{rng.randint(0, 78)}.{rng.randint(0, 255)}.1",
                    "invoice_series": invoice_series(invoice),
                    "held": False,
                    "signal_count": 0,
                }
            )
        for start in range(0, len(rows), 20_000):
            connection.execute(insert(Redemption), rows[start : start + 20_000])
        claimed = [row[0] for row in connection.execute(select(Redemption.id).limit(2_000))]
        connection.execute(
            insert(Complaint),
            [
                {
                    "public_id": uuid.uuid4(),
                    "redemption_id": claim,
                    "provider_id": provider_ids[claim % 50],  # fifty providers draw them all
                    "center_id": districts[0],
                    "text": "报告迟交",
                    "kind": "service",
                    "status": "open",
                    "filed_at": NOW,
                    "filed_by": "bench",
                }
                for claim in claimed
            ],
        )


# --- the baseline: the facts by hand-written SQL, over the whole table at once ---------------

_FACTS_SQL = {
    "claims": (
        "SELECT r.id, r.provider_id, r.subsidy_fen, r.invoiced_fen, r.submitted_on,"
        " r.submitted_from, r.invoice_series, v.sme_id, v.issuing_center_id, v.programme_id,"
        " v.face_value_fen FROM redemptions r JOIN vouchers v ON v.id = r.voucher_id"
    ),
    "spent": (
        "SELECT mine.id, SUM(e.subsidy_fen) FROM redemptions mine JOIN redemptions e"
        " ON e.voucher_id = mine.voucher_id AND e.id < mine.id"
        " WHERE e.status IN ('approved', 'confirmed', 'settled', 'submitted') GROUP BY mine.id"
    ),
    "daily": (
        "SELECT provider_id, submitted_on, COUNT(*) FROM redemptions"
        " GROUP BY provider_id, submitted_on"
    ),
    "districts": (
        "SELECT v.issuing_center_id, v.programme_id, r.provider_id, COUNT(*), SUM(r.subsidy_fen)"
        " FROM redemptions r JOIN vouchers v ON v.id = r.voucher_id"
        " WHERE r.status IN ('approved', 'confirmed', 'settled', 'submitted')"
        " GROUP BY v.issuing_center_id, v.programme_id, r.provider_id"
    ),
    "smes": "SELECT id, registered_at, phone_key, address_key, account_key FROM smes",
    "phones": "SELECT phone_key, COUNT(*) FROM smes WHERE phone_key IS NOT NULL GROUP BY phone_key",
    "history": (
        "SELECT sme_id, recorded_at, industry, employees, revenue_fen, assets_fen"
        " FROM sme_history ORDER BY sme_id, recorded_at, id"
    ),
    "addresses": (
        "SELECT DISTINCT submitted_from, submitted_on, provider_id FROM redemptions"
        " WHERE submitted_from IS NOT NULL"
    ),
    "series": (
        "SELECT DISTINCT invoice_series, provider_id FROM redemptions"
        " WHERE invoice_series IS NOT NULL"
    ),
    "provider_claims": "SELECT provider_id, COUNT(*) FROM redemptions GROUP BY provider_id",
    "complaints": (
        "SELECT provider_id, COUNT(*) FROM complaints WHERE kind = 'service' GROUP BY provider_id"
    ),
}


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _moment(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


def baseline_scores(backend: str, url: str) -> int:
    """Read every fact with one hand-written query each, evaluate every claim; the count of
    claims with a signal."""
    limits = DEFAULT_THRESHOLDS
    with connect(backend, url) as connection:
        cursor = connection.cursor()

        def rows(name: str) -> list[Any]:
            cursor.execute(_FACTS_SQL[name])
            return list(cursor.fetchall())

        claims = rows("claims")
        spent = dict(rows("spent"))
        daily = {(p, _day(d)): n for p, d, n in rows("daily")}
        district_claims: dict[tuple[int, int], int] = {}
        district_total: dict[tuple[int, int], int] = {}
        district_provider: dict[tuple[int, int, int], int] = {}
        for center, programme, provider, count, total in rows("districts"):
            key = (center, programme)
            district_claims[key] = district_claims.get(key, 0) + count
            district_total[key] = district_total.get(key, 0) + total
            district_provider[(center, programme, provider)] = total
        phones = dict(rows("phones"))
        smes = {
            sme: (local_date(_moment(registered)), phones.get(phone, 1) if phone else 1)
            for sme, registered, phone, _, _ in rows("smes")
        }
        changed: dict[int, date] = {}
        last: dict[int, tuple[Any, ...]] = {}
        for sme, recorded, *figures in rows("history"):
            if sme in last and last[sme] != tuple(figures):
                changed[sme] = local_date(_moment(recorded))
            last[sme] = tuple(figures)
        by_address: dict[str, list[tuple[date, int]]] = {}
        for address, day, provider in rows("addresses"):
            by_address.setdefault(address, []).append((_day(day), provider))
        by_series: dict[str, set[int]] = {}
        for name, provider in rows("series"):
            by_series.setdefault(name, set()).add(provider)
        provider_claims = dict(rows("provider_claims"))
        complaints = dict(rows("complaints"))
    everyone, grievances = sum(provider_claims.values()), sum(complaints.values())
    flagged = 0
    for claim, provider, subsidy, invoiced, on, address, series, sme, center, prog, face in claims:
        day = _day(on)
        registered, sharing = smes[sme]
        since = day - timedelta(days=limits.one_address_days)
        facts = ClaimFacts(
            subsidy_fen=subsidy,
            invoiced_fen=invoiced,
            remaining_before_fen=face - int(spent.get(claim, 0)),
            submitted_on=day,
            provider_claims_that_day=daily.get((provider, day), 1),
            district_claims=district_claims[(center, prog)],
            district_subsidy_fen=district_total[(center, prog)],
            provider_district_subsidy_fen=district_provider.get((center, prog, provider), 0),
            sme_registered_on=registered,
            size_changed_on=changed.get(sme),
            sharing_smes=sharing,
            shared_what="phone" if sharing > 1 else None,
            providers_from_address=len(
                {p for when, p in by_address.get(address, ()) if since <= when <= day}
            ),
            other_providers_in_series=len(by_series.get(series, set()) - {provider})
            if series
            else 0,
            provider_claims=provider_claims.get(provider, 0),
            provider_grievances=complaints.get(provider, 0),
            all_claims=everyone,
            all_grievances=grievances,
        )
        flagged += bool(evaluate(facts, limits))
    return flagged


# --- the service -------------------------------------------------------------------------------


def timed(work: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    result = work()
    return result, time.perf_counter() - start


def median_of(work: Callable[[], Any]) -> float:
    work()  # warm the caches, as a page opened all day has them
    return statistics.median(timed(work)[1] for _ in range(RUNS))


def run(backend: str, url: str) -> list[Row]:
    database = Database(url, pool_size=4)
    try:
        _, loaded = timed(lambda: load(database))
        label = LABELS[backend]
        print(f"{label}: {CLAIMS:,} claims, {PROVIDERS:,} providers loaded in {loaded:.1f} s")
        uow = unit_of_work(database, SystemClock())

        @read_only
        def ids(uow: Any) -> list[int]:
            return list(uow.session.scalars(select(Redemption.id).order_by(Redemption.id)))

        every = ids(uow)

        @read_only
        def gather_all(uow: Any) -> int:
            known = signals.Known()
            return sum(
                len(signals.gather(uow, every[s : s + signals.CHUNK], known=known))
                for s in range(0, len(every), signals.CHUNK)
            )

        @transaction
        def score_all(uow: Any) -> int:
            return sum(bool(found) for found in signals.score(uow, every).values())

        _, gathering = timed(lambda: gather_all(uow))
        flagged, scoring = timed(lambda: score_all(uow))
        baseline_flagged, baseline = timed(lambda: baseline_scores(backend, url))
        if flagged != baseline_flagged:
            print(
                f"  note: the service flagged {flagged:,} claims, the baseline {baseline_flagged:,}"
            )
        count = len(every)
        print(
            f"  scored {count:,} claims in {scoring:.2f} s: {count / scoring:,.0f} claims/s,"
            f" {count * len(Code) / scoring:,.0f} rule evaluations/s ({len(Code)} rules);"
            f" {flagged:,} claims show a signal; facts alone {gathering:.2f} s;"
            f" baseline (whole-table SQL, no write-back) {baseline:.2f} s"
        )
        rows = [Row(backend, f"score {len(every):,} claims", scoring, baseline)]
        with connect(backend, url) as connection:
            for code in ("440000", "440305"):
                page = median_of(partial(redemption_lists.review_queue, uow, code, PAGE))
                raw = median_of(partial(raw_queue, connection, backend, code))
                rows.append(Row(backend, f"review queue first page ({code})", page, raw))
        return rows
    finally:
        database.dispose()


def raw_queue(connection: Any, backend: str, code: str) -> list[Any]:
    """The queue's SELECT by hand: the subtree's confirmed claims, signals first."""
    sql = (
        "WITH RECURSIVE tree(id) AS (SELECT id FROM centers WHERE code = {p}"
        " UNION ALL SELECT c.id FROM centers c JOIN tree t ON c.parent_id = t.id)"
        " SELECT r.* FROM redemptions r JOIN vouchers v ON v.id = r.voucher_id"
        " WHERE v.issuing_center_id IN (SELECT id FROM tree) AND r.status = 'confirmed'"
        " ORDER BY r.signal_count DESC, r.submitted_at, r.id LIMIT {n}"
    ).format(p="?" if backend == "sqlite" else "%s", n=PAGE)
    return list(connection.execute(sql, (code,)).fetchall())


def connect(backend: str, url: str) -> Any:
    if backend == "sqlite":
        return sqlite3.connect(driver_dsn(url))
    return psycopg.connect(driver_dsn(url), autocommit=True)


def report(rows: Sequence[Row]) -> None:
    print_table(["backend", "what", "service", "raw SQL", "raw/service"], [r.cells() for r in rows])
    for row in rows:
        if row.backend == "postgresql" and row.what.startswith("review queue"):
            verdict = "meets" if row.service * 1000 < TARGET_MS else "MISSES"
            print(
                f"{row.what} on PostgreSQL: {row.service * 1000:.1f} ms, {verdict} {TARGET_MS} ms"
            )


def main() -> int:
    return for_each_backend(run, report)


if __name__ == "__main__":
    raise SystemExit(main())
