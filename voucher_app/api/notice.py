"""Public notice routes (公示): a center's published list of a day, as `voucher-audit --notice`
checks it against the ledger, and objections to a claim while its notice runs."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from voucher_app.api.tracking import ComplaintRequest
from voucher_app.domain.policy import Action
from voucher_app.http.auth import signed_in
from voucher_app.http.inputs import day_of
from voucher_app.http.policy import requires
from voucher_app.services import notice, tracking
from voucher_app.services.tracking import ComplaintView
from voucher_app.wiring import current

blp = Blueprint("notice", __name__, description="Public notice before payment (公示)")


class NoticeItemSchema(Schema):
    redemption = fields.String(required=True)
    center = fields.String(required=True)
    sme = fields.String(required=True, metadata={"description": "masked (domain.notice.mask_name)"})
    provider = fields.String(required=True, metadata={"description": "masked"})
    category = fields.String(required=True)
    subsidy_fen = fields.Integer(required=True)
    approved_on = fields.String(required=True, metadata={"format": "date"})
    notice_ends_on = fields.String(required=True, metadata={"format": "date"})


class NoticeListSchema(Schema):
    center = fields.String(required=True)
    day = fields.String(required=True, metadata={"format": "date"})
    items = fields.List(fields.Nested(NoticeItemSchema), required=True)
    digest = fields.String(
        required=True,
        metadata={"description": "SHA-256 of the items' digests in byte order, hex"},
    )


class ObjectionSchema(Schema):
    """What the objector gets back: not the names the notice masks."""

    id = fields.UUID(required=True)
    redemption_id = fields.UUID(required=True)
    text = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": ["open", "resolved"]})
    filed_at = fields.DateTime(required=True)


@blp.route("/notice/<string:center>/<string:day>")
class NoticeList(MethodView):
    @blp.response(200, NoticeListSchema)
    @requires(Action.READ_PUBLIC)
    def get(self, center: str, day: str) -> dict[str, Any]:
        """The claims the center published on public notice on `day` (YYYY-MM-DD), exactly as
        published: each item's SHA-256 over its RFC 8785 bytes is in the `approve` entry that
        published it (refs `notice_list`, `notice_item`)."""
        return notice.notice_list(current().uow(), center, day_of(day)).document


@blp.route("/redemptions/<uuid:redemption_id>/objections")
class Objections(MethodView):
    @blp.arguments(ComplaintRequest)
    @blp.response(201, ObjectionSchema)
    @requires(Action.OBJECT)
    def post(self, body: dict[str, str], redemption_id: uuid.UUID) -> ComplaintView:
        """Object to a claim on public notice, with the reason: the claim is held out of every
        batch until the voucher's center resolves the objection (`/complaints/{id}/resolve`)."""
        return tracking.object_to(current().uow(), redemption_id, body["text"], signed_in().actor)
