"""Programme and budget routes: a programme's public terms, creating one, funding it, moving
budget down the hierarchy and back, and what a center has left to issue."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from voucher_app.domain.categories import CATEGORY_CODES
from voucher_app.domain.money import MAX_FEN
from voucher_app.domain.policy import Action
from voucher_app.domain.programmes import (
    MAX_CONFIRMATION_DAYS,
    MAX_VALIDITY_DAYS,
    BudgetMove,
    ProgrammeTerms,
)
from voucher_app.domain.shards import MAX_SHARDS
from voucher_app.domain.sme import INDUSTRY_CODES, SizeClass
from voucher_app.domain.workdays import MAX_NOTICE_WORKING_DAYS
from voucher_app.http.auth import signed_in
from voucher_app.http.policy import requires, scope_by
from voucher_app.ledger.journal import PostedEntry
from voucher_app.services import access, programmes
from voucher_app.services.programmes import ProgrammeView
from voucher_app.wiring import current

blp = Blueprint("programmes", __name__, description="Programmes and their budgets")

PROGRAMME = scope_by(access.programme_scope, "programme_id")
_FEN = validate.Range(min=1, max=MAX_FEN)
_CENTER = validate.Length(min=1, max=12)


class TermsSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    owner_center = fields.String(required=True, validate=_CENTER)
    period_start = fields.Date(required=True)
    period_end = fields.Date(required=True)
    total_budget_fen = fields.Integer(required=True, strict=True, validate=_FEN)
    subsidy_rate_bp = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=10_000)
    )
    sme_cap_fen = fields.Integer(required=True, strict=True, validate=_FEN)
    voucher_face_value_fen = fields.Integer(required=True, strict=True, validate=_FEN)
    voucher_validity_days = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=MAX_VALIDITY_DAYS)
    )
    partial_spending = fields.Boolean(required=True)
    service_categories = fields.List(
        fields.String(validate=validate.OneOf(sorted(CATEGORY_CODES))),
        required=True,
        validate=validate.Length(min=1),
    )
    accepted_sizes = fields.List(
        fields.String(validate=validate.OneOf([size.value for size in SizeClass])),
        required=True,
        validate=validate.Length(min=1),
    )
    accepted_industries = fields.List(
        fields.String(validate=validate.OneOf(sorted(INDUSTRY_CODES))),
        load_default=list,
        metadata={"description": "empty (the default): every industry of the size standard"},
    )
    confirmation_days = fields.Integer(
        load_default=7,
        strict=True,
        validate=validate.Range(min=1, max=MAX_CONFIRMATION_DAYS),
        metadata={
            "description": "days an SME has to confirm a redemption; silence then counts as yes"
        },
    )
    budget_shards = fields.Integer(
        load_default=None,
        strict=True,
        validate=validate.Range(min=1, max=MAX_SHARDS),
        metadata={
            "description": "how many ledger accounts (shards) each center's budget is held in, "
            "so a rush of claims on one district does not queue on one row; by default one "
            "per 8 vouchers the budget pays for, at most 16"
        },
    )
    notice_working_days = fields.Integer(
        load_default=0,
        strict=True,
        validate=validate.Range(min=0, max=MAX_NOTICE_WORKING_DAYS),
        metadata={
            "description": "public notice period (公示期) of approved redemptions, in working "
            "days: none enters a batch before it ends; 0 (the default): no notice"
        },
    )
    related_parties_allowed = fields.Boolean(
        load_default=False,
        metadata={
            "description": "pay for services between related parties (关联方); refused with "
            "`related_party` unless set"
        },
    )


class ProgrammeSchema(Schema):
    id = fields.UUID(required=True)
    name = fields.String(required=True)
    owner_center = fields.String(required=True)
    period_start = fields.Date(required=True)
    period_end = fields.Date(required=True)
    total_budget_fen = fields.Integer(required=True)
    funded_fen = fields.Integer(required=True)
    subsidy_rate_bp = fields.Integer(required=True)
    sme_cap_fen = fields.Integer(required=True)
    voucher_face_value_fen = fields.Integer(required=True)
    voucher_validity_days = fields.Integer(required=True)
    partial_spending = fields.Boolean(required=True)
    service_categories = fields.List(fields.String(), required=True)
    accepted_sizes = fields.List(fields.String(), required=True)
    accepted_industries = fields.List(
        fields.String(), required=True, metadata={"description": "empty: every industry"}
    )
    confirmation_days = fields.Integer(required=True)
    budget_shards = fields.Integer(required=True)
    related_parties_allowed = fields.Boolean(required=True)
    notice_working_days = fields.Integer(required=True)


class FundingRequest(Schema):
    amount_fen = fields.Integer(required=True, strict=True, validate=_FEN)


class MoveRequest(Schema):
    from_center = fields.String(required=True, validate=_CENTER)
    to_center = fields.String(required=True, validate=_CENTER)
    amount_fen = fields.Integer(required=True, strict=True, validate=_FEN)


class PostingSchema(Schema):
    account = fields.String(required=True)
    amount_fen = fields.Integer(required=True)


class EntrySchema(Schema):
    id = fields.UUID(required=True, metadata={"description": "the journal entry"})
    kind = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    postings = fields.List(fields.Nested(PostingSchema), required=True)
    refs = fields.Dict(required=True)


class BudgetArgs(Schema):
    center = fields.String(required=True, validate=_CENTER)


class BudgetSchema(Schema):
    center = fields.String(required=True)
    available_fen = fields.Integer(required=True)


def _move(
    move: Callable[..., PostedEntry], body: dict[str, Any], programme_id: uuid.UUID
) -> PostedEntry:
    """Allocate or claw back as the request says, acting as its signed-in user."""
    return move(current().uow(), programme_id, BudgetMove(**body), actor=signed_in().actor)


@blp.route("")
class Programmes(MethodView):
    @blp.arguments(TermsSchema)
    @blp.response(201, ProgrammeSchema)
    @requires(Action.ADMINISTER, scope=scope_by(access.center_scope, "owner_center"))
    def post(self, body: dict[str, Any]) -> ProgrammeView:
        """Create a programme owned by a center: admins of that center (or above)."""
        terms = ProgrammeTerms(
            **{
                **body,
                "service_categories": tuple(body["service_categories"]),
                "accepted_sizes": tuple(SizeClass(size) for size in body["accepted_sizes"]),
                "accepted_industries": tuple(body["accepted_industries"]),
            }
        )
        return programmes.create_programme(current().uow(), terms, signed_in().actor)


@blp.route("/<uuid:programme_id>")
class Programme(MethodView):
    @blp.response(200, ProgrammeSchema)
    @requires(Action.READ_PUBLIC)
    def get(self, programme_id: uuid.UUID) -> ProgrammeView:
        """A programme's terms and how much of its budget is funded: public, as policy is."""
        return programmes.get_programme(current().uow(), programme_id)


