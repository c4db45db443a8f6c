"""Background tasks as the database keeps them: started by a request that returns at once,
advanced by the worker doing the job, read by the page that polls for them.

Each step is a short transaction of its own, so the page sees progress while the job runs.
While it runs, its process `beat`s every few seconds; a running task whose heartbeat stopped
lost its process (a killed worker, a crash), and `fail_stale` ends it as failed
(`worker_died`). A task keeps what it was started with (`inputs`) until it ends well, so that
its owner can start it again after such a failure.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import update

from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.models import Task
from voucher_app.persistence.uow import read_only, transaction


@dataclass(frozen=True, slots=True)
class TaskView:
    id: uuid.UUID
    kind: str
    owner: str
    status: str  # running, done or failed
    done: int
    total: int
    result: dict[str, Any] | None
    error: str | None

    @property
    def may_start_again(self) -> bool:
        """A task that failed on our side (not a refusal of what it was given) may be started
        again by its owner."""
        return self.status == "failed" and self.error in AGAIN_AFTER


#: The failures a new start may get past: the process died, or an error of ours.
WORKER_DIED = "worker_died"
AGAIN_AFTER = frozenset({WORKER_DIED, "internal_error"})


@dataclass(frozen=True, slots=True)
class TaskInputs:
    """What a task was started with: its kind, its form's values, its uploaded file."""

    kind: str
    owner: str
    params: dict[str, Any]
    upload: bytes | None


@transaction
def start(
    uow: UnitOfWork,
    kind: str,
    owner: str,
    *,
    runner: str,
    params: dict[str, Any] | None = None,
    upload: bytes | None = None,
) -> uuid.UUID:
    now = uow.clock.now()
    task = Task(
        public_id=uuid.uuid4(),
        kind=kind,
        owner=owner,
        status="running",
        done=0,
        total=0,
        params=params or {},
        upload=upload,
        runner=runner,
        heartbeat_at=now,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(task)
    return task.public_id


@transaction
def beat(uow: UnitOfWork, task_id: uuid.UUID) -> bool:
    """The task's process is alive; False once the task is no longer running (it was failed as
    stale meanwhile, say), so the beats stop."""
    alive = uow.session.execute(
        update(Task)
        .where(Task.public_id == task_id, Task.status == "running")
        .values(heartbeat_at=uow.clock.now())
    )
    return bool(alive.rowcount)  # type: ignore[attr-defined]


@transaction
def fail_stale(uow: UnitOfWork, silent_for: timedelta) -> list[uuid.UUID]:
    """End as failed (`worker_died`) every running task silent for `silent_for`: its process
    died. Answer their ids."""
    now = uow.clock.now()
    stale = list(
        uow.session.scalars(
            update(Task)
            .where(Task.status == "running", Task.heartbeat_at < now - silent_for)
            .values(status="failed", error=WORKER_DIED, result=None, updated_at=now)
            .returning(Task.public_id)
        )
    )
    return stale


@read_only
def inputs(uow: UnitOfWork, task_id: uuid.UUID) -> TaskInputs:
    task = uow.tasks.by_public_id(task_id)
    return TaskInputs(task.kind, task.owner, task.params or {}, task.upload)


@transaction
def advance(uow: UnitOfWork, task_id: uuid.UUID, done: int, total: int) -> None:
    _set(uow, task_id, done=done, total=total)


@transaction
def finish(uow: UnitOfWork, task_id: uuid.UUID, result: dict[str, Any]) -> None:
    """The task ended well: its result is kept, its uploaded file no longer."""
    _set(uow, task_id, status="done", result=result, upload=None)


@transaction
def fail(
    uow: UnitOfWork, task_id: uuid.UUID, error: str, details: dict[str, Any] | None = None
) -> None:
    """The task stopped: `error` is a stable code; `details` what a page may show of it."""
    _set(uow, task_id, status="failed", error=error[:2000], result=details)


def _set(uow: UnitOfWork, task_id: uuid.UUID, **values: Any) -> None:
    uow.session.execute(
        update(Task).where(Task.public_id == task_id).values(updated_at=uow.clock.now(), **values)
    )


@read_only
def get_task(uow: UnitOfWork, task_id: uuid.UUID) -> TaskView:
    task = uow.tasks.by_public_id(task_id)
    return TaskView(
        task.public_id,
        task.kind,
        task.owner,
        task.status,
        task.done,
        task.total,
        task.result,
        task.error,
    )
