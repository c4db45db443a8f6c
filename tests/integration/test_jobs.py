"""Scheduled jobs: leases make each run happen once; the sequencer job signs after a burst."""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask

from tests import factories
from voucher_app import jobs
from voucher_app.clock import FrozenClock
from voucher_app.domain.errors import LogBehindPublished
from voucher_app.domain.programmes import BudgetMove
from voucher_app.ledger.checkpoints import InconsistentLog
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.services import leases, ledger, programmes, vouchers
from voucher_app.signing.keyring import Keyring
from voucher_app.wiring import Wiring, current, unit_of_work

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
        uow = unit_of_work(parts.database, parts.clock)  # no after-commit sequencing
        factories.guangdong(uow)
        programme = factories.programme(uow, fund_fen=1_000_000)
        for _ in range(4):
            programmes.allocate(
                uow,
                programme.id,
                BudgetMove(from_center="440000", to_center="440100", amount_fen=10),
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


def test_a_job_waits_out_a_refusal_but_logs_a_ledger_fault_with_its_trace(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    def behind(parts: Wiring) -> None:
        raise LogBehindPublished("the log is behind the published checkpoint")

    def forked(parts: Wiring) -> None:
        raise InconsistentLog("tree of size 3 does not extend checkpoint 4")

    caplog.set_level(logging.WARNING, logger="voucher_app.jobs")
    jobs.leased(app, "test.behind", 60, behind, "process-1")()
    jobs.leased(app, "test.forked", 60, forked, "process-1")()
    logged = [
        (record.levelno, record.getMessage(), record.exc_info is not None)
        for record in caplog.records
        if record.name == "voucher_app.jobs"
    ]
    assert logged == [
        (
            logging.WARNING,
            "job test.behind refused: log_behind_published: "
            "the log is behind the published checkpoint",
            False,
        ),
        (logging.ERROR, "job test.forked failed; it runs again at its next interval", True),
    ]


def test_a_run_longer_than_its_lease_keeps_it_until_it_ends(app: Flask) -> None:
    seen_by_another: list[bool] = []

    def slow(parts: Wiring) -> None:
        time.sleep(2.5)  # two and a half times the one-second lease
        seen_by_another.append(leases.acquire(parts.uow(), "test.slow", "process-2", MINUTE))

    jobs.leased(app, "test.slow", 1, slow, "process-1")()
    assert seen_by_another == [False]
    with app.app_context():
        time.sleep(1.1)  # no one renews it now
        assert leases.acquire(current().uow(), "test.slow", "process-2", MINUTE)


def test_the_scheduler_runs_every_job(app: Flask) -> None:
    scheduler = jobs.build_scheduler(app, blocking=False)
    assert {job.id for job in scheduler.get_jobs()} == {
        "ledger.sequence",
        "ledger.checkpoint",
        "vouchers.expire",
        "vouchers.remind",
        "redemptions.remind",
        "notifications.send",
        "tasks.fail_dead",
        "idempotency.purge",
    }


@pytest.mark.parametrize(
    ("mode", "expected"), [("leased", ["RAN", "SKIPPED"]), ("direct", ["RAN", "RAN"])]
)
def test_two_processes_expiring_at_once_expire_each_voucher_once(
    app: Flask,
    database_url: str,
    keyring: Keyring,
    clock: FrozenClock,
    mode: str,
    expected: list[str],
) -> None:
    with app.app_context():
        parts = current()
        uow = unit_of_work(parts.database, clock)  # issued on the frozen clock's 2026-03-02
        factories.guangdong(uow)
        programme = factories.voucher_programme(uow, vouchers=6)
        for n in range(6):
            vouchers.claim_voucher(
                uow,
                programme_id=programme.id,
                sme_uscc=factories.sme(uow, n).uscc,
                actor=factories.ADMIN,
                signer=parts.voucher_signer(),
            )
        before = programmes.available_budget(uow, programme.id, "440305")
    # The processes run on the real clock, by which these 90-day vouchers have expired.
    start_at = time.time() + 3
    root = Path(__file__).resolve().parents[2]
    children = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.integration.job_process",
                database_url,
                str(keyring.directory),
                str(start_at),
                "vouchers.expire",
                mode,
            ],
            cwd=root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [child.communicate(timeout=60) for child in children]
    said = sorted(out.strip() for out, _err in outputs)
    assert said == expected, outputs
    with app.app_context():
        uow = unit_of_work(current().database, clock)
        states = {v.status for v in vouchers.list_vouchers(uow)}
        after = programmes.available_budget(uow, programme.id, "440305")
    assert states == {"expired"}
    assert after == before + 6 * programme.voucher_face_value_fen
