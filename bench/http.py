"""HTTP: vouchers claimed and redeemed per second through gunicorn, next to the same service
functions called in this process and the same transactions through the bare driver.

Why it exists: the other benchmarks stop at the service layer, but SMEs and providers reach the
ledger over HTTP: every request is parsed and validated (flask-smorest), signs its caller in
by bearer token, asks the access policy, reserves its Idempotency-Key before the work and stores
the answer after it — all in the one transaction the request holds — and is serialised back to
JSON, behind gunicorn's sync workers, each serving one request at a time. The question is what
all of that costs on top of the database work. Targets: claims and redemptions per second over
HTTP at least 50% of the raw-SQL baseline's rate at the same concurrency (32 and 128 clients);
and, at a fixed arrival rate of half the measured capacity (open loop), a request p99 under
100 ms and p99.9 under 250 ms.

What it compares, on PostgreSQL only (production's database; a fresh `bench_<pid>` database
migrated with the real migrations, a fresh encrypted keyring):

- raw SQL: `claim_rush.baseline_claim` and `redeem.baseline_redeem` — the same transactions
  statement for statement through psycopg, signing and token verification included (with this
  run's voucher key) — on as many threads of this process, sharing as many bare connections as
  the service path's pool holds (opened for the run, closed after it), through the same gate.
  It does not sequence the log after its commits, as the other two paths do.

- HTTP: `python -m gunicorn -w <2 * cores>` serving the application `wsgi.py` builds, in the
  production configuration as the README deploys it (VOUCHER_ENV=production, encrypted keys,
  sequencing after each commit, gunicorn.conf.py; `-w` and `-b` given), with one change:
  VOUCHER_RATELIMIT_ENABLED=false, or the per-address limits would stop the clients (all at
  127.0.0.1) at 30 claims a minute. The
  clients are threads of this process, each opening a fresh `http.client` connection per request
  (sync workers close every connection after answering: there is no keep-alive to reuse) and
  sending a new Idempotency-Key with every POST. A claim is `POST /api/v1/smes/<uscc>/vouchers`
  with the bearer token of that SME's account. A redemption is what `redeem.py` counts as one:
  three requests by three accounts, the provider's `POST /api/v1/providers/<id>/redemptions`
  with the voucher's token, the SME's `POST /api/v1/redemptions/<id>/confirm` and Nanshan
  staff's `POST /api/v1/redemptions/<id>/approve`; its rate is counted in requests, over three
  (see `Redeemer`), and each step's latencies are shown too. Any answer but the expected 201 or
  200 aborts the run. A latency is the client's: connecting, waiting in gunicorn's queue,
  reading the answer. The p99 target is judged on single requests (a claim; the three steps
  pooled).
- service layer: `claim_rush.service_claim` and `redeem.service_redeem` — the same service
  functions with the same arguments as there — on as many threads of this process, each with
  its own unit of work from an application built here with the server's settings, so that
  sequencing after commit runs as in the server's workers (`claim_rush.py` and `redeem.py`
  leave it out, so their service figures are higher than this one). Its pool holds 32
  connections (PostgreSQL allows 100 by default, for everything on the server): one per
  thread at 32 clients; at 128 the threads take turns, 32 operations at a time, in arrival
  order (gunicorn's 4 workers, by comparison, serve 4 requests at a time).

Each path claims in a programme of their own (the `claim_rush.py` terms: one district's budget,
held in one account as the raw path's one row, shared by every claimant, as in a real rush),
each client for its own SME; all redeem in one programme of ¥10 million vouchers (the
`redeem.py` terms), each client as a provider of its own redeeming its SME's voucher. Accounts
and API tokens for the HTTP path are made through `services.users` (Argon2 at the test suite's
cost: nobody signs in with a password). The paths
alternate in the same database so drift and noise hit all of them: raw SQL, service layer,
HTTP, service layer, raw SQL. Each run's warm-up lasts until every client
has finished one operation (BENCH_WARMUP at least): the clients start together, and at 128
clients over HTTP the first round alone takes seconds to clear.

Caveats the figures carry: the clients are closed-loop (each sends its next request when the
last is answered), so a latency is about clients / rate (Little's law), and a p99 under 100 ms
at 32 clients would need well over 320 requests per second; the latency targets are therefore
judged in the open-loop run below. The two cores are shared by PostgreSQL, gunicorn's workers
and this process (its client threads, or on the service and raw paths its GIL-bound threads)
— and by whatever else runs on the machine.

Open loop: after the closed-loop rows, each operation runs against the "on" server for
BENCH_OPEN_SECONDS (default 60; 0 leaves it out) at a fixed arrival rate, half the highest
closed-loop HTTP rate measured for it: operation k is due at k / rate seconds and is sent then
on a thread of its own, whether or not the earlier ones were answered (up to 512 in flight),
by a client with nothing in flight (two at once would queue for one SME's or voucher's row). A
request's latency is measured from the time it was due, so waiting for a thread, a free client
or in gunicorn's queue counts in full (no coordinated omission); a redemption's confirm and
approve are sent as the step before is answered, and timed from then. It reports p50, p99 and
p99.9 of single requests, and the p99 of whole operations.

Metrics and request-id logging (what they cost: target, within 5%): the HTTP path runs against
two servers, started alike but for them — "on", as deployed: METRICS_ENABLED, with
PROMETHEUS_MULTIPROC_DIR set as gunicorn.conf.py sets it (every worker writes its counters to
files of its own, which a scrape adds up), and JSON logs at INFO with an access line, request
id included, for every request; and "off": METRICS_ENABLED=false and JSON_LOGS=false (no
counters, and no log handler at INFO, so no access lines; the request id is still made and
echoed). Each row runs on, off, off, on between the other paths — two runs of each, with a
warm-up each, halves pooled — so that drift, and what a run's start and end do to its figure,
hit on and off alike; it reports on's rate over off's, with both latencies. (An earlier
arrangement ran off once for the whole time between on's two halves; at 128 clients, where a
redemption takes seconds and the clients move in waves, its figures strayed by a quarter
either way: claims with metrics at 121% of the rate without, redemptions at 73%.) The main
table's HTTP figures are on's: the service as deployed. Afterwards the on server's `/metrics`
(scraped with an admin's read-only token) must count exactly the claims its workers answered.

Afterwards it checks the books — balances sum to zero and equal their postings; per path, the
claims programme's vouchers and district budget match the claims reported, and the approved
redemptions of its providers (none left half-way) the redemptions reported; the servers' logs
show no traceback and no worker restarted (but those gunicorn.conf.py's max_requests replaces);
then the sequencer puts every entry in the Merkle log, a checkpoint is signed and
`verify_ledger` checks all of it — and exits 1 on a failure.

Run from the project root: `.venv/bin/python -m bench.http` (or `make bench`). BENCH_SECONDS
(default 4) is the measured time per configuration and path; BENCH_WARMUP (default 0.5) the
shortest unmeasured lead-in of each run; BENCH_HTTP_CLIENTS (default `32,128`) the client
counts; BENCH_OPEN_SECONDS (default 60) each open-loop run; VOUCHER_BENCH_POSTGRES_URL the
server. About eight minutes with the defaults here.
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import queue
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

import config
from bench.claim_rush import BUDGET_FEN as CLAIM_BUDGET_FEN
from bench.claim_rush import CAP_FEN, DISTRICT, baseline_claim, service_claim
from bench.claim_rush import FACE_FEN as CLAIM_FACE_FEN
from bench.common import (
    BackendUnavailable,
    BookError,
    Timing,
    bench_seconds,
    check_balanced,
    fresh_database,
    insert_smes,
    merge,
    percentile,
    print_table,
    sequence_and_verify,
    sme_uscc,
    voucher_programme,
    warmup_seconds,
)
from bench.redeem import (
    ADMIN,
    CATEGORY,
    INVOICED_FEN,
    RawRedeemer,
    baseline_redeem,
    register_provider,
    service_redeem,
)
from bench.redeem import BUDGET_FEN as REDEEM_BUDGET_FEN
from bench.redeem import FACE_FEN as REDEEM_FACE_FEN
from voucher_app import create_app
from voucher_app.clock import SystemClock
from voucher_app.domain import accounts
from voucher_app.domain.actors import Role
from voucher_app.domain.calendar import local_date
from voucher_app.ledger.tables import LedgerAccount
from voucher_app.persistence.models import Programme, Provider, Redemption, Sme, Voucher
from voucher_app.persistence.uow import transaction
from voucher_app.services import centers, users, vouchers
from voucher_app.services.users import NewUser
from voucher_app.services.vouchers import Issued
from voucher_app.signing.keyring import Keyring
from voucher_app.wiring import Wiring, unit_of_work

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
CORES = os.cpu_count() or 1
WORKERS = 2 * CORES
DEFAULT_CLIENTS = (32, 128)
TARGET = 0.5  # HTTP rate / raw-SQL rate
OVERHEAD_TARGET = 0.95  # HTTP rate with metrics and request-id logging / without them
#: The two servers of the HTTP path: with metrics and access logging (as deployed), without.
VARIANTS = ("on", "off")
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
P99_TARGET_MS = 100.0
P99_TARGET_CLIENTS = 32
#: The open-loop run: its length (BENCH_OPEN_SECONDS), its rate (this share of the HTTP path's
#: measured capacity), its targets, and how many requests may be in flight at once.
OPEN_SECONDS = 60.0
OPEN_LOAD = 0.5
OPEN_P99_TARGET_MS = 100.0
OPEN_P999_TARGET_MS = 250.0
OPEN_IN_FLIGHT = 512
PATHS = ("raw", "service", "http")
OPERATIONS = ("claims", "redemptions")
STEPS = ("submit", "confirm", "approve")
PASSWORD = "correct horse battery staple"  # never used to sign in: tokens are issued directly
REQUEST_TIMEOUT = 60.0
BOOT_TIMEOUT = 90.0
LOG_TAIL = 6000  # characters of gunicorn's log shown after a failed request
#: The in-process application's pool, and as many overflow connections: 32 in all, one per
#: thread at 32 clients; at 128 the threads take turns (`FairGate`), as PostgreSQL's default
#: max_connections of 100 is shared with the server and everything else on it.
POOL_SIZE = 16
#: What gunicorn serves: the application `wsgi.py` builds from the VOUCHER_* variables.
SERVED = "wsgi:app"


def client_counts() -> tuple[int, ...]:
    """BENCH_HTTP_CLIENTS (comma-separated), else 32 and 128."""
    raw = os.environ.get("BENCH_HTTP_CLIENTS", "")
    counts = tuple(int(part) for part in raw.split(",") if part.strip())
    if any(count < 1 for count in counts):
        raise ValueError("BENCH_HTTP_CLIENTS lists positive client counts")
    return counts or DEFAULT_CLIENTS


def open_seconds() -> float:
    """BENCH_OPEN_SECONDS, else 60; 0 leaves the open-loop run out."""
    return float(os.environ.get("BENCH_OPEN_SECONDS", OPEN_SECONDS))


class HttpFailure(RuntimeError):
    """The server answered something other than what the request should get: aborts the run."""


# --- the server ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Server:
    """gunicorn serving `wsgi:app`, its log file and port."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def wait_until_healthy(self) -> None:
        """Until `/healthz` answers and every worker has booted, or raise with the log."""
        deadline = time.monotonic() + BOOT_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log_text()}")
            if self.log_text().count("Booting worker") >= WORKERS:
                try:
                    status, _body = get(self.port, "/healthz")
                except OSError:
                    status = 0
                if status == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError(
            f"gunicorn did not answer /healthz in {BOOT_TIMEOUT:g} s:\n{self.log_text()}"
        )

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def variant(name: str, folder: Path) -> tuple[dict[str, Any], dict[str, str]]:
    """The settings and environment of the HTTP path's server `name` ("on" or "off")."""
    if name == "off":
        return {"METRICS_ENABLED": False, "JSON_LOGS": False}, {}
    metrics = folder / "metrics-on"
    metrics.mkdir(exist_ok=True)  # fresh: a temporary folder of this run
    return {"METRICS_ENABLED": True, "JSON_LOGS": True}, {MULTIPROC_ENV: str(metrics)}


