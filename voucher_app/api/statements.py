"""Bank accounts, statements and reconciliation over HTTP: a center registers the accounts it
holds, its finance staff save the column mapping of their bank's CSV/XLSX export, upload a
statement (camt.053 XML or a mapped table) of a registered account to reconcile the payments of
their batches, and read (or download) the reconciliation report (`services.reconciliation`)."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView
from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate

from voucher_app.api.multipart import UploadBlueprint
from voucher_app.domain.bank import BankDetails
from voucher_app.domain.policy import Action
from voucher_app.http.auth import signed_in
from voucher_app.http.downloads import TABLES, reconciliation_file
from voucher_app.http.policy import center_in, requires
from voucher_app.http.uploads import read_upload, takes_file
from voucher_app.services import bank_accounts, reconciliation
from voucher_app.services.bank_accounts import AccountView
from voucher_app.services.reconciliation import ImportResult, ReconciliationReport
from voucher_app.settlement.statement_table import ColumnMapping
from voucher_app.wiring import current

blp = UploadBlueprint(
    "statements", __name__, description="Bank accounts, statements and reconciliation"
)

_CENTER = fields.String(required=True, validate=validate.Length(min=1, max=12))


class BankDetailsSchema(Schema):
    bank_name = fields.String(
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"description": "开户行名称: the branch holding the account"},
    )
    account_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    account_number = fields.String(required=True, validate=validate.Length(min=1, max=64))
    cnaps = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1, max=40),
        metadata={"description": "the branch's 12-digit CNAPS code (联行号)"},
    )
    bic = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=11))


class AccountRequest(BankDetailsSchema):
    center = _CENTER


class AccountSchema(Schema):
    center = fields.String(required=True)
    details = fields.Nested(BankDetailsSchema, required=True)


class AccountsArgs(Schema):
    center = _CENTER


def _column(**metadata: str) -> fields.String:
    return fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1, max=100),
        metadata=metadata,
    )


def _values(description: str) -> fields.List[str]:
    return fields.List(
        fields.String(validate=validate.Length(min=1, max=20)),
        load_default=None,
        validate=validate.Length(min=1, max=20),
        metadata={"description": description},
    )


class MappingRequest(Schema):
    center = _CENTER
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    booked_on = fields.String(required=True, validate=validate.Length(min=1, max=100))
    end_to_end_id = _column(description="the column holding the payment's reference")
    remarks = fields.List(
        fields.String(validate=validate.Length(min=1, max=100)),
        load_default=None,
        validate=validate.Length(max=5),
        metadata={"description": "free-text columns (附言, 摘要, 用途) the reference may be in"},
    )
    amount = _column(description="one amount column; then `direction` says debit or credit")
    direction = _column(description="the column saying debit or credit (借/贷)")
    debit_values = _values("what the direction column says on a debit (default 借, D, 支出…)")
    credit_values = _values("what it says on a credit (default 贷, C, 收入…)")
    debit_amount = _column(description="two amount columns instead: money out (支出金额)")
    credit_amount = _column(description="and money in (收入金额)")
    returned = _column(description="non-empty on a returned payment: the reason")
    bank_reference = _column(description="the bank's own reference of the line (流水号)")
    counterparty_account = _column(description="the other side's account (对方账号)")
    account = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1, max=64),
        metadata={"description": "the account every statement read with it is of"},
    )
    header_row = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=validate.Range(min=1, max=1000),
        metadata={"description": "the header's line; found by its column names when absent"},
    )


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
    account = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=64),
        metadata={"description": "the account a CSV or XLSX statement is of, if it does not say"},
    )
    file = Upload(required=True, metadata={"description": "camt.053 .xml, or .csv / .xlsx"})


class ImportSchema(Schema):
    statement_id = fields.UUID(required=True)
    lines = fields.Integer(required=True)
    outcomes = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        required=True,
        metadata={
            "description": "lines per outcome: paid, partial, overpaid, returned, refunded, "
            "unmatched, duplicate (an earlier statement carried it), batch, review"
        },
    )
    replayed = fields.Boolean(
        required=True, metadata={"description": "this file was imported before"}
    )
    skipped = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "where the lines an earlier statement carried are"},
    )


class ReportArgs(Schema):
    center = _CENTER
    batch = fields.String(load_default=None, validate=validate.Length(min=1, max=40))


class ExportArgs(ReportArgs):
    format = fields.String(required=True, validate=validate.OneOf(sorted(TABLES)))


class StandingSchema(Schema):
    batch = fields.String(required=True)
    reference = fields.String(required=True)
    provider = fields.String(required=True)
    amount_fen = fields.Integer(required=True)
    paid_fen = fields.Integer(required=True)
    returned_fen = fields.Integer(required=True)
    settled_fen = fields.Integer(required=True)
    released = fields.Boolean(
        required=True, metadata={"description": "all its money came back; its redemptions left it"}
    )
    state = fields.String(
        required=True, metadata={"enum": ["unpaid", "partial", "paid", "overpaid", "returned"]}
    )


class UnmatchedSchema(Schema):
    statement = fields.String(required=True)
    position = fields.String(required=True)
    end_to_end_id = fields.String(allow_none=True)
    amount_fen = fields.Integer(required=True)
    debit = fields.Boolean(required=True)
    outcome = fields.String(required=True, metadata={"enum": ["unmatched", "review"]})


class ReconciliationSchema(Schema):
    center = fields.String(required=True)
    items = fields.List(fields.Nested(StandingSchema), required=True)
    unmatched = fields.List(fields.Nested(UnmatchedSchema), required=True)


@blp.route("/bank-accounts")
class BankAccounts(MethodView):
    @blp.arguments(AccountsArgs, location="query")
    @blp.response(200, AccountSchema(many=True))
    @requires(Action.READ_CENTER, scope=center_in("center"))
    def get(self, args: dict[str, Any]) -> list[AccountView]:
        """The accounts the center registered: the ones whose statements it imports."""
        return bank_accounts.accounts_of(current().uow(), args["center"])

    @blp.arguments(AccountRequest)
    @blp.response(200, AccountSchema)
    @requires(Action.ADMINISTER, scope=center_in("center"))
    def put(self, body: dict[str, Any]) -> AccountView:
        """Register (or correct) an account the center holds: its administrators only."""
        center = body.pop("center")
        return bank_accounts.register_account(
            current().uow(), center, BankDetails(**body), signed_in().actor
        )


@blp.route("/statements/mappings")
class Mappings(MethodView):
    @blp.arguments(MappingRequest)
    @blp.response(200, MappingSchema)
    @requires(Action.SETTLE, scope=center_in("center"))
    def put(self, body: dict[str, Any]) -> dict[str, str]:
        """Save (or replace) which column of the bank's export holds each field; a mapping
        that cannot tell a line's direction or reference is refused, naming the field."""
        center, name = body.pop("center"), body.pop("name")
        mapping = ColumnMapping.from_json({k: v for k, v in body.items() if v is not None})
        reconciliation.save_mapping(current().uow(), center, name, mapping)
        return {"center": center, "name": name}


