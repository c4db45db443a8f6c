"""Finance staff's page per center: build a settlement batch of a programme's approved claims,
download its pain.001 or CSV file (which freezes it), cancel one nothing was paid from, upload
the bank's statement and read the reconciliation report — over the services the API uses."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask import Response as FileResponse
from flask_babel import gettext, lazy_gettext
from werkzeug.wrappers import Response

from voucher_app import background
from voucher_app.api.auth import center_in, scope_by, signed_in
from voucher_app.api.settlement import FILES
from voucher_app.api.uploads import read_upload, takes_file
from voucher_app.domain.errors import InvalidInput, VoucherError
from voucher_app.domain.policy import Action
from voucher_app.services import access, programmes, reconciliation, settlement
from voucher_app.web import errors
from voucher_app.web.guard import page
from voucher_app.web.messages import attempt, explain
from voucher_app.wiring import current

blp = Blueprint("finance", __name__, url_prefix="/finance")
errors.as_pages(blp)
CENTER = center_in("code")
BATCH = scope_by(access.batch_scope, "batch_id")
#: What reconciliation made of a statement line (`services.reconciliation`), and of an item.
STATES = {
    "paid": lazy_gettext("paid"),
    "partial": lazy_gettext("partly paid"),
    "overpaid": lazy_gettext("overpaid"),
    "returned": lazy_gettext("returned"),
    "unmatched": lazy_gettext("unmatched"),
    "duplicate": lazy_gettext("seen before"),
    "unpaid": lazy_gettext("unpaid"),
}


@blp.get("/<string:code>")
@page(Action.READ_CENTER, scope=CENTER)
def overview(code: str) -> str:
    uow = current().uow()
    return render_template(
        "web/finance/overview.html",
        code=code,
        programmes=programmes.list_programmes(uow),
        batches=settlement.batches_of(uow, code),
        report=reconciliation.reconciliation_report(uow, code),
        states=STATES,
    )


@blp.post("/<string:code>/batches")
@page(Action.SETTLE, scope=CENTER)
def build(code: str) -> Response:
    try:
        programme_id = uuid.UUID(request.form.get("programme", ""))
    except ValueError:
        flash(gettext("Choose a programme."), "error")
    else:
        actor = signed_in().actor
        attempt(
            lambda: settlement.build_batch(current().uow(), programme_id, code, actor),
            lambda batch: gettext("Batch %(reference)s built.", reference=batch.reference),
        )
    return redirect(url_for(".overview", code=code))


@blp.post("/batches/<uuid:batch_id>/export/<string:kind>")
@page(Action.SETTLE, scope=BATCH)
def export(batch_id: uuid.UUID, kind: str) -> Response:
    """The payment file, as a download; exporting freezes the batch."""
    if kind not in FILES:
        raise InvalidInput("a payment file is pain001 or csv", field="kind")
    files = settlement.export_batch(current().uow(), batch_id, signed_in().actor)
    mimetype, suffix = FILES[kind]
    response = FileResponse(files.pain001 if kind == "pain001" else files.csv, mimetype=mimetype)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{files.batch.reference}.{suffix}"'
    )
    return response


@blp.post("/batches/<uuid:batch_id>/cancel")
@page(Action.SETTLE, scope=BATCH)
def cancel(batch_id: uuid.UUID) -> Response:
    uow, actor, reason = current().uow(), signed_in().actor, request.form.get("reason", "")
    attempt(
        lambda: settlement.cancel_batch(uow, batch_id, reason, actor),
        lambda batch: gettext("Batch %(reference)s cancelled.", reference=batch.reference),
    )
    return redirect(url_for(".overview", code=settlement.get_batch(uow, batch_id).center))


@blp.post("/<string:code>/statements")
@page(Action.SETTLE, scope=CENTER)
@takes_file
def upload_statement(code: str) -> Response:
    """Read the upload and reconcile it in the background; the task's page tells the outcome."""
    try:
        filename, content = read_upload(request.files.get("statement"))
    except VoucherError as refused:
        flash(explain(refused), "error")
        return redirect(url_for(".overview", code=code))
    parts, actor = current(), signed_in().actor
    mapping = request.form.get("mapping") or None

    def job(progress: Callable[[int, int], None]) -> dict[str, Any]:
        result = reconciliation.import_statement(
            parts.uow(),
            filename=filename,
            content=content,
            actor=actor,
            center_code=code,
            mapping=mapping,
        )
        return {
            "lines": result.lines,
            "outcomes": result.outcomes,
            "replayed": result.replayed,
            "code": code,
        }

    task = background.run("statement", actor.id, job)
    return redirect(url_for("tasks.task_page", task_id=task))
