"""Provider routes: applying to a center, the center's decision, a provider's own record and
its catalogue products."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from voucher_app.api.catalogue import ProductSchema
from voucher_app.api.parties import PartyFields, party_details
from voucher_app.api.statements import BankDetailsSchema
from voucher_app.domain.actors import Role
from voucher_app.domain.bank import BankDetails
from voucher_app.domain.categories import CATEGORY_CODES
from voucher_app.domain.money import MAX_FEN
from voucher_app.domain.policy import Action
from voucher_app.domain.providers import ProviderDecision, ProviderStatus
from voucher_app.domain.reasons import MAX_REASON
from voucher_app.http.auth import acting, signed_in
from voucher_app.http.policy import requires, scope_by
from voucher_app.services import access, providers
from voucher_app.services.providers import (
    ProductTerms,
    ProductView,
    ProviderApplication,
    ProviderView,
)
from voucher_app.wiring import current

blp = Blueprint("providers", __name__, description="Service providers and their products")

PROVIDER = scope_by(access.provider_scope, "provider_id")
_CATEGORY = fields.String(validate=validate.OneOf(sorted(CATEGORY_CODES)))


def _text(limit: int) -> fields.String:
    return fields.String(required=True, validate=validate.Length(min=1, max=limit))


class ApplicationRequest(PartyFields):
    uscc = _text(18)
    name = _text(200)
    service_categories = fields.List(_CATEGORY, required=True, validate=validate.Length(min=1))
    contact_name = _text(100)
    contact_phone = _text(40)
    contact_email = fields.Email(required=True, validate=validate.Length(max=200))
    bank_name = _text(200)
    bank_account_name = _text(200)
    bank_account_number = _text(64)
    bank_cnaps = fields.String(
        required=True,
        validate=validate.Length(min=1, max=40),
        metadata={"description": "the 12-digit CNAPS code (联行号) of the account's branch"},
    )
    bank_bic = fields.String(load_default=None, validate=validate.Length(min=8, max=11))
    center = _text(12)
    address = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=300),
        metadata={"description": "where the provider serves; the public catalogue shows it"},
    )


class ProviderSchema(Schema):
    id = fields.UUID(required=True)
    uscc = fields.String(required=True)
    name = fields.String(required=True)
    service_categories = fields.List(fields.String(), required=True)
    center = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": [s.value for s in ProviderStatus]})
    status_reason = fields.String(allow_none=True)


class DecisionRequest(Schema):
    decision = fields.String(
        required=True, validate=validate.OneOf([d.value for d in ProviderDecision])
    )
    reason = fields.String(load_default=None, validate=validate.Length(max=MAX_REASON))


class ProductRequest(Schema):
    name = _text(200)
    category = fields.String(required=True, validate=validate.OneOf(sorted(CATEGORY_CODES)))
    price_fen = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=MAX_FEN)
    )
    standard = _text(2000)
    time_limit_days = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=3660)
    )
    fee_rules = _text(2000)


@blp.route("")
class Apply(MethodView):
    @blp.arguments(ApplicationRequest)
    @blp.response(201, ProviderSchema)
    @requires(Action.READ_PUBLIC)
    def post(self, body: dict[str, Any]) -> ProviderView:
        """Apply to a center as a provider, with the bank account payments will go to; the
        center approves. Then register a user bound to the provider (`/register`)."""
        party = party_details(body)
        application = ProviderApplication(
            **{**body, "service_categories": tuple(body["service_categories"])}
        )
        actor = acting(body["uscc"], Role.PROVIDER)
        return providers.apply_provider(current().uow(), application, actor, party)


@blp.route("/<uuid:provider_id>")
class Provider(MethodView):
    @blp.response(200, ProviderSchema)
    @requires(Action.READ_CONCERNED, scope=PROVIDER)
    def get(self, provider_id: uuid.UUID) -> ProviderView:
        """The provider's record: for itself, and its center's staff and above."""
        return providers.get_provider(current().uow(), provider_id)


@blp.route("/<uuid:provider_id>/decision")
class Decision(MethodView):
    @blp.arguments(DecisionRequest)
    @blp.response(200, ProviderSchema)
    @requires(Action.REVIEW, scope=PROVIDER)
    def post(self, body: dict[str, Any], provider_id: uuid.UUID) -> ProviderView:
        """Approve, reject, suspend or reinstate (a reason for all but approval)."""
        return providers.decide_provider(
            current().uow(),
            provider_id,
            ProviderDecision(body["decision"]),
            signed_in().actor,
            body["reason"],
        )


@blp.route("/<uuid:provider_id>/bank-account")
class BankAccount(MethodView):
    @blp.arguments(BankDetailsSchema)
    @blp.response(200, ProviderSchema)
    @requires(Action.ACT_AS_PROVIDER, scope=PROVIDER)
    def put(self, body: dict[str, Any], provider_id: uuid.UUID) -> ProviderView:
        """Change the account the provider is paid to, checked as the payment files check it
        (batches already exported keep the account they pay)."""
        return providers.change_bank_account(
            current().uow(), provider_id, BankDetails(**body), signed_in().actor
        )


@blp.route("/<uuid:provider_id>/products")
class Products(MethodView):
    @blp.arguments(ProductRequest)
    @blp.response(201, ProductSchema)
    @requires(Action.ACT_AS_PROVIDER, scope=PROVIDER)
    def post(self, body: dict[str, Any], provider_id: uuid.UUID) -> ProductView:
        """Publish a product in the catalogue: price, standard, time limit and fees."""
        return providers.add_product(
            current().uow(), provider_id, ProductTerms(**body), signed_in().actor
        )


@blp.route("/<uuid:provider_id>/products/<uuid:product_id>")
class ProductVersion(MethodView):
    @blp.arguments(ProductRequest)
    @blp.response(200, ProductSchema)
    @requires(Action.ACT_AS_PROVIDER, scope=PROVIDER)
    def put(
        self, body: dict[str, Any], provider_id: uuid.UUID, product_id: uuid.UUID
    ) -> ProductView:
        """Publish new terms: the answer is a new product that replaces this one in the
        catalogue, while redemptions made under the old terms keep them."""
        return providers.revise_product(
            current().uow(), provider_id, product_id, ProductTerms(**body), signed_in().actor
        )

    @blp.response(204)
    @requires(Action.ACT_AS_PROVIDER, scope=PROVIDER)
    def delete(self, provider_id: uuid.UUID, product_id: uuid.UUID) -> None:
        """Withdraw the product from the catalogue."""
        providers.withdraw_product(current().uow(), provider_id, product_id, signed_in().actor)