@contextmanager
def gunicorn(
    settings: dict[str, Any],
    folder: Path,
    *,
    name: str = "gunicorn",
    environment: dict[str, str] | None = None,
) -> Iterator[Server]:
    """Start `python -m gunicorn -w WORKERS` on `wsgi:app`, production configuration with its
    rate limits off, these settings (as VOUCHER_* variables) and `environment`; log to
    `<name>.log`; stop it on the way out."""
    inherited = {key: value for key, value in os.environ.items() if key != MULTIPROC_ENV}
    env = {
        **inherited,
        **(environment or {}),
        "VOUCHER_ENV": "production",
        # Every client is 127.0.0.1: the per-address limits would stop them at 30 claims a minute.
        "VOUCHER_RATELIMIT_ENABLED": "false",
        **{
            f"VOUCHER_{name}": value if isinstance(value, str) else json.dumps(value)
            for name, value in settings.items()
        },
    }
    port = free_port()
    log = folder / f"{name}.log"
    command = [sys.executable, "-m", "gunicorn", "-w", str(WORKERS), "-b", f"{HOST}:{port}"]
    if (ROOT / "gunicorn.conf.py").exists():  # as deployed (gunicorn would read it from ROOT)
        command += ["-c", str(ROOT / "gunicorn.conf.py")]
    if int(metadata.version("gunicorn").split(".")[0]) >= 27:
        # Its control socket defaults to one path per user: leave other servers' alone.
        command.append("--no-control-socket")
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*command, SERVED], cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    server = Server(process, port, log)
    try:
        yield server
    finally:
        server.stop()


