"""Prometheus metrics, served at `/metrics` (`api.health`): what the service does, and how its
books and jobs stand.

Two kinds:

- counted by the processes that do the work: HTTP requests by method, route (the URL rule, never
  the raw path) and status, with their latency; claims and redemptions (the API's
  `POST /api/v1/smes/<uscc>/vouchers` and `POST /api/v1/providers/<id>/redemptions`) answered
  2xx, and those refused (4xx) by the problem's `code` — replays of an Idempotency-Key are not
  counted again; scheduled job runs, failures and durations (`job_ran`, called by `jobs`).
- read from the database when scraped (`DatabaseCollector`): ledger entries, sequencer lag
  (entries committed but not in the Merkle log yet), entries no checkpoint covers, the age of
  the last checkpoint, job lease holders, the notification outbox, background tasks by status.
  One reading serves every scrape and `/readyz` for `STATE_SECONDS`, so scrapes stay cheap;
  each gunicorn worker keeps its own.

Multiprocess: gunicorn's sync workers are separate processes. When `PROMETHEUS_MULTIPROC_DIR`
is set (gunicorn.conf.py sets it and empties the folder when the master starts; its
`child_exit` calls `mark_worker_dead`), every worker writes its counters to files there and
the worker that answers a scrape adds up all of them (`MultiProcessCollector`); otherwise they
live in a registry of the application. The database gauges are made by the collector at scrape
time, the same whichever worker answers, so they need no multiprocess mode.

Nothing happens at import: `init_app` builds one application's metrics (none when
METRICS_ENABLED is false) and keeps them in `app.extensions`. `job_ran` finds them through the
application context and does nothing without them. Claims and redemptions made through the
pages are counted only as HTTP requests, by route. The job runner, which answers no requests,
serves its own counters with `flask jobs run --metrics-port PORT` (`serve`).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime

from flask import Flask, Response, current_app, g, has_app_context, request
from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
    start_http_server,
    values,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from sqlalchemy import and_, case, func, select

from voucher_app import observability
from voucher_app.ledger import store
from voucher_app.ledger.tables import JournalEntry, LedgerCheckpoint, LedgerCosignature, LogQueue
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.ledger.witnesses import WitnessPolicy
from voucher_app.persistence.models import JobLease, Notification, Task
from voucher_app.persistence.uow import read_only
from voucher_app.services import notice
from voucher_app.wiring import EXTENSION as WIRING
from voucher_app.wiring import Wiring, unit_of_work

log = logging.getLogger(__name__)
EXTENSION = "voucher_app.metrics"
STATE_EXTENSION = "voucher_app.database_state"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
#: How long one reading of the database's state serves scrapes and /readyz (seconds).
STATE_SECONDS = 5.0
#: The API routes counted as claims and redemptions: (method, endpoint) -> operation.
OPERATIONS: dict[tuple[str, str], str] = {
    ("POST", "smes.SmeVouchers"): "claim",
    ("POST", "redemptions.Submit"): "redemption",
}
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
JOB_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0)
TASK_STATUSES = ("running", "done", "failed")


# --- the database's state -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DatabaseState:
    """One reading of what the database says about the ledger, the jobs and the queues."""

    read_at: datetime
    tree_size: int  # entries in the Merkle log
    queued: int  # entries committed but not sequenced yet
    checkpoint_size: int  # entries the last checkpoint covers (0: none yet)
    checkpoint_at: datetime | None
    first_entry_at: datetime | None  # read only while there is no checkpoint
    leases: tuple[tuple[str, str], ...]  # (job, holder) of the leases not expired
    notifications_pending: int
    notifications_given_up: int
    tasks: dict[str, int]
    cosigners: frozenset[str] = frozenset()  # witnesses that cosigned the last checkpoint
    #: Days until the first approval day the working-day calendar cannot count the longest
    #: notice from (None: no programme sets a notice). `/readyz`'s `working_calendar` too.
    calendar_days_left: int | None = None

    @property
    def entries(self) -> int:
        """Journal entries committed: every one is in the log or queued for it."""
        return self.tree_size + self.queued

    @property
    def sequencer_lag(self) -> int:
        return self.queued

    @property
    def uncheckpointed(self) -> int:
        """Committed entries no signed checkpoint covers yet (queued ones included)."""
        return self.entries - self.checkpoint_size

    @property
    def checkpoint_age(self) -> float | None:
        if self.checkpoint_at is None:
            return None
        return (self.read_at - self.checkpoint_at).total_seconds()

    @property
    def waiting_for_checkpoint(self) -> float | None:
        """How long entries have waited for a checkpoint (seconds): since the last checkpoint,
        or since the first entry when there is none; None when no entry waits."""
        if not self.uncheckpointed:
            return None
        since = self.checkpoint_at or self.first_entry_at
        return None if since is None else (self.read_at - since).total_seconds()

    def sequencing_keeps_up(self, max_lag: float) -> bool:
        """At most `max_lag` entries wait for the Merkle log (READY_MAX_SEQUENCER_LAG)."""
        return self.sequencer_lag <= max_lag

    def checkpoints_keep_up(self, max_wait: float) -> bool:
        """No entry has waited more than `max_wait` seconds for a checkpoint
        (READY_MAX_CHECKPOINT_AGE_SECONDS): what `/readyz` and `flask doctor` both ask."""
        waited = self.waiting_for_checkpoint
        return waited is None or waited <= max_wait


@read_only
def read_state(uow: UnitOfWork) -> DatabaseState:
    """Read the state in one snapshot: a handful of queries on small tables or on indexes
    (the log's last leaf, the last checkpoint), and counts of the queue, the notifications
    and the tasks."""
    session = uow.session
    now = uow.clock.now()
    tree_size = store.tree_size(session)
    queued = session.scalar(select(func.count()).select_from(LogQueue)) or 0
    checkpoint = session.execute(
        select(LedgerCheckpoint.id, LedgerCheckpoint.tree_size, LedgerCheckpoint.created_at)
        .order_by(LedgerCheckpoint.tree_size.desc())
        .limit(1)
    ).first()
    first_entry_at = None
    if checkpoint is None and tree_size + queued:
        first_entry_at = session.scalar(
            select(JournalEntry.created_at).order_by(JournalEntry.id).limit(1)
        )
    leases = session.execute(
        select(JobLease.name, JobLease.holder)
        .where(JobLease.expires_at > now)
        .order_by(JobLease.name)
    ).all()
    unsent = and_(Notification.sent_at.is_(None), Notification.gave_up_at.is_(None))
    pending, given_up = session.execute(
        select(func.count(case((unsent, 1))), func.count(Notification.gave_up_at))
    ).one()
    tasks = session.execute(select(Task.status, func.count()).group_by(Task.status)).all()
    cosigners: Iterable[str] = (
        session.scalars(
            select(LedgerCosignature.witness).where(
                LedgerCosignature.checkpoint_id == checkpoint.id
            )
        )
        if checkpoint
        else []
    )
    return DatabaseState(
        read_at=now,
        tree_size=tree_size,
        queued=int(queued),
        checkpoint_size=checkpoint.tree_size if checkpoint else 0,
        checkpoint_at=checkpoint.created_at if checkpoint else None,
        first_entry_at=first_entry_at,
        leases=tuple((name, holder) for name, holder in leases),
        notifications_pending=int(pending),
        notifications_given_up=int(given_up),
        tasks={status: int(count) for status, count in tasks},
        cosigners=frozenset(cosigners),
    )


class StateReader:
    """The application's last reading of the database's state, reused for `STATE_SECONDS`."""

    def __init__(self, app: Flask) -> None:
        self._app = app
        self._lock = threading.Lock()
        self._last: tuple[float, DatabaseState] | None = None

    @property
    def witnesses(self) -> WitnessPolicy:
        parts: Wiring = self._app.extensions[WIRING]
        return parts.witnesses

    def read(self) -> DatabaseState:
        """The state, read again when the last reading is older than `STATE_SECONDS`; raises
        what the database raises when it cannot be read."""
        with self._lock:
            if self._last is not None and time.monotonic() - self._last[0] < STATE_SECONDS:
                return self._last[1]
            parts: Wiring = self._app.extensions[WIRING]
            # A unit of work of its own: not a request's held one, no sequencing hook.
            state = read_state(unit_of_work(parts.database, parts.clock))
            runway = notice.calendar_runway(unit_of_work(parts.database, parts.clock))
            if runway is not None:
                state = replace(state, calendar_days_left=runway.days_left)
            self._last = (time.monotonic(), state)
            return state


def database_state() -> DatabaseState:
    """The current application's reading of the database's state (see `StateReader.read`)."""
    reader: StateReader = current_app.extensions[STATE_EXTENSION]
    return reader.read()


class DatabaseCollector:
    """Gauges of the database's state, made when scraped (a custom collector)."""

    def __init__(self, reader: StateReader) -> None:
        self.reader = reader

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "voucher_database_up", "Whether the database could be read for these metrics (1/0)"
        )
        try:
            state = self.reader.read()
        except Exception:  # the scrape still answers, and says so
            log.warning("metrics: the database could not be read", exc_info=True)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield _gauge("voucher_ledger_entries", "Journal entries committed", state.entries)
        yield _gauge("voucher_ledger_tree_size", "Entries in the Merkle log", state.tree_size)
        yield _gauge(
            "voucher_ledger_sequencer_lag",
            "Entries committed but not yet in the Merkle log (ledger_log_queue)",
            state.sequencer_lag,
        )
        yield _gauge(
            "voucher_ledger_uncheckpointed_entries",
            "Committed entries no signed checkpoint covers yet",
            state.uncheckpointed,
        )
        yield _gauge(
            "voucher_ledger_checkpoint_tree_size",
            "Entries the last signed checkpoint covers",
            state.checkpoint_size,
        )
        age = state.checkpoint_age
        if age is not None:
            yield _gauge(
                "voucher_ledger_checkpoint_age_seconds", "Age of the last signed checkpoint", age
            )
        yield from _witness_gauges(state, self.reader.witnesses)
        if state.calendar_days_left is not None:
            yield _gauge(
                "voucher_working_calendar_days_left",
                "Days until approvals with the longest notice a programme sets are refused for "
                "want of the next year's holidays in the working-day calendar",
                state.calendar_days_left,
            )
        held = GaugeMetricFamily(
            "voucher_job_lease_held",
            "Job leases not expired, by job and holder (host:pid:id)",
            labels=["job", "holder"],
        )
        for job, holder in state.leases:
            held.add_metric([job, holder], 1)
        yield held
        yield _gauge(
            "voucher_job_lease_holders",
            "Processes holding a job lease",
            len({holder for _, holder in state.leases}),
        )
        yield _gauge(
            "voucher_notifications_pending",
            "Notifications in the outbox not sent yet (and not given up)",
            state.notifications_pending,
        )
        yield _gauge(
            "voucher_notifications_given_up",
            "Notifications given up after their last attempt",
            state.notifications_given_up,
        )
        tasks = GaugeMetricFamily("voucher_tasks", "Background tasks by status", labels=["status"])
        for status in sorted({*TASK_STATUSES, *state.tasks}):
            tasks.add_metric([status], state.tasks.get(status, 0))
        yield tasks


