"""The public notice pages (公示): a center's list of the claims it approved on a day, masked,
before any is paid; and the objection anyone signed in may raise against one while its notice
runs, which holds the claim until the center resolves it.

The list is a GET form (`web.filters`), so a day's list is a link to share; it links to the same
list in JSON, which `voucher-audit --notice` checks against the ledger.
"""

from __future__ import annotations

import uuid

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext
from werkzeug.wrappers import Response
from wtforms import SelectField, StringField
from wtforms.validators import Length

from voucher_app.domain.errors import InvalidInput, UnknownCenter
from voucher_app.domain.policy import Action
from voucher_app.http.auth import signed_in
from voucher_app.http.inputs import day_of
from voucher_app.services import centers, notice, tracking
from voucher_app.services.notice import NoticeList
from voucher_app.web.filters import FilterForm
from voucher_app.web.guard import on_this_site, page
from voucher_app.web.i18n import current_language
from voucher_app.web.messages import attempt, explain
from voucher_app.wiring import current

blp = Blueprint("notice_pages", __name__)


class NoticeFilters(FilterForm):
    center = SelectField(lazy_gettext("Service center"), validate_choice=False)
    day = StringField(lazy_gettext("Day (YYYY-MM-DD)"), validators=[Length(max=10)])


@blp.get("/notice")
@page(Action.READ_PUBLIC)
def notice_list() -> tuple[str, int]:
    """A center's list of a day (today unless one is chosen); a wrong day or center is said
    next to its field (status 400)."""
    uow = current().uow()
    form = NoticeFilters()
    chinese = current_language() == "zh_CN"
    form.center.choices = [("", lazy_gettext("Choose a service center"))] + [
        (item.code, item.name_zh if chinese else item.name_en) for item in centers.list_all(uow)
    ]
    listed: NoticeList | None = None
    status = 200
    if form.center.data:
        try:
            day = day_of(form.day.data) if form.day.data else None
            listed = notice.notice_list(uow, form.center.data, day)
        except InvalidInput as wrong:
            form.day.errors = [explain(wrong)]
            status = 400
        except UnknownCenter as unknown:
            form.center.errors = [explain(unknown)]
            status = 400
    return render_template("web/notice.html", form=form, listed=listed), status


@blp.post("/notice/objections/<uuid:redemption_id>")
@page(Action.OBJECT)
def object_to(redemption_id: uuid.UUID) -> Response:
    """Object to a claim on notice with a reason; back to the list it was on."""
    reason = request.form.get("reason", "")
    attempt(
        lambda: tracking.object_to(current().uow(), redemption_id, reason, signed_in().actor),
        lambda _: gettext(
            "Your objection is recorded. The claim will not be paid until the center has "
            "looked into it."
        ),
    )
    return redirect(on_this_site(request.form.get("back", ""), url_for(".notice_list")))
