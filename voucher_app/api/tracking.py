"""Service tracking routes (服务跟踪): the SME rates a service or complains about it; the
voucher's center (and those above it) reads the complaints and resolves them."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from voucher_app.api.paging import PageArgs, page, page_schema
from voucher_app.api.redemptions import REDEMPTION
from voucher_app.api.reports import RatingSchema
from voucher_app.domain.policy import Action
from voucher_app.domain.reasons import MAX_REASON
from voucher_app.domain.tracking import HIGHEST, LOWEST, MAX_COMMENT, RatingSummary
from voucher_app.http.auth import signed_in
from voucher_app.http.policy import center_in, requires, scope_by
from voucher_app.services import access, tracking
from voucher_app.services.tracking import MAX_COMPLAINT, ComplaintView
from voucher_app.wiring import current

blp = Blueprint("tracking", __name__, description="Ratings and complaints (服务跟踪)")


class RatingRequest(Schema):
    score = fields.Integer(required=True, strict=True, validate=validate.Range(LOWEST, HIGHEST))
    comment = fields.String(load_default=None, validate=validate.Length(max=MAX_COMMENT))


class ComplaintRequest(Schema):
    text = fields.String(required=True, validate=validate.Length(min=1, max=MAX_COMPLAINT))


class ResolveRequest(Schema):
    resolution = fields.String(required=True, validate=validate.Length(min=1, max=MAX_REASON))


class ComplaintsArgs(PageArgs):
    center = fields.String(required=True, validate=validate.Length(min=1, max=12))
    open = fields.Boolean(load_default=False)


class ComplaintSchema(Schema):
    id = fields.UUID(required=True)
    redemption_id = fields.UUID(required=True)
    provider_id = fields.UUID(required=True)
    provider_name = fields.String(required=True)
    center = fields.String(required=True)
    text = fields.String(required=True)
    kind = fields.String(required=True, metadata={"enum": ["service", "objection"]})
    status = fields.String(required=True, metadata={"enum": ["open", "resolved"]})
    filed_at = fields.DateTime(required=True)
    resolution = fields.String(allow_none=True)
    resolved_at = fields.DateTime(allow_none=True)


@blp.route("/redemptions/<uuid:redemption_id>/rating")
class Rating(MethodView):
    @blp.arguments(RatingRequest)
    @blp.response(201, RatingSchema)
    @requires(Action.ACT_AS_SME, scope=REDEMPTION)
    def post(self, body: dict[str, Any], redemption_id: uuid.UUID) -> RatingSummary:
        """Rate the service of an approved redemption, once: 1 to 5 and a comment. Answers the
        provider's ratings with this one."""
        return tracking.rate_service(
            current().uow(), redemption_id, body["score"], body["comment"], signed_in().actor
        )


@blp.route("/redemptions/<uuid:redemption_id>/complaints")
class FileComplaint(MethodView):
    @blp.arguments(ComplaintRequest)
    @blp.response(201, ComplaintSchema)
    @requires(Action.ACT_AS_SME, scope=REDEMPTION)
    def post(self, body: dict[str, str], redemption_id: uuid.UUID) -> ComplaintView:
        """Complain about the service behind a redemption; the voucher's center looks into it."""
        return tracking.file_complaint(
            current().uow(), redemption_id, body["text"], signed_in().actor
        )


@blp.route("/complaints")
class Complaints(MethodView):
    @blp.arguments(ComplaintsArgs, location="query")
    @blp.response(200, page_schema(ComplaintSchema))
    @requires(Action.READ_CENTER, scope=center_in("center"))
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Complaints about services paid by the center's (and its subtree's) vouchers, oldest
        first, a page at a time."""
        found = tracking.complaints_for(
            current().uow(),
            args["center"],
            open_only=args["open"],
            after=args["after"],
            limit=args["limit"] + 1,
        )
        return page(found, args["limit"], lambda complaint: complaint.id)


@blp.route("/complaints/<uuid:complaint_id>/resolve")
class Resolve(MethodView):
    @blp.arguments(ResolveRequest)
    @blp.response(200, ComplaintSchema)
    @requires(Action.REVIEW, scope=scope_by(access.complaint_scope, "complaint_id"))
    def post(self, body: dict[str, str], complaint_id: uuid.UUID) -> ComplaintView:
        """Close the complaint with what the center found or did."""
        return tracking.resolve_complaint(
            current().uow(), complaint_id, body["resolution"], signed_in().actor
        )