def _witness_gauges(state: DatabaseState, policy: WitnessPolicy) -> Iterator[Metric]:
    """Which configured witnesses cosigned the last checkpoint, and whether it has its quorum."""
    cosigned = GaugeMetricFamily(
        "voucher_ledger_checkpoint_cosigned",
        "Whether each configured witness cosigned the last checkpoint (1/0)",
        labels=["witness"],
    )
    for witness in policy.witnesses:
        cosigned.add_metric([witness.name], int(witness.name in state.cosigners))
    yield cosigned
    count = sum(w.name in state.cosigners for w in policy.witnesses)
    yield _gauge(
        "voucher_ledger_checkpoint_cosignatures",
        "Cosignatures by configured witnesses on the last checkpoint",
        count,
    )
    yield _gauge("voucher_ledger_witness_quorum", "Cosignatures the policy demands", policy.quorum)
    yield _gauge(
        "voucher_ledger_checkpoint_quorum_met",
        "Whether the last checkpoint has its quorum of cosignatures (1/0)",
        int(count >= policy.quorum),
    )


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


class _Forward:
    """A collector that yields another registry's metrics (to add the database's to them)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def collect(self) -> Iterator[Metric]:
        yield from self.registry.collect()


# --- the counted metrics ------------------------------------------------------------------------


class Metrics:
    """One application's counted metrics, and the registries a scrape reads."""

    def __init__(self, reader: StateReader, multiprocess_dir: str | None) -> None:
        self.multiprocess_dir = multiprocess_dir
        # Multiprocess: values go to this process's files, read back by MultiProcessCollector.
        own = None if multiprocess_dir else CollectorRegistry()
        self.requests = Counter(
            "voucher_http_requests",
            "HTTP requests answered, by method, route (URL rule) and status",
            ("method", "route", "status"),
            registry=own,
        )
        self.latency = Histogram(
            "voucher_http_request_duration_seconds",
            "Time to answer HTTP requests, by method, route (URL rule) and status",
            ("method", "route", "status"),
            buckets=HTTP_BUCKETS,
            registry=own,
        )
        self.done = {
            "claim": Counter("voucher_claims", "Vouchers claimed (API)", registry=own),
            "redemption": Counter(
                "voucher_redemptions", "Redemptions submitted (API)", registry=own
            ),
        }
        self.refusals = Counter(
            "voucher_refusals",
            "Claims and redemptions refused (4xx), by operation and problem code",
            ("operation", "code"),
            registry=own,
        )
        self.job_runs = Counter(
            "voucher_job_runs", "Scheduled job runs (lease held), by job", ("job",), registry=own
        )
        self.job_failures = Counter(
            "voucher_job_failures", "Scheduled job runs that failed, by job", ("job",), registry=own
        )
        self.job_duration = Histogram(
            "voucher_job_duration_seconds",
            "Duration of scheduled job runs, by job",
            ("job",),
            buckets=JOB_BUCKETS,
            registry=own,
        )
        self.job_last_success = Gauge(
            "voucher_job_last_success_timestamp_seconds",
            "When each job last ran without failing (Unix time)",
            ("job",),
            registry=own,
            multiprocess_mode="max",
        )
        #: This process's metrics (all processes' in multiprocess mode), without the database's.
        self.local = CollectorRegistry()
        if own is None:
            assert multiprocess_dir is not None
            multiprocess.MultiProcessCollector(self.local, path=multiprocess_dir)  # type: ignore[no-untyped-call]
        else:
            self.local.register(_Forward(own))
        #: What /metrics serves: those and the database's gauges.
        self.scrape = CollectorRegistry()
        self.scrape.register(_Forward(self.local))
        self.scrape.register(DatabaseCollector(reader))

    def observe(self, response: Response) -> Response:
        """After each request: count it, time it, and count a claim or redemption."""
        method, status = request.method, response.status_code
        labels = (method, observability.route(), str(status))
        self.requests.labels(*labels).inc()
        self.latency.labels(*labels).observe(observability.elapsed())
        operation = OPERATIONS.get((method, request.endpoint or ""))
        if operation is not None and response.headers.get("Idempotent-Replayed") != "true":
            if 200 <= status < 300:
                self.count(operation, None)
            elif 400 <= status < 500:
                self.count(operation, g.get("problem_code") or str(status))
        return response

    def count(self, operation: str, refused_code: str | None) -> None:
        if refused_code is None:
            self.done[operation].inc()
        else:
            self.refusals.labels(operation, refused_code).inc()


