"""The center staff's work: the review queue (redemptions the SMEs have confirmed on vouchers of the
center and those below it, oldest first, each approved or rejected with a reason, or many
approved at once) and the approvals (providers that applied, accounts that registered)."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext, ngettext
from werkzeug.wrappers import Response

from voucher_app import background
from voucher_app.domain.errors import (
    PermissionDenied,
    RelatedParty,
    SignalsUnexplained,
    VoucherError,
)
from voucher_app.domain.money import format_yuan, parse_yuan
from voucher_app.domain.policy import Action
from voucher_app.domain.programmes import BudgetMove
from voucher_app.domain.providers import ProviderDecision
from voucher_app.domain.reasons import MAX_REASON
from voucher_app.domain.users import UserStatus
from voucher_app.http.auth import signed_in
from voucher_app.http.policy import center_in, scope_by
from voucher_app.http.uploads import read_upload, takes_file
from voucher_app.services import (
    access,
    bulk,
    centers,
    programmes,
    providers,
    redemption_lists,
    redemptions,
    users,
)
from voucher_app.services import approvals as approvals_service
from voucher_app.web.guard import on_this_site, page
from voucher_app.web.i18n import with_code
from voucher_app.web.messages import attempt, explain, explain_signal
from voucher_app.web.moved import moved
from voucher_app.wiring import current

blp = Blueprint("center", __name__, url_prefix="/center")
CENTER = center_in("code")
#: Rows a bulk run's page lists (the counts cover them all).
SHOWN_ROWS = 1000
#: What happened to a row of a bulk run, by its outcome code (`services.bulk`).
ROW_OUTCOMES = {
    "issued": lazy_gettext("Issued"),
    "would_issue": lazy_gettext("Would be issued"),
    "already_issued": lazy_gettext("Issued before"),
    "outside_center": lazy_gettext("At home outside this center"),
    "duplicated": lazy_gettext("Listed twice"),
    "invalid_uscc": lazy_gettext("Not a valid code"),
    "unknown_sme": lazy_gettext("Not registered"),
    "programme_closed": lazy_gettext("The programme is closed"),
    "not_an_sme": lazy_gettext("A large enterprise"),
    "not_eligible_size": lazy_gettext("A size the programme does not take"),
    "not_eligible_industry": lazy_gettext("An industry the programme does not take"),
    "not_eligible_center": lazy_gettext("Outside the programme's centers"),
    "cap_reached": lazy_gettext("Its cap is used up"),
    "budget_exhausted": lazy_gettext("No budget left at its center"),
}
REDEMPTION = scope_by(access.redemption_scope, "redemption_id")
PROVIDER = scope_by(access.provider_scope, "provider_id")
ACCOUNT = scope_by(access.user_scope, "user_id")


#: A center account's own page of each area, by the short address the menu links to.
AREAS = {
    "review": ".queue",
    "approvals": ".approvals",
    "finance": "finance.overview",
    "issuance": ".issuance",
    "budget": ".budget",
}


@blp.get("/", defaults={"area": "review"})
@blp.get("/<any(approvals, finance, issuance, budget):area>")
@page(Action.READ_OWN_ACCOUNT)
def mine(area: str) -> Response:
    """The account's own center's page of the area; it lands on the review queue (other
    accounts have none)."""
    return redirect(url_for(AREAS[area], code=_own_center()))


def _own_center() -> str:
    center_id = signed_in().center_id
    if center_id is None:
        raise PermissionDenied("only a center's account has a review queue and approvals")
    return centers.code_of(current().uow(), center_id)


@blp.get("/<string:code>/review")
@page(Action.REVIEW, scope=CENTER)
def queue(code: str) -> str:
    uow = current().uow()
    waiting = redemption_lists.review_queue(uow, code)
    return render_template(
        "web/center/queue.html",
        code=code,
        redemptions=waiting,
        parties=redemption_lists.parties_of(uow, [redemption.id for redemption in waiting]),
        max_reason=MAX_REASON,
        explain_signal=explain_signal,
    )


@blp.post("/<string:code>/review/approve")
@page(Action.REVIEW, scope=CENTER)
def approve_many(code: str) -> Response:
    """Approve the ticked redemptions; only redemptions in this center's queue are touched."""
    uow = current().uow()
    waiting = {redemption.id for redemption in redemption_lists.review_queue(uow, code)}
    chosen = {uuid.UUID(value) for value in request.form.getlist("redemption") if _is_uuid(value)}
    approved = refused = 0
    explained: list[RelatedParty | SignalsUnexplained] = []
    for redemption_id in chosen & waiting:
        try:
            redemptions.approve_redemption(
                uow, redemption_id, signed_in().actor, limits=current().signal_thresholds
            )
            approved += 1
        except (RelatedParty, SignalsUnexplained) as said:  # said as they are: not a race
            explained.append(said)
        except VoucherError:  # decided meanwhile, by someone else
            refused += 1
    message = ngettext("%(num)d redemption approved.", "%(num)d redemptions approved.", approved)
    flash(message, "success" if approved else "error")
    for refusal in explained:
        flash(explain(refusal), "error")
    if refused:
        flash(
            ngettext("%(num)d was decided meanwhile.", "%(num)d were decided meanwhile.", refused),
            "error",
        )
    return redirect(url_for(".queue", code=code))


