"""The public pages (no sign-in): the provider catalogue with prices, standards, time limits
and ratings ("五公开"), filtered by category and center; the ledger's latest checkpoint and how
anyone can verify it; and the language switch."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, make_response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from voucher_app import background
from voucher_app.domain.categories import CATEGORIES, CATEGORY_CODES
from voucher_app.domain.errors import NoCheckpoint
from voucher_app.domain.policy import Action, Scope
from voucher_app.http.auth import signed_in
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.services import centers, ledger, providers
from voucher_app.web.guard import on_this_site, page
from voucher_app.web.i18n import COOKIE, LANGUAGES
from voucher_app.wiring import current

blp = Blueprint("public", __name__)
PAGE = 50


@blp.get("/")
@page(Action.READ_PUBLIC)
def home() -> str:
    return render_template("web/home.html")


@blp.get("/catalogue")
@page(Action.READ_PUBLIC)
def catalogue() -> str:
    """Products a page at a time; an unknown category or center is ignored, not an error."""
    category = request.args.get("category") or None
    center = request.args.get("center") or None
    uow = current().uow()
    choices = centers.list_all(uow)
    if category not in CATEGORY_CODES:
        category = None
    if center not in {choice.code for choice in choices}:
        center = None
    found = providers.catalogue(uow, category=category, center=center, limit=PAGE)
    return render_template(
        "web/catalogue.html",
        products=found,
        categories=CATEGORIES,
        centers=choices,
        chosen={"category": category, "center": center},
    )


@blp.get("/ledger")
@page(Action.READ_PUBLIC)
def public_ledger() -> str:
    try:
        checkpoint = ledger.latest_checkpoint(current().uow())
    except NoCheckpoint:
        checkpoint = None
    return render_template(
        "web/ledger.html", checkpoint=checkpoint, base_url=request.host_url.rstrip("/")
    )


def own_center(uow: UnitOfWork, values: dict[str, Any]) -> Scope:
    """The signed-in account's center (an admin's: everywhere)."""
    return Scope(center_id=signed_in().center_id)


def _verify_job(params: dict[str, Any], upload: bytes | None) -> background.Job:
    parts = current()
    verifiers = parts.ledger_verifiers()

    def job(progress: Callable[[int, int], None]) -> dict[str, Any]:
        report = ledger.verify_ledger(parts.uow(), verifiers, progress)
        failure = report.failure
        return {
            "ok": report.ok,
            "entries": report.entries,
            "checkpoints": len(report.checkpoints),
            "index": None if failure is None else failure.index,
            "reason": None if failure is None else failure.reason,
        }

    return job


VERIFY = background.Kind("verify", _verify_job)


@blp.post("/ledger/verify")
@page(Action.READ_CENTER, scope=own_center)
def verify_now() -> Response:
    """Check the whole ledger in the background (every hash, signature and balance) — for
    center staff and auditors, a few times a minute; the task's page follows its progress."""
    task = background.run(VERIFY, signed_in().username, {})
    return redirect(url_for("tasks.task_page", task_id=task))


@blp.post("/language")
@page(Action.READ_PUBLIC)
def choose_language() -> Response:
    """Remember the visitor's language for a year and go back where they were."""
    language = request.form.get("language", "")
    target = on_this_site(request.form.get("next", ""), url_for(".home"))
    response = make_response(redirect(target))
    if language in LANGUAGES:
        response.set_cookie(COOKIE, language, max_age=365 * 24 * 3600, samesite="Lax")
    return response
