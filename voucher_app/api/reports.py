"""Spend report routes: the JSON the finance dashboard reads, and the same report as CSV or
XLSX for download."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from voucher_app.reports.spend_tables import spend_csv, spend_xlsx
from voucher_app.services import reports
from voucher_app.services.reports import MONTH_PATTERN, SpendReport
from voucher_app.wiring import current

blp = Blueprint("reports", __name__, description="What each center spent")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
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
    def get(self, args: dict[str, Any]) -> SpendReport:
        """A center's spend figures, its own and its subtree's, with the breakdowns by child
        center, programme, service category, provider and month (China time)."""
        return _report(args)


@blp.route("/spend/file")
class SpendFile(MethodView):
    @blp.arguments(FileArgs, location="query")
    @blp.response(200, content_type=XLSX, description="The report as CSV or XLSX")
    def get(self, args: dict[str, Any]) -> Response:
        """The same report as a CSV table or an XLSX workbook."""
        report = _report(args)
        name = f"spend-{report.center}"
        if args["format"] == "csv":
            body: str | bytes = spend_csv(report)
            mimetype = "text/csv"
        else:
            body, mimetype = spend_xlsx(report), XLSX
        response = Response(body, mimetype=mimetype)
        response.headers["Content-Disposition"] = f'attachment; filename="{name}.{args["format"]}"'
        return response
