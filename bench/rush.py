"""Opening day: a rush of claims on ONE district, next to the same rush spread over every
district of the shipped hierarchy, through the service layer and over HTTP, on PostgreSQL.

Why it exists: a 创新券 round is first come, first served, so when it opens a district's SMEs
press "claim" within minutes of each other, and every claim takes money from the same center
budget. Held in one ledger account, that budget is one row every claim locks in turn; held in
shards (`domain.shards`, DESIGN §4), the claims spread over several rows. The question is
whether a rush on one district is served nearly as fast and as evenly as a rush spread over all
of them — where no row is shared — and whether it is fair: exactly the budget's worth issued,
and nobody refused `budget_exhausted` while money remains. Targets: the one-district rate ≥ 80%
of the spread rate; p99 on one district at most twice the spread p99; the books exact.

What it runs, for 64 and 256 claimants, each a thread with its own four SMEs (a per-SME cap of
one voucher, as in a real round) claiming one after another until it is refused:
- service: `vouchers.claim_voucher` through a unit of work per thread (wired as a server's
  workers are), the threads sharing a pool of connections in turn (`bench.http.FairGate`);
- http: `POST /api/v1/smes/<code>/vouchers` with the SME's own bearer token and an
  Idempotency-Key, against gunicorn (production configuration, `bench.http.gunicorn`);
- raw SQL, one district: `bench.claim_rush`'s bare-driver claim — the same transaction
  statement for statement — against a programme of one shard, the single hot row as the
  database alone serves it, the threads sharing connections in turn;
each on ONE district (every SME in Nanshan, 440305, whose budget pays three vouchers per
claimant) and SPREAD (the SMEs dealt round robin over every county-level center, each center's
budget three vouchers per claimant homed there), a new programme per run with the default
shard count for its budget. The rate is the vouchers issued over the time from the start to
the last issue; the latencies are the issuing claims'.

Afterwards it checks each run: the vouchers issued equal the budget's worth; every refusal was
`budget_exhausted` with less than a voucher left in the center; every center of the run ends
with nothing; then the ledger is sequenced, a checkpoint signed and `verify_ledger` run; exits
1 on a failure or a missed target.

Run from the project root: `.venv/bin/python -m bench.rush` (or `make bench`);
BENCH_RUSH_CLAIMANTS (comma-separated, default 64,256) the sizes; VOUCHER_BENCH_POSTGRES_URL
the server.
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import queue
import secrets
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.claim_rush import ACTORS, Refused, raw_claimer
from bench.common import (
    BackendUnavailable,
    BookError,
    fresh_database,
    insert_smes,
    percentile,
    print_table,
    programme_terms,
    sequence_and_verify,
    sme_uscc,
    voucher_signer,
)
from bench.http import HOST, FairGate, gunicorn, in_process, server_settings
from voucher_app.clock import SystemClock
from voucher_app.domain.actors import Actor, Role
from voucher_app.domain.centers import CenterLevel
from voucher_app.domain.errors import BudgetExhausted
from voucher_app.domain.programmes import BudgetMove
from voucher_app.services import centers, programmes, users, vouchers
from voucher_app.services.users import NewUser
from voucher_app.wiring import Wiring, unit_of_work

ADMIN = Actor("bench-admin", Role.ADMIN)
DEFAULT_CLAIMANTS = (64, 256)
SMES_PER_CLAIMANT = 4
VOUCHERS_PER_CLAIMANT = 3  # of the four SMEs' claims, three are paid: the fourth is refused
FACE_FEN = 50_000
DISTRICT = "440305"
PLACES = ("one", "spread")
#: Connections the in-process paths share (the service's pool, the raw claimers): PostgreSQL's
#: 100 are shared with gunicorn's workers.
CONNECTIONS = 24
RATE_TARGET = 0.8
P99_TARGET = 2.0
PASSWORD = "correct horse battery staple"  # never used to sign in: tokens are issued directly


def claimant_counts() -> tuple[int, ...]:
    raw = os.environ.get("BENCH_RUSH_CLAIMANTS", "")
    counts = tuple(int(part) for part in raw.split(",") if part.strip())
    return counts or DEFAULT_CLAIMANTS


@dataclass
class Rush:
    """One run: its programme, its claimants' SMEs, and what happened."""

    programme: uuid.UUID
    smes: list[list[str]]  # per claimant
    budget_vouchers: int
    centers: list[str]
    issued: list[float] = field(default_factory=list)  # each issuing claim's latency
    last_issue: float = 0.0
    refusals: list[int] = field(default_factory=list)  # what each refused claim's center had
    started: float = 0.0
    seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, claim: Callable[[int, str], int | None]) -> None:
        """Every claimant at once, each claiming with its SMEs in turn until refused;
        `claim(claimant, sme)` returns None when it issued, else the center's amount left."""

        def claimant(index: int) -> None:
            barrier.wait()
            for uscc in self.smes[index]:
                began = time.perf_counter()
                left = claim(index, uscc)
                ended = time.perf_counter()
                with self.lock:
                    if left is None:
                        self.issued.append(ended - began)
                        self.last_issue = max(self.last_issue, ended)
                    else:
                        self.refusals.append(left)
                if left is not None:
                    return

        barrier = threading.Barrier(len(self.smes), action=self.start)
        threads = [threading.Thread(target=claimant, args=(i,)) for i in range(len(self.smes))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.seconds = self.last_issue - self.started

    def start(self) -> None:
        self.started = time.perf_counter()

    @property
    def rate(self) -> float:
        return len(self.issued) / self.seconds if self.seconds else 0.0

    def p(self, q: float) -> float:
        return percentile(self.issued, q) * 1000

    def check(self, wiring: Wiring, label: str) -> None:
        if len(self.issued) != self.budget_vouchers:
            raise BookError(f"{label}: {len(self.issued)} issued, budget {self.budget_vouchers}")
        if any(left >= FACE_FEN for left in self.refusals):
            raise BookError(f"{label}: refused budget_exhausted with money left: {self.refusals}")
        left = programmes.available_budgets(wiring.uow(), self.programme, self.centers)
        if any(left.values()):
            raise BookError(f"{label}: centers kept money after the rush: {left}")


class RushBench:
    """The runs on one database and one server."""

    def __init__(self, url: str, folder: Path) -> None:
        self.settings = server_settings(url, folder)
        self.url = url
        self.folder = folder
        self.wiring = in_process(self.settings, CONNECTIONS // 2)
        self.uow = unit_of_work(self.wiring.database, SystemClock())
        self.signer = self.wiring.voucher_signer()
        self.serials = itertools.count(1)
        self.gate = FairGate(CONNECTIONS)
        centers.import_centers(self.uow, centers.guangdong_centers())
        self.districts = [
            (spec.code, spec.parent_code or "")
            for spec in centers.guangdong_centers()
            if spec.level is CenterLevel.COUNTY
        ]

    def close(self) -> None:
        self.wiring.database.dispose()

    # --- set-up ---------------------------------------------------------------------------

    def rush(self, claimants: int, place: str, *, shards: int | None = None) -> Rush:
        """A new programme and SMEs for a run: all in Nanshan, or dealt over every district."""
        homes = (
            [DISTRICT] * claimants
            if place == "one"
            else [self.districts[i % len(self.districts)][0] for i in range(claimants)]
        )
        smes = [
            [sme_uscc(next(self.serials), home) for _ in range(SMES_PER_CLAIMANT)] for home in homes
        ]
        for home in sorted(set(homes)):
            theirs = [mine for mine, at in zip(smes, homes, strict=True) if at == home]
            insert_smes(self.wiring.database, itertools.chain(*theirs), ADMIN, home_center=home)
        budgets = {home: homes.count(home) * VOUCHERS_PER_CLAIMANT * FACE_FEN for home in homes}
        return Rush(
            self.programme(budgets, shards),
            smes,
            claimants * VOUCHERS_PER_CLAIMANT,
            sorted(budgets),
        )

    def programme(self, budgets: dict[str, int], shards: int | None) -> uuid.UUID:
        """A provincial programme, funded with these districts' budgets and each allocated
        through its city to its district (the set-up, not measured)."""
        uow, total = self.uow, sum(budgets.values())
        terms = programme_terms(
            uow, budget_fen=total, face_fen=FACE_FEN, cap_fen=FACE_FEN, budget_shards=shards
        )
        programme = programmes.create_programme(uow, terms, ADMIN).id
        programmes.fund_programme(uow, programme, amount_fen=total, actor=ADMIN)
        parents = dict(self.districts)
        cities: dict[str, int] = {}
        for district, amount in budgets.items():
            cities[parents[district]] = cities.get(parents[district], 0) + amount
        moves = [BudgetMove("440000", city, amount) for city, amount in sorted(cities.items())]
        moves += [BudgetMove(parents[d], d, amount) for d, amount in sorted(budgets.items())]
        for move in moves:
            programmes.allocate(uow, programme, move, actor=ADMIN)
        return programme

    def tokens(self, rush: Rush) -> dict[str, str]:
        """A bearer token of each SME's own account."""
        found = {}
        for uscc in (uscc for mine in rush.smes for uscc in mine):
            name = f"bench-sme-{uuid.uuid4().hex[:12]}"
            spec = NewUser(name, PASSWORD, Role.SME, sme=uscc)
            view = users.create_user(self.uow, spec, self.wiring.hasher, ADMIN)
            principal = users.principal_for_session(self.uow, view.id)
            if principal is None:
                raise BookError(f"the new account {name} is not active")
            found[uscc], _ = users.issue_token(
                self.uow, principal, "bench", scopes=frozenset({"read", "write"})
            )
        return found

    # --- the paths ------------------------------------------------------------------------

    def service(self, rush: Rush) -> None:
        uows = [self.wiring.uow() for _ in rush.smes]

        def claim(index: int, uscc: str) -> int | None:
            with self.gate:
                try:
                    vouchers.claim_voucher(
                        uows[index],
                        programme_id=rush.programme,
                        sme_uscc=uscc,
                        actor=ACTORS["service"],
                        signer=self.signer,
                    )
                except BudgetExhausted as refused:
                    return int(refused.details["available_fen"])
            return None

        rush.run(claim)

    def raw(self, rush: Rush) -> None:
        seed = secrets.token_bytes(32)
        idle: queue.SimpleQueue[object] = queue.SimpleQueue()
        for _ in range(CONNECTIONS):
            idle.put(raw_claimer("postgresql", self.url, voucher_signer(seed)))

        def claim(_index: int, uscc: str) -> int | None:
            claimer = idle.get()
            try:
                claimer.claim(rush.programme, uscc, ACTORS["baseline"])  # type: ignore[attr-defined]
            except Refused as refused:
                if "cannot take" not in str(refused):
                    raise
                return 0  # the bare claim refuses only when the row is empty
            finally:
                idle.put(claimer)
            return None

        rush.run(claim)

    def http(self, rush: Rush, port: int) -> None:
        tokens = self.tokens(rush)
        body = json.dumps({"programme_id": str(rush.programme)}).encode()

        def claim(_index: int, uscc: str) -> int | None:
            connection = http.client.HTTPConnection(HOST, port, timeout=120)
            try:
                connection.request(
                    "POST",
                    f"/api/v1/smes/{uscc}/vouchers",
                    body,
                    {
                        "Authorization": f"Bearer {tokens[uscc]}",
                        "Idempotency-Key": uuid.uuid4().hex,
                        "Content-Type": "application/json",
                    },
                )
                reply = connection.getresponse()
                answer = json.loads(reply.read() or b"{}")
            finally:
                connection.close()
            if reply.status == 201:
                return None
            if answer.get("code") == "budget_exhausted":
                return int(answer.get("available_fen", 0))
            raise BookError(f"claim over HTTP: {reply.status} {answer}")

        rush.run(claim)


def bench(url: str, folder: Path, counts: Sequence[int]) -> tuple[list[list[object]], bool]:
    rows: list[list[object]] = []
    met = True
    runner = RushBench(url, folder)
    try:
        with gunicorn(runner.settings, folder) as server:
            server.wait_until_healthy()
            for claimants in counts:
                runs: dict[tuple[str, str], Rush] = {}
                for place in PLACES:
                    for path in ("service", "http"):
                        rush = runner.rush(claimants, place)
                        if path == "service":
                            runner.service(rush)
                        else:
                            runner.http(rush, server.port)
                        rush.check(runner.wiring, f"{path} {place} {claimants}")
                        runs[path, place] = rush
                raw = runner.rush(claimants, "one", shards=1)
                runner.raw(raw)
                rush_check_raw(raw, claimants)
                for path in ("service", "http"):
                    one, spread = runs[path, "one"], runs[path, "spread"]
                    rate_ratio = one.rate / spread.rate
                    p99_ratio = one.p(99) / spread.p(99)
                    ok = rate_ratio >= RATE_TARGET and p99_ratio <= P99_TARGET
                    met = met and ok
                    rows.append(
                        [
                            path,
                            claimants,
                            f"{one.rate:,.0f}",
                            f"{spread.rate:,.0f}",
                            f"{rate_ratio:.0%}",
                            f"{one.p(50):,.0f} / {one.p(99):,.0f}",
                            f"{spread.p(50):,.0f} / {spread.p(99):,.0f}",
                            f"{p99_ratio:.2f}x",
                            f"{len(one.issued)} + {len(spread.issued)}",
                            "met" if ok else "NOT MET",
                        ]
                    )
                rows.append(
                    [
                        "raw SQL, 1 row",
                        claimants,
                        f"{raw.rate:,.0f}",
                        "",
                        "",
                        f"{raw.p(50):,.0f} / {raw.p(99):,.0f}",
                        "",
                        "",
                        str(len(raw.issued)),
                        "baseline",
                    ]
                )
        entries, sequencing, verifying = sequence_and_verify(runner.uow)
        print(
            f"ledger: {entries:,} entries sequenced in {sequencing:.1f} s, verified in "
            f"{verifying:.1f} s"
        )
    finally:
        runner.close()
    return rows, met


def rush_check_raw(rush: Rush, claimants: int) -> None:
    if len(rush.issued) != rush.budget_vouchers:
        raise BookError(f"raw {claimants}: {len(rush.issued)} issued of {rush.budget_vouchers}")


def main() -> int:
    counts = claimant_counts()
    try:
        with fresh_database("postgresql") as url, tempfile.TemporaryDirectory() as folder:
            rows, met = bench(url, Path(folder), counts)
    except BackendUnavailable as exc:
        print(f"PostgreSQL unavailable: {exc}", file=sys.stderr)
        return 1
    except BookError as exc:
        print(f"FAIL {exc}", file=sys.stderr)
        return 1
    print_table(
        [
            "path",
            "claimants",
            "one district /s",
            "spread /s",
            "one / spread",
            "one p50 / p99 ms",
            "spread p50 / p99 ms",
            "p99 one / spread",
            "issued",
            "target",
        ],
        rows,
        left=1,
    )
    print(
        f"targets: one district >= {RATE_TARGET:.0%} of the spread rate, its p99 <= "
        f"{P99_TARGET:g}x the spread p99; every run issued exactly its budget's worth and "
        "refused budget_exhausted only with less than a voucher left"
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
