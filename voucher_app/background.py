"""Runs long operations off the request: the request records a task (`services.tasks`), hands
the work to a small thread pool and answers at once; the work reports progress to the task,
and its result or failure ends it. A page polls the task.

The pool lives with the application (created by `init_app`, never at import), a few threads
per process: the work is database-bound, and each gunicorn worker runs its own pool.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Flask, current_app

from voucher_app.domain.errors import VoucherError
from voucher_app.services import tasks
from voucher_app.wiring import current

log = logging.getLogger(__name__)
EXTENSION = "voucher_app.background"
THREADS = 2
#: Progress is written at most this often (every so many steps of `total`).
STEPS = 100

#: The job: given a `progress(done, total)` callback, its result (a JSON object).
Job = Callable[[Callable[[int, int], None]], dict[str, Any]]


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = ThreadPoolExecutor(THREADS, thread_name_prefix="task")


def run(kind: str, owner: str, job: Job) -> uuid.UUID:
    """Record a task and run `job` in the background; answer the task's id at once."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    task_id = tasks.start(current().uow(), kind, owner)
    pool: ThreadPoolExecutor = app.extensions[EXTENSION]
    pool.submit(_work, app, task_id, job)
    return task_id


def _work(app: Flask, task_id: uuid.UUID, job: Job) -> None:
    with app.app_context():
        uow = current().uow()
        last = [-1]

        def progress(done: int, total: int) -> None:
            step = max(total // STEPS, 1)
            if done == total or done - last[0] >= step:
                last[0] = done
                tasks.advance(uow, task_id, done, total)

        try:
            result = job(progress)
        except VoucherError as refused:  # a refusal the page explains, like any other
            details = {"message": refused.message, "message_zh": refused.message_zh}
            tasks.fail(uow, task_id, refused.code, details)
        except Exception:  # our fault: the details go to the log, never to the page
            log.exception("task %s failed", task_id)
            tasks.fail(uow, task_id, "internal_error")
        else:
            try:
                tasks.finish(uow, task_id, result)
            except Exception:  # a result the database refused: the page must not wait forever
                log.exception("task %s could not record its result", task_id)
                tasks.fail(uow, task_id, "internal_error")
