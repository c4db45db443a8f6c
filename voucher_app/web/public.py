"""The public pages (no sign-in): the provider catalogue with prices, standards, time limits
and ratings ("五公开"), searched by words, category, center and price, with each provider's
address and phone; the ledger's latest checkpoint and how anyone can verify it; and the
language switch.

The catalogue's search is a GET form (`web.filters`), so a result is a link an SME can send; its
pages follow one another by the last product shown (`after`), as the API's do.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask import Blueprint, make_response, redirect, render_template, request, url_for
from flask_babel import lazy_gettext
from werkzeug.wrappers import Response
from wtforms import HiddenField, SelectField, StringField
from wtforms.validators import Length

from voucher_app import background
from voucher_app.domain.categories import CATEGORIES, CATEGORY_CODES
from voucher_app.domain.errors import InvalidInput
from voucher_app.domain.policy import Action, Scope
from voucher_app.http.auth import signed_in
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.services import centers, ledger, providers, witnessing
from voucher_app.services.providers import MAX_KEYWORD, CatalogueSearch, ProductView
from voucher_app.web.filters import FilterForm, yuan_of
from voucher_app.web.guard import on_this_site, page
from voucher_app.web.i18n import COOKIE, LANGUAGES, current_language
from voucher_app.web.messages import place
from voucher_app.wiring import current

blp = Blueprint("public", __name__)
PAGE = 20


@blp.get("/")
@page(Action.READ_PUBLIC)
def home() -> str:
    return render_template("web/home.html")


class CatalogueFilters(FilterForm):
    q = StringField(lazy_gettext("Search"), validators=[Length(max=MAX_KEYWORD)])
    category = SelectField(lazy_gettext("Category"), validate_choice=False)
    center = SelectField(lazy_gettext("Service center"), validate_choice=False)
    min_price = StringField(lazy_gettext("Lowest price (yuan)"), validators=[Length(max=24)])
    max_price = StringField(lazy_gettext("Highest price (yuan)"), validators=[Length(max=24)])
    after = HiddenField()


@blp.get("/catalogue")
@page(Action.READ_PUBLIC)
def catalogue() -> tuple[str, int]:
    """Products a page at a time that match every filter given; an unknown category or center
    is ignored, not an error, and a wrong price is said next to its field (status 400)."""
    uow = current().uow()
    form = CatalogueFilters()
    choices = centers.list_all(uow)
    chinese = current_language() == "zh_CN"
    form.category.choices = [("", lazy_gettext("All categories"))] + [
        (item.code, item.name_zh if chinese else item.name_en) for item in CATEGORIES
    ]
    form.center.choices = [("", lazy_gettext("All of Guangdong"))] + [
        (item.code, item.name_zh if chinese else item.name_en) for item in choices
    ]
    valid = form.validate()
    prices = {
        bound: yuan_of(field, optional=True)
        for bound, field in (("min", form.min_price), ("max", form.max_price))
    }
    found: list[ProductView] = []
    following = None
    if valid and not (form.min_price.errors or form.max_price.errors):
        try:
            search = CatalogueSearch(
                keyword=form.q.data or None,
                category=form.category.data if form.category.data in CATEGORY_CODES else None,
                center=form.center.data if form.center.data in {c.code for c in choices} else None,
                min_price_fen=prices["min"],
                max_price_fen=prices["max"],
            )
            found = providers.catalogue(
                uow, search=search, after=_uuid_or_none(form.after.data), limit=PAGE + 1
            )
        except InvalidInput as refused:
            place(form, refused)
        else:
            if len(found) > PAGE:
                found = found[:PAGE]
                following = {**_kept(form), "after": str(found[-1].id)}
    status = 400 if any(field.errors for field in form) else 200
    return render_template(
        "web/catalogue.html",
        form=form,
        products=found,
        following=following,
        first=_kept(form) if form.after.data else None,
        status=status,
    ), status


def _kept(form: CatalogueFilters) -> dict[str, str]:
    """The search as the query string names it, without the page it is on."""
    return {field.name: field.data for field in form if field.name != "after" and field.data}


def _uuid_or_none(text: str | None) -> uuid.UUID | None:
    """The product a page follows; an id that is not one starts at the first page."""
    try:
        return uuid.UUID(text or "")
    except ValueError:
        return None


@blp.get("/ledger")
@page(Action.READ_PUBLIC)
def public_ledger() -> str:
    parts = current()
    head = witnessing.published_head(parts.uow(), parts.witnesses)
    return render_template(
        "web/ledger.html",
        checkpoint=head,
        note=head.note if head else None,
        standing=head.standing if head else None,
        witnesses=parts.witnesses,
        base_url=request.host_url.rstrip("/"),
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
