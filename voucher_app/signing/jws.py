"""Vouchers as signed tokens: JWS compact serialization (RFC 7515) signed with EdDSA over
Ed25519 (RFC 8037), so that any standard JOSE library verifies a voucher offline against the
JWK Set the service publishes at `/.well-known/jwks.json`. PyJWT does the signing and the
signature check; this module fixes the token contract and refuses everything outside it.

The token contract
------------------

Protected header: ``{"alg": "EdDSA", "kid": <key id>, "typ": "JWT"}``. The key id is the
voucher key's `kid` in the keyring, its RFC 7638 JWK thumbprint. No other algorithm is ever
accepted: not ``none``, not a symmetric one (HS256 keyed with the public key's bytes is the
classic confusion), not another asymmetric one.

The payload, a JSON object whose fields are all required (fields not listed here are ignored;
RFC 7519 calls each field a *claim*, this project says *payload*, keeping *claim* for an SME
obtaining a voucher — see docs/glossary.md):

======  ================  ===============================================================
field   JSON type         meaning
======  ================  ===============================================================
vid     string            the voucher's public id, a UUID in canonical lower-case form
jti     string            the JWT ID (RFC 7519): the same as ``vid``
code    string            the voucher's human code, e.g. ``3G92-30VQ-VSQ``
prog    string            the programme's public id (UUID, canonical form)
ctr     string            the code of the issuing service center
sme     string            the SME's unified social credit code
val     integer           face value in fen
rate    integer           the subsidy share of a service's price, in basis points
cat     array of strings  the service categories the voucher may pay for
iat     integer           issued at, seconds since the epoch (NumericDate)
nbf     integer           not valid before this time
exp     integer           not valid at or after this time
======  ================  ===============================================================

Integers are non-negative; strings are non-empty. `verify_voucher` refuses a token with
`InvalidVoucherToken`, whose ``details["reason"]`` is one of:

- ``malformed``: not three unpadded base64url parts, a header or payload that is not a JSON
  object, a signature that is not 64 bytes (a truncated token), an unsupported ``crit``;
- ``unsupported_algorithm``: ``alg`` is anything but ``EdDSA``, or missing;
- ``unknown_key``: ``kid`` missing, not a string, or not one of the keys given;
- ``bad_signature``: the signature does not verify with that key (the token was altered);
- ``missing_claims`` (the RFC's word, kept as a stable value clients match on): a payload field
  absent or of the wrong type, or ``jti`` ≠ ``vid``;
- ``not_yet_valid``: before ``nbf``; ``expired``: at or after ``exp`` (unless the caller asks
  for the payload of an expired token with ``allow_expired=True``).

A valid signature proves that the service issued the voucher, not that it is unspent: only the
ledger knows that, and redemption checks both (DESIGN §5).

RFC 9864 (2025) deprecates the polymorphic ``EdDSA`` name in favour of ``Ed25519``. DESIGN §5
names ``EdDSA``, which every JOSE library verifies today (some, like joserfc, warn about it).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from voucher_app.domain.errors import InvalidVoucherToken, TokenRefusal

ALGORITHM = "EdDSA"
#: Every field of a voucher token's payload.
PAYLOAD_FIELDS = (
    "vid",
    "jti",
    "code",
    "prog",
    "ctr",
    "sme",
    "val",
    "rate",
    "cat",
    "iat",
    "nbf",
    "exp",
)

_ED25519_SIGNATURE_BYTES = 64
#: Three base64url segments without padding; the signature may be empty only so that an
#: ``alg: none`` token is refused for its algorithm rather than its shape.
_COMPACT = re.compile(r"(?P<header>[A-Za-z0-9_-]+)\.[A-Za-z0-9_-]+\.(?P<signature>[A-Za-z0-9_-]*)")
#: A PyJWS that knows no algorithm but EdDSA, whatever the header or the call says.
_JWS = jwt.PyJWS(algorithms=[ALGORITHM])


@dataclass(frozen=True)
class VoucherPayload:
    """What a voucher token says; the payload field each attribute travels as is named beside it."""

    voucher_id: uuid.UUID  # vid, and jti
    human_code: str  # code
    programme_id: uuid.UUID  # prog
    center_code: str  # ctr
    sme_uscc: str  # sme
    face_value_fen: int  # val
    subsidy_rate_bp: int  # rate
    service_categories: tuple[str, ...]  # cat
    iat: int
    nbf: int
    exp: int

    @property
    def jti(self) -> str:
        return str(self.voucher_id)

    def as_json(self) -> dict[str, Any]:
        """The payload as the token's JSON object."""
        return {
            "vid": str(self.voucher_id),
            "jti": self.jti,
            "code": self.human_code,
            "prog": str(self.programme_id),
            "ctr": self.center_code,
            "sme": self.sme_uscc,
            "val": self.face_value_fen,
            "rate": self.subsidy_rate_bp,
            "cat": list(self.service_categories),
            "iat": self.iat,
            "nbf": self.nbf,
            "exp": self.exp,
        }


