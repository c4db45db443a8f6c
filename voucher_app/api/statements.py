"""Bank statements over HTTP: a center's finance staff save the column mapping of their bank's
CSV/XLSX export, upload a statement (camt.053 XML or a mapped table) to reconcile the
payments of their batches, and read the reconciliation report (`services.reconciliation`)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate

from voucher_app.api.auth import center_in, requires, signed_in
from voucher_app.api.uploads import UploadBlueprint, read_upload, takes_file
from voucher_app.domain.policy import Action
from voucher_app.services import reconciliation
from voucher_app.services.reconciliation import ImportResult, ReconciliationReport
from voucher_app.settlement.statement_table import ColumnMapping
from voucher_app.wiring import current

blp = UploadBlueprint("statements", __name__, description="Bank statements and reconciliation")

_CENTER = fields.String(required=True, validate=validate.Length(min=1, max=12))


def _column(*, required: bool = False) -> fields.String:
    length = validate.Length(min=1, max=100)
    if required:
        return fields.String(required=True, validate=length)
    return fields.String(load_default=None, allow_none=True, validate=length)


class MappingRequest(Schema):
    center = _CENTER
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    end_to_end_id = _column(required=True)
    amount = _column(required=True)
    booked_on = _column(required=True)
    direction = _column()
    returned = _column()
    bank_reference = _column()


class MappingSchema(Schema):
    center = fields.String(required=True)
    name = fields.String(required=True)


class StatementForm(Schema):
    center = _CENTER
    mapping = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=100),
        metadata={"description": "the saved column mapping of a CSV or XLSX statement"},
    )
    file = Upload(required=True, metadata={"description": "camt.053 .xml, or .csv / .xlsx"})


class ImportSchema(Schema):
    statement_id = fields.UUID(required=True)
    lines = fields.Integer(required=True)
    outcomes = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        required=True,
        metadata={"description": "lines per outcome: paid, partial, overpaid, returned, …"},
    )
    replayed = fields.Boolean(
        required=True, metadata={"description": "this file was imported before"}
    )


class ReportArgs(Schema):
    center = _CENTER
    batch = fields.String(load_default=None, validate=validate.Length(min=1, max=40))


class StandingSchema(Schema):
    batch = fields.String(required=True)
    reference = fields.String(required=True)
    provider = fields.String(required=True)
    amount_fen = fields.Integer(required=True)
    paid_fen = fields.Integer(required=True)
    returned_fen = fields.Integer(required=True)
    state = fields.String(
        required=True, metadata={"enum": ["unpaid", "partial", "paid", "overpaid", "returned"]}
    )


class UnmatchedSchema(Schema):
    statement = fields.String(required=True)
    position = fields.String(required=True)
    end_to_end_id = fields.String(allow_none=True)
    amount_fen = fields.Integer(required=True)
    debit = fields.Boolean(required=True)


class ReconciliationSchema(Schema):
    center = fields.String(required=True)
    items = fields.List(fields.Nested(StandingSchema), required=True)
    unmatched = fields.List(fields.Nested(UnmatchedSchema), required=True)


@blp.route("/statements/mappings")
class Mappings(MethodView):
    @blp.arguments(MappingRequest)
    @blp.response(200, MappingSchema)
    @requires(Action.SETTLE, scope=center_in("center"))
    def put(self, body: dict[str, Any]) -> dict[str, str]:
        """Save (or replace) which column of the bank's export holds each field."""
        center, name = body.pop("center"), body.pop("name")
        reconciliation.save_mapping(current().uow(), center, name, ColumnMapping(**body))
        return {"center": center, "name": name}


@blp.route("/statements")
class Statements(MethodView):
    @blp.arguments(StatementForm, location="multipart")
    @blp.response(201, ImportSchema)
    @requires(Action.SETTLE, scope=center_in("center"))
    @takes_file
    def post(self, form: dict[str, Any]) -> ImportResult:
        """Import a statement and reconcile each line against the center's batches; the same
        file again changes nothing."""
        filename, content = read_upload(form["file"])
        return reconciliation.import_statement(
            current().uow(),
            filename=filename,
            content=content,
            actor=signed_in().actor,
            center_code=form["center"],
            mapping=form["mapping"],
        )


@blp.route("/statements/reconciliation")
class Reconciliation(MethodView):
    @blp.arguments(ReportArgs, location="query")
    @blp.response(200, ReconciliationSchema)
    @requires(Action.READ_CENTER, scope=center_in("center"))
    def get(self, args: dict[str, Any]) -> ReconciliationReport:
        """Each payment of the center's exported batches — owed, paid, returned — and the
        statement lines nothing matched."""
        return reconciliation.reconciliation_report(current().uow(), args["center"], args["batch"])
