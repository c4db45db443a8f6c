"""Vouchers as signed tokens: JWS compact serialization (RFC 7515) signed with Ed25519 under
RFC 9864's fully-specified algorithm name, so that any standard JOSE library verifies a voucher
offline against the JWK Set the service publishes at `/.well-known/jwks.json`. PyJWT does the
signing and the signature check; this module fixes the token contract and refuses everything
outside it.

The token contract
------------------

Protected header: ``{"alg": "Ed25519", "kid": <key id>}``. The key id is the voucher key's
`kid` in the keyring, its RFC 7638 JWK thumbprint. Tokens issued before RFC 9864 was adopted
name the polymorphic ``EdDSA`` of RFC 8037 for the same Ed25519 signature; they verify until
they expire. No other algorithm is ever accepted: not ``none``, not a symmetric one (HS256
keyed with the public key's bytes is the classic confusion), not another asymmetric one.

The payload carries what an offline check needs and no more (the service knows the rest): a
JSON object whose fields are all required (fields not listed here are ignored; RFC 7519 calls
each field a *claim*, this project says *payload*, keeping *claim* for an SME obtaining a
voucher — see docs/glossary.md). The names are one letter, but for the registered ``exp``:

======  ================  ===============================================================
field   JSON type         meaning
======  ================  ===============================================================
c       string            the voucher's human code, e.g. ``3G92-30VQ-VSQ``: it names the
                          voucher, and the person at the desk can read it off the paper
s       string            the SME's unified social credit code
v       integer           face value in fen
exp     integer           not valid at or after this time, seconds since the epoch
======  ================  ===============================================================

The older ``EdDSA`` tokens carry the same four as ``code``, ``sme``, ``val`` and ``exp``, among
fields no longer read; the algorithm the header names says which names a payload uses.

Integers are non-negative; strings are non-empty. The token is short enough for a QR code a
phone screen shows and a desk camera reads: at most `MAX_TOKEN_BYTES` (287 bytes, a version-12
symbol at error correction M), which the programme terms' cap on a face value guarantees
(`domain.programmes.MAX_FACE_VALUE_FEN`).
`verify_voucher` refuses a token with `InvalidVoucherToken`, whose ``details["reason"]`` is one
of:

- ``malformed``: not three unpadded base64url parts, a header or payload that is not a JSON
  object, a signature that is not 64 bytes (a truncated token), an unsupported ``crit``;
- ``unsupported_algorithm``: ``alg`` is anything but ``Ed25519`` (or the older ``EdDSA``), or
  missing;
- ``unknown_key``: ``kid`` missing, not a string, or not one of the keys given;
- ``bad_signature``: the signature does not verify with that key (the token was altered);
- ``missing_claims`` (the RFC's word, kept as a stable value clients match on): a payload field
  absent or of the wrong type;
- ``expired``: at or after ``exp`` (unless the caller asks for the payload of an expired token
  with ``allow_expired=True``).

A valid signature proves that the service issued the voucher, not that it is unspent: only the
ledger knows that, and redemption checks both (DESIGN §5).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from jwt.algorithms import OKPAlgorithm

from voucher_app.domain.errors import InvalidVoucherToken, TokenRefusal

#: RFC 9864's name for EdDSA over Ed25519: what every new token is signed with.
ALGORITHM = "Ed25519"
#: RFC 8037's polymorphic name, which tokens issued before RFC 9864 carry.
LEGACY_ALGORITHM = "EdDSA"
ACCEPTED_ALGORITHMS = (ALGORITHM, LEGACY_ALGORITHM)
#: Every field of a voucher token's payload, as today's tokens name them.
PAYLOAD_FIELDS = ("c", "s", "v", "exp")
#: What each `VoucherPayload` attribute is called in the payload, by the algorithm the header
#: names: one-letter names since RFC 9864 (every byte of the QR code counts), the long names
#: of the tokens issued with ``EdDSA`` before.
FIELD_NAMES = {
    ALGORITHM: {"human_code": "c", "sme_uscc": "s", "face_value_fen": "v", "exp": "exp"},
    LEGACY_ALGORITHM: {
        "human_code": "code",
        "sme_uscc": "sme",
        "face_value_fen": "val",
        "exp": "exp",
    },
}
#: The most a token may take: what a version-12 QR code holds at error correction M in byte
#: mode, the largest symbol a phone screen shows well enough for a desk camera.
MAX_TOKEN_BYTES = 287

_ED25519_SIGNATURE_BYTES = 64
#: Three base64url segments without padding; the signature may be empty only so that an
#: ``alg: none`` token is refused for its algorithm rather than its shape.
_COMPACT = re.compile(r"(?P<header>[A-Za-z0-9_-]+)\.[A-Za-z0-9_-]+\.(?P<signature>[A-Za-z0-9_-]*)")


#: A PyJWS that knows Ed25519 by both its names and nothing else, whatever the header or the
#: call says, and writes no ``typ`` header (every byte of a token counts).
_JWS = jwt.PyJWS(algorithms=[LEGACY_ALGORITHM])
_JWS.register_algorithm(ALGORITHM, OKPAlgorithm())
_JWS.header_typ = ""


@dataclass(frozen=True)
class VoucherPayload:
    """What a voucher token says; the payload field each attribute travels as is named beside it."""

    human_code: str  # c
    sme_uscc: str  # s
    face_value_fen: int  # v
    exp: int

    def as_json(self) -> dict[str, Any]:
        """The payload as the token's JSON object."""
        return {
            name: getattr(self, attribute) for attribute, name in FIELD_NAMES[ALGORITHM].items()
        }