def init_app(app: Flask) -> None:
    """Keep a reader of the database's state (for `/readyz` too), and unless METRICS_ENABLED is
    false, the application's metrics, counting every request."""
    reader = StateReader(app)
    app.extensions[STATE_EXTENSION] = reader
    if not app.config.get("METRICS_ENABLED", True):
        return
    # Counters' `_created` series: not written in multiprocess mode, so left out in both.
    disable_created_metrics()  # type: ignore[no-untyped-call]
    metrics = Metrics(reader, _multiprocess_dir())
    app.extensions[EXTENSION] = metrics
    app.after_request(metrics.observe)


def _multiprocess_dir() -> str | None:
    path = os.environ.get(MULTIPROC_ENV)
    if not path:
        return None
    if not getattr(values.ValueClass, "_multiprocess", False):
        # prometheus_client picks its value class when first imported; imported before the
        # variable was set (gunicorn.conf.py importing this module, say), it would keep each
        # worker's counts to itself. Pick the multiprocess one now, before any metric exists.
        values.ValueClass = values.MultiProcessValue()  # type: ignore[no-untyped-call]
    return path


def enabled() -> bool:
    """Whether the current application has metrics."""
    return has_app_context() and EXTENSION in current_app.extensions


def exposition() -> tuple[bytes, str]:
    """The current application's metrics in the Prometheus text format, and its media type."""
    metrics: Metrics = current_app.extensions[EXTENSION]
    return generate_latest(metrics.scrape), CONTENT_TYPE