@blp.route("/statements")
class Statements(MethodView):
    @blp.arguments(StatementForm, location="multipart")
    @blp.response(201, ImportSchema)
    @requires(Action.SETTLE, scope=center_in("center"))
    @takes_file
    def post(self, form: dict[str, Any]) -> ImportResult:
        """Import a statement of a registered account and reconcile each line against the
        center's batches; lines an earlier statement carried count once."""
        filename, content = read_upload(form["file"])
        parts = current()
        return reconciliation.import_statement(
            parts.uow(),
            filename=filename,
            content=content,
            actor=signed_in().actor,
            center_code=form["center"],
            mapping=form["mapping"],
            account=form["account"],
            max_rows=parts.max_table_rows,
        )


@blp.route("/statements/reconciliation")
class Reconciliation(MethodView):
    @blp.arguments(ReportArgs, location="query")
    @blp.response(200, ReconciliationSchema)
    @requires(Action.READ_CENTER, scope=center_in("center"))
    def get(self, args: dict[str, Any]) -> ReconciliationReport:
        """Each payment of the center's exported batches — owed, paid, returned, settled — and
        the statement lines nothing matched or that wait for review."""
        return reconciliation.reconciliation_report(current().uow(), args["center"], args["batch"])


@blp.route("/statements/reconciliation/export")
class ReconciliationExport(MethodView):
    @blp.arguments(ExportArgs, location="query")
    @blp.response(200, content_type="text/csv", description="CSV (UTF-8 with BOM) or XLSX")
    @requires(Action.READ_CENTER, scope=center_in("center"))
    def get(self, args: dict[str, Any]) -> Response:
        """The reconciliation report as a file for a spreadsheet (no cell runs as a formula)."""
        report = reconciliation.reconciliation_report(
            current().uow(), args["center"], args["batch"]
        )
        return reconciliation_file(report, args["format"])
