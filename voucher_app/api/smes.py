"""SMEs: registering one, its record, its vouchers (claiming one, seeing them, and the one-time
passcode it reads out to a provider who redeems by human code); revocation by the issuing
center."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from voucher_app.api.parties import PartyFields, party_details
from voucher_app.api.vouchers import VoucherStanding
from voucher_app.domain.actors import Role
from voucher_app.domain.money import MAX_FEN
from voucher_app.domain.policy import Action
from voucher_app.domain.reasons import MAX_REASON
from voucher_app.http.auth import acting, current_principal, signed_in
from voucher_app.http.policy import requires, scope_by
from voucher_app.services import access, redemptions, smes, vouchers
from voucher_app.services.smes import SmeDeclaration, SmeView
from voucher_app.services.vouchers import VoucherView
from voucher_app.wiring import current

blp = Blueprint("smes", __name__, description="SMEs' vouchers")
#: The `employees` columns are 32-bit integers: a larger head count cannot be stored.
MAX_EMPLOYEES = 2**31 - 1


class ClaimRequest(Schema):
    programme_id = fields.UUID(required=True)


class HeldVoucher(VoucherStanding):
    token = fields.String(required=True, metadata={"description": "the JWS the QR code carries"})


class RevokeRequest(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=MAX_REASON))


class PasscodeSchema(Schema):
    passcode = fields.String(required=True)
    valid_minutes = fields.Integer(required=True)


@blp.route("/smes/<string:uscc>/vouchers")
class SmeVouchers(MethodView):
    @blp.response(200, HeldVoucher(many=True))
    @requires(Action.READ_CONCERNED, scope=scope_by(access.sme_scope, "uscc"))
    def get(self, uscc: str) -> list[VoucherView]:
        """The SME's vouchers with what is left on each (the SME, and its center or above)."""
        return vouchers.list_vouchers(current().uow(), sme_uscc=uscc)

    @blp.arguments(ClaimRequest)
    @blp.response(201, HeldVoucher)
    @requires(Action.ACT_AS_SME, scope=scope_by(access.sme_scope, "uscc"))
    def post(self, body: dict[str, Any], uscc: str) -> VoucherView:
        """Claim a voucher of the programme, within the SME's cap and its center's budget."""
        parts = current()
        return vouchers.claim_voucher(
            parts.uow(),
            programme_id=body["programme_id"],
            sme_uscc=uscc,
            actor=signed_in().actor,
            signer=parts.voucher_signer(),
        )


@blp.route("/vouchers/<uuid:voucher_id>/passcode")
class Passcode(MethodView):
    @blp.response(201, PasscodeSchema)
    @requires(Action.ACT_AS_SME, scope=scope_by(access.voucher_scope, "voucher_id"))
    def post(self, voucher_id: uuid.UUID) -> dict[str, Any]:
        """A one-time code for a provider who redeems this voucher by its human code."""
        issued = redemptions.new_passcode(current().uow(), voucher_id)
        minutes = int(redemptions.PASSCODE_LIFETIME.total_seconds() // 60)
        return {"passcode": issued.code, "valid_minutes": minutes}


@blp.route("/vouchers/<uuid:voucher_id>/revoke")
class Revoke(MethodView):
    @blp.arguments(RevokeRequest)
    @blp.response(200, VoucherStanding)
    @requires(Action.ISSUE, scope=scope_by(access.voucher_scope, "voucher_id"))
    def post(self, body: dict[str, str], voucher_id: uuid.UUID) -> VoucherView:
        """Revoke the voucher, saying why: the unspent value returns to the issuing center."""
        return vouchers.revoke_voucher(
            current().uow(), voucher_id, body["reason"], signed_in().actor
        )


class DeclarationRequest(PartyFields):
    uscc = fields.String(required=True, validate=validate.Length(min=1, max=40))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    industry = fields.String(required=True, validate=validate.Length(min=1, max=40))
    employees = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=0, max=MAX_EMPLOYEES)
    )
    revenue_fen = fields.Integer(required=True, strict=True, validate=validate.Range(0, MAX_FEN))
    assets_fen = fields.Integer(required=True, strict=True, validate=validate.Range(0, MAX_FEN))
    home_center = fields.String(required=True, validate=validate.Length(min=1, max=12))
    address = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=300),
        metadata={"description": "registered address (related parties share none)"},
    )
    contact_phone = fields.String(load_default=None, validate=validate.Length(min=1, max=40))
    bank_account_number = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=64),
        metadata={"description": "the settlement account (结算账户)"},
    )


class SmeSchema(Schema):
    id = fields.UUID(required=True)
    uscc = fields.String(required=True)
    name = fields.String(required=True)
    industry = fields.String(required=True)
    employees = fields.Integer(required=True)
    revenue_fen = fields.Integer(required=True)
    assets_fen = fields.Integer(required=True)
    home_center = fields.String(required=True)
    size = fields.String(required=True, metadata={"enum": ["micro", "small", "medium", "large"]})
    registered_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    address = fields.String(allow_none=True)
    contact_phone = fields.String(allow_none=True)
    bank_account_number = fields.String(allow_none=True)
    legal_representative_on_record = fields.Boolean(
        required=True, metadata={"description": "kept as a digest only; never shown"}
    )


@blp.route("/smes")
class Register(MethodView):
    @blp.arguments(DeclarationRequest)
    @blp.response(201, SmeSchema)
    @requires(Action.READ_PUBLIC)
    def post(self, body: dict[str, Any]) -> SmeView:
        """Register an SME with its size figures (anyone may: the size class follows the 2011
        standard). Updating a registered one takes the SME itself or its center's staff."""
        party = party_details(body)
        uow = current().uow()
        principal = current_principal()
        may_update = access.permits_any(
            uow,
            principal,
            [Action.ACT_AS_SME, Action.REVIEW],
            lambda u: access.registered_sme_scope(u, body["uscc"]),
        )
        actor = acting(body["uscc"], Role.SME)
        return smes.register_sme(
            uow, SmeDeclaration(**body), actor, create_only=not may_update, party=party
        )


@blp.route("/smes/<string:uscc>")
class Sme(MethodView):
    @blp.response(200, SmeSchema)
    @requires(Action.READ_CONCERNED, scope=scope_by(access.sme_scope, "uscc"))
    def get(self, uscc: str) -> SmeView:
        """The SME's declared figures and size class: for itself, and its center or above."""
        return smes.get_sme(current().uow(), uscc)


class CodeCheckSchema(Schema):
    code = fields.String(required=True, metadata={"description": "as typed, normalised"})
    valid = fields.Boolean(required=True)
    reason = fields.String(
        allow_none=True,
        metadata={"enum": ["wrong_length", "invalid_character", "bad_check_character"]},
    )
    home_center = fields.String(
        allow_none=True, metadata={"description": "the center the code's region suggests"}
    )
    registered = fields.Boolean(required=True, metadata={"description": "an SME has it already"})


@blp.route("/uscc/<string:code>")
class CheckCode(MethodView):
    @blp.response(200, CodeCheckSchema)
    @requires(Action.READ_PUBLIC)
    def get(self, code: str) -> smes.CodeCheck:
        """Check a unified social credit code as it is typed: valid or why not, the home center
        its region suggests, and whether an SME registered it already."""
        return smes.check_code(current().uow(), code)
