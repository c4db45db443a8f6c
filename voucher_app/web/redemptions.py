"""One page per redemption, for everyone it concerns — its SME, its provider, the staff of the
voucher's center and the centers above — and nobody else (the API's scope,
`access.redemption_scope`): who it is between, what was delivered and invoiced, the subsidy, the
evidence files, and its timeline. The page offers the steps the viewer may take at this point,
each posting to the page route that takes it (the SME's, the reviewer's, the provider's).
"""

from __future__ import annotations

import uuid

from flask import Blueprint, Response, render_template
from flask_babel import lazy_gettext

from voucher_app.domain.errors import InvalidTransition
from voucher_app.domain.money import format_yuan
from voucher_app.domain.policy import REDEMPTION_STEPS, Action
from voucher_app.domain.reasons import MAX_REASON
from voucher_app.domain.redemptions import Step, next_status
from voucher_app.http.auth import current_principal
from voucher_app.http.policy import scope_by
from voucher_app.services import access, evidence, providers, redemption_record
from voucher_app.services.redemptions import RedemptionView
from voucher_app.web.guard import page
from voucher_app.wiring import current

blp = Blueprint("redemption_pages", __name__, url_prefix="/redemptions")
REDEMPTION = scope_by(access.redemption_scope, "redemption_id")

#: What each moment of the timeline says, by its `what` (`services.redemption_record.Moment`).
MOMENTS = {
    "submitted": lazy_gettext("Submitted by the provider"),
    "resubmitted": lazy_gettext("Corrected and submitted again by the provider"),
    "confirmed": lazy_gettext("Confirmed by the SME"),
    "disputed": lazy_gettext("Disputed by the SME"),
    "approved": lazy_gettext("Approved by the service center"),
    "rejected": lazy_gettext("Rejected by the service center"),
    "batched": lazy_gettext("Put in payment batch %(reference)s"),
    "exported": lazy_gettext("Sent to the bank as payment %(reference)s"),
    "paid": lazy_gettext("Paid: the bank's statement shows %(amount)s"),
    "returned": lazy_gettext("Returned by the bank: %(amount)s"),
}
KINDS = {"invoice": lazy_gettext("Invoice"), "contract": lazy_gettext("Contract")}


@blp.get("/<uuid:redemption_id>")
@page(Action.READ_CONCERNED, scope=REDEMPTION)
def redemption_page(redemption_id: uuid.UUID) -> str:
    uow = current().uow()
    record = redemption_record.redemption_record(uow, redemption_id)
    steps = _offered(record.redemption)
    products = []
    if Step.RESUBMIT in steps:
        products = providers.products_of(uow, record.redemption.provider_id)
    return render_template(
        "web/redemption.html",
        record=record,
        redemption=record.redemption,
        steps=steps,
        products=products,
        moment=_said,
        kinds=KINDS,
        max_reason=MAX_REASON,
    )


def _offered(redemption: RedemptionView) -> set[Step]:
    """The steps the signed-in viewer may take on the redemption now: those its status allows
    (and, for an approval, its confirmation window) and the access policy grants them."""
    parts = current()
    now = parts.clock.now()
    offered = set()
    for step, action in REDEMPTION_STEPS.items():
        try:
            next_status(step, redemption.status, confirm_by=redemption.confirm_by, now=now)
        except InvalidTransition:
            continue
        if access.permits_any(
            parts.uow(),
            current_principal(),
            [action],
            lambda uow: access.redemption_scope(uow, redemption.id),
        ):
            offered.add(step)
    return offered


def _said(moment: redemption_record.Moment) -> str:
    amount = "" if moment.amount_fen is None else format_yuan(moment.amount_fen)
    return str(MOMENTS[moment.what]) % {"reference": moment.reference or "", "amount": amount}


@blp.get("/<uuid:redemption_id>/evidence/<string(length=64):sha256>")
@page(Action.READ_CONCERNED, scope=REDEMPTION)
def evidence_download(redemption_id: uuid.UUID, sha256: str) -> Response:
    """An evidence file, as an attachment of the type its bytes showed when it was kept (a
    PDF, JPEG or PNG), never shown inside the site's pages."""
    found = evidence.evidence_file(current().uow(), redemption_id, sha256)
    response = Response(found.content, content_type=found.media_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{found.filename}"'
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
