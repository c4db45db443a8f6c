"""Finance staff's page per center: build a settlement batch of a programme's approved redemptions,
approve another officer's batch over the limit, download its pain.001, CSV or bank bulk-transfer
sheet (which freezes it), cancel one nothing was paid from, upload the bank's statement and read
(or download) the reconciliation report — over the services the API uses."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext
from werkzeug.wrappers import Response

from voucher_app import background
from voucher_app.domain.errors import InvalidInput, VoucherError
from voucher_app.domain.policy import Action
from voucher_app.http.auth import signed_in
from voucher_app.http.downloads import FILES, TABLES, payment_file, reconciliation_file
from voucher_app.http.errors import status_of
from voucher_app.http.policy import center_in, scope_by
from voucher_app.http.uploads import read_upload, takes_file
from voucher_app.services import access, programmes, reconciliation, settlement
from voucher_app.web.guard import page
from voucher_app.web.messages import attempt, explain
from voucher_app.wiring import current

blp = Blueprint("finance", __name__, url_prefix="/finance")
CENTER = center_in("code")
#: The export's refusal when the programme has no account to pay from (`services.settlement`).
FUNDING_ACCOUNT_MISSING = "funding_account_missing"
BATCH = scope_by(access.batch_scope, "batch_id")
#: What reconciliation made of a statement line (`services.reconciliation`), and of an item.
STATES = {
    "paid": lazy_gettext("paid"),
    "partial": lazy_gettext("partly paid"),
    "overpaid": lazy_gettext("overpaid"),
    "returned": lazy_gettext("returned"),
    "refunded": lazy_gettext("refunded"),
    "unmatched": lazy_gettext("unmatched"),
    "duplicate": lazy_gettext("seen before"),
    "unpaid": lazy_gettext("unpaid"),
    "batch": lazy_gettext("batch booked"),
    "review": lazy_gettext("to review"),
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
        second_approval_over_fen=current().second_approval_over_fen,
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


@blp.post("/batches/<uuid:batch_id>/approval")
@page(Action.SETTLE, scope=BATCH)
def approve(batch_id: uuid.UUID) -> Response:
    uow, actor = current().uow(), signed_in().actor
    attempt(
        lambda: settlement.approve_batch(uow, batch_id, actor),
        lambda batch: gettext(
            "Batch %(reference)s approved for export.", reference=batch.reference
        ),
    )
    return redirect(url_for(".overview", code=settlement.get_batch(uow, batch_id).center))


@blp.post("/batches/<uuid:batch_id>/export/<string:kind>")
@page(Action.SETTLE, scope=BATCH)
def export(batch_id: uuid.UUID, kind: str) -> Response:
    """The payment file, as a download; exporting freezes the batch. A refusal (duties not
    separated, a second approval missing, a provider's bank details) comes back to the page."""
    if kind not in FILES:
        raise InvalidInput("a payment file is pain001, csv or bulk", field="kind")
    parts, actor = current(), signed_in().actor
    try:
        files = settlement.export_batch(
            parts.uow(), batch_id, actor, second_approval_over_fen=parts.second_approval_over_fen
        )
    except VoucherError as refused:
        center = settlement.get_batch(parts.uow(), batch_id).center
        if refused.rule == FUNDING_ACCOUNT_MISSING:
            return _funding_account_missing(refused, center)
        flash(explain(refused), "error")
        return redirect(url_for(".overview", code=center))
    flash(gettext("Batch %(reference)s exported.", reference=files.batch.reference), "success")
    return payment_file(files, kind)


def _funding_account_missing(refused: VoucherError, center: str) -> Response:
    """The refusal says what is missing and leads to the page where it is set (its owner's
    administrators set it), and back to the batches."""
    steps = [
        (
            url_for(
                "center_programmes.funding_account",
                programme_id=refused.details["programme"],
            ),
            gettext("The programme's funding account"),
        ),
        (url_for(".overview", code=center), gettext("Back to settlement")),
    ]
    page = render_template("web/error.html", message=explain(refused), next_steps=steps)
    return Response(page, status_of(refused), mimetype="text/html")


@blp.get("/<string:code>/reconciliation.<string:kind>")
@page(Action.READ_CENTER, scope=CENTER)
def reconciliation_download(code: str, kind: str) -> Response:
    if kind not in TABLES:
        abort(404)
    return reconciliation_file(reconciliation.reconciliation_report(current().uow(), code), kind)


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
    params = {
        "code": code,
        "filename": filename,
        "mapping": request.form.get("mapping") or None,
        "account": request.form.get("account") or None,
    }
    task = background.run(STATEMENT, signed_in().username, params, content)
    return redirect(url_for("tasks.task_page", task_id=task))


def _statement_job(params: dict[str, Any], upload: bytes | None) -> background.Job:
    parts, actor = current(), signed_in().actor

    def job(progress: Callable[[int, int], None]) -> dict[str, Any]:
        result = reconciliation.import_statement(
            parts.uow(),
            filename=params["filename"],
            content=upload or b"",
            actor=actor,
            center_code=params["code"],
            mapping=params["mapping"],
            account=params["account"],
            max_rows=parts.max_table_rows,
        )
        return {
            "lines": result.lines,
            "outcomes": result.outcomes,
            "replayed": result.replayed,
            "skipped": list(result.skipped),
            "code": params["code"],
        }

    return job


STATEMENT = background.Kind("statement", _statement_job)