# --- the client ---------------------------------------------------------------------------------


def get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)
    try:
        connection.request("GET", path, headers=headers or {})
        reply = connection.getresponse()
        return reply.status, reply.read()
    finally:
        connection.close()


def post(port: int, path: str, token: str, body: dict[str, Any] | None, expect: int) -> Any:
    """POST `body` as JSON on a fresh connection with a bearer token and a new Idempotency-Key;
    return the parsed answer, or raise `HttpFailure` unless its status is `expect`."""
    data = b"" if body is None else json.dumps(body).encode()
    headers = {
        "Authorization": f"Bearer {token}",
        "Idempotency-Key": uuid.uuid4().hex,
        "Content-Type": "application/json",
    }
    connection = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)
    try:
        connection.request("POST", path, data, headers)
        reply = connection.getresponse()
        answer = reply.read()
    finally:
        connection.close()
    if reply.status != expect:
        raise HttpFailure(f"POST {path}: {reply.status} {answer[:500].decode(errors='replace')}")
    return json.loads(answer)


@dataclass(frozen=True, slots=True)
class Client:
    """What HTTP client `index` holds: its SME and that account's token, its provider and that
    account's token, the SME's redemption vouchers."""

    sme: str
    sme_token: str
    provider: uuid.UUID
    provider_token: str
    vouchers: tuple[str, ...]


class HttpPaths:
    """The HTTP path's claim and redemption for each client, against one server."""

    def __init__(
        self, port: int, clients: Sequence[Client], staff_token: str, claims: uuid.UUID
    ) -> None:
        self.port = port
        self.clients = clients
        self.staff_token = staff_token
        self.claim_body = {"programme_id": str(claims)}
        self.vouchers = [itertools.cycle(client.vouchers) for client in clients]
        self.invoices = [itertools.count(1) for _ in clients]
        self.delivered_on = local_date(datetime.now(UTC)).isoformat()
        self.idle: queue.SimpleQueue[int] = queue.SimpleQueue()
        for index in range(len(clients)):
            self.idle.put(index)

    def claim(self, index: int) -> None:
        client = self.clients[index]
        post(
            self.port,
            f"/api/v1/smes/{client.sme}/vouchers",
            client.sme_token,
            self.claim_body,
            201,
        )

    @contextmanager
    def free_client(self) -> Iterator[int]:
        """A client with nothing in flight, for an open-loop operation: two of one client's at
        once would queue for its SME's allowance or its voucher's row, which no real SME or
        provider does at this rate. Waiting for one counts in the latency (it is due already)."""
        index = self.idle.get()
        try:
            yield index
        finally:
            self.idle.put(index)

    def open_claim(self, _k: int, due: float) -> tuple[list[float], float]:
        """The open-loop run's claim, by a free client."""
        with self.free_client() as index:
            self.claim(index)
        took = time.perf_counter() - due
        return [took], took

    def open_redemption(self, run: int) -> Send:
        """The open-loop run's redemption, by a free client: its three requests one after the
        other, the first due at `due`."""

        def send(_k: int, due: float) -> tuple[list[float], float]:
            redemption, sent = "", due
            latencies: list[float] = []
            with self.free_client() as index:
                for step in range(len(STEPS)):
                    redemption = self.redemption_step(index, step, run, redemption)
                    answered = time.perf_counter()
                    latencies.append(answered - sent)
                    sent = answered
            return latencies, sent - due

        return send

    def redemption_step(self, index: int, step: int, run: int, redemption: str) -> str:
        """Client `index`'s `step` (0 submit, 1 confirm, 2 approve) of the redemption at path
        `redemption` (a new one for a submit, its invoice numbered in run `run`); return its
        path."""
        client = self.clients[index]
        if step == 0:
            submitted = post(
                self.port,
                f"/api/v1/providers/{client.provider}/redemptions",
                client.provider_token,
                {
                    "token": next(self.vouchers[index]),
                    "category": CATEGORY,
                    "description": "合同审查 contract review",
                    "invoice_number": f"H{run}-P{index}-{next(self.invoices[index])}",
                    "invoiced_fen": INVOICED_FEN,
                    "delivered_on": self.delivered_on,
                },
                201,
            )
            return f"/api/v1/redemptions/{submitted['id']}"
        if step == 1:
            post(self.port, f"{redemption}/confirm", client.sme_token, None, 200)
        else:
            post(self.port, f"{redemption}/approve", self.staff_token, None, 200)
        return redemption


class Redeemer:
    """The HTTP clients' redemptions in one run, three requests per call (submit, confirm,
    approve), each request's step, start and duration logged.

    Clients that started together would stay in step — all submitting, then all confirming, …,
    in waves seconds long at 128 clients — and a window of a few seconds would catch one kind
    of request, and the redemptions begun in it in bursts. So `prepare` sends a third of the
    clients' first redemptions ahead by one step and a third by two, and their first call
    finishes those; and the rate is counted in requests, over three, which the workers serve
    at an even pace whatever the phase.
    """

    def __init__(self, api: HttpPaths, run: int, clients: int) -> None:
        self.api = api
        self.run = run
        self.redemptions = [""] * clients  # each client's redemption in progress (its path)
        self.ahead = [index % len(STEPS) for index in range(clients)]  # its steps already done
        self.log: list[list[tuple[int, float, float]]] = [[] for _ in range(clients)]

    def prepare(self) -> None:
        """Take client i's first redemption through its first i mod 3 steps (not measured)."""

        def ahead(index: int) -> None:
            for step in range(self.ahead[index]):
                self.redemptions[index] = self.api.redemption_step(
                    index, step, self.run, self.redemptions[index]
                )

        with ThreadPoolExecutor(max_workers=len(self.redemptions)) as pool:
            list(pool.map(ahead, range(len(self.redemptions))))

    def __call__(self, index: int) -> None:
        first, self.ahead[index] = self.ahead[index], 0
        redemption = self.redemptions[index]
        for step in range(first, len(STEPS)):
            began = time.perf_counter()
            redemption = self.api.redemption_step(index, step, self.run, redemption)
            self.log[index].append((step, began, time.perf_counter() - began))

    def figures(self, timing: Timing, window: tuple[float, float]) -> Figures:
        """The requests begun in the window: their rate over three and each step's durations;
        the latencies of the redemptions begun in it, as `run_settled` measured them."""
        start, end = window
        steps: dict[str, list[float]] = {step: [] for step in STEPS}
        for mine in self.log:
            for step, began, took in mine:
                if start <= began < end:
                    steps[STEPS[step]].append(took)
        requests = sum(len(values) for values in steps.values())
        return Figures(requests / len(STEPS) / timing.seconds, timing.latencies, steps)


