"""Settlement routes: building a batch of approved claims, reading it, exporting its ISO 20022
pain.001 file or CSV (which freezes it), and cancelling it — by finance staff of the batch's
center or above."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from voucher_app.api.auth import requires, scope_by, signed_in
from voucher_app.domain.policy import Action
from voucher_app.domain.reasons import MAX_REASON
from voucher_app.services import access, settlement
from voucher_app.services.settlement import BankAccount, BatchView
from voucher_app.wiring import current

blp = Blueprint("settlement", __name__, description="Paying providers in batches")

BATCH = scope_by(access.batch_scope, "batch_id")
FILES = {"pain001": ("application/xml", "pain.001.xml"), "csv": ("text/csv", "csv")}


class BuildRequest(Schema):
    center = fields.String(required=True, validate=validate.Length(min=1, max=12))


class ItemSchema(Schema):
    reference = fields.String(required=True, metadata={"description": "the end-to-end id"})
    provider_id = fields.UUID(required=True)
    provider_name = fields.String(required=True)
    amount_fen = fields.Integer(required=True)
    paid_fen = fields.Integer(required=True)
    returned_fen = fields.Integer(required=True)
    claims = fields.List(fields.UUID(), required=True)


class BatchSchema(Schema):
    id = fields.UUID(required=True)
    reference = fields.String(required=True)
    programme_id = fields.UUID(required=True)
    center = fields.String(required=True)
    status = fields.String(
        required=True, metadata={"enum": ["draft", "exported", "paid", "cancelled"]}
    )
    total_fen = fields.Integer(required=True)
    items = fields.List(fields.Nested(ItemSchema), required=True)
    created_at = fields.DateTime(required=True)
    exported_at = fields.DateTime(allow_none=True)
    cancel_reason = fields.String(allow_none=True)


class FundingAccountSchema(Schema):
    bank_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    account_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    account_number = fields.String(required=True, validate=validate.Length(min=1, max=64))
    bic = fields.String(load_default=None, validate=validate.Length(min=8, max=11))


class ExportArgs(Schema):
    format = fields.String(required=True, validate=validate.OneOf(sorted(FILES)))


class CancelRequest(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=MAX_REASON))


@blp.route("/programmes/<uuid:programme_id>/funding-account")
class FundingAccount(MethodView):
    @blp.arguments(FundingAccountSchema)
    @blp.response(200, FundingAccountSchema)
    @requires(Action.ADMINISTER, scope=scope_by(access.programme_scope, "programme_id"))
    def put(self, body: dict[str, Any], programme_id: uuid.UUID) -> BankAccount:
        """Record the bank account the programme pays providers from (the payment files'
        debtor): the programme owner's administrators only."""
        account = BankAccount(**body)
        settlement.set_funding_account(current().uow(), programme_id, account, signed_in().actor)
        return account


@blp.route("/programmes/<uuid:programme_id>/batches")
class Build(MethodView):
    @blp.arguments(BuildRequest)
    @blp.response(201, BatchSchema)
    @requires(Action.SETTLE, scope=scope_by(access.center_scope, "center"))
    def post(self, body: dict[str, str], programme_id: uuid.UUID) -> BatchView:
        """A draft batch of the programme's approved claims from the center's subtree, one
        payment per provider."""
        return settlement.build_batch(
            current().uow(), programme_id, body["center"], signed_in().actor
        )


@blp.route("/batches/<uuid:batch_id>")
class Batch(MethodView):
    @blp.response(200, BatchSchema)
    @requires(Action.READ_CENTER, scope=BATCH)
    def get(self, batch_id: uuid.UUID) -> BatchView:
        return settlement.get_batch(current().uow(), batch_id)


@blp.route("/batches/<uuid:batch_id>/export")
class Export(MethodView):
    @blp.arguments(ExportArgs, location="query")
    @blp.response(200, content_type="application/xml", description="pain.001 XML or CSV")
    @requires(Action.SETTLE, scope=BATCH)
    def post(self, args: dict[str, Any], batch_id: uuid.UUID) -> Response:
        """Freeze the batch and answer its payment file; asked again, the same file."""
        files = settlement.export_batch(current().uow(), batch_id, signed_in().actor)
        mimetype, suffix = FILES[args["format"]]
        body = files.pain001 if args["format"] == "pain001" else files.csv
        response = Response(body, mimetype=mimetype)
        response.headers["Content-Disposition"] = (
            f'attachment; filename="{files.batch.reference}.{suffix}"'
        )
        return response


@blp.route("/batches/<uuid:batch_id>/cancel")
class Cancel(MethodView):
    @blp.arguments(CancelRequest)
    @blp.response(200, BatchSchema)
    @requires(Action.SETTLE, scope=BATCH)
    def post(self, body: dict[str, str], batch_id: uuid.UUID) -> BatchView:
        """Cancel a batch nothing was paid from; its claims wait for the next one."""
        return settlement.cancel_batch(current().uow(), batch_id, body["reason"], signed_in().actor)
