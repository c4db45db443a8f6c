"""Settlement routes: building a batch of approved redemptions, reading it, a second finance
officer's approval, exporting its ISO 20022 pain.001 file, CSV or bank bulk-transfer sheet
(which freezes it), and cancelling it — by finance staff of the batch's center or above."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from voucher_app.api.statements import BankDetailsSchema
from voucher_app.domain.bank import BankDetails
from voucher_app.domain.policy import Action
from voucher_app.domain.reasons import MAX_REASON
from voucher_app.http.auth import signed_in
from voucher_app.http.downloads import FILES, payment_file
from voucher_app.http.policy import requires, scope_by
from voucher_app.services import access, settlement
from voucher_app.services.settlement import BatchView
from voucher_app.wiring import current

blp = Blueprint("settlement", __name__, description="Paying providers in batches")

BATCH = scope_by(access.batch_scope, "batch_id")


class BuildRequest(Schema):
    center = fields.String(required=True, validate=validate.Length(min=1, max=12))


class ItemSchema(Schema):
    reference = fields.String(required=True, metadata={"description": "the end-to-end id"})
    provider_id = fields.UUID(required=True)
    provider_name = fields.String(required=True)
    amount_fen = fields.Integer(required=True)
    paid_fen = fields.Integer(required=True)
    returned_fen = fields.Integer(required=True)
    settled_fen = fields.Integer(required=True)
    state = fields.String(
        required=True, metadata={"enum": ["unpaid", "partial", "paid", "overpaid", "returned"]}
    )
    #: The JSON name stays `claims` (a field API clients read; docs/glossary.md, legacy names).
    redemptions = fields.List(fields.UUID(), required=True, data_key="claims")


class BatchSchema(Schema):
    id = fields.UUID(required=True)
    reference = fields.String(required=True)
    programme_id = fields.UUID(required=True)
    center = fields.String(required=True)
    status = fields.String(
        required=True,
        metadata={"enum": ["draft", "exported", "partly_paid", "paid", "cancelled"]},
    )
    total_fen = fields.Integer(required=True)
    items = fields.List(fields.Nested(ItemSchema), required=True)
    created_at = fields.DateTime(required=True)
    exported_at = fields.DateTime(allow_none=True)
    cancel_reason = fields.String(allow_none=True)
    created_by = fields.String(required=True)
    approved_by = fields.String(
        allow_none=True, metadata={"description": "the second finance officer who approved it"}
    )
    debtor_account = fields.String(
        allow_none=True, metadata={"description": "the account its payments leave, once exported"}
    )


class ExportArgs(Schema):
    format = fields.String(required=True, validate=validate.OneOf(sorted(FILES)))


class CancelRequest(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=MAX_REASON))


@blp.route("/programmes/<uuid:programme_id>/funding-account")
class FundingAccount(MethodView):
    @blp.arguments(BankDetailsSchema)
    @blp.response(200, BankDetailsSchema)
    @requires(Action.ADMINISTER, scope=scope_by(access.programme_scope, "programme_id"))
    def put(self, body: dict[str, Any], programme_id: uuid.UUID) -> BankDetails:
        """Record the bank account the programme pays providers from (the payment files'
        debtor, and an account of the owner whose statements are imported): the programme
        owner's administrators only."""
        return settlement.set_funding_account(
            current().uow(), programme_id, BankDetails(**body), signed_in().actor
        )


@blp.route("/programmes/<uuid:programme_id>/batches")
class Build(MethodView):
    @blp.arguments(BuildRequest)
    @blp.response(201, BatchSchema)
    @requires(Action.SETTLE, scope=scope_by(access.center_scope, "center"))
    def post(self, body: dict[str, str], programme_id: uuid.UUID) -> BatchView:
        """A draft batch of the programme's approved redemptions from the center's subtree, one
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


@blp.route("/batches/<uuid:batch_id>/approval")
class Approval(MethodView):
    @blp.response(200, BatchSchema)
    @requires(Action.SETTLE, scope=BATCH)
    def post(self, batch_id: uuid.UUID) -> BatchView:
        """A second finance officer approves the draft batch for export (needed over the
        configured total): not whoever built it, nor whoever approved one of its redemptions."""
        return settlement.approve_batch(current().uow(), batch_id, signed_in().actor)


@blp.route("/batches/<uuid:batch_id>/export")
class ExportFile(MethodView):
    @blp.arguments(ExportArgs, location="query")
    @blp.response(
        200,
        content_type="application/xml",
        description="pain.001 XML, the payment CSV (UTF-8 with BOM) or the bank's bulk-transfer "
        "sheet (批量转账, GB18030)",
    )
    @requires(Action.SETTLE, scope=BATCH)
    def post(self, args: dict[str, Any], batch_id: uuid.UUID) -> Response:
        """Freeze the batch and answer its payment file; asked again, the same file. Refused
        to whoever approved one of its redemptions, and over the configured total until a second
        finance officer approved it."""
        parts = current()
        files = settlement.export_batch(
            parts.uow(),
            batch_id,
            signed_in().actor,
            second_approval_over_fen=parts.second_approval_over_fen,
        )
        return payment_file(files, args["format"])


@blp.route("/batches/<uuid:batch_id>/cancel")
class Cancel(MethodView):
    @blp.arguments(CancelRequest)
    @blp.response(200, BatchSchema)
    @requires(Action.SETTLE, scope=BATCH)
    def post(self, body: dict[str, str], batch_id: uuid.UUID) -> BatchView:
        """Cancel a batch nothing was paid from; its redemptions wait for the next one."""
        return settlement.cancel_batch(current().uow(), batch_id, body["reason"], signed_in().actor)