@dataclass(frozen=True, slots=True)
class Figures:
    """What the HTTP path measured: operations per second, each operation's latency, and (for
    redemptions) each step's requests' latencies."""

    rate: float
    latencies: list[float]
    steps: dict[str, list[float]]

    @classmethod
    def of(cls, timing: Timing) -> Figures:
        return cls(timing.rate, timing.latencies, {})

    @classmethod
    def merged(cls, parts: Sequence[Figures]) -> Figures:
        """Runs of equal length as one: their mean rate, all their latencies."""
        steps: dict[str, list[float]] = {}
        for part in parts:
            for step, values in part.steps.items():
                steps.setdefault(step, []).extend(values)
        return cls(
            sum(part.rate for part in parts) / len(parts),
            [value for part in parts for value in part.latencies],
            steps,
        )

    def requests(self) -> list[float]:
        """Every single request's latency: a claim's, or the three steps' pooled."""
        if not self.steps:
            return self.latencies
        return list(itertools.chain.from_iterable(self.steps.values()))


# --- the runner ---------------------------------------------------------------------------------


def run_settled(
    seconds: float, threads: int, work: Callable[[int], object], *, warmup: float
) -> tuple[Timing, tuple[float, float]]:
    """`common.run_for` with a warm-up that lasts until every thread has finished one operation
    (and `warmup` seconds at least); return the timing and its window (perf_counter times).

    All threads start together, so with 128 clients and operations that take seconds the first
    round queues up at once, and only once every client has come back do they send at their
    steady pace: a fixed warm-up would open the window on that first burst, or before anything
    finished. As in `run_for`, the operations begun inside the window are counted, and waited
    for; but here the other threads go on (uncounted) until the last of them has finished, so
    that it meets the same load as the rest — at 128 clients a redemption over HTTP takes
    seconds, and one begun near the end would otherwise finish alone. An exception on any
    thread stops them all and is raised here.
    """
    if threads < 1 or seconds <= 0:
        raise ValueError("need at least one thread and a positive duration")
    run = _SettledRun(seconds, threads, work, warmup)
    workers = [
        threading.Thread(target=run.loop, args=(i,), name=f"bench-{i}") for i in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    if run.errors:
        raise run.errors[0]
    if run.window is None:
        raise AssertionError("the window never opened")
    merged = [value for mine in run.latencies for value in mine]
    return Timing(len(merged), merged, seconds, sum(run.calls)), run.window


class _SettledRun:
    """The threads' shared state in `run_settled`."""

    def __init__(
        self, seconds: float, threads: int, work: Callable[[int], object], warmup: float
    ) -> None:
        self.seconds = seconds
        self.work = work
        self.warmup = warmup
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.errors: list[BaseException] = []
        self.latencies: list[list[float]] = [[] for _ in range(threads)]
        self.calls = [0] * threads
        self.started: list[float] = []
        self.window: tuple[float, float] | None = None
        self.waiting = threads  # threads that have not finished an operation yet
        self.counting = 0  # operations begun in the window and not finished yet
        self.barrier = threading.Barrier(
            threads, action=lambda: self.started.append(time.perf_counter())
        )

    def loop(self, index: int) -> None:
        try:
            self.barrier.wait()
            while not self.stop.is_set():
                began = time.perf_counter()
                opened = self.window
                if opened is not None and began >= opened[1] and not self.counting:
                    break
                counted = opened is not None and opened[0] <= began < opened[1]
                if counted:
                    with self.lock:
                        self.counting += 1
                self.work(index)
                ended = time.perf_counter()
                self.calls[index] += 1
                if counted:
                    self.latencies[index].append(ended - began)
                    with self.lock:
                        self.counting -= 1
                elif self.calls[index] == 1:
                    self.settled(ended)
        except BaseException as exc:
            self.errors.append(exc)
            self.stop.set()
            self.barrier.abort()

    def settled(self, ended: float) -> None:
        """A thread's first operation ended: after the last one's, open the window."""
        with self.lock:
            self.waiting -= 1
            if self.waiting == 0:
                start = max(ended, self.started[0] + self.warmup)
                self.window = (start, start + self.seconds)


@dataclass(frozen=True, slots=True)
class OpenFigures:
    """An open-loop run: its arrival rate (operations per second), each request's latency
    from the time it was due, and each operation's from the time its first request was due."""

    operation: str
    rate: float
    seconds: float
    requests: list[float]
    operations: list[float]  # in the order they were due, 1 / rate seconds apart
    late: float  # the latest a request was sent after it was due (the client's own lag), s
    began: float  # when operation 0 was due (Unix time)
    #: When gunicorn replaced a worker that had served its max_requests, seconds into the run.
    restarts: tuple[float, ...] = ()

    def slow_spells(self, over: float) -> list[tuple[float, float, int]]:
        """When the operations that took longer than `over` seconds were due: spells of them
        (start and end, seconds into the run, and how many), a second's gap between spells —
        to tell one stall from a steady queue."""
        spells: list[tuple[float, float, int]] = []
        for k, took in enumerate(self.operations):
            if took <= over:
                continue
            due = k / self.rate
            if spells and due - spells[-1][1] <= 1.0:
                start, _end, count = spells[-1]
                spells[-1] = (start, due, count + 1)
            else:
                spells.append((due, due, 1))
        return spells


Send = Callable[[int, float], tuple[list[float], float]]


def open_loop(operation: str, rate: float, seconds: float, send: Send) -> OpenFigures:
    """Start operation k at `k / rate` seconds, for `seconds`, whether or not the earlier ones
    have been answered. `send(k, due)` runs on a thread of its own (at most `OPEN_IN_FLIGHT` at
    once) and returns its requests' latencies and the whole operation's: the first request's
    and the operation's measured from the time it was due, so that time spent waiting for a free
    thread or in the server's queue counts in full (no coordinated omission); a later request of
    the operation, sent when the one before it was answered, from its sending. A failure stops
    the arrivals and is raised here."""
    results: list[tuple[list[float], float]] = []
    errors: list[BaseException] = []
    late = 0.0
    with ThreadPoolExecutor(max_workers=OPEN_IN_FLIGHT, thread_name_prefix="open") as pool:
        start, began = time.perf_counter() + 0.05, time.time() + 0.05
        futures: list[Future[tuple[list[float], float]]] = []
        for k in range(max(1, round(rate * seconds))):
            due = start + k / rate
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            late = max(late, time.perf_counter() - due)
            futures.append(pool.submit(send, k, due))
            if any(future.done() and future.exception() for future in futures[-8:]):
                break
        for future in futures:
            try:
                results.append(future.result())
            except Exception as exc:  # the first failure is raised below
                errors.append(exc)
    if errors:
        raise errors[0]
    return OpenFigures(
        operation,
        rate,
        seconds,
        [value for requests, _whole in results for value in requests],
        [whole for _requests, whole in results],
        late,
        began,
    )


#: gunicorn's line when a worker has served its max_requests (its time, to the second).
AUTORESTART = re.compile(
    r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4})\] \[\d+\] \[INFO\] Autorestarting worker",
    re.MULTILINE,
)


