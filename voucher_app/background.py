"""Runs long operations off the request: the request records a task (`services.tasks`), hands
the work to a small thread pool and answers at once; the work reports progress to the task,
and its result or failure ends it. A page polls the task.

A task says it is alive every sixth of `TASK_STALE_SECONDS` while it runs; when its process
dies, the beats stop and the job runner fails it (`jobs`). What a task is started with (a
`Kind`'s form values and uploaded file) is kept with it, so its owner can start it again
(`run_again`).

The pool lives with the application (created by `init_app`, never at import), a few threads
per process: the work is database-bound, and each gunicorn worker runs its own pool.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app

from voucher_app.domain.errors import LedgerFault, VoucherError
from voucher_app.heartbeat import beating
from voucher_app.services import tasks
from voucher_app.wiring import current

log = logging.getLogger(__name__)
EXTENSION = "voucher_app.background"
THREADS = 2
#: Progress is written at most this often (every so many steps of `total`).
STEPS = 100
#: Beats per `TASK_STALE_SECONDS`: a few may fail before the task is taken as dead.
BEATS = 6

#: The job: given a `progress(done, total)` callback, its result (a JSON object).
Job = Callable[[Callable[[int, int], None]], dict[str, Any]]


@dataclass(frozen=True)
class Kind:
    """A kind of task: its name, and how its job is built — in the request that starts it, by
    its owner — from its form's values and its uploaded file."""

    name: str
    build: Callable[[dict[str, Any], bytes | None], Job]


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = ThreadPoolExecutor(THREADS, thread_name_prefix="task")


def run(kind: Kind, owner: str, params: dict[str, Any], upload: bytes | None = None) -> uuid.UUID:
    """Record a task and run its job in the background; answer the task's id at once."""
    job = kind.build(params, upload)
    runner = f"{socket.gethostname()}:{os.getpid()}"
    task_id = tasks.start(
        current().uow(), kind.name, owner, runner=runner, params=params, upload=upload
    )
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    pool: ThreadPoolExecutor = app.extensions[EXTENSION]
    pool.submit(_work, app, task_id, job)
    return task_id


def _work(app: Flask, task_id: uuid.UUID, job: Job) -> None:
    with app.app_context():
        uow = current().uow()
        last = [-1]
        every = float(app.config["TASK_STALE_SECONDS"]) / BEATS

        def progress(done: int, total: int) -> None:
            step = max(total // STEPS, 1)
            if done == total or done - last[0] >= step:
                last[0] = done
                tasks.advance(uow, task_id, done, total)

        def alive() -> bool:  # on the beat's thread: a unit of work of its own
            return tasks.beat(current().uow(), task_id)

        try:
            with beating(app, f"task-{task_id}", every, alive):
                result = job(progress)
        except Exception as failed:
            if isinstance(failed, VoucherError) and not isinstance(failed, LedgerFault):
                # a refusal the page explains, like any other
                kept = {"message": failed.message, "rule": failed.rule, "params": _plain(failed)}
                tasks.fail(uow, task_id, failed.code, kept)
            else:  # our fault: the details go to the log, never to the page
                log.exception("task %s failed", task_id)
                tasks.fail(uow, task_id, "internal_error")
        else:
            try:
                tasks.finish(uow, task_id, result)
            except Exception:  # a result the database refused: the page must not wait forever
                log.exception("task %s could not record its result", task_id)
                tasks.fail(uow, task_id, "internal_error")


def _plain(refused: VoucherError) -> dict[str, Any]:
    """A refusal's parameters as the task keeps them (JSON): a date, say, as its ISO text."""
    return {
        name: value if value is None or isinstance(value, str | int | float | bool) else str(value)
        for name, value in refused.params.items()
    }
