"""The center staff's work: the review queue (claims the SMEs have confirmed on vouchers of the
center and those below it, oldest first, each approved or rejected with a reason, or many
approved at once) and the approvals (providers that applied, accounts that registered)."""

from __future__ import annotations

import uuid

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from werkzeug.wrappers import Response

from voucher_app.api.auth import center_in, scope_by, signed_in
from voucher_app.domain.errors import PermissionDenied, VoucherError
from voucher_app.domain.policy import Action
from voucher_app.domain.providers import ProviderDecision
from voucher_app.domain.reasons import MAX_REASON
from voucher_app.domain.users import UserStatus
from voucher_app.services import access, centers, claim_lists, providers, redemptions, users
from voucher_app.services import approvals as approvals_service
from voucher_app.web import errors
from voucher_app.web.guard import on_this_site, page
from voucher_app.web.messages import explain
from voucher_app.wiring import current

blp = Blueprint("center", __name__, url_prefix="/center")
errors.as_pages(blp)
CENTER = center_in("code")
CLAIM = scope_by(access.claim_scope, "redemption_id")
PROVIDER = scope_by(access.provider_scope, "provider_id")
ACCOUNT = scope_by(access.user_scope, "user_id")


@blp.get("/")
@page(Action.READ_OWN_ACCOUNT)
def mine() -> Response:
    """A center account lands on its center's review queue (other accounts have none)."""
    return redirect(url_for(".queue", code=_own_center()))


def _own_center() -> str:
    center_id = signed_in().center_id
    if center_id is None:
        raise PermissionDenied("only a center's account has a review queue and approvals")
    return centers.code_of(current().uow(), center_id)


@blp.get("/<string:code>/review")
@page(Action.REVIEW, scope=CENTER)
def queue(code: str) -> str:
    uow = current().uow()
    return render_template(
        "web/center/queue.html",
        code=code,
        claims=claim_lists.review_queue(uow, code),
        max_reason=MAX_REASON,
    )


@blp.post("/<string:code>/review/approve")
@page(Action.REVIEW, scope=CENTER)
def approve_many(code: str) -> Response:
    """Approve the ticked claims; only claims in this center's queue are touched."""
    uow = current().uow()
    waiting = {claim.id for claim in claim_lists.review_queue(uow, code)}
    chosen = [uuid.UUID(value) for value in request.form.getlist("claim") if _is_uuid(value)]
    approved = 0
    for claim_id in chosen:
        if claim_id in waiting:
            redemptions.approve_redemption(uow, claim_id, signed_in().actor)
            approved += 1
    message = ngettext("%(num)d claim approved.", "%(num)d claims approved.", approved)
    flash(message, "success" if approved else "error")
    return redirect(url_for(".queue", code=code))


@blp.post("/claims/<uuid:redemption_id>/approve")
@page(Action.REVIEW, scope=CLAIM)
def approve(redemption_id: uuid.UUID) -> Response:
    return _decide(redemption_id, approve=True)


@blp.post("/claims/<uuid:redemption_id>/reject")
@page(Action.REVIEW, scope=CLAIM)
def reject(redemption_id: uuid.UUID) -> Response:
    return _decide(redemption_id, approve=False)


def _decide(redemption_id: uuid.UUID, *, approve: bool) -> Response:
    uow, actor = current().uow(), signed_in().actor
    try:
        if approve:
            claim = redemptions.approve_redemption(uow, redemption_id, actor)
            flash(
                gettext("Claim on voucher %(code)s approved.", code=claim.voucher_code), "success"
            )
        else:
            reason = request.form.get("reason", "")
            claim = redemptions.reject_redemption(uow, redemption_id, reason, actor)
            flash(
                gettext("Claim on voucher %(code)s rejected.", code=claim.voucher_code), "success"
            )
    except VoucherError as refused:
        flash(explain(refused), "error")
    return redirect(on_this_site(request.form.get("back", ""), url_for(".mine")))


@blp.get("/approvals")
@page(Action.READ_OWN_ACCOUNT)
def my_approvals() -> Response:
    return redirect(url_for(".approvals", code=_own_center()))


@blp.get("/finance")
@page(Action.READ_OWN_ACCOUNT)
def my_finance() -> Response:
    return redirect(url_for("finance.overview", code=_own_center()))


@blp.get("/<string:code>/approvals")
@page(Action.REVIEW, scope=CENTER)
def approvals(code: str) -> str:
    waiting = approvals_service.waiting_for(current().uow(), code)
    return render_template("web/center/approvals.html", code=code, waiting=waiting)


@blp.post("/providers/<uuid:provider_id>/decision")
@page(Action.REVIEW, scope=PROVIDER)
def decide_provider(provider_id: uuid.UUID) -> Response:
    """Approve a provider, or reject its application with a reason."""
    decision = request.form.get("decision", "")
    try:
        chosen = ProviderDecision(decision)
        view = providers.decide_provider(
            current().uow(), provider_id, chosen, signed_in().actor, request.form.get("reason")
        )
        flash(gettext("%(name)s: done.", name=view.name), "success")
    except ValueError:
        flash(gettext("Choose approve or reject."), "error")
    except VoucherError as refused:
        flash(explain(refused), "error")
    return redirect(on_this_site(request.form.get("back", ""), url_for(".mine")))


@blp.post("/accounts/<uuid:user_id>/activate")
@page(Action.REVIEW, scope=ACCOUNT)
def activate(user_id: uuid.UUID) -> Response:
    """Let a self-registered SME or provider account sign in."""
    view = users.set_status(current().uow(), user_id, UserStatus.ACTIVE, signed_in().actor)
    flash(gettext("%(name)s may now sign in.", name=view.username), "success")
    return redirect(on_this_site(request.form.get("back", ""), url_for(".mine")))


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