def sign_voucher(payload: VoucherPayload, kid: str, private_key: Ed25519PrivateKey) -> str:
    """The compact JWS of `payload`, signed with `private_key` and naming it as `kid`."""
    compact = json.dumps(payload.as_json(), separators=(",", ":"))  # every field is ASCII
    return _JWS.encode(compact.encode(), private_key, algorithm=ALGORITHM, headers={"kid": kid})


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
    payload = _read_payload(*_verified_payload(token, public_keys))
    if now.timestamp() >= payload.exp and not allow_expired:
        raise _refuse(TokenRefusal.EXPIRED, "the voucher has expired")
    return payload


def is_current(token: str) -> bool:
    """Whether `token` names today's algorithm (RFC 9864's ``Ed25519``, with the short payload
    that goes with it), read from its header unverified: the older tokens are those to sign
    again (`services.vouchers.resign_tokens`)."""
    match = _COMPACT.fullmatch(token)
    if match is None:
        return False
    try:
        header = json.loads(_b64url_decode(match["header"]))
    except (ValueError, RecursionError):
        return False
    return isinstance(header, dict) and header.get("alg") == ALGORITHM


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
            }
            for kid, key in public_keys
        ]
    }


# --------------------------------------------------------------------------------------------


def _verified_payload(
    token: str, public_keys: Mapping[str, Ed25519PublicKey]
) -> tuple[str, dict[str, Any]]:
    """The algorithm `token` names and the JSON object it signs, once its shape, algorithm, key
    and signature check out."""
    match = _COMPACT.fullmatch(token) if isinstance(token, str) else None
    if match is None:
        raise _refuse(TokenRefusal.MALFORMED, "a voucher token is three base64url parts")
    public_key = _signing_key(match["header"], public_keys)
    if len(_b64url_decode(match["signature"])) != _ED25519_SIGNATURE_BYTES:
        raise _refuse(TokenRefusal.MALFORMED, "the signature is not 64 bytes: truncated?")
    try:
        decoded = _JWS.decode_complete(token, public_key, algorithms=list(ACCEPTED_ALGORITHMS))
    except jwt.InvalidSignatureError as exc:
        raise _refuse(TokenRefusal.BAD_SIGNATURE, "the token's signature does not verify") from exc
    except jwt.InvalidTokenError as exc:
        raise _refuse(TokenRefusal.MALFORMED, f"malformed token: {exc}") from exc
    try:
        payload = json.loads(decoded["payload"])
    except (ValueError, RecursionError) as exc:
        raise _refuse(TokenRefusal.MALFORMED, "the token's payload is not JSON") from exc
    if not isinstance(payload, dict):
        raise _refuse(TokenRefusal.MALFORMED, "the token's payload is not a JSON object")
    return decoded["header"]["alg"], payload


def _signing_key(
    header_segment: str, public_keys: Mapping[str, Ed25519PublicKey]
) -> Ed25519PublicKey:
    """The key the (not yet verified) header names, if the header asks for Ed25519."""
    try:
        header = json.loads(_b64url_decode(header_segment))
    except (ValueError, RecursionError) as exc:
        raise _refuse(TokenRefusal.MALFORMED, "the token's header is not JSON") from exc
    if not isinstance(header, dict):
        raise _refuse(TokenRefusal.MALFORMED, "the token's header is not a JSON object")
    alg = header.get("alg")
    if alg not in ACCEPTED_ALGORITHMS:
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


def _read_payload(algorithm: str, payload: dict[str, Any]) -> VoucherPayload:
    names = FIELD_NAMES[algorithm]
    missing = [name for name in names.values() if name not in payload]
    if missing:
        raise _refuse(
            TokenRefusal.MISSING_CLAIMS, f"the token's payload lacks {', '.join(missing)}"
        )
    return VoucherPayload(
        human_code=_string(payload, names["human_code"]),
        sme_uscc=_string(payload, names["sme_uscc"]),
        face_value_fen=_integer(payload, names["face_value_fen"]),
        exp=_integer(payload, names["exp"]),
    )


def _wrong(name: str, expected: str) -> InvalidVoucherToken:
    return _refuse(
        TokenRefusal.MISSING_CLAIMS, f"the token's payload field {name} is not {expected}"
    )


def _string(payload: dict[str, Any], name: str) -> str:
    value = payload[name]
    if not isinstance(value, str) or not value:
        raise _wrong(name, "a non-empty string")
    return value


def _integer(payload: dict[str, Any], name: str) -> int:
    value = payload[name]
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _wrong(name, "a non-negative integer")
    return value
