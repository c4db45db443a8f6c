"""Tokens issued under the older contract (RFC 8037's EdDSA, a payload of twelve fields) are
signed again under today's, so the QR code an SME's phone shows for an old voucher scans too:
same code, SME, face value and expiry; the old token still verifies until it expires; vouchers
no longer active are left as they are; running it again changes nothing."""

from __future__ import annotations

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select

from tests import factories
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.models import Voucher
from voucher_app.services import vouchers
from voucher_app.services.vouchers import VoucherSigner, VoucherView
from voucher_app.signing.jws import MAX_TOKEN_BYTES, is_current, verify_voucher
from voucher_app.signing.qr import qr_code

ADMIN = factories.ADMIN


def legacy_token(view: VoucherView, signer: VoucherSigner) -> str:
    """The token as the service signed it before RFC 9864: PyJWT's EdDSA, every field."""
    payload = {
        "vid": str(view.id),
        "jti": str(view.id),
        "code": view.human_code,
        "prog": str(view.programme_id),
        "ctr": view.center,
        "sme": view.sme_uscc,
        "val": view.face_value_fen,
        "rate": view.subsidy_rate_bp,
        "cat": list(view.service_categories),
        "iat": int(view.issued_at.timestamp()),
        "nbf": int(view.issued_at.timestamp()),
        "exp": int(view.expires_at.timestamp()),
    }
    return jwt.encode(payload, signer.private_key, algorithm="EdDSA", headers={"kid": signer.kid})


def issue_with_legacy_tokens(
    uow: UnitOfWork, signer: VoucherSigner, count: int
) -> dict[str, tuple[VoucherView, str]]:
    factories.guangdong(uow)
    programme = factories.voucher_programme(uow, vouchers=count)
    issued: dict[str, tuple[VoucherView, str]] = {}
    for serial in range(count):
        view = vouchers.claim_voucher(
            uow,
            programme_id=programme.id,
            sme_uscc=factories.sme(uow, serial).uscc,
            actor=ADMIN,
            signer=signer,
        )
        old = legacy_token(view, signer)
        with uow:
            row = uow.vouchers.by_public_id(view.id)
            row.token = old
            uow.commit()
        issued[view.human_code] = (view, old)
    return issued


def tokens(uow: UnitOfWork) -> dict[str, str]:
    with uow:
        return {
            code: token
            for code, token in uow.session.execute(select(Voucher.human_code, Voucher.token))
        }


def test_old_tokens_of_active_vouchers_are_signed_again_for_a_scannable_qr_code(
    uow: UnitOfWork, voucher_signer: VoucherSigner, voucher_keys: dict[str, Ed25519PublicKey]
) -> None:
    issued = issue_with_legacy_tokens(uow, voucher_signer, 3)
    revoked_code = next(iter(issued))
    vouchers.revoke_voucher(uow, issued[revoked_code][0].id, "mistaken", ADMIN)
    old_qr = qr_code(issued[revoked_code][1]).version
    assert isinstance(old_qr, int) and old_qr > 12  # the old token: too dense for a phone

    assert vouchers.resign_tokens(uow, voucher_signer) == 2

    now = uow.clock.now()
    for code, token in tokens(uow).items():
        view, old = issued[code]
        if code == revoked_code:
            assert token == old  # no longer active: left as it was
            continue
        assert is_current(token) and len(token.encode()) <= MAX_TOKEN_BYTES
        version = qr_code(token).version
        assert isinstance(version, int) and version <= 12
        fresh = verify_voucher(token, voucher_keys, now)
        assert (fresh.human_code, fresh.sme_uscc, fresh.face_value_fen) == (
            view.human_code,
            view.sme_uscc,
            view.face_value_fen,
        )
        assert fresh.exp == int(view.expires_at.timestamp())
        assert verify_voucher(old, voucher_keys, now) == fresh  # a printed copy still redeems
        assert vouchers.verify_token(uow, old, voucher_keys).valid


def test_signing_again_twice_changes_nothing(
    uow: UnitOfWork, voucher_signer: VoucherSigner
) -> None:
    issue_with_legacy_tokens(uow, voucher_signer, 2)
    assert vouchers.resign_tokens(uow, voucher_signer) == 2
    after_first = tokens(uow)
    assert vouchers.resign_tokens(uow, voucher_signer) == 0
    assert tokens(uow) == after_first