def worker_restarts(log: str, run: OpenFigures) -> OpenFigures:
    """The run, with the times (seconds into it) at which gunicorn's log says a worker was
    replaced for having served its max_requests: a new worker compiles its statements afresh."""
    moments = [
        datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S %z").timestamp() - run.began
        for stamp in AUTORESTART.findall(log)
    ]
    return replace(
        run, restarts=tuple(sorted(t for t in moments if -1.0 <= t <= run.seconds + 1.0))
    )


class FairGate:
    """At most `slots` holders at once; the others wait in arrival order, each freed slot going
    to the longest waiter.

    The service path's threads pass it around each operation, so that 128 of them share the
    pool's 32 connections fairly: the pool itself is not fair (a thread that has just returned
    a connection takes the next one before a waiter wakes), and some threads then waited past
    its 30 s checkout timeout. With as many slots as connections no thread waits in the pool.
    """

    def __init__(self, slots: int) -> None:
        self.free = slots
        self.lock = threading.Lock()
        self.waiting: deque[threading.Event] = deque()

    def __enter__(self) -> None:
        with self.lock:
            if self.free and not self.waiting:
                self.free -= 1
                return
            turn = threading.Event()
            self.waiting.append(turn)
        turn.wait()

    def __exit__(self, *exc_info: object) -> None:
        with self.lock:
            if self.waiting:
                self.waiting.popleft().set()  # the slot passes straight to the next in line
            else:
                self.free += 1


# --- the bench ----------------------------------------------------------------------------------


def server_settings(url: str, folder: Path) -> dict[str, str]:
    """A production server's settings on this database: a new keyring in `folder`, its
    passphrase and a secret key, all made for the run."""
    keys = folder / "keys"
    passphrase = f"bench-{secrets.token_hex(16)}"
    Keyring(keys, passphrase, allow_plain=False).init(SystemClock())
    return {
        "DATABASE_URL": url,
        "KEYS_DIR": str(keys),
        "KEY_PASSPHRASE": passphrase,
        "SECRET_KEY": f"bench-{secrets.token_hex(32)}",
        "PARTY_MATCHING_KEY": f"bench-{secrets.token_hex(32)}",
    }


def in_process(settings: dict[str, str], pool_size: int) -> Wiring:
    """The service path's application: the server's settings, a pool for many threads (and as
    many overflow connections), and the test suite's Argon2 cost for the accounts a bench makes."""
    app = create_app(
        "production",
        {
            **settings,
            "DATABASE_POOL_SIZE": pool_size,
            "PASSWORD_MEMORY_KIB": config.TestingConfig.PASSWORD_MEMORY_KIB,
            "PASSWORD_TIME_COST": config.TestingConfig.PASSWORD_TIME_COST,
        },
    )
    wiring: Wiring = app.extensions["voucher_app"]
    return wiring


@dataclass(frozen=True, slots=True)
class Lane:
    """One path's claims programme and, per client, its SME, its provider, the SME's vouchers."""

    claims: uuid.UUID
    smes: tuple[str, ...]
    providers: tuple[uuid.UUID, ...]
    vouchers: tuple[tuple[str, ...], ...]


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the report: an operation at a concurrency, both paths, and the HTTP path
    with metrics and request-id logging (`http`, as deployed) and without them (`bare`)."""

    operation: str
    clients: int
    http: Figures
    bare: Figures
    service: Timing
    raw: Timing

    @property
    def ratio(self) -> float:
        """The HTTP rate over the raw-SQL baseline's: what the target is judged on."""
        return self.http.rate / self.raw.rate if self.raw.rate else 0.0

    @property
    def service_ratio(self) -> float:
        return self.http.rate / self.service.rate if self.service.rate else 0.0

    @property
    def overhead_ratio(self) -> float:
        """The rate with metrics and request-id logging over the rate without."""
        return self.http.rate / self.bare.rate if self.bare.rate else 0.0

    def request_p99_ms(self) -> float | None:
        """p99 of single requests: a claim, or the three requests of redemptions pooled."""
        values = self.http.requests()
        return percentile(values, 99) * 1000 if values else None


