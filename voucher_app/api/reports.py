"""Report routes: spend reports as the JSON the finance dashboard reads and as CSV or XLSX
downloads, the centers' yearly KPIs, and their yearly evaluation (综合评价考核) as JSON, CSV
and XLSX."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields as dataclass_fields
from fractions import Fraction
from typing import Any, TypeVar

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from voucher_app.domain.evaluation import Figures, scheme_for, shown
from voucher_app.domain.policy import Action
from voucher_app.http.policy import center_in, requires
from voucher_app.reports.evaluation_tables import evaluation_csv, evaluation_xlsx
from voucher_app.reports.spend_tables import spend_csv, spend_xlsx
from voucher_app.services import evaluation, reports, tracking
from voucher_app.services.evaluation import EvaluationReport
from voucher_app.services.reports import MONTH_PATTERN, SpendReport
from voucher_app.wiring import current

blp = Blueprint("reports", __name__, description="What each center spent")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ReportT = TypeVar("ReportT")
_MONTH = validate.Regexp(MONTH_PATTERN, error="a month is written 2026-01")


class SpendArgs(Schema):
    center = fields.String(required=True, validate=validate.Length(min=1, max=12))
    programme = fields.UUID(load_default=None)
    from_month = fields.String(load_default=None, validate=_MONTH, data_key="from")
    to_month = fields.String(load_default=None, validate=_MONTH, data_key="to")


class FileArgs(SpendArgs):
    format = fields.String(required=True, validate=validate.OneOf(["csv", "xlsx"]))


class FiguresSchema(Schema):
    allocated_fen = fields.Integer(required=True)
    committed_fen = fields.Integer(required=True)
    redeemed_fen = fields.Integer(required=True)
    approved_fen = fields.Integer(required=True)
    paid_fen = fields.Integer(required=True)
    expired_fen = fields.Integer(required=True)
    returned_fen = fields.Integer(required=True)
    available_fen = fields.Integer(required=True)


class LineSchema(Schema):
    key = fields.String(required=True)
    label = fields.String(required=True)
    figures = fields.Nested(FiguresSchema, required=True)


class SpendReportSchema(Schema):
    center = fields.String(required=True)
    center_name = fields.String(required=True)
    programme_id = fields.UUID(allow_none=True)
    from_month = fields.String(allow_none=True)
    to_month = fields.String(allow_none=True)
    total = fields.Nested(FiguresSchema, required=True)
    own = fields.Nested(FiguresSchema, required=True)
    children = fields.List(fields.Nested(LineSchema), required=True)
    by_programme = fields.List(fields.Nested(LineSchema), required=True)
    by_category = fields.List(fields.Nested(LineSchema), required=True)
    by_provider = fields.List(fields.Nested(LineSchema), required=True)
    by_month = fields.List(fields.Nested(LineSchema), required=True)


def _report(args: dict[str, Any]) -> SpendReport:
    return reports.spend_report(
        current().uow(),
        args["center"],
        programme_id=args["programme"],
        from_month=args["from_month"],
        to_month=args["to_month"],
    )


@blp.route("/spend")
class Spend(MethodView):
    @blp.arguments(SpendArgs, location="query")
    @blp.response(200, SpendReportSchema)
    @requires(Action.READ_CENTER, scope=center_in("center"))
    def get(self, args: dict[str, Any]) -> SpendReport:
        """A center's spend figures, its own and its subtree's, with the breakdowns by child
        center, programme, service category, provider and month (China time)."""
        return _report(args)


@blp.route("/spend/file")
class SpendFile(MethodView):
    @blp.arguments(FileArgs, location="query")
    @blp.response(200, content_type=XLSX, description="The report as CSV or XLSX")
    @requires(Action.READ_CENTER, scope=center_in("center"))
    def get(self, args: dict[str, Any]) -> Response:
        """The same report as a CSV table or an XLSX workbook."""
        report = _report(args)
        return _table_file(args["format"], f"spend-{report.center}", spend_csv, spend_xlsx, report)


def _table_file(
    kind: str,
    name: str,
    as_csv: Callable[[ReportT], bytes],
    as_xlsx: Callable[[ReportT], bytes],
    report: ReportT,
) -> Response:
    """The report as the CSV or XLSX file `kind` names, to download as `name`."""
    if kind == "csv":
        body, mimetype = as_csv(report), "text/csv; charset=utf-8"
    else:
        body, mimetype = as_xlsx(report), XLSX
    response = Response(body, content_type=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{kind}"'
    return response


class KpiArgs(Schema):
    center = fields.String(required=True, validate=validate.Length(min=1, max=12))
    year = fields.Integer(load_default=None, validate=validate.Range(min=2000, max=2100))


class RatingSchema(Schema):
    count = fields.Integer(required=True)
    average = fields.Float(allow_none=True, metadata={"description": "1 to 5, one decimal"})


class KpisSchema(Schema):
    smes_served = fields.Integer(required=True)
    vouchers_issued = fields.Integer(required=True)
    vouchers_redeemed = fields.Integer(required=True)
    redemption_rate = fields.Float(allow_none=True)
    paid_fen = fields.Integer(required=True)
    ratings = fields.Nested(RatingSchema, required=True)
    active_providers = fields.Integer(required=True)
    open_complaints = fields.Integer(required=True)


class KpiLineSchema(Schema):
    center = fields.String(required=True)
    name = fields.String(required=True)
    kpis = fields.Nested(KpisSchema, required=True)


class KpiReportSchema(Schema):
    center = fields.String(required=True)
    name = fields.String(required=True)
    year = fields.Integer(allow_none=True)
    total = fields.Nested(KpisSchema, required=True)
    children = fields.List(fields.Nested(KpiLineSchema), required=True)


@blp.route("/kpis")
class Kpis(MethodView):
    @blp.arguments(KpiArgs, location="query")
    @blp.response(200, KpiReportSchema)
    @requires(Action.READ_CENTER, scope=center_in("center"))
    def get(self, args: dict[str, Any]) -> tracking.KpiReport:
        """A center's KPIs for the yearly evaluation, with everything below it, and each
        direct child's: SMEs served, vouchers issued and redeemed, redemption rate, money
        paid, ratings, active providers, open complaints."""
        return tracking.center_kpis(current().uow(), args["center"], year=args["year"])


class EvaluationArgs(Schema):
    center = fields.String(required=True, validate=validate.Length(min=1, max=12))
    year = fields.Integer(required=True, validate=validate.Range(min=2000, max=2100))


class EvaluationFileArgs(EvaluationArgs):
    format = fields.String(required=True, validate=validate.OneOf(["csv", "xlsx"]))


def _two_decimals(read: Callable[[Any], Fraction | None]) -> fields.Function:
    """A figure the evaluation computes exactly, as the page shows it: "87.50" (or null)."""
    return fields.Function(
        lambda obj: None if (value := shown(read(obj))) is None else str(value),
        metadata={"type": "string", "nullable": True, "example": "87.50"},
    )


class IndicatorSchema(Schema):
    code = fields.String(required=True)
    weight = fields.Integer(required=True)
    worst = _two_decimals(lambda indicator: indicator.worst)
    best = _two_decimals(lambda indicator: indicator.best)


class GradeSchema(Schema):
    name = fields.String(required=True)
    minimum = _two_decimals(lambda grade: grade.minimum)


class SchemeSchema(Schema):
    year = fields.Integer(required=True)
    source = fields.String(required=True)
    min_weight = fields.Integer(required=True)
    indicators = fields.List(fields.Nested(IndicatorSchema), required=True)
    grades = fields.List(fields.Nested(GradeSchema), required=True)


class EvaluationLineSchema(Schema):
    code = fields.Function(lambda line: line.indicator.code, metadata={"type": "string"})
    value = _two_decimals(lambda line: line.value)
    score = _two_decimals(lambda line: line.score)
    points = _two_decimals(lambda line: line.points)


EvaluationFiguresSchema = Schema.from_dict(
    {field.name: fields.Integer(required=True) for field in dataclass_fields(Figures)},
    name="EvaluationFiguresSchema",
)


class CenterScoreSchema(Schema):
    center = fields.String(required=True)
    name = fields.String(required=True)
    depth = fields.Integer(required=True)
    parent = fields.String(allow_none=True)
    rank = fields.Integer(allow_none=True)
    total = _two_decimals(lambda score: score.evaluation.total)
    grade = fields.String(attribute="evaluation.grade", allow_none=True)
    applied_weight = fields.Integer(attribute="evaluation.applied_weight", required=True)
    indicators = fields.List(
        fields.Nested(EvaluationLineSchema), attribute="evaluation.lines", required=True
    )
    figures = fields.Nested(EvaluationFiguresSchema, attribute="evaluation.figures")


class EvaluationReportSchema(Schema):
    year = fields.Integer(required=True)
    scheme = fields.Nested(SchemeSchema, required=True)
    center = fields.Nested(CenterScoreSchema, required=True)
    children = fields.List(fields.Nested(CenterScoreSchema), required=True)
    subtree = fields.List(fields.Nested(CenterScoreSchema), required=True)


def _evaluation(args: dict[str, Any]) -> EvaluationReport:
    wiring = current()
    scheme = scheme_for(wiring.evaluation_schemes, args["year"])
    return evaluation.center_evaluation(wiring.uow(), args["center"], args["year"], scheme)


@blp.route("/evaluation")
class CenterEvaluation(MethodView):
    @blp.arguments(EvaluationArgs, location="query")
    @blp.response(200, EvaluationReportSchema)
    @requires(Action.READ_CENTER, scope=center_in("center"))
    def get(self, args: dict[str, Any]) -> EvaluationReport:
        """The year's evaluation (综合评价考核) of the center and every center below it, by the
        province's scheme: each indicator's value, score and points, the total and the
        grade, each center's place among its siblings, and the figures behind them. Figures
        are exact; values are shown to two decimals."""
        return _evaluation(args)


@blp.route("/evaluation/file")
class CenterEvaluationFile(MethodView):
    @blp.arguments(EvaluationFileArgs, location="query")
    @blp.response(200, content_type=XLSX, description="The evaluation as CSV or XLSX")
    @requires(Action.READ_CENTER, scope=center_in("center"))
    def get(self, args: dict[str, Any]) -> Response:
        """The same evaluation as a CSV table or an XLSX workbook, a row per center."""
        report = _evaluation(args)
        name = f"evaluation-{report.center.center}-{report.year}"
        return _table_file(args["format"], name, evaluation_csv, evaluation_xlsx, report)
