"""The yearly evaluation page (综合评价考核): a center's total, grade and the score of each
indicator by the province's scheme, the centers below it ranked, the figures behind every
score, and the same evaluation as CSV and XLSX (the API's files), for the center's staff, the
province and the auditors.

The year is chosen with a GET form, so a year's evaluation is a link to share. Every number
shown comes from `services.evaluation`, rounded as the API and the files round it; the page
only names the indicators in the reader's language.
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_babel import lazy_gettext
from werkzeug.wrappers import Response
from wtforms import SelectField

from voucher_app.domain.calendar import local_date
from voucher_app.domain.errors import InvalidInput
from voucher_app.domain.evaluation import scheme_for, shown
from voucher_app.domain.policy import Action
from voucher_app.http.policy import center_in
from voucher_app.services import centers, evaluation
from voucher_app.web.dashboard import home_center
from voucher_app.web.filters import FilterForm
from voucher_app.web.guard import page
from voucher_app.web.messages import place
from voucher_app.wiring import current

blp = Blueprint("evaluation", __name__, url_prefix="/evaluation")

#: Each indicator's name and what it measures, in the reader's language.
INDICATORS = {
    "redemption_rate": (
        lazy_gettext("Vouchers used"),
        lazy_gettext("Vouchers that paid for an approved service, of those issued."),
    ),
    "budget_execution": (
        lazy_gettext("Budget paid out"),
        lazy_gettext("Subsidy paid to providers, of the budget the center received."),
    ),
    "rating_average": (
        lazy_gettext("SMEs' rating"),
        lazy_gettext("The average score SMEs gave the services, 1 to 5."),
    ),
    "flagged_share": (
        lazy_gettext("Redemptions with risk signs"),
        lazy_gettext(
            "Redemptions that carried fraud signals, of all redemptions (fewer is better)."
        ),
    ),
    "flagged_resolved": (
        lazy_gettext("Risk signs dealt with"),
        lazy_gettext(
            "Redemptions with fraud signals that were decided: approved with a reason, or rejected."
        ),
    ),
    "objection_rate": (
        lazy_gettext("Objections on notice"),
        lazy_gettext("Objections per redemption on the public notice (fewer is better)."),
    ),
    "complaints_resolved": (
        lazy_gettext("Complaints resolved"),
        lazy_gettext("Complaints and objections the center resolved, of those filed."),
    ),
}


class YearForm(FilterForm):
    year = SelectField(lazy_gettext("Year"), coerce=int, validate_choice=False)


@blp.get("/")
@page(Action.READ_OWN_ACCOUNT)
def mine() -> Response:
    """An account lands on its center's evaluation; an admin's on the province's."""
    return redirect(url_for(".center", code=home_center()))


@blp.get("/<string:code>")
@page(Action.READ_CENTER, scope=center_in("code"))
def center(code: str) -> tuple[str, int]:
    """The center's evaluation for the chosen year (this year unless one is chosen); a year
    that is not a year, or one the province set no scheme for, is said next to the field
    (status 400) and nothing is scored."""
    wiring = current()
    uow = wiring.uow()
    form = YearForm()
    form.year.choices = [(year, str(year)) for year in sorted(wiring.evaluation_schemes)]
    if not form.validate():
        form.year.errors = [lazy_gettext("Choose a year from the list.")]
        return _without_report(form, code)
    year = form.year.data or local_date(wiring.clock.now()).year
    form.year.data = year
    try:
        scheme = scheme_for(wiring.evaluation_schemes, year)
    except InvalidInput as refused:
        place(form, refused)
        return _without_report(form, code)
    report = evaluation.center_evaluation(uow, code, year, scheme)
    return render_template(
        "web/evaluation.html",
        form=form,
        code=report.center.center,
        name=report.center.name,
        report=report,
        indicators=INDICATORS,
        shown=shown,
    ), 200


def _without_report(form: YearForm, code: str) -> tuple[str, int]:
    name = centers.name_of(current().uow(), code)
    return render_template("web/evaluation.html", form=form, code=code, name=name), 400