class HttpBench:
    """Both paths on one database and one server, and the checks of its books afterwards."""

    def __init__(self, url: str, folder: Path, max_clients: int) -> None:
        self.settings = server_settings(url, folder)
        self.wiring = in_process(self.settings, POOL_SIZE)
        self.url = url
        self.folder = folder
        self.max_clients = max_clients
        self.signer = self.wiring.voucher_signer()
        self.keys = self.wiring.voucher_keys()
        self.uow = unit_of_work(self.wiring.database, SystemClock())  # set-up: no sequencing hook
        self.gate = FairGate(2 * POOL_SIZE)
        self.runs = itertools.count(1)
        self.done = {(path, op): 0 for path in PATHS for op in OPERATIONS}
        self.done_by = {(name, op): 0 for name in VARIANTS for op in OPERATIONS}

    def close(self) -> None:
        self.wiring.database.dispose()

    def set_up(self) -> None:
        """Centers, programmes, SMEs with a voucher each, providers, accounts and tokens."""
        uow, clients = self.uow, self.max_clients
        centers.import_centers(uow, centers.guangdong_centers())
        redemption_programme = voucher_programme(
            uow,
            ADMIN,
            budget_fen=REDEEM_BUDGET_FEN,
            face_fen=REDEEM_FACE_FEN,
            cap_fen=REDEEM_FACE_FEN,
            name="HTTP redemptions",
        )
        serials = itertools.count(1)
        smes = {
            path: tuple(sme_uscc(next(serials), DISTRICT) for _ in range(clients)) for path in PATHS
        }
        everyone = [uscc for path in PATHS for uscc in smes[path]]
        insert_smes(self.wiring.database, everyone, ADMIN, home_center=DISTRICT)
        issued = transaction(vouchers.claim_many_within)(
            uow,
            programme_id=redemption_programme,
            keys={uscc: f"bench-http:{uscc}" for uscc in everyone},
            actor=ADMIN,
            signer=self.signer,
        )
        if not all(isinstance(answer, Issued) for answer in issued.values()):
            raise BookError(f"set-up claims refused: {issued}")
        with self.wiring.database.engine.connect() as connection:
            tokens = dict(
                connection.execute(
                    select(Sme.uscc, Voucher.token).join(Voucher, Voucher.sme_id == Sme.id)
                ).all()
            )
        self.lanes = {
            path: Lane(
                voucher_programme(
                    uow,
                    ADMIN,
                    budget_fen=CLAIM_BUDGET_FEN,
                    face_fen=CLAIM_FACE_FEN,
                    cap_fen=CAP_FEN,
                    district=DISTRICT,
                    name=f"HTTP claims ({path})",
                    budget_shards=1,  # one row, as the raw path's (bench/rush.py: the shards)
                ),
                smes[path],
                tuple(register_provider(uow, next(serials)) for _ in range(clients)),
                tuple((tokens[uscc],) for uscc in smes[path]),
            )
            for path in PATHS
        }
        lane = self.lanes["http"]
        self.clients = [
            Client(
                sme,
                self.token(Role.SME, sme=sme),
                provider,
                self.token(Role.PROVIDER, provider=provider),
                held,
            )
            for sme, provider, held in zip(lane.smes, lane.providers, lane.vouchers, strict=True)
        ]
        self.staff_token = self.token(Role.CENTER_STAFF, center=DISTRICT)
        self.scraper_token = self.token(Role.ADMIN, scopes=frozenset({"read"}))
        # The service path: one unit of work per thread, wired as the server's workers are.
        self.uows = [self.wiring.uow() for _ in range(clients)]
        service = self.lanes["service"]
        self.service_claims = [itertools.cycle((uscc,)) for uscc in service.smes]
        self.service_vouchers = [itertools.cycle(held) for held in service.vouchers]
        raw = self.lanes["raw"]
        self.raw_claims = [itertools.cycle((uscc,)) for uscc in raw.smes]
        self.raw_vouchers = [itertools.cycle(held) for held in raw.vouchers]

    def token(
        self,
        role: Role,
        *,
        center: str | None = None,
        sme: str | None = None,
        provider: uuid.UUID | None = None,
        scopes: frozenset[str] = frozenset({"read", "write"}),
    ) -> str:
        """A new account of `role` so bound, and the secret of a new API token of its own."""
        name = f"bench-{role.value}-{uuid.uuid4().hex[:10]}".replace("_", "-")
        spec = NewUser(name, PASSWORD, role, center=center, sme=sme, provider=provider)
        view = users.create_user(self.uow, spec, self.wiring.hasher, ADMIN)
        principal = users.principal_for_session(self.uow, view.id)
        if principal is None:
            raise BookError(f"the new account {name} is not active")
        secret, _view = users.issue_token(self.uow, principal, "bench", scopes=scopes)
        return secret

    def service_work(self, operation: str, run: int) -> Callable[[int], None]:
        service = self.lanes["service"]
        if operation == "claims":

            def claim(index: int) -> None:
                with self.gate:
                    service_claim(
                        self.uows[index], service.claims, self.service_claims[index], self.signer
                    )

            return claim
        invoices = [
            (f"S{run}-P{index}-{n}" for n in itertools.count(1)) for index in range(len(self.uows))
        ]

        def redeem(index: int) -> None:
            with self.gate:
                service_redeem(
                    self.uows[index],
                    self.keys,
                    service.providers[index],
                    self.service_vouchers[index],
                    invoices[index],
                )

        return redeem

    @contextmanager
    def raw_work(self, operation: str, run: int, clients: int) -> Iterator[Callable[[int], None]]:
        """The raw-SQL baseline's operation for client i: `claim_rush.baseline_claim` or
        `redeem.baseline_redeem`, on one of as many bare psycopg connections as the service
        path's pool holds (opened for this run, closed after it), taken in turns through the
        same kind of gate."""
        connections: queue.SimpleQueue[RawRedeemer] = queue.SimpleQueue()
        opened = [
            RawRedeemer("postgresql", self.url, b"", keyring=(self.signer, self.keys))
            for _ in range(min(clients, 2 * POOL_SIZE))
        ]
        for raw in opened:
            connections.put(raw)
        lane = self.lanes["raw"]
        gate = FairGate(len(opened))
        invoices = [
            (f"B{run}-P{index}-{n}" for n in itertools.count(1)) for index in range(clients)
        ]

        def work(index: int) -> None:
            with gate:
                raw = connections.get_nowait()  # the gate lets no more in than there are
                try:
                    if operation == "claims":
                        baseline_claim(raw.db, lane.claims, self.raw_claims[index])
                    else:
                        baseline_redeem(
                            raw, lane.providers[index], self.raw_vouchers[index], invoices[index]
                        )
                finally:
                    connections.put(raw)

        try:
            yield work
        finally:
            for raw in opened:
                raw.close()

    def measure(
        self,
        apis: dict[str, HttpPaths],
        operation: str,
        clients: int,
        seconds: float,
        warmup: float,
    ) -> Row:
        """Raw SQL, service layer, HTTP on, HTTP off, HTTP off, HTTP on, service layer, raw
        SQL: A-B-C-D-D-C-B-A, each path's and server's two halves as one figure. On and off run
        alike — two separate runs each, with a warm-up each — so that what a run's start and end
        do to its figure (at 128 clients a redemption over HTTP takes seconds, and the clients
        move in waves) weighs the same on both. Each path and server is measured for `seconds`
        in all."""
        raws: list[Timing] = []
        services: list[Timing] = []
        halves: dict[str, list[Figures]] = {name: [] for name in VARIANTS}
        for path in ("raw", "service", "on", "off", "off", "on", "service", "raw"):
            if path == "raw":
                with self.raw_work(operation, next(self.runs), clients) as work:
                    timing, _window = run_settled(seconds / 2, clients, work, warmup=warmup)
                raws.append(timing)
                self.done[path, operation] += timing.calls
            elif path == "service":
                work = self.service_work(operation, next(self.runs))
                timing, _window = run_settled(seconds / 2, clients, work, warmup=warmup)
                self.wiring.database.engine.dispose()  # its connections, for the next path's
                services.append(timing)
                self.done[path, operation] += timing.calls
            else:
                halves[path].append(
                    self.http_run(
                        apis, path, operation, clients, seconds=seconds / 2, warmup=warmup
                    )
                )
        return Row(
            operation,
            clients,
            Figures.merged(halves["on"]),
            Figures.merged(halves["off"]),
            merge(services),
            merge(raws),
        )

    def http_run(
        self,
        apis: dict[str, HttpPaths],
        server: str,
        operation: str,
        clients: int,
        *,
        seconds: float,
        warmup: float,
    ) -> Figures:
        """One run of the HTTP path against the server `server` ("on" or "off")."""
        api, run = apis[server], next(self.runs)
        if operation == "claims":
            timing, _window = run_settled(seconds, clients, api.claim, warmup=warmup)
            figures = Figures.of(timing)
        else:
            redeemer = Redeemer(api, run, clients)
            redeemer.prepare()
            timing, window = run_settled(seconds, clients, redeemer, warmup=warmup)
            figures = redeemer.figures(timing, window)
        self.done["http", operation] += timing.calls
        self.done_by[server, operation] += timing.calls
        return figures

    def open_run(self, api: HttpPaths, operation: str, rate: float, seconds: float) -> OpenFigures:
        """`operation` at a fixed arrival rate against the server `api` reaches ("on")."""
        send = api.open_claim if operation == "claims" else api.open_redemption(next(self.runs))
        figures = open_loop(operation, rate, seconds, send)
        self.done["http", operation] += len(figures.operations)
        self.done_by["on", operation] += len(figures.operations)
        return figures

    def check_metrics(self, server: Server) -> None:
        """The on server's /metrics counts the claims its workers answered: every one, once."""
        status, body = get(
            server.port, "/metrics", {"Authorization": f"Bearer {self.scraper_token}"}
        )
        if status != 200:
            raise BookError(f"/metrics answered {status}: {body[:300]!r}")
        counted = [
            line for line in body.decode().splitlines() if line.startswith("voucher_claims_total ")
        ]
        claims = float(counted[0].split()[1]) if counted else 0.0
        if claims != self.done_by["on", "claims"]:
            raise BookError(
                f"/metrics counts {claims:g} claims; the on server answered "
                f"{self.done_by['on', 'claims']}"
            )

    def check_books(self, servers: Sequence[Server]) -> None:
        """Whole-database checks of both paths; raise `BookError` on the first that fails."""
        with self.wiring.database.engine.connect() as connection:
            check_balanced(connection)
            for path, lane in self.lanes.items():
                claimed = self.done[path, "claims"]
                issued = connection.execute(
                    select(func.count())
                    .select_from(Voucher)
                    .join(Programme, Programme.id == Voucher.programme_id)
                    .where(Programme.public_id == lane.claims)
                ).scalar_one()
                budget = connection.execute(
                    select(LedgerAccount.balance_fen).where(
                        LedgerAccount.name == accounts.available(DISTRICT, str(lane.claims)).name
                    )
                ).scalar_one()
                if issued != claimed or budget != CLAIM_BUDGET_FEN - claimed * CLAIM_FACE_FEN:
                    raise BookError(
                        f"{path}: {issued} vouchers and {budget} fen left in {DISTRICT}'s "
                        f"budget, the clients reported {claimed} claims"
                    )
                redeemed = self.done[path, "redemptions"]
                ids = select(Provider.id).where(Provider.public_id.in_(lane.providers))
                statuses = dict(
                    connection.execute(
                        select(Redemption.status, func.count())
                        .where(Redemption.provider_id.in_(ids))
                        .group_by(Redemption.status)
                    ).all()
                )
                if statuses != ({"approved": redeemed} if redeemed else {}):
                    raise BookError(
                        f"{path}: redemptions by status {statuses}, the clients reported "
                        f"{redeemed} redemptions"
                    )
        for server in servers:
            log = server.log_text()
            # gunicorn.conf.py replaces workers after max_requests: those boots are expected.
            boots = WORKERS + log.count("Autorestarting worker")
            if "Traceback" in log or log.count("Booting worker") != boots:
                raise BookError(
                    f"{server.log.name} shows a failure or a restarted worker:\n{log[-LOG_TAIL:]}"
                )

    def verify_ledger(self) -> tuple[int, float, float]:
        return sequence_and_verify(self.uow)


