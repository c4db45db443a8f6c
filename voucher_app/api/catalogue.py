"""The public provider catalogue ("五公开"): every approved provider's active products with
price, standard, time limit and fee rules, and how SMEs rated them."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from voucher_app.api.paging import PageArgs, page, page_schema
from voucher_app.api.reports import RatingSchema
from voucher_app.domain.categories import CATEGORY_CODES
from voucher_app.domain.policy import Action
from voucher_app.http.policy import requires
from voucher_app.services import providers
from voucher_app.wiring import current

blp = Blueprint("catalogue", __name__, description="Providers' services, prices and ratings")


class CatalogueArgs(PageArgs):
    category = fields.String(load_default=None, validate=validate.OneOf(sorted(CATEGORY_CODES)))
    center = fields.String(load_default=None, validate=validate.Length(min=1, max=12))


class ProductSchema(Schema):
    id = fields.UUID(required=True)
    provider_id = fields.UUID(required=True)
    provider_name = fields.String(required=True)
    provider_address = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "null for a provider that applied before addresses were asked"},
    )
    provider_phone = fields.String(required=True)
    center = fields.String(required=True)
    name = fields.String(required=True)
    category = fields.String(required=True)
    price_fen = fields.Integer(required=True)
    standard = fields.String(required=True)
    time_limit_days = fields.Integer(required=True)
    fee_rules = fields.String(required=True)
    rating = fields.Nested(RatingSchema, required=True)
    provider_rating = fields.Nested(RatingSchema, required=True)


@blp.route("")
class Catalogue(MethodView):
    @blp.arguments(CatalogueArgs, location="query")
    @blp.response(200, page_schema(ProductSchema))
    @requires(Action.READ_PUBLIC)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Active products of approved providers, by category and by center (with the centers
        below it), a page at a time."""
        found = providers.catalogue(
            current().uow(),
            category=args["category"],
            center=args["center"],
            after=args["after"],
            limit=args["limit"] + 1,
        )
        return page(found, args["limit"], lambda product: product.id)
