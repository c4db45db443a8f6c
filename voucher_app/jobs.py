"""Scheduled jobs (APScheduler): the Merkle log, checkpoints, voucher expiry and reminders,
failing the background tasks whose process died, forgetting old Idempotency-Keys.

Each job is an entry point like a view: it calls services. Every run first takes the job's lease
(`services.leases`), so with several scheduler processes each run happens once; a run that
outlasts its lease keeps renewing it (`renewing`) until it ends. `build_scheduler`
gives a background scheduler for `flask serve` and a blocking one for `flask jobs run`.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.util import undefined
from flask import Flask

from voucher_app import metrics
from voucher_app.domain.actors import SYSTEM
from voucher_app.domain.errors import LedgerFault, VoucherError
from voucher_app.heartbeat import beating
from voucher_app.services import (
    idempotency,
    leases,
    ledger,
    notifications,
    redemptions,
    tasks,
    vouchers,
    witnessing,
)
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
    """Sequence, sign, and have the latest checkpoint cosigned by the witnesses that have not
    (a witness that did not answer is asked again at the next run)."""
    ledger.sequence_log(parts.uow())
    ledger.sign_checkpoint(parts.uow(), parts.checkpoint_signer())
    if parts.witnesses.witnesses:
        for outcome in witnessing.cosign_checkpoint(parts.uow(), parts.witnesses):
            if not outcome.cosigned:
                log.warning(
                    "witness %s did not cosign: %s %s",
                    outcome.witness,
                    outcome.status,
                    outcome.message,
                )


def expire_vouchers(parts: Wiring) -> None:
    vouchers.expire_all(parts.uow(), SYSTEM)


def remind_of_expiry(parts: Wiring, within: timedelta) -> None:
    notifications.queue_expiry_reminders(parts.uow(), within)


def remind_of_confirmation(parts: Wiring, within: timedelta) -> None:
    redemptions.queue_confirmation_reminders(parts.uow(), within)


def send_notifications(parts: Wiring) -> None:
    while notifications.send_pending(parts.uow(), parts.sender):
        pass


def fail_dead_tasks(parts: Wiring, silent_for: timedelta) -> None:
    for task_id in tasks.fail_stale(parts.uow(), silent_for):
        log.warning("task %s lost its process: failed as worker_died", task_id)


def forget_old_keys(parts: Wiring) -> None:
    idempotency.purge(parts.uow(), parts.idempotency_key_hours)


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
            started, ok = time.monotonic(), False
            try:
                with renewing(app, name, holder, duration):
                    job(parts)
                ok = True
            except Exception as failed:
                if isinstance(failed, VoucherError) and not isinstance(failed, LedgerFault):
                    # a state the job waits out (a log behind, say)
                    log.warning("job %s refused: %s: %s", name, failed.code, failed.message)
                else:  # a fault (the ledger's own among them): logged with its trace
                    log.exception("job %s failed; it runs again at its next interval", name)
            finally:
                metrics.job_ran(name, ok, time.monotonic() - started)

    return run


def renewing(
    app: Flask, name: str, holder: str, duration: timedelta
) -> AbstractContextManager[None]:
    """Renew the lease every third of its duration until the block ends, so that a long run
    (a big expiry batch after downtime) is not joined by another process halfway."""

    def renew() -> bool:
        if leases.acquire(current().uow(), name, holder, duration):
            return True
        log.warning("job %s lost its lease to another process", name)
        return False

    return beating(app, f"lease-{name}", duration.total_seconds() / 3, renew)


def build_scheduler(app: Flask, *, blocking: bool) -> BaseScheduler:
    scheduler: BaseScheduler = (
        BlockingScheduler(timezone=UTC) if blocking else BackgroundScheduler(timezone=UTC)
    )
    config = app.config
    burst = int(config["CHECKPOINT_BURST_ENTRIES"])
    reminder_window = timedelta(days=int(config["EXPIRY_REMINDER_DAYS"]))
    confirmation_window = timedelta(days=int(config["CONFIRMATION_REMINDER_DAYS"]))
    task_silence = timedelta(seconds=float(config["TASK_STALE_SECONDS"]))
    schedule: list[tuple[str, str, Callable[[Wiring], None]]] = [
        (
            "ledger.sequence",
            "SEQUENCER_INTERVAL_SECONDS",
            lambda parts: sequence_and_sign_burst(parts, burst),
        ),
        ("ledger.checkpoint", "CHECKPOINT_INTERVAL_SECONDS", sequence_and_sign),
        ("vouchers.expire", "EXPIRY_INTERVAL_SECONDS", expire_vouchers),
        (
            "vouchers.remind",
            "REMINDER_INTERVAL_SECONDS",
            lambda parts: remind_of_expiry(parts, reminder_window),
        ),
        (
            "redemptions.remind",
            "REMINDER_INTERVAL_SECONDS",
            lambda parts: remind_of_confirmation(parts, confirmation_window),
        ),
        ("notifications.send", "NOTIFICATION_INTERVAL_SECONDS", send_notifications),
        (
            "tasks.fail_dead",
            "TASK_REAP_INTERVAL_SECONDS",
            lambda parts: fail_dead_tasks(parts, task_silence),
        ),
        ("idempotency.purge", "IDEMPOTENCY_PURGE_INTERVAL_SECONDS", forget_old_keys),
    ]
    holder = holder_name()
    for name, setting, job in schedule:
        every = int(config[setting])
        scheduler.add_job(
            leased(app, name, every, job, holder),
            "interval",
            seconds=every,
            id=name,
            max_instances=1,
            coalesce=True,
            # Dead tasks are failed as the runner starts, not an interval later.
            next_run_time=datetime.now(UTC) if name == "tasks.fail_dead" else undefined,
        )
    return scheduler
