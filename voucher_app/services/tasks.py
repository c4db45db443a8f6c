"""Background tasks as the database keeps them: started by a request that returns at once,
advanced by the worker doing the job, read by the page that polls for them.

Each step is a short transaction of its own, so the page sees progress while the job runs.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update

from voucher_app.domain.errors import UnknownTask
from voucher_app.persistence.models import Task
from voucher_app.persistence.uow import UnitOfWork, read_only, transaction


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


@transaction
def start(uow: UnitOfWork, kind: str, owner: str, total: int = 0) -> uuid.UUID:
    now = uow.clock.now()
    task = Task(
        public_id=uuid.uuid4(),
        kind=kind,
        owner=owner,
        status="running",
        done=0,
        total=total,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(task)
    return task.public_id


@transaction
def advance(uow: UnitOfWork, task_id: uuid.UUID, done: int, total: int) -> None:
    _set(uow, task_id, done=done, total=total)


@transaction
def finish(uow: UnitOfWork, task_id: uuid.UUID, result: dict[str, Any]) -> None:
    _set(uow, task_id, status="done", result=result)


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
    task = uow.session.scalar(select(Task).where(Task.public_id == task_id))
    if task is None:
        raise UnknownTask(f"no task {task_id}", task=str(task_id))
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
