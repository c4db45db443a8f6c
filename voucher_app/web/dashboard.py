"""Finance's and auditors' dashboard per center: budget, committed, redeemed, paid and expired
for the center and everything below it, drawn as charts (Apache ECharts, vendored) with the
same figures in tables, and a drill-down through the hierarchy — over the spend reports the
API serves (`services.reports`)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, url_for
from werkzeug.wrappers import Response

from voucher_app.domain.categories import CATEGORIES
from voucher_app.domain.policy import Action
from voucher_app.http.auth import signed_in
from voucher_app.http.policy import center_in
from voucher_app.services import centers, reports
from voucher_app.services.reports import Line, SpendReport
from voucher_app.web.guard import page
from voucher_app.web.i18n import current_language
from voucher_app.wiring import current

blp = Blueprint("dashboard", __name__, url_prefix="/dashboard")
#: What the charts compare, in the order the budget flows.
MEASURES = ("allocated_fen", "committed_fen", "redeemed_fen", "paid_fen", "expired_fen")
PROVINCE = "440000"
CATEGORY_NAMES = {category.code: category for category in CATEGORIES}


@blp.get("/")
@page(Action.READ_OWN_ACCOUNT)
def mine() -> Response:
    """An account lands on its center's dashboard; an admin's on the province's."""
    center_id = signed_in().center_id
    code = PROVINCE if center_id is None else centers.code_of(current().uow(), center_id)
    return redirect(url_for(".center", code=code))


@blp.get("/<string:code>")
@page(Action.READ_CENTER, scope=center_in("code"))
def center(code: str) -> str:
    report = reports.spend_report(current().uow(), code)
    return render_template(
        "web/dashboard/center.html",
        report=report,
        measures=MEASURES,
        charts=charts(report),
        category_label=category_label,
    )


def charts(report: SpendReport) -> dict[str, Any]:
    """The figures the page's script draws (amounts in fen; the script shows yuan)."""
    return {
        "measures": list(MEASURES),
        "total": {measure: getattr(report.total, measure) for measure in MEASURES},
        "children": _series(report.children),
        "months": _series(report.by_month),
        "categories": [
            {"key": line.key, "label": category_label(line), "value": line.figures.redeemed_fen}
            for line in report.by_category
        ],
    }


def category_label(line: Line) -> str:
    """A category's name in the page's language (the report names it in Chinese)."""
    found = CATEGORY_NAMES.get(line.key)
    if found is None:
        return line.label
    return found.name_zh if current_language() == "zh_CN" else found.name_en


def _series(lines: tuple[Line, ...]) -> dict[str, Any]:
    return {
        "keys": [line.key for line in lines],
        "labels": [line.label for line in lines],
        **{measure: [getattr(line.figures, measure) for line in lines] for measure in MEASURES},
    }