def sign_voucher(payload: VoucherPayload, kid: str, private_key: Ed25519PrivateKey) -> str:
    """The compact JWS of `payload`, signed with `private_key` and naming it as `kid`."""
    return jwt.encode(payload.as_json(), private_key, algorithm=ALGORITHM, headers={"kid": kid})


def verify_voucher(
    token: str,
    public_keys: Mapping[str, Ed25519PublicKey],
    now: datetime,
    *,
    allow_expired: bool = False,
) -> VoucherPayload:
    """The payload of `token` if it is a voucher signed by one of `public_keys` (by kid), valid
    at `now` (timezone-aware).

    With `allow_expired`, an expired token that is otherwise valid still yields its payload (the
    ledger's status endpoint says "expired" rather than "invalid"); compare `exp` yourself.
    Raises `InvalidVoucherToken` with the reason of the first check that fails.
    """
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    payload = _read_payload(_verified_payload(token, public_keys))
    instant = now.timestamp()
    if instant < payload.nbf:
        raise _refuse(TokenRefusal.NOT_YET_VALID, "the voucher is not valid yet")
    if instant >= payload.exp and not allow_expired:
        raise _refuse(TokenRefusal.EXPIRED, "the voucher has expired")
    return payload


def jwks(public_keys: Iterable[tuple[str, Ed25519PublicKey]]) -> dict[str, list[dict[str, str]]]:
    """The JWK Set (RFC 7517 §5) of `(kid, public key)` pairs, in order, as RFC 8037 OKP keys."""
    return {
        "keys": [
            {
                "kty": "OKP",
                "crv": "Ed25519",
                "x": _b64url_encode(key.public_bytes(Encoding.Raw, PublicFormat.Raw)),
                "kid": kid,
                "use": "sig",
                "alg": ALGORITHM,
            }
            for kid, key in public_keys
        ]
    }


# --------------------------------------------------------------------------------------------


def _verified_payload(token: str, public_keys: Mapping[str, Ed25519PublicKey]) -> dict[str, Any]:
    """The JSON object `token` signs, once its shape, algorithm, key and signature check out."""
    match = _COMPACT.fullmatch(token) if isinstance(token, str) else None
    if match is None:
        raise _refuse(TokenRefusal.MALFORMED, "a voucher token is three base64url parts")
    public_key = _signing_key(match["header"], public_keys)
    if len(_b64url_decode(match["signature"])) != _ED25519_SIGNATURE_BYTES:
        raise _refuse(TokenRefusal.MALFORMED, "the signature is not 64 bytes: truncated?")
    try:
        decoded = _JWS.decode_complete(token, public_key, algorithms=[ALGORITHM])
    except jwt.InvalidSignatureError as exc:
        raise _refuse(TokenRefusal.BAD_SIGNATURE, "the token's signature does not verify") from exc
    except jwt.InvalidAlgorithmError as exc:  # `_signing_key` already refused these
        raise _refuse(TokenRefusal.UNSUPPORTED_ALGORITHM, str(exc)) from exc
    except jwt.InvalidTokenError as exc:
        raise _refuse(TokenRefusal.MALFORMED, f"malformed token: {exc}") from exc
    try:
        payload = json.loads(decoded["payload"])
    except (ValueError, RecursionError) as exc:
        raise _refuse(TokenRefusal.MALFORMED, "the token's payload is not JSON") from exc
    if not isinstance(payload, dict):
        raise _refuse(TokenRefusal.MALFORMED, "the token's payload is not a JSON object")
    return payload


