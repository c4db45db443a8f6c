"""The page of a long operation: its progress bar, polled by the page's script, then its
result. Only the user who started it (or an admin) sees it."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, render_template

from voucher_app.api.auth import signed_in
from voucher_app.domain.actors import Role
from voucher_app.domain.errors import UnknownTask
from voucher_app.domain.policy import Action
from voucher_app.services import tasks
from voucher_app.services.tasks import TaskView
from voucher_app.web import errors
from voucher_app.web.center import ROW_OUTCOMES
from voucher_app.web.finance import STATES
from voucher_app.web.guard import page
from voucher_app.wiring import current

blp = Blueprint("tasks", __name__, url_prefix="/tasks")
errors.as_pages(blp)


@blp.get("/<uuid:task_id>")
@page(Action.READ_OWN_ACCOUNT)
def task_page(task_id: uuid.UUID) -> str:
    task = _own(task_id)
    return render_template(
        f"web/tasks/{task.kind}.html", task=task, outcomes=ROW_OUTCOMES, states=STATES
    )


@blp.get("/<uuid:task_id>/progress")
@page(Action.READ_OWN_ACCOUNT)
def progress(task_id: uuid.UUID) -> dict[str, Any]:
    task = _own(task_id)
    return {"status": task.status, "done": task.done, "total": task.total}


def _own(task_id: uuid.UUID) -> TaskView:
    """The task, if the signed-in user started it (an admin sees any); others learn nothing."""
    task = tasks.get_task(current().uow(), task_id)
    principal = signed_in()
    if task.owner != principal.username and principal.role is not Role.ADMIN:
        raise UnknownTask(f"no task {task_id}", task=str(task_id))
    return task