def report(rows: Sequence[Row]) -> None:
    """The table of the three paths' rates and latencies, each HTTP step's, then the
    verdicts."""

    def figures(rate: float, latencies: Sequence[float]) -> list[str]:
        if not latencies:
            return [f"{rate:,.0f}", "n/a", "n/a"]
        return [
            f"{rate:,.0f}",
            f"{percentile(latencies, 50) * 1000:.1f}",
            f"{percentile(latencies, 99) * 1000:.1f}",
        ]

    print()
    print_table(
        [
            "operation",
            "clients",
            "HTTP /s",
            "p50 ms",
            "p99 ms",
            "service layer /s",
            "p50 ms",
            "p99 ms",
            "raw SQL /s",
            "p50 ms",
            "p99 ms",
            "HTTP/service",
            "HTTP/raw",
        ],
        [
            [
                row.operation,
                row.clients,
                *figures(row.http.rate, row.http.latencies),
                *figures(row.service.rate, row.service.latencies),
                *figures(row.raw.rate, row.raw.latencies),
                f"{row.service_ratio:.0%}",
                f"{row.ratio:.0%}",
            ]
            for row in rows
        ],
    )
    print()
    print(
        "Metrics and request-id logging: HTTP with them (on: multiprocess metrics, JSON access "
        "lines) and without them (off)"
    )
    print_table(
        [
            "operation",
            "clients",
            "on /s",
            "off /s",
            "on/off",
            "p50 ms on",
            "off",
            "p99 ms on",
            "off",
        ],
        [
            [
                row.operation,
                row.clients,
                f"{row.http.rate:,.0f}",
                f"{row.bare.rate:,.0f}",
                f"{row.overhead_ratio:.1%}",
                *_pair(row.http.requests(), row.bare.requests(), 50),
                *_pair(row.http.requests(), row.bare.requests(), 99),
            ]
            for row in rows
        ],
    )
    redemptions = [row for row in rows if row.operation == "redemptions"]
    if redemptions:
        print()
        print("A redemption's three HTTP requests, p50 / p99 ms:")
        for row in redemptions:
            parts = [
                f"{step} {percentile(values, 50) * 1000:.1f} / {percentile(values, 99) * 1000:.1f}"
                if values
                else f"{step} n/a"
                for step, values in row.http.steps.items()
            ]
            print(f"  {row.clients} clients: {', '.join(parts)}")
    print()
    for row in rows:
        verdict = "met" if row.ratio >= TARGET else "NOT met"
        line = (
            f"{row.operation}, {row.clients} clients: HTTP at {row.ratio:.1%} of the raw-SQL "
            f"baseline — target >= {TARGET:.0%}: {verdict} ({row.service_ratio:.0%} of the "
            "service layer)"
        )
        p99 = row.request_p99_ms()
        what = "p99" if row.operation == "claims" else "p99 per request (the three pooled)"
        if row.clients == P99_TARGET_CLIENTS:
            met = "met" if p99 is not None and p99 < P99_TARGET_MS else "NOT met"
            shown = "n/a" if p99 is None else f"{p99:.1f} ms"
            line += f"; {what} {shown} — target < {P99_TARGET_MS:g} ms: {met}"
        elif p99 is not None:
            line += f"; {what} {p99:.1f} ms"
        print(line)
    for row in rows:
        verdict = "met" if row.overhead_ratio >= OVERHEAD_TARGET else "NOT met"
        print(
            f"{row.operation}, {row.clients} clients: with metrics and request-id logging at "
            f"{row.overhead_ratio:.1%} of the rate without — target >= {OVERHEAD_TARGET:.0%}: "
            f"{verdict}"
        )


