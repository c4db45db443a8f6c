"""Finance's and auditors' dashboard per center: budget, committed, redeemed, paid and expired
for the center and everything below it, drawn as charts (Apache ECharts, vendored) with the
same figures in tables, and a drill-down through the hierarchy — over the spend reports the
API serves (`services.reports`).

A ¥3M budget and a ¥10k spend cannot share one axis (the spend would be a hair), so the centers
below are compared by their use of their own budget, in percent (`reports.utilisation`), as
horizontal bars: one row a center, every center's name on its row however many there are. The
view is chosen by programme and months with a GET form, so a link shares it. A series of
fewer than `ENOUGH_POINTS` months is said in words, not drawn as a lone dot.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, url_for
from flask_babel import lazy_gettext
from werkzeug.wrappers import Response
from wtforms import SelectField, StringField
from wtforms.validators import Length

from voucher_app.domain.errors import InvalidInput
from voucher_app.domain.policy import Action
from voucher_app.domain.spend import format_share
from voucher_app.http.auth import signed_in
from voucher_app.http.policy import center_in
from voucher_app.services import centers, programmes, reports
from voucher_app.services.reports import Line, SpendReport, Utilisation
from voucher_app.web.filters import FilterForm
from voucher_app.web.guard import page
from voucher_app.web.i18n import category_name
from voucher_app.web.messages import place
from voucher_app.wiring import current

blp = Blueprint("dashboard", __name__, url_prefix="/dashboard")
#: What the charts compare, in the order the budget flows.
MEASURES = ("allocated_fen", "committed_fen", "redeemed_fen", "paid_fen", "expired_fen")
#: What the utilisation chart shows, each as a share of the budget.
SHARES = ("committed_bp", "redeemed_bp", "paid_bp")
#: What the monthly chart draws: spending only (the budget arrives in a few large moves, and on
#: the same axis it would flatten the rest).
MONTHLY = ("committed_fen", "redeemed_fen", "paid_fen")
#: A line needs two points; fewer are said in words.
ENOUGH_POINTS = 2
PROVINCE = "440000"


MONTH = {"type": "month", "placeholder": "2026-01"}


class DashboardFilters(FilterForm):
    """Which programme and months the dashboard adds up (the spend report's own filters; the
    URL names them as the API does: `programme`, `from`, `to`)."""

    programme = SelectField(lazy_gettext("Programme"), validate_choice=False)
    from_month = StringField(
        lazy_gettext("From month"), name="from", validators=[Length(max=7)], render_kw=MONTH
    )
    to_month = StringField(
        lazy_gettext("To month"), name="to", validators=[Length(max=7)], render_kw=MONTH
    )

    def chosen(self) -> dict[str, str]:
        """The choices made, as the query string names them: what a link to a center below
        keeps, and what the CSV and XLSX links ask the API for."""
        named = {"programme": self.programme, "from": self.from_month, "to": self.to_month}
        return {name: field.data for name, field in named.items() if field.data}


@blp.get("/")
@page(Action.READ_OWN_ACCOUNT)
def mine() -> Response:
    """An account lands on its center's dashboard; an admin's on the province's."""
    return redirect(url_for(".center", code=home_center()))


def home_center() -> str:
    """The center whose figures an account opens on (the dashboard, the evaluation): its
    own, or the province for an account bound to none (an admin)."""
    center_id = signed_in().center_id
    return PROVINCE if center_id is None else centers.code_of(current().uow(), center_id)


@blp.get("/<string:code>")
@page(Action.READ_CENTER, scope=center_in("code"))
def center(code: str) -> tuple[str, int]:
    """The center's dashboard for the programme and months the query string chooses; a wrong
    choice is said next to its field (status 400) and nothing is added up."""
    uow = current().uow()
    form = DashboardFilters()
    choices = programmes.list_programmes(uow)
    form.programme.choices = [("", lazy_gettext("All programmes"))] + [
        (str(programme.id), programme.name) for programme in choices
    ]
    chosen = next((p.id for p in choices if str(p.id) == form.programme.data), None)
    valid = form.validate()
    if form.programme.data and chosen is None:
        form.programme.errors = [lazy_gettext("Choose a programme from the list.")]
        valid = False
    report = None
    if valid:
        try:
            report = reports.spend_report(
                uow,
                code,
                programme_id=chosen,
                from_month=form.from_month.data or None,
                to_month=form.to_month.data or None,
            )
        except InvalidInput as refused:
            place(form, refused)
    if report is None:
        name = centers.name_of(uow, code)
        page_ = render_template("web/dashboard/center.html", form=form, code=code, name=name)
        return page_, 400
    used = reports.utilisation(report.children)
    return render_template(
        "web/dashboard/center.html",
        form=form,
        code=report.center,
        name=report.center_name,
        report=report,
        used=used,
        measures=MEASURES,
        shares=SHARES,
        monthly=MONTHLY,
        enough_months=len(report.by_month) >= ENOUGH_POINTS,
        charts=charts(report, used),
        chosen=form.chosen(),
        category_label=category_label,
        format_share=format_share,
    ), 200


def charts(report: SpendReport, used: tuple[Utilisation, ...]) -> dict[str, Any]:
    """The figures the page's script draws: shares in basis points (null where a center has no
    budget), amounts in fen (the script shows percent and yuan)."""
    return {
        "shares": list(SHARES),
        "monthly": list(MONTHLY),
        "children": {
            "keys": [line.key for line in used],
            "labels": [line.label for line in used],
            **{share: [getattr(line, share) for line in used] for share in SHARES},
        },
        "months": _series(report.by_month) if len(report.by_month) >= ENOUGH_POINTS else None,
        "categories": [
            {"key": line.key, "label": category_label(line), "value": line.figures.redeemed_fen}
            for line in report.by_category
        ],
    }


def category_label(line: Line) -> str:
    """A category's name in the page's language (the report names it in Chinese)."""
    return category_name(line.key, line.label)


def _series(lines: tuple[Line, ...]) -> dict[str, Any]:
    return {
        "keys": [line.key for line in lines],
        "labels": [line.label for line in lines],
        **{measure: [getattr(line.figures, measure) for line in lines] for measure in MONTHLY},
    }
