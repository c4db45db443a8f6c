"""Background tasks that finish: a running task says it is alive while its job runs; one whose
process died (its heartbeat stopped) is failed as `worker_died` by the job that looks for them,
and keeps what it was started with so that it can be started again."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select

from voucher_app import background, jobs
from voucher_app.clock import FrozenClock
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.models import Task
from voucher_app.persistence.uow import read_only
from voucher_app.services import tasks
from voucher_app.wiring import current

SILENCE = timedelta(seconds=30)


@read_only
def heartbeat_of(uow: UnitOfWork, task_id: object) -> Any:
    return uow.session.scalar(select(Task.heartbeat_at).where(Task.public_id == task_id))


def test_a_silent_running_task_is_failed_and_keeps_its_inputs(
    uow: UnitOfWork, clock: FrozenClock
) -> None:
    params = {"code": "440300", "filename": "list.csv"}
    silent = tasks.start(uow, "issuance", "clerk", runner="a:1", params=params, upload=b"uscc\n")
    clock.advance(timedelta(seconds=20))
    alive = tasks.start(uow, "verify", "clerk", runner="a:1")
    ended = tasks.start(uow, "verify", "clerk", runner="a:1")
    tasks.finish(uow, ended, {"ok": True})
    clock.advance(timedelta(seconds=11))
    assert tasks.beat(uow, alive)  # 31 s after the first started, 11 s after this one

    assert tasks.fail_stale(uow, SILENCE) == [silent]
    failed = tasks.get_task(uow, silent)
    assert (failed.status, failed.error, failed.may_start_again) == ("failed", "worker_died", True)
    assert tasks.get_task(uow, alive).status == "running"
    assert tasks.get_task(uow, ended).status == "done"
    assert not tasks.beat(uow, silent)  # a failed task's beats stop
    assert tasks.inputs(uow, silent) == tasks.TaskInputs("issuance", "clerk", params, b"uscc\n")
    assert tasks.fail_stale(uow, SILENCE) == []  # once


def test_a_refused_task_may_not_start_again_and_a_finished_one_drops_its_upload(
    uow: UnitOfWork,
) -> None:
    refused = tasks.start(uow, "issuance", "clerk", runner="a:1", upload=b"x")
    tasks.fail(uow, refused, "invalid_input", {"message": "bad", "rule": None, "params": {}})
    assert not tasks.get_task(uow, refused).may_start_again
    done = tasks.start(uow, "issuance", "clerk", runner="a:1", upload=b"x")
    tasks.finish(uow, done, {})
    assert tasks.inputs(uow, done).upload is None


def test_the_job_fails_the_tasks_whose_process_died(app: Flask) -> None:
    with app.app_context():
        parts = current()
        task_id = tasks.start(parts.uow(), "verify", "clerk", runner="gone:1")
        jobs.fail_dead_tasks(parts, timedelta(0))
        assert tasks.get_task(parts.uow(), task_id).error == "worker_died"


def test_a_running_job_beats_until_it_ends(database_url: str, app: Flask) -> None:
    app.config["TASK_STALE_SECONDS"] = 0.6  # a beat every 0.1 s
    release = threading.Event()

    def build(params: dict[str, Any], upload: bytes | None) -> background.Job:
        def job(progress: Any) -> dict[str, Any]:
            release.wait(10)
            return {"params": params}

        return job

    with app.test_request_context():
        task_id = background.run(background.Kind("slow", build), "clerk", {"n": 1})
        uow = current().uow()
        first = heartbeat_of(uow, task_id)
        deadline = time.monotonic() + 5
        while heartbeat_of(uow, task_id) == first and time.monotonic() < deadline:
            time.sleep(0.05)
        assert heartbeat_of(uow, task_id) > first
        release.set()
        while tasks.get_task(uow, task_id).status == "running" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert tasks.get_task(uow, task_id).result == {"params": {"n": 1}}
