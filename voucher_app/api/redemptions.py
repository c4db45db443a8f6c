"""Redemption routes (兑付): a provider asks to be paid for a delivered service, the SME confirms
or disputes, the center approves or rejects; everyone the redemption concerns reads it and its
history.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from voucher_app.domain.money import MAX_FEN
from voucher_app.domain.policy import Action
from voucher_app.domain.reasons import MAX_REASON
from voucher_app.domain.signals import Code
from voucher_app.http.auth import current_principal, signed_in
from voucher_app.http.inputs import MAX_TOKEN
from voucher_app.http.policy import center_in, requires, scope_by
from voucher_app.services import access, redemption_lists, redemptions
from voucher_app.services.redemptions import RedemptionView, Service, VoucherProof
from voucher_app.wiring import current

blp = Blueprint("redemptions", __name__, description="Providers' redemptions on vouchers (兑付)")
REDEMPTION = scope_by(access.redemption_scope, "redemption_id")


class CorrectionRequest(Schema):
    """What a corrected redemption sends again: the service, invoice and delivery."""

    product_id = fields.UUID(load_default=None)
    category = fields.String(load_default=None, validate=validate.Length(min=1, max=40))
    description = fields.String(load_default="", validate=validate.Length(max=500))
    invoice_number = fields.String(required=True, validate=validate.Length(min=1, max=64))
    invoiced_fen = fields.Integer(required=True, strict=True, validate=validate.Range(1, MAX_FEN))
    delivered_on = fields.Date(required=True)


class SubmitRequest(CorrectionRequest):
    """A new redemption: the voucher's proof (its token, or its human code and passcode) with
    the service, invoice and delivery."""

    token = fields.String(load_default=None, validate=validate.Length(min=1, max=MAX_TOKEN))
    human_code = fields.String(load_default=None, validate=validate.Length(min=1, max=20))
    passcode = fields.String(load_default=None, validate=validate.Length(min=1, max=12))

    @validates_schema
    def _one_proof(self, data: dict[str, Any], **_: Any) -> None:
        by_code = data.get("human_code") is not None or data.get("passcode") is not None
        if (data.get("token") is not None) == by_code:
            raise ValidationError("send the voucher's token, or its human code and passcode")


def _service(body: dict[str, Any]) -> Service:
    return Service(
        body["invoice_number"],
        body["invoiced_fen"],
        body["delivered_on"],
        product_id=body["product_id"],
        category=body["category"],
        description=body["description"],
    )


class ReasonRequest(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=MAX_REASON))


class RedemptionSchema(Schema):
    id = fields.UUID(required=True)
    voucher_id = fields.UUID(required=True)
    voucher_code = fields.String(required=True)
    provider_id = fields.UUID(required=True)
    product_id = fields.UUID(allow_none=True)
    category = fields.String(required=True)
    description = fields.String(required=True)
    invoice_number = fields.String(required=True)
    invoiced_fen = fields.Integer(required=True)
    subsidy_fen = fields.Integer(required=True)
    delivered_on = fields.Date(required=True)
    status = fields.String(
        required=True,
        metadata={
            "enum": ["submitted", "confirmed", "disputed", "approved", "rejected", "settled"]
        },
    )
    status_reason = fields.String(allow_none=True)
    submitted_at = fields.DateTime(required=True)
    confirm_by = fields.DateTime(required=True)
    notice_ends_on = fields.Date(
        allow_none=True,
        metadata={
            "description": "the last working day of its public notice (公示), set at approval "
            "where the programme has one; no batch pays it before the day after"
        },
    )


class EventSchema(Schema):
    status = fields.String(required=True)
    reason = fields.String(allow_none=True)
    details = fields.Dict(required=True)
    actor = fields.String(required=True)
    role = fields.String(required=True)
    at = fields.DateTime(required=True)


@blp.route("/providers/<uuid:provider_id>/redemptions")
class Submit(MethodView):
    @blp.arguments(SubmitRequest)
    @blp.response(201, RedemptionSchema)
    @requires(Action.ACT_AS_PROVIDER, scope=scope_by(access.provider_scope, "provider_id"))
    def post(self, body: dict[str, Any], provider_id: uuid.UUID) -> RedemptionView:
        """Redeem a voucher: ask for the subsidy of a service delivered under it. Send an
        `Idempotency-Key` header: a retry with the same key returns the first redemption."""
        parts = current()
        return redemptions.submit_redemption(
            parts.uow(),
            provider_id=provider_id,
            proof=VoucherProof(body["token"], body["human_code"], body["passcode"]),
            service=_service(body),
            actor=signed_in().actor,
            public_keys=parts.voucher_keys(),
            client_address=request.remote_addr,
        )


@blp.route("/redemptions/<uuid:redemption_id>")
class Redemption(MethodView):
    @blp.response(200, RedemptionSchema)
    @requires(Action.READ_CONCERNED, scope=REDEMPTION)
    def get(self, redemption_id: uuid.UUID) -> RedemptionView:
        return redemptions.get_redemption(current().uow(), redemption_id)


@blp.route("/redemptions/<uuid:redemption_id>/history")
class History(MethodView):
    @blp.response(200, EventSchema(many=True))
    @requires(Action.READ_CONCERNED, scope=REDEMPTION)
    def get(self, redemption_id: uuid.UUID) -> list[dict[str, Any]]:
        """Every step of the redemption, oldest first, with who took it and when; center
        reviewers also read the fraud signals an approval answered, and why (`review`)."""
        uow = current().uow()
        reviewer = access.permits(
            uow,
            current_principal(),
            Action.REVIEW,
            lambda scoped: access.redemption_scope(scoped, redemption_id),
        )
        return redemptions.redemption_history(uow, redemption_id, reviewer=reviewer)


@blp.route("/redemptions/<uuid:redemption_id>/confirm")
class Confirm(MethodView):
    @blp.response(200, RedemptionSchema)
    @requires(Action.ACT_AS_SME, scope=REDEMPTION)
    def post(self, redemption_id: uuid.UUID) -> RedemptionView:
        """The SME confirms the service was delivered as claimed."""
        parts = current()
        return redemptions.confirm_redemption(
            parts.uow(), redemption_id, signed_in().actor, parts.signal_thresholds
        )


@blp.route("/redemptions/<uuid:redemption_id>/dispute")
class Dispute(MethodView):
    @blp.arguments(ReasonRequest)
    @blp.response(200, RedemptionSchema)
    @requires(Action.ACT_AS_SME, scope=REDEMPTION)
    def post(self, body: dict[str, str], redemption_id: uuid.UUID) -> RedemptionView:
        """The SME disputes the redemption, saying why; the value goes back to the voucher."""
        return redemptions.dispute_redemption(
            current().uow(), redemption_id, body["reason"], signed_in().actor
        )


class SignalSchema(Schema):
    code = fields.String(required=True, metadata={"enum": [code.value for code in Code]})
    figures = fields.Dict(
        keys=fields.String(),
        required=True,
        metadata={"description": "what a reviewer reads: amounts in fen, days, counts"},
    )


class ReviewItemSchema(RedemptionSchema):
    signals = fields.List(
        fields.Nested(SignalSchema),
        required=True,
        metadata={
            "description": "fraud signals of its last scoring; approving past one needs a reason"
        },
    )


class ReviewArgs(Schema):
    center = fields.String(required=True, validate=validate.Length(min=1, max=12))


@blp.route("/review")
class ReviewQueue(MethodView):
    @blp.arguments(ReviewArgs, location="query")
    @blp.response(200, ReviewItemSchema(many=True))
    @requires(Action.REVIEW, scope=center_in("center"))
    def get(self, args: dict[str, str]) -> list[RedemptionView]:
        """The center's review queue (its subtree's confirmed claims): those with the most fraud
        signals first, then the oldest; each with its signals and their figures."""
        return redemption_lists.review_queue(current().uow(), args["center"])


class ApproveRequest(Schema):
    reason = fields.String(load_default=None, validate=validate.Length(max=MAX_REASON))


@blp.route("/redemptions/<uuid:redemption_id>/approve")
class Approve(MethodView):
    @blp.arguments(ApproveRequest, required=False)
    @blp.response(200, RedemptionSchema)
    @requires(Action.REVIEW, scope=REDEMPTION)
    def post(self, body: dict[str, Any], redemption_id: uuid.UUID) -> RedemptionView:
        """Staff of the voucher's center (or above) approve: the subsidy becomes payable. A
        claim with fraud signals (`signals` in its view) is approved only with a `reason`
        (else 409 `signals_unexplained`), which its history keeps."""
        if request.get_data() and not request.is_json:  # the body is optional, not free-form
            abort(422, messages={"json": ["send the reason as JSON, or no body"]})
        parts = current()
        return redemptions.approve_redemption(
            parts.uow(),
            redemption_id,
            signed_in().actor,
            reason=(body or {}).get("reason"),
            limits=parts.signal_thresholds,
        )


@blp.route("/redemptions/<uuid:redemption_id>/reject")
class Reject(MethodView):
    @blp.arguments(ReasonRequest)
    @blp.response(200, RedemptionSchema)
    @requires(Action.REVIEW, scope=REDEMPTION)
    def post(self, body: dict[str, str], redemption_id: uuid.UUID) -> RedemptionView:
        """Staff reject the redemption with a reason: the value is back on the voucher."""
        return redemptions.reject_redemption(
            current().uow(), redemption_id, body["reason"], signed_in().actor
        )


@blp.route("/redemptions/<uuid:redemption_id>/resubmit")
class Resubmit(MethodView):
    @blp.arguments(CorrectionRequest)
    @blp.response(200, RedemptionSchema)
    @requires(Action.ACT_AS_PROVIDER, scope=REDEMPTION)
    def post(self, body: dict[str, Any], redemption_id: uuid.UUID) -> RedemptionView:
        """The provider corrects a disputed or rejected redemption and submits it again."""
        return redemptions.resubmit_redemption(
            current().uow(), redemption_id, _service(body), signed_in().actor
        )