def _signing_key(
    header_segment: str, public_keys: Mapping[str, Ed25519PublicKey]
) -> Ed25519PublicKey:
    """The key the (not yet verified) header names, if the header asks for EdDSA."""
    try:
        header = json.loads(_b64url_decode(header_segment))
    except (ValueError, RecursionError) as exc:
        raise _refuse(TokenRefusal.MALFORMED, "the token's header is not JSON") from exc
    if not isinstance(header, dict):
        raise _refuse(TokenRefusal.MALFORMED, "the token's header is not a JSON object")
    alg = header.get("alg")
    if alg != ALGORITHM:
        if alg is None:
            named = "no algorithm"
        elif isinstance(alg, str) and len(alg) <= 16:
            named = repr(alg)
        else:
            named = "another algorithm"
        raise _refuse(
            TokenRefusal.UNSUPPORTED_ALGORITHM,
            f"voucher tokens are signed with {ALGORITHM}; this one names {named}",
        )
    kid = header.get("kid")
    public_key = public_keys.get(kid) if isinstance(kid, str) else None
    if public_key is None:
        raise _refuse(TokenRefusal.UNKNOWN_KEY, "the token names no known voucher key (kid)")
    return public_key


def _refuse(reason: TokenRefusal, message: str) -> InvalidVoucherToken:
    return InvalidVoucherToken(message, reason=reason.value)


def _b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(segment: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except binascii.Error:
        return b""


def _read_payload(payload: dict[str, Any]) -> VoucherPayload:
    missing = [name for name in PAYLOAD_FIELDS if name not in payload]
    if missing:
        raise _refuse(
            TokenRefusal.MISSING_CLAIMS, f"the token's payload lacks {', '.join(missing)}"
        )
    fields = VoucherPayload(
        voucher_id=_uuid(payload, "vid"),
        human_code=_string(payload, "code"),
        programme_id=_uuid(payload, "prog"),
        center_code=_string(payload, "ctr"),
        sme_uscc=_string(payload, "sme"),
        face_value_fen=_integer(payload, "val"),
        subsidy_rate_bp=_integer(payload, "rate"),
        service_categories=_strings(payload, "cat"),
        iat=_integer(payload, "iat"),
        nbf=_integer(payload, "nbf"),
        exp=_integer(payload, "exp"),
    )
    if payload["jti"] != payload["vid"]:
        raise _refuse(TokenRefusal.MISSING_CLAIMS, "the token's jti is not its voucher id")
    return fields


def _wrong(name: str, expected: str) -> InvalidVoucherToken:
    return _refuse(
        TokenRefusal.MISSING_CLAIMS, f"the token's payload field {name} is not {expected}"
    )


def _string(payload: dict[str, Any], name: str) -> str:
    value = payload[name]
    if not isinstance(value, str) or not value:
        raise _wrong(name, "a non-empty string")
    return value


def _uuid(payload: dict[str, Any], name: str) -> uuid.UUID:
    value = _string(payload, name)
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        parsed = None
    if parsed is None or str(parsed) != value:
        raise _wrong(name, "a UUID in canonical form")
    return parsed


def _integer(payload: dict[str, Any], name: str) -> int:
    value = payload[name]
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _wrong(name, "a non-negative integer")
    return value


def _strings(payload: dict[str, Any], name: str) -> tuple[str, ...]:
    value = payload[name]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _wrong(name, "an array of non-empty strings")
    return tuple(value)
