"""Scheduled jobs: leases make each run happen once; the sequencer job signs after a burst."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask

from tests import factories
from voucher_app import jobs
from voucher_app.clock import FrozenClock
from voucher_app.persistence.uow import UnitOfWork
from voucher_app.services import leases, ledger, programmes
from voucher_app.wiring import current

MINUTE = timedelta(minutes=1)


def test_a_lease_is_held_by_one_holder_until_it_expires(
    uow: UnitOfWork, clock: FrozenClock
) -> None:
    assert leases.acquire(uow, "ledger.checkpoint", "host-a:1", MINUTE)
    assert not leases.acquire(uow, "ledger.checkpoint", "host-b:2", MINUTE)
    assert leases.acquire(uow, "ledger.checkpoint", "host-a:1", MINUTE)  # the holder renews
    assert leases.acquire(uow, "other.job", "host-b:2", MINUTE)  # leases are per job
    clock.advance(MINUTE + timedelta(seconds=1))
    assert leases.acquire(uow, "ledger.checkpoint", "host-b:2", MINUTE)
    assert not leases.acquire(uow, "ledger.checkpoint", "host-a:1", MINUTE)


def test_the_sequencer_job_signs_early_after_a_burst(app: Flask) -> None:
    with app.app_context():
        parts = current()
        uow = UnitOfWork(parts.database, parts.clock)  # no after-commit sequencing
        factories.guangdong(uow)
        programme = factories.programme(uow, fund_fen=1_000_000)
        for _ in range(4):
            programmes.allocate(
                uow,
                programme.id,
                from_center="440000",
                to_center="440100",
                amount_fen=10,
                actor=factories.ADMIN,
            )
        jobs.sequence_and_sign_burst(parts, burst=10)
        assert ledger.unsigned_entries(uow) == 5  # sequenced, but below the burst: not signed
        jobs.sequence_and_sign_burst(parts, burst=5)
        assert ledger.latest_checkpoint(uow).tree_size == 5
        assert ledger.unsigned_entries(uow) == 0


def test_a_leased_job_runs_in_one_of_two_schedulers(app: Flask) -> None:
    runs: list[str] = []
    first = jobs.leased(app, "test.job", 60, lambda parts: runs.append("first"), "process-1")
    second = jobs.leased(app, "test.job", 60, lambda parts: runs.append("second"), "process-2")
    first()
    second()
    first()
    assert runs == ["first", "first"]


def test_the_scheduler_has_the_sequencer_and_checkpoint_jobs(app: Flask) -> None:
    scheduler = jobs.build_scheduler(app, blocking=False)
    assert {job.id for job in scheduler.get_jobs()} == {"ledger.sequence", "ledger.checkpoint"}