@blp.post("/redemptions/<uuid:redemption_id>/approve")
@page(Action.REVIEW, scope=REDEMPTION)
def approve(redemption_id: uuid.UUID) -> Response:
    return _decide(redemption_id, approve=True)


@blp.post("/redemptions/<uuid:redemption_id>/reject")
@page(Action.REVIEW, scope=REDEMPTION)
def reject(redemption_id: uuid.UUID) -> Response:
    return _decide(redemption_id, approve=False)


def _decide(redemption_id: uuid.UUID, *, approve: bool) -> Response:
    uow, actor = current().uow(), signed_in().actor
    if approve:
        reason = request.form.get("reason") or None
        attempt(
            lambda: redemptions.approve_redemption(
                uow, redemption_id, actor, reason=reason, limits=current().signal_thresholds
            ),
            lambda redemption: with_code(
                gettext("Redemption of voucher %(code)s approved."), redemption.voucher_code
            ),
        )
    else:
        reason = request.form.get("reason", "")
        attempt(
            lambda: redemptions.reject_redemption(uow, redemption_id, reason, actor),
            lambda redemption: with_code(
                gettext("Redemption of voucher %(code)s rejected."), redemption.voucher_code
            ),
        )
    return redirect(on_this_site(request.form.get("back", ""), url_for(".mine")))


@blp.get("/<string:code>/approvals")
@page(Action.REVIEW, scope=CENTER)
def approvals(code: str) -> str:
    waiting = approvals_service.waiting_for(current().uow(), code)
    return render_template("web/center/approvals.html", code=code, waiting=waiting)


@blp.post("/providers/<uuid:provider_id>/decision")
@page(Action.REVIEW, scope=PROVIDER)
def decide_provider(provider_id: uuid.UUID) -> Response:
    """Approve a provider, or reject its application with a reason."""
    try:
        chosen = ProviderDecision(request.form.get("decision", ""))
    except ValueError:
        flash(gettext("Choose approve or reject."), "error")
    else:
        reason, actor = request.form.get("reason"), signed_in().actor
        attempt(
            lambda: providers.decide_provider(current().uow(), provider_id, chosen, actor, reason),
            lambda view: gettext("%(name)s: done.", name=view.name),
        )
    return redirect(on_this_site(request.form.get("back", ""), url_for(".mine")))


@blp.post("/accounts/<uuid:user_id>/activate")
@page(Action.REVIEW, scope=ACCOUNT)
def activate(user_id: uuid.UUID) -> Response:
    """Let a self-registered SME or provider account sign in (a disabled account stays so:
    this page approves registrations, it does not undo a decision)."""
    uow = current().uow()
    if users.get_user(uow, user_id).status is not UserStatus.PENDING:
        flash(gettext("This account is not waiting for approval."), "error")
    else:
        view = users.set_status(uow, user_id, UserStatus.ACTIVE, signed_in().actor)
        flash(gettext("%(name)s may now sign in.", name=view.username), "success")
    return redirect(on_this_site(request.form.get("back", ""), url_for(".mine")))