@blp.route("/<uuid:programme_id>/funding")
class Funding(MethodView):
    @blp.arguments(FundingRequest)
    @blp.response(201, EntrySchema)
    @requires(Action.MOVE_BUDGET, scope=PROGRAMME)
    def post(self, body: dict[str, int], programme_id: uuid.UUID) -> PostedEntry:
        """Appropriate money to the programme: it lands in the owning center's budget."""
        return programmes.fund_programme(
            current().uow(),
            programme_id,
            amount_fen=body["amount_fen"],
            actor=signed_in().actor,
        )


@blp.route("/<uuid:programme_id>/allocations")
class Allocations(MethodView):
    @blp.arguments(MoveRequest)
    @blp.response(201, EntrySchema)
    @requires(Action.MOVE_BUDGET, scope=scope_by(access.center_scope, "from_center"))
    def post(self, body: dict[str, Any], programme_id: uuid.UUID) -> PostedEntry:
        """Pass budget from a center to one of its direct children."""
        return _move(programmes.allocate, body, programme_id)


@blp.route("/<uuid:programme_id>/clawbacks")
class Clawbacks(MethodView):
    @blp.arguments(MoveRequest)
    @blp.response(201, EntrySchema)
    @requires(Action.MOVE_BUDGET, scope=scope_by(access.center_scope, "to_center"))
    def post(self, body: dict[str, Any], programme_id: uuid.UUID) -> PostedEntry:
        """Take unspent budget back from a child center (`from_center`) to its parent."""
        return _move(programmes.claw_back, body, programme_id)


@blp.route("/<uuid:programme_id>/budget")
class Budget(MethodView):
    @blp.arguments(BudgetArgs, location="query")
    @blp.response(200, BudgetSchema)
    @requires(Action.READ_CENTER, scope=scope_by(access.center_scope, "center"))
    def get(self, args: dict[str, str], programme_id: uuid.UUID) -> dict[str, Any]:
        """What the center has left to issue as vouchers."""
        left = programmes.available_budget(current().uow(), programme_id, args["center"])
        return {"center": args["center"], "available_fen": left}
