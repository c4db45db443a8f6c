"""Related parties in the API: the party details an SME's or a provider's registration takes
(its legal representative and the related parties it declares), and the relations on record
for an SME, which its center's staff add to when they learn of one."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from voucher_app.domain.parties import (
    MAX_ID_NUMBER,
    MAX_NAME,
    Relation,
)
from voucher_app.domain.policy import Action
from voucher_app.domain.reasons import MAX_REASON
from voucher_app.http.auth import signed_in
from voucher_app.http.policy import requires, scope_by
from voucher_app.services import access, parties
from voucher_app.services.parties import (
    DeclaredRelation,
    PartyDetails,
    RelationRecorded,
    RelationView,
)
from voucher_app.wiring import current

blp = Blueprint("parties", __name__, description="Related parties (关联方)")
_RELATION = fields.String(
    required=True, validate=validate.OneOf([relation.value for relation in Relation])
)


class LegalRepresentativeSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=MAX_NAME))
    id_number = fields.String(
        required=True,
        validate=validate.Length(min=1, max=2 * MAX_ID_NUMBER),
        metadata={"description": "resident ID (checked) or passport/permit number"},
    )


class DeclaredSchema(Schema):
    uscc = fields.String(
        required=True,
        validate=validate.Length(min=1, max=40),
        metadata={"description": "the related party's unified social credit code"},
    )
    relation = _RELATION


class PartyFields(Schema):
    """The fields a registration adds for related parties; neither is ever shown back."""

    legal_representative = fields.Nested(
        LegalRepresentativeSchema,
        load_default=None,
        allow_none=False,  # leave it out rather than send null
        metadata={
            "description": "kept only as a keyed digest, to match related parties; never shown"
        },
    )
    related_parties = fields.List(
        fields.Nested(DeclaredSchema),
        load_default=list,
        validate=validate.Length(max=50),
        metadata={"description": "parties it is related to: shareholders, common control, …"},
    )


def party_details(body: dict[str, Any]) -> PartyDetails:
    """Take the party fields out of a registration's parsed `body` (they are not the record's
    own fields) and key the representative into its digest."""
    representative = body.pop("legal_representative", None)
    related = body.pop("related_parties", None) or []
    return parties.details(
        current().matching_key(),
        None if representative is None else (representative["name"], representative["id_number"]),
        [(one["uscc"], one["relation"]) for one in related],
    )


class RelationRequest(Schema):
    related_uscc = fields.String(required=True, validate=validate.Length(min=1, max=40))
    relation = _RELATION
    reason = fields.String(
        required=True,
        validate=validate.Length(min=1, max=MAX_REASON),
        metadata={"description": "how the center learned of it"},
    )


class RelationSchema(Schema):
    party = fields.String(required=True)
    related = fields.String(required=True)
    relation = fields.String(required=True, metadata={"enum": [r.value for r in Relation]})
    reason = fields.String(allow_none=True)
    recorded_by = fields.String(required=True)
    recorded_role = fields.String(required=True)
    recorded_at = fields.DateTime(required=True)


class ToReviewSchema(Schema):
    id = fields.UUID(required=True)
    status = fields.String(required=True)
    sme = fields.String(required=True)
    provider = fields.String(required=True)
    subsidy_fen = fields.Integer(required=True)
    invoice_number = fields.String(required=True)


class RelationRecordedSchema(Schema):
    relation = fields.Nested(RelationSchema, required=True)
    to_review = fields.List(
        fields.Nested(ToReviewSchema),
        required=True,
        metadata={"description": "redemptions between the two approved already: review them"},
    )


SME = scope_by(access.sme_scope, "uscc")


@blp.route("/smes/<string:uscc>/related-parties")
class SmeRelations(MethodView):
    @blp.response(200, RelationSchema(many=True))
    @requires(Action.READ_CONCERNED, scope=SME)
    def get(self, uscc: str) -> list[RelationView]:
        """The relations on record that name the SME, whoever declared them."""
        return parties.relations_of(current().uow(), uscc)

    @blp.arguments(RelationRequest)
    @blp.response(201, RelationRecordedSchema)
    @requires(Action.REVIEW, scope=SME)
    def post(self, body: dict[str, Any], uscc: str) -> RelationRecorded:
        """Record a relation the center learned of, saying how: redemptions between the two are
        refused from now on (`related_party`) unless the programme allows them, and those
        approved already are listed for review."""
        declared = DeclaredRelation(body["related_uscc"], body["relation"])
        return parties.record_relation(
            current().uow(), uscc, declared, body["reason"], signed_in().actor
        )
