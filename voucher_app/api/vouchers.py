"""Public voucher routes: the JWK Set that verifies voucher tokens, and token verification
against the ledger (what a provider's scanner, or anyone holding a token, may ask)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from voucher_app.domain.policy import Action
from voucher_app.http.inputs import MAX_TOKEN
from voucher_app.http.policy import requires
from voucher_app.services import vouchers
from voucher_app.signing.jws import jwks
from voucher_app.wiring import current

blp = Blueprint("vouchers", __name__, description="Voucher tokens and their standing")
keys = Blueprint("jwks", __name__, description="Voucher signing keys")


class VerifyRequest(Schema):
    token = fields.String(required=True, validate=validate.Length(min=1, max=MAX_TOKEN))


class VoucherStanding(Schema):
    id = fields.UUID(required=True)
    human_code = fields.String(required=True)
    programme_id = fields.UUID(required=True)
    sme_uscc = fields.String(required=True)
    center = fields.String(required=True)
    status = fields.String(
        required=True, metadata={"enum": ["active", "exhausted", "expired", "revoked"]}
    )
    status_reason = fields.String(allow_none=True)
    face_value_fen = fields.Integer(required=True)
    remaining_fen = fields.Integer(required=True)
    subsidy_rate_bp = fields.Integer(required=True)
    service_categories = fields.List(fields.String(), required=True)
    issued_at = fields.DateTime(required=True)
    expires_at = fields.DateTime(required=True)


class VerifyResult(Schema):
    valid = fields.Boolean(required=True)
    reason = fields.String(
        allow_none=True,
        metadata={
            "description": "why the token is refused: malformed, bad_signature, "
            "unsupported_algorithm, unknown_key, expired, missing_claims"
        },
    )
    voucher = fields.Nested(VoucherStanding, allow_none=True)


class JwkSchema(Schema):
    """An RFC 8037 Ed25519 key. It names no `alg`: the same key verifies today's tokens
    (`Ed25519`, RFC 9864) and those issued before with `EdDSA`."""

    kty = fields.String(required=True)
    crv = fields.String(required=True)
    x = fields.String(required=True)
    kid = fields.String(required=True)
    use = fields.String(required=True)


class JwkSetSchema(Schema):
    keys = fields.List(fields.Nested(JwkSchema), required=True)


@blp.route("/verify")
class Verify(MethodView):
    @blp.arguments(VerifyRequest)
    @blp.response(200, VerifyResult)
    @requires(Action.READ_PUBLIC)
    def post(self, body: dict[str, str]) -> dict[str, Any]:
        """Check a voucher token's signature, and what the ledger says the voucher is worth."""
        parts = current()
        check = vouchers.verify_token(parts.uow(), body["token"], parts.voucher_keys())
        return {"valid": check.valid, "reason": check.reason, "voucher": check.voucher}


@keys.route("/.well-known/jwks.json")
class JwkSet(MethodView):
    @keys.response(200, JwkSetSchema)
    @requires(Action.READ_PUBLIC)
    def get(self) -> dict[str, Any]:
        """Every voucher key (retired ones too): any JOSE library verifies a voucher offline."""
        return jwks(current().voucher_keys().items())