def _current() -> Metrics | None:
    if not has_app_context():
        return None
    found: Metrics | None = current_app.extensions.get(EXTENSION)
    return found


def job_ran(name: str, ok: bool, seconds: float) -> None:
    """Count a run of the scheduled job `name` that held its lease: whether it ended without an
    exception, and how long it took. Call it in the application's context (`jobs.leased` runs
    each job in one); without metrics it does nothing."""
    metrics = _current()
    if metrics is None:
        return
    metrics.job_runs.labels(name).inc()
    metrics.job_duration.labels(name).observe(seconds)
    if ok:
        metrics.job_last_success.labels(name).set(time.time())
    else:
        metrics.job_failures.labels(name).inc()


def serve(app: Flask, port: int, addr: str = "127.0.0.1") -> None:
    """Serve this process's counted metrics (without the database's gauges, which `/metrics`
    serves) over HTTP on `addr:port`, from a thread: for the job runner (`flask jobs run`),
    which answers no requests of its own. Does nothing without metrics."""
    metrics: Metrics | None = app.extensions.get(EXTENSION)
    if metrics is not None:
        start_http_server(port, addr, registry=metrics.local)


# --- gunicorn's hooks ---------------------------------------------------------------------------


def mark_worker_dead(pid: int) -> None:
    """gunicorn's `child_exit` hook: forget the live gauges of the worker `pid` (its counters
    stay: they are totals). Does nothing outside multiprocess mode."""
    path = os.environ.get(MULTIPROC_ENV)
    if path:
        multiprocess.mark_process_dead(pid, path)  # type: ignore[no-untyped-call]
