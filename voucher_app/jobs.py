"""Scheduled jobs (APScheduler): sequencing the Merkle log and signing checkpoints.

Each job is an entry point like a view: it calls services. Every run first takes the job's lease
(`services.leases`), so with several scheduler processes each run happens once. `build_scheduler`
gives a background scheduler for `flask serve` and a blocking one for `flask jobs run`.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable
from datetime import UTC, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from voucher_app.services import leases, ledger
from voucher_app.wiring import Wiring, current

log = logging.getLogger(__name__)


def holder_name() -> str:
    """Names this process as a lease holder (host, process id, and a random part)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def sequence_and_sign_burst(parts: Wiring, burst: int) -> None:
    """Sequence stragglers; sign a checkpoint early when many entries are unsigned."""
    ledger.sequence_log(parts.uow())
    if ledger.unsigned_entries(parts.uow()) >= burst:
        ledger.sign_checkpoint(parts.uow(), parts.checkpoint_signer())


def sequence_and_sign(parts: Wiring) -> None:
    ledger.sequence_log(parts.uow())
    ledger.sign_checkpoint(parts.uow(), parts.checkpoint_signer())


def leased(
    app: Flask, name: str, seconds: int, job: Callable[[Wiring], None], holder: str
) -> Callable[[], None]:
    """Wrap `job` so that it runs in an app context and only while holding its lease."""

    def run() -> None:
        with app.app_context():
            parts = current()
            # A lease a little shorter than the interval: the next run may take it again.
            duration = timedelta(seconds=max(1.0, seconds * 0.8))
            if not leases.acquire(parts.uow(), name, holder, duration):
                return
            try:
                job(parts)
            except Exception:
                log.exception("job %s failed; it runs again at its next interval", name)

    return run


def build_scheduler(app: Flask, *, blocking: bool) -> BaseScheduler:
    scheduler: BaseScheduler = (
        BlockingScheduler(timezone=UTC) if blocking else BackgroundScheduler(timezone=UTC)
    )
    config = app.config
    sequence_every = int(config["SEQUENCER_INTERVAL_SECONDS"])
    checkpoint_every = int(config["CHECKPOINT_INTERVAL_SECONDS"])
    burst = int(config["CHECKPOINT_BURST_ENTRIES"])
    holder = holder_name()
    scheduler.add_job(
        leased(
            app,
            "ledger.sequence",
            sequence_every,
            lambda parts: sequence_and_sign_burst(parts, burst),
            holder,
        ),
        "interval",
        seconds=sequence_every,
        id="ledger.sequence",
        max_instances=1,
        coalesce=True,
    )
    scheduler.add_job(
        leased(app, "ledger.checkpoint", checkpoint_every, sequence_and_sign, holder),
        "interval",
        seconds=checkpoint_every,
        id="ledger.checkpoint",
        max_instances=1,
        coalesce=True,
    )
    return scheduler