def report_open(runs: Sequence[OpenFigures]) -> None:
    """The open-loop runs' latencies from the time each request was due, and the verdicts."""
    if not runs:
        return

    def ms(values: Sequence[float], q: float) -> str:
        return f"{percentile(values, q) * 1000:.1f}" if values else "n/a"

    print()
    print(
        f"Open loop (HTTP, on): a fixed arrival rate of {OPEN_LOAD:.0%} of the highest closed-loop "
        "rate, each request's latency from the time it was due"
    )
    print_table(
        ["operation", "rate /s", "s", "requests", "p50 ms", "p99 ms", "p99.9 ms", "whole p99 ms"],
        [
            [
                run.operation,
                f"{run.rate:,.1f}",
                f"{run.seconds:g}",
                len(run.requests),
                ms(run.requests, 50),
                ms(run.requests, 99),
                ms(run.requests, 99.9),
                ms(run.operations, 99),
            ]
            for run in runs
        ],
    )
    for run in runs:
        p99 = percentile(run.requests, 99) * 1000
        p999 = percentile(run.requests, 99.9) * 1000
        verdicts = [
            "met" if p99 < OPEN_P99_TARGET_MS else "NOT met",
            "met" if p999 < OPEN_P999_TARGET_MS else "NOT met",
        ]
        print(
            f"{run.operation}, open loop at {run.rate:,.1f}/s: p99 {p99:.1f} ms — target < "
            f"{OPEN_P99_TARGET_MS:g} ms: {verdicts[0]}; p99.9 {p999:.1f} ms — target < "
            f"{OPEN_P999_TARGET_MS:g} ms: {verdicts[1]} (the client sent at most "
            f"{run.late * 1000:.1f} ms late)"
        )
        spells = run.slow_spells(OPEN_P999_TARGET_MS / 1000)
        if spells:
            shown = ", ".join(
                f"{count} due at {start:.1f} to {end:.1f} s" for start, end, count in spells[:8]
            )
            more = f" and {len(spells) - 8} more spells" if len(spells) > 8 else ""
            print(f"  {run.operation} over {OPEN_P999_TARGET_MS:g} ms: {shown}{more}")
        if run.restarts:
            moments = ", ".join(f"{moment:.0f}" for moment in run.restarts)
            print(f"  a worker replaced after its max_requests at {moments} s (to the second)")


def _pair(on: Sequence[float], off: Sequence[float], q: float) -> list[str]:
    """The q-th percentile of single requests' latencies (ms), with and without."""
    return [f"{percentile(values, q) * 1000:.1f}" if values else "n/a" for values in (on, off)]


def main() -> int:
    seconds = bench_seconds()
    warmup = warmup_seconds()
    counts = client_counts()
    open_for = open_seconds()
    print(
        f"HTTP: gunicorn with {WORKERS} sync workers (2 * {CORES} cores), production "
        f"configuration without rate limits, on PostgreSQL, against the service functions "
        f"called on as many threads in this process and the raw-SQL baseline of the same "
        f"transactions, and with metrics and request-id logging (on) against without (off); "
        f"{seconds:g} s measured per path, server and configuration (raw, service, HTTP on, "
        f"HTTP off, HTTP off, HTTP on, service, raw; each run warmed up until every client has "
        f"finished one operation, {warmup:g} s at least); a fresh connection and "
        f"Idempotency-Key per request; a claim is one request, a redemption three (submit, "
        f"confirm, approve)"
    )
    rows: list[Row] = []
    opened: list[OpenFigures] = []
    status = 0
    with ExitStack() as stack:
        try:
            url = stack.enter_context(fresh_database("postgresql"))
        except BackendUnavailable as exc:
            print(f"PostgreSQL skipped: {exc}")
            return 0
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench_http_")))
        began = time.perf_counter()
        bench = HttpBench(url, folder, max(counts))
        stack.callback(bench.close)
        servers: dict[str, Server] = {}
        for name in VARIANTS:  # they boot during set-up
            more, environment = variant(name, folder)
            servers[name] = stack.enter_context(
                gunicorn(
                    {**bench.settings, **more},
                    folder,
                    name=f"gunicorn-{name}",
                    environment=environment,
                )
            )
        bench.set_up()
        for server in servers.values():
            server.wait_until_healthy()
        print(
            f"PostgreSQL: set-up (centers, 4 programmes, {len(PATHS) * max(counts)} SMEs with a "
            f"voucher each, {len(PATHS) * max(counts)} providers, {2 * max(counts) + 2} accounts "
            "with tokens, "
            f"two gunicorns up) in {time.perf_counter() - began:.1f} s",
            file=sys.stderr,
        )
        apis = {
            name: HttpPaths(
                server.port, bench.clients, bench.staff_token, bench.lanes["http"].claims
            )
            for name, server in servers.items()
        }
        try:
            for operation in OPERATIONS:
                for clients in counts:
                    print(
                        f"PostgreSQL: {operation}, {clients} clients, the three paths …",
                        file=sys.stderr,
                    )
                    rows.append(bench.measure(apis, operation, clients, seconds, warmup))
            for operation in OPERATIONS if open_for > 0 else ():
                capacity = max(row.http.rate for row in rows if row.operation == operation)
                print(
                    f"PostgreSQL: {operation}, open loop at {OPEN_LOAD * capacity:,.1f}/s for "
                    f"{open_for:g} s …",
                    file=sys.stderr,
                )
                run = bench.open_run(apis["on"], operation, OPEN_LOAD * capacity, open_for)
                opened.append(worker_restarts(servers["on"].log_text(), run))
            bench.check_metrics(servers["on"])
            for server in servers.values():
                server.stop()
            bench.check_books(list(servers.values()))
            leaves, sequencing, verifying = bench.verify_ledger()
            done = bench.done
            print(
                f"PostgreSQL: {done['http', 'claims']:,} HTTP and {done['service', 'claims']:,} "
                f"service-layer claims, {done['http', 'redemptions']:,} and "
                f"{done['service', 'redemptions']:,} redemptions; books check out (balances, "
                f"vouchers and budgets, redemptions by status, a clean server log); sequenced "
                f"{leaves:,} entries in {sequencing:.1f} s, checkpoint signed, verify_ledger OK "
                f"in {verifying:.1f} s"
            )
        except BookError as exc:
            print(f"PostgreSQL: CORRECTNESS FAILURE: {exc}")
            status = 1
        except HttpFailure as exc:
            print(f"PostgreSQL: a server failed a request: {exc}")
            for name, server in servers.items():
                server.stop()
                print(f"gunicorn's log ({name}):")
                print(server.log_text()[-LOG_TAIL:])
            status = 1
    report(rows)
    report_open(opened)
    return status


if __name__ == "__main__":
    sys.exit(main())