@blp.get("/<string:code>/issuance")
@page(Action.ISSUE, scope=CENTER)
def issuance(code: str) -> str:
    programmes_list = programmes.list_programmes(current().uow())
    return render_template("web/center/issuance.html", code=code, programmes=programmes_list)


@blp.post("/<string:code>/issuance")
@page(Action.ISSUE, scope=CENTER)
@takes_file
def issue_list(code: str) -> Response:
    """Read the upload and hand the run to the background: a list of thousands takes longer
    than a request should."""
    try:
        filename, content = read_upload(request.files.get("list"))
        programme_id = uuid.UUID(request.form.get("programme", ""))
    except ValueError:
        flash(gettext("Choose a programme."), "error")
        return redirect(url_for(".issuance", code=code))
    except VoucherError as refused:
        flash(explain(refused), "error")
        return redirect(url_for(".issuance", code=code))
    params = {
        "code": code,
        "filename": filename,
        "programme": str(programme_id),
        "dry_run": request.form.get("dry_run") == "yes",
    }
    task = background.run(ISSUANCE, signed_in().username, params, content)
    return redirect(url_for("tasks.task_page", task_id=task))


def _issuance_job(params: dict[str, Any], upload: bytes | None) -> background.Job:
    parts, actor = current(), signed_in().actor
    code = params["code"]

    def job(progress: Callable[[int, int], None]) -> dict[str, Any]:
        rows = bulk.read_rows(params["filename"], upload or b"", max_rows=parts.max_table_rows)
        arguments: dict[str, Any] = {
            "programme_id": uuid.UUID(params["programme"]),
            "rows": rows,
            "actor": actor,
            "signer": parts.voucher_signer(),
            "center": code,
        }
        # A dry run is one transaction: no progress to show until it ends.
        report = bulk.issue_from_list(
            parts.uow(), **arguments, dry_run=params["dry_run"], progress=progress
        )
        shown = [dataclasses.asdict(row) for row in report.rows[:SHOWN_ROWS]]
        return {
            "dry_run": report.dry_run,
            "issued": report.issued,
            "already_issued": report.already_issued,
            "refused": report.refused,
            "rows": shown,
            "more": max(len(report.rows) - SHOWN_ROWS, 0),
            "code": code,
        }

    return job


ISSUANCE = background.Kind("issuance", _issuance_job)


@blp.get("/<string:code>/budget")
@page(Action.READ_CENTER, scope=CENTER)
def budget(code: str) -> str:
    """What each programme leaves this center and each center directly below it."""
    uow = current().uow()
    children = [c for c in centers.list_subtree(uow, code) if c.parent_code == code]
    codes = [code] + [child.code for child in children]
    rows = []
    for programme in programmes.list_programmes(uow):
        left = programmes.available_budgets(uow, programme.id, codes)
        rows.append(
            {
                "programme": programme,
                "here": left[code],
                "children": [(child, left[child.code]) for child in children],
            }
        )
    return render_template("web/center/budget.html", code=code, rows=rows, children=children)


@blp.post("/<string:code>/budget/<uuid:programme_id>")
@page(Action.MOVE_BUDGET, scope=CENTER)
def move_budget(code: str, programme_id: uuid.UUID) -> Response:
    """Pass budget down to a direct child, or take unspent budget back from it."""
    child = request.form.get("child", "")
    down = request.form.get("direction") != "back"
    move = programmes.allocate if down else programmes.claw_back

    def step() -> int:
        amount = parse_yuan(request.form.get("amount", ""))
        move(
            current().uow(),
            programme_id,
            BudgetMove(
                from_center=code if down else child,
                to_center=child if down else code,
                amount_fen=amount,
            ),
            actor=signed_in().actor,
        )
        return amount

    attempt(step, lambda amount: gettext("%(amount)s moved.", amount=format_yuan(amount)))
    return redirect(url_for(".budget", code=code))


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


# Renamed: "claim" is an SME obtaining a voucher (docs/glossary.md). The old paths answer 308
# for one release.
moved(blp, "/claims/<uuid:redemption_id>/approve", approve)
moved(blp, "/claims/<uuid:redemption_id>/reject", reject)
