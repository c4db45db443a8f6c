"""The page of a long operation: its progress bar, polled by the page's script, then its
result. Only the user who started it (or an admin) sees it; a task that failed on our side
(its process died) can be started again by the user who started it, if they still may do what
it does."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response

from voucher_app import background
from voucher_app.domain.actors import Role
from voucher_app.domain.errors import UnknownTask
from voucher_app.domain.policy import Action
from voucher_app.http.auth import signed_in
from voucher_app.http.policy import ScopeOf, authorize
from voucher_app.services import tasks
from voucher_app.services.tasks import TaskView
from voucher_app.web import center, finance, public
from voucher_app.web.center import ROW_OUTCOMES
from voucher_app.web.finance import STATES
from voucher_app.web.guard import page
from voucher_app.web.messages import explain_failure
from voucher_app.wiring import current

blp = Blueprint("tasks", __name__, url_prefix="/tasks")
blp.add_app_template_global(explain_failure)  # what a failed task's page says (`progress.html`)


@dataclass(frozen=True)
class Again:
    """A kind of task that can be started again, and what starting it asks of its owner: the
    same as the route that first started it (its action, where its values say)."""

    kind: background.Kind
    action: Action
    scope: ScopeOf | None


AGAIN = {
    again.kind.name: again
    for again in (
        Again(public.VERIFY, Action.READ_CENTER, public.own_center),
        Again(finance.STATEMENT, Action.SETTLE, finance.CENTER),
        Again(center.ISSUANCE, Action.ISSUE, center.CENTER),
    )
}


@blp.get("/<uuid:task_id>")
@page(Action.READ_OWN_ACCOUNT)
def task_page(task_id: uuid.UUID) -> str:
    task = _own(task_id)
    again = task.may_start_again and task.kind in AGAIN and task.owner == signed_in().username
    return render_template(
        f"web/tasks/{task.kind}.html",
        task=task,
        again=again,
        outcomes=ROW_OUTCOMES,
        states=STATES,
    )


@blp.get("/<uuid:task_id>/progress")
@page(Action.READ_OWN_ACCOUNT)
def progress(task_id: uuid.UUID) -> dict[str, Any]:
    task = _own(task_id)
    return {"status": task.status, "done": task.done, "total": task.total}


@blp.post("/<uuid:task_id>/again")
@page(Action.READ_OWN_ACCOUNT)
def start_again(task_id: uuid.UUID) -> Response:
    """Start a task that failed on our side again, with what it was first started with."""
    task = _own(task_id)
    again = AGAIN.get(task.kind)
    if again is None or not task.may_start_again or task.owner != signed_in().username:
        flash(gettext("Only its owner can start this task again, after it failed."), "error")
        return redirect(url_for(".task_page", task_id=task_id))
    started = tasks.inputs(current().uow(), task_id)
    authorize(again.action, again.scope, started.params)
    new = background.run(again.kind, task.owner, started.params, started.upload)
    return redirect(url_for(".task_page", task_id=new))


def _own(task_id: uuid.UUID) -> TaskView:
    """The task, if the signed-in user started it (an admin sees any); others learn nothing."""
    task = tasks.get_task(current().uow(), task_id)
    principal = signed_in()
    if task.owner != principal.username and principal.role is not Role.ADMIN:
        raise UnknownTask(f"no task {task_id}", task=str(task_id))
    return task
