"""The yearly center evaluation: how long the province's evaluation (every center of Guangdong,
scored over its subtree) takes over 100,000 claims of 10,000 providers, next to the same
figures read by hand-written SQL over the bare driver in the same run.

Why it exists: the evaluation page adds up a whole year of a province's claims, ratings,
notice lists and complaints each time it is opened, and the export does it for every center.
Target: the province's evaluation in under 2 s on PostgreSQL, like the spend report.

The data: `bench.signals.load` (the Guangdong centers, one programme, 10,000 providers, 50,000
SMEs and vouchers, 100,000 claims over the last 60 days, 2,000 complaints), and on top of it,
written with bulk INSERTs: a rating for one approved or settled claim in four, a notice item for
one in two, one claim in ten marked as carrying a signal, and 1,000 objections.

What it compares, median of 5 after one warm-up run:
- service: `services.evaluation.center_evaluation(uow, code, year, scheme)` for the province
  (440000) and one city (440300), with the packaged scheme;
- baseline: the same figures by center, one grouped query each (vouchers issued and redeemed,
  spend facts, ratings, redemptions and the flagged ones by outcome, notice items, complaints)
  through sqlite3 / psycopg, results fetched, over the whole tables (every row is of this
  year) and without the roll-up, the scoring or the unit of work.

It checks that the province's figures from the service equal the baseline's sums, and exits 1
if not. Run from the project root: `.venv/bin/python -m bench.evaluation` (or `make bench`).
BENCH_BACKENDS picks the backends (default both); VOUCHER_BENCH_POSTGRES_URL the server;
BENCH_CLAIMS the number of claims (default 100,000).
"""

from __future__ import annotations

import hashlib
import random
import uuid
from collections.abc import Sequence
from dataclasses import fields
from functools import partial
from typing import Any

from sqlalchemy import Connection, insert, select, update

from bench.common import LABELS, BookError, for_each_backend, print_table
from bench.signals import CLAIMS, NOW, Row, connect, load, median_of, timed
from voucher_app.clock import SystemClock
from voucher_app.domain.calendar import local_date
from voucher_app.domain.evaluation import Figures, shown
from voucher_app.persistence.database import Database
from voucher_app.persistence.models import (
    Complaint,
    PublishedClaim,
    Redemption,
    ServiceRating,
    Voucher,
)
from voucher_app.services import evaluation
from voucher_app.wiring import evaluation_schemes, unit_of_work

YEAR = local_date(NOW).year
TARGET_S = 2.0
OBJECTIONS = 1_000
CHUNK = 20_000


def add_tracking(database: Database) -> None:
    """Ratings, notice items, flagged redemptions and objections over the loaded ones."""
    rng = random.Random(19)
    with database.engine.begin() as connection:
        claims = connection.execute(
            select(
                Redemption.id, Redemption.provider_id, Redemption.status, Voucher.issuing_center_id
            )
            .join(Voucher, Voucher.id == Redemption.voucher_id)
            .order_by(Redemption.id)
        ).all()
        decided = [claim for claim in claims if claim.status in ("approved", "settled")]
        insert_chunks(
            connection,
            ServiceRating,
            [
                {
                    "redemption_id": claim.id,
                    "provider_id": claim.provider_id,
                    "score": rng.randint(3, 5),
                    "rated_at": NOW,
                    "actor_id": "bench-sme",
                }
                for claim in decided[::4]
            ],
        )
        published = decided[::2]
        insert_chunks(
            connection,
            PublishedClaim,
            [
                {
                    "redemption_id": claim.id,
                    "center_id": claim.issuing_center_id,
                    "published_on": local_date(NOW),
                    "document": "{}",
                    "digest": hashlib.sha256(str(claim.id).encode()).digest(),
                }
                for claim in published
            ],
        )
        connection.execute(update(Redemption).where(Redemption.id % 10 == 0).values(signal_count=1))
        connection.execute(
            insert(Complaint),
            [
                {
                    "public_id": uuid.uuid4(),
                    "redemption_id": claim.id,
                    "provider_id": claim.provider_id,
                    "center_id": claim.issuing_center_id,
                    "text": "bench objection",
                    "kind": "objection",
                    "status": rng.choice(("open", "resolved")),
                    "filed_at": NOW,
                    "filed_by": "bench-neighbour",
                }
                for claim in rng.sample(published, OBJECTIONS)
            ],
        )


def insert_chunks(connection: Connection, table: type[Any], rows: list[dict[str, Any]]) -> None:
    """`rows` into `table`, 20,000 to a statement."""
    for start in range(0, len(rows), CHUNK):
        connection.execute(insert(table), rows[start : start + CHUNK])


#: The baseline's queries: each answers (center id, figures…) per center, in `Figures` names.
BASELINE: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("SELECT issuing_center_id, COUNT(*) FROM vouchers GROUP BY issuing_center_id",
     ("vouchers_issued",)),
    ("SELECT v.issuing_center_id, COUNT(DISTINCT v.id) FROM vouchers v"
     " JOIN redemptions r ON r.voucher_id = v.id WHERE r.status IN ('approved', 'settled')"
     " GROUP BY v.issuing_center_id", ("vouchers_redeemed",)),
    ("SELECT center_id, SUM(CASE WHEN measure = 'allocated' THEN amount_fen ELSE 0 END),"
     " SUM(CASE WHEN measure = 'paid' THEN amount_fen ELSE 0 END) FROM spend_facts"
     " GROUP BY center_id", ("allocated_fen", "paid_fen")),
    ("SELECT v.issuing_center_id, COUNT(*), SUM(s.score) FROM service_ratings s"
     " JOIN redemptions r ON r.id = s.redemption_id JOIN vouchers v ON v.id = r.voucher_id"
     " GROUP BY v.issuing_center_id", ("ratings", "rating_total")),
    ("SELECT v.issuing_center_id, COUNT(*),"
     " SUM(CASE WHEN r.signal_count > 0 THEN 1 ELSE 0 END),"
     " SUM(CASE WHEN r.signal_count > 0 AND r.status IN ('approved', 'settled') THEN 1 ELSE 0 END),"
     " SUM(CASE WHEN r.signal_count > 0 AND r.status = 'rejected' THEN 1 ELSE 0 END)"
     " FROM redemptions r JOIN vouchers v ON v.id = r.voucher_id GROUP BY v.issuing_center_id",
     ("redemptions", "flagged", "flagged_approved", "flagged_rejected")),
    ("SELECT center_id, COUNT(*) FROM notice_items GROUP BY center_id", ("notice_items",)),
    ("SELECT center_id, COUNT(*), SUM(CASE WHEN status = 'resolved' THEN 1 ELSE 0 END),"
     " SUM(CASE WHEN kind = 'objection' THEN 1 ELSE 0 END) FROM complaints GROUP BY center_id",
     ("complaints", "complaints_resolved", "objections")),
)  # fmt: skip


def baseline(connection: Any) -> Figures:
    """Every center's figures by hand, added up: what the province's evaluation must show."""
    totals = dict.fromkeys((f.name for f in fields(Figures)), 0)
    for sql, names in BASELINE:
        for _center, *values in connection.execute(sql).fetchall():
            for name, value in zip(names, values, strict=True):
                totals[name] += int(value or 0)
    return Figures(**totals)


def run(backend: str, url: str) -> list[Row]:
    database = Database(url, pool_size=4)
    try:

        def load_all() -> None:
            load(database)
            add_tracking(database)

        _, loaded = timed(load_all)
        print(f"{LABELS[backend]}: {CLAIMS:,} claims and their tracking loaded in {loaded:.1f} s")
        uow = unit_of_work(database, SystemClock())
        scheme = evaluation_schemes()[YEAR]
        rows = []
        with connect(backend, url) as connection:
            expected = baseline(connection)
            for code in ("440000", "440300"):
                service = median_of(partial(evaluation.center_evaluation, uow, code, YEAR, scheme))
                raw = median_of(partial(baseline, connection))
                rows.append(Row(backend, f"evaluation {YEAR} ({code})", service, raw))
        province = evaluation.center_evaluation(uow, "440000", YEAR, scheme)
        if province.center.evaluation.figures != expected:
            raise BookError(
                f"the province's figures {province.center.evaluation.figures} differ from the"
                f" baseline's {expected}"
            )
        result = province.center.evaluation
        print(
            f"  {len(province.subtree)} centers scored; the province: total"
            f" {shown(result.total)}, {result.grade}, {result.figures}"
        )
        return rows
    finally:
        database.dispose()


def report(rows: Sequence[Row]) -> None:
    print_table(["backend", "what", "service", "raw SQL", "raw/service"], [r.cells() for r in rows])
    for row in rows:
        if row.backend == "postgresql" and "440000" in row.what:
            verdict = "meets" if row.service < TARGET_S else "MISSES"
            print(f"{row.what} on PostgreSQL: {row.service:.3f} s, {verdict} {TARGET_S} s")


def main() -> int:
    return for_each_backend(run, report)


if __name__ == "__main__":
    raise SystemExit(main())
