"""Vouchers as JWS tokens (`voucher_app.signing.jws`), checked against joserfc, an independent
JOSE implementation, so the tokens verify with standard tools and not only with our own code."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given
from hypothesis import strategies as st
from joserfc import jws as joserfc_jws
from joserfc.errors import BadSignatureError, SecurityWarning
from joserfc.jwk import KeySet, OKPKey

from tests.harness import START
from voucher_app.clock import FrozenClock
from voucher_app.domain.errors import InvalidInput, InvalidVoucherToken, TokenRefusal
from voucher_app.domain.programmes import MAX_FACE_VALUE_FEN
from voucher_app.domain.voucher_code import new_human_code
from voucher_app.signing.jws import (
    MAX_TOKEN_BYTES,
    PAYLOAD_FIELDS,
    VoucherPayload,
    is_current,
    jwks,
    sign_voucher,
    verify_voucher,
)
from voucher_app.signing.keyring import KeyPurpose, Keyring, KeyStatus, thumbprint


def fixed_key(byte: int) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes([byte]) * 32)


def raw_public(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


KEY = fixed_key(1)
OTHER_KEY = fixed_key(2)
KID = thumbprint(KEY.public_key())
OTHER_KID = thumbprint(OTHER_KEY.public_key())
PUBLIC_KEYS = {KID: KEY.public_key()}

ISSUED = int(START.timestamp())
VOUCHER_PAYLOAD = VoucherPayload(
    human_code=new_human_code(123_456_789_012_345),
    sme_uscc="91110000600037341L",
    face_value_fen=2_000_000,
    exp=ISSUED + 90 * 86_400,
)
PAYLOAD: dict[str, Any] = {
    "c": "3G92-30VQ-VSQ",
    "s": "91110000600037341L",
    "v": 2_000_000,
    "exp": ISSUED + 90 * 86_400,
}
HEADER: dict[str, Any] = {"alg": "Ed25519", "kid": KID}
#: A token as the service issued them before RFC 9864: PyJWT's ``EdDSA`` with a ``typ`` header
#: and the longer payload of that time, of which today's fields are a part.
LEGACY_HEADER: dict[str, Any] = {"alg": "EdDSA", "kid": KID, "typ": "JWT"}
LEGACY_PAYLOAD: dict[str, Any] = {
    "vid": "0b6f3c1e-5d2a-4f8e-9c7b-1a2b3c4d5e6f",
    "jti": "0b6f3c1e-5d2a-4f8e-9c7b-1a2b3c4d5e6f",
    "code": "3G92-30VQ-VSQ",
    "prog": "7d1c9e4a-2b3f-4c5d-8e6f-0a1b2c3d4e5f",
    "ctr": "440100",
    "sme": "91110000600037341L",
    "val": 2_000_000,
    "rate": 5_000,
    "cat": ["legal", "accounting_tax"],
    "iat": ISSUED,
    "nbf": ISSUED,
    "exp": ISSUED + 90 * 86_400,
}
NOW = START + timedelta(days=1)
TOKEN = sign_voucher(VOUCHER_PAYLOAD, KID, KEY)


def raw_compact(header: bytes, payload: bytes, key: Ed25519PrivateKey | None = KEY) -> str:
    """A compact JWS built by hand (not by PyJWT), signed with Ed25519 by `key` if given."""
    signing_input = f"{b64url(header)}.{b64url(payload)}"
    signature = key.sign(signing_input.encode()) if key is not None else b""
    return f"{signing_input}.{b64url(signature)}"


def compact(
    header: dict[str, Any],
    payload: dict[str, Any] | bytes,
    key: Ed25519PrivateKey | None = KEY,
) -> str:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return raw_compact(json.dumps(header).encode(), body, key)


def segments(token: str) -> tuple[str, str, str]:
    header, payload, signature = token.split(".")
    return header, payload, signature


def refusal(
    token: str,
    *,
    public_keys: dict[str, Ed25519PublicKey] = PUBLIC_KEYS,
    now: datetime = NOW,
    allow_expired: bool = False,
) -> str:
    with pytest.raises(InvalidVoucherToken) as caught:
        verify_voucher(token, public_keys, now, allow_expired=allow_expired)
    assert caught.value.details["reason"] == caught.value.reason.value
    return caught.value.reason.value


def published_key_set(pairs: list[tuple[str, Ed25519PublicKey]]) -> KeySet:
    """The JWKS document as a client gets it: serialised JSON, imported by joserfc."""
    return KeySet.import_key_set(json.loads(json.dumps(jwks(pairs))))


def joserfc_verify(token: str, key_set: KeySet) -> joserfc_jws.CompactSignature:
    return joserfc_jws.deserialize_compact(token, key_set, algorithms=["Ed25519"])


def joserfc_verify_legacy(token: str, key_set: KeySet) -> joserfc_jws.CompactSignature:
    # joserfc warns that RFC 9864 deprecates the "EdDSA" name, which the old tokens carry
    with pytest.warns(SecurityWarning, match="RFC 9864"):
        return joserfc_jws.deserialize_compact(token, key_set, algorithms=["EdDSA"])


# --------------------------------------------------------------------------------------------
# Signing and the token contract
# --------------------------------------------------------------------------------------------


def test_sign_voucher_makes_a_compact_jws_with_ed25519_and_the_keys_kid_in_the_header() -> None:
    header, payload, signature = segments(TOKEN)
    assert json.loads(b64url_decode(header)) == HEADER
    assert json.loads(b64url_decode(payload)) == PAYLOAD
    assert len(b64url_decode(signature)) == 64
    assert "=" not in TOKEN


def test_the_payload_carries_exactly_the_documented_fields() -> None:
    assert set(VOUCHER_PAYLOAD.as_json()) == set(PAYLOAD_FIELDS) == set(PAYLOAD)
    assert VOUCHER_PAYLOAD.as_json() == PAYLOAD


def test_a_token_fits_a_version_12_qr_code_at_the_largest_values_it_can_carry() -> None:
    widest = VoucherPayload(
        human_code="ZZZZ-ZZZZ-ZZ~",  # every code has 13 characters
        sme_uscc="9" * 18,
        face_value_fen=MAX_FACE_VALUE_FEN,
        exp=9_999_999_999,  # the year 2286
    )
    token = sign_voucher(widest, KID, KEY)
    assert len(token.encode()) <= MAX_TOKEN_BYTES == 287
    assert verify_voucher(token, PUBLIC_KEYS, NOW) == widest


def test_the_signature_is_ed25519_over_the_first_two_segments() -> None:
    header, payload, signature = segments(TOKEN)
    KEY.public_key().verify(b64url_decode(signature), f"{header}.{payload}".encode())


def test_verify_voucher_returns_the_payload_that_was_signed() -> None:
    assert verify_voucher(TOKEN, PUBLIC_KEYS, NOW) == VOUCHER_PAYLOAD


def test_a_token_built_by_hand_to_the_contract_verifies() -> None:
    assert verify_voucher(compact(HEADER, PAYLOAD), PUBLIC_KEYS, NOW) == VOUCHER_PAYLOAD


def test_verify_voucher_ignores_payload_fields_outside_the_contract() -> None:
    token = compact(HEADER, {**PAYLOAD, "iss": "gd-sme-vouchers.example", "extra": [1, 2]})
    assert verify_voucher(token, PUBLIC_KEYS, NOW) == VOUCHER_PAYLOAD


_text = st.text(min_size=1, max_size=40)


@st.composite
def voucher_payloads(draw: st.DrawFn) -> VoucherPayload:
    return VoucherPayload(
        human_code=new_human_code(draw(st.integers(min_value=0, max_value=2**50 - 1))),
        sme_uscc=draw(_text),
        face_value_fen=draw(st.integers(min_value=0, max_value=2**53 - 1)),
        exp=draw(st.integers(min_value=1, max_value=2**34)),
    )


@given(voucher_payloads())
def test_any_payload_survives_signing_and_verifying(payload: VoucherPayload) -> None:
    token = sign_voucher(payload, KID, KEY)
    just_before = datetime.fromtimestamp(payload.exp - 1, UTC)
    assert verify_voucher(token, PUBLIC_KEYS, just_before) == payload


@given(
    st.integers(min_value=0, max_value=2**50 - 1),
    st.from_regex(r"[0-9A-HJ-NP-RTUW-Y]{18}", fullmatch=True),
    st.integers(min_value=1, max_value=MAX_FACE_VALUE_FEN),
    st.integers(min_value=ISSUED, max_value=ISSUED + 3 * 366 * 86_400),
)
def test_every_token_the_service_can_issue_fits_the_qr_budget(
    bits: int, uscc: str, face: int, exp: int
) -> None:
    payload = VoucherPayload(new_human_code(bits), uscc, face, exp)
    assert len(sign_voucher(payload, KID, KEY).encode()) <= MAX_TOKEN_BYTES


# --------------------------------------------------------------------------------------------
# Tokens issued before RFC 9864 verify until they expire
# --------------------------------------------------------------------------------------------

#: Made exactly as the service made them: PyJWT's EdDSA over the long payload.
LEGACY_TOKEN = jwt.encode(LEGACY_PAYLOAD, KEY, algorithm="EdDSA", headers={"kid": KID})


def test_an_eddsa_token_of_the_old_contract_verifies_to_the_fields_of_today() -> None:
    header, _payload, _signature = segments(LEGACY_TOKEN)
    assert json.loads(b64url_decode(header)) == LEGACY_HEADER
    assert verify_voucher(LEGACY_TOKEN, PUBLIC_KEYS, NOW) == VOUCHER_PAYLOAD
    assert verify_voucher(compact(LEGACY_HEADER, LEGACY_PAYLOAD), PUBLIC_KEYS, NOW) == (
        VOUCHER_PAYLOAD
    )


def test_an_eddsa_token_is_refused_from_its_exp_like_any_other() -> None:
    assert refusal(LEGACY_TOKEN, now=datetime.fromtimestamp(PAYLOAD["exp"], UTC)) == "expired"


def test_an_eddsa_token_still_verifies_with_joserfc_against_the_published_jwks() -> None:
    key_set = published_key_set([(KID, KEY.public_key())])
    verified = joserfc_verify_legacy(LEGACY_TOKEN, key_set)
    assert json.loads(verified.payload) == LEGACY_PAYLOAD


def test_a_tampered_eddsa_token_is_refused_for_its_signature() -> None:
    forged = _with_payload(LEGACY_TOKEN, {**LEGACY_PAYLOAD, "val": 9_999_999})
    assert refusal(forged) == "bad_signature"


# --------------------------------------------------------------------------------------------
# The JWK Set, checked with joserfc
# --------------------------------------------------------------------------------------------


def test_jwks_lists_each_key_as_an_rfc_8037_okp_ed25519_jwk() -> None:
    document = jwks([(KID, KEY.public_key()), (OTHER_KID, OTHER_KEY.public_key())])
    assert document == {
        "keys": [
            {
                "kty": "OKP",
                "crv": "Ed25519",
                "x": b64url(raw_public(KEY)),
                "kid": KID,
                "use": "sig",
            },
            {
                "kty": "OKP",
                "crv": "Ed25519",
                "x": b64url(raw_public(OTHER_KEY)),
                "kid": OTHER_KID,
                "use": "sig",
            },
        ]
    }
    x = document["keys"][0]["x"]
    assert "=" not in x
    assert b64url_decode(x) == raw_public(KEY)
    assert jwks([]) == {"keys": []}


def test_the_kids_in_the_jwks_are_the_rfc_7638_thumbprints_joserfc_computes() -> None:
    key_set = published_key_set([(KID, KEY.public_key()), (OTHER_KID, OTHER_KEY.public_key())])
    assert [key.kid for key in key_set.keys] == [KID, OTHER_KID]
    for key in key_set.keys:
        assert isinstance(key, OKPKey)
        assert key.thumbprint() == key.kid


def test_a_signed_voucher_verifies_with_joserfc_against_the_published_jwks() -> None:
    key_set = published_key_set([(KID, KEY.public_key())])
    verified = joserfc_verify(TOKEN, key_set)
    assert verified.protected["alg"] == "Ed25519"
    assert verified.protected["kid"] == KID
    assert json.loads(verified.payload) == PAYLOAD


def test_joserfc_refuses_a_tampered_voucher_against_the_same_jwks() -> None:
    key_set = published_key_set([(KID, KEY.public_key())])
    header, _payload, signature = segments(TOKEN)
    forged = f"{header}.{b64url(json.dumps({**PAYLOAD, 'v': 9_999_999}).encode())}.{signature}"
    with pytest.raises(BadSignatureError):
        joserfc_verify(forged, key_set)


# --------------------------------------------------------------------------------------------
# Rotation: the keyring's retired keys keep verifying what they signed
# --------------------------------------------------------------------------------------------


def test_after_rotation_tokens_from_the_retired_and_the_active_key_both_verify(
    tmp_path: Path,
) -> None:
    ring = Keyring(tmp_path, None, allow_plain=True)
    clock = FrozenClock(START)
    first = ring.create(KeyPurpose.VOUCHER, clock)
    old_token = sign_voucher(VOUCHER_PAYLOAD, first.kid, ring.active(KeyPurpose.VOUCHER)[1])
    second = ring.create(KeyPurpose.VOUCHER, clock)
    record, private_key = ring.active(KeyPurpose.VOUCHER)
    assert record.kid == second.kid != first.kid
    new_token = sign_voucher(VOUCHER_PAYLOAD, record.kid, private_key)

    published = ring.public_keys(KeyPurpose.VOUCHER)
    statuses = {r.kid: r.status for r, _key in published}
    assert statuses == {first.kid: KeyStatus.RETIRED, second.kid: KeyStatus.ACTIVE}
    keys = {r.kid: key for r, key in published}
    assert verify_voucher(old_token, keys, NOW) == VOUCHER_PAYLOAD
    assert verify_voucher(new_token, keys, NOW) == VOUCHER_PAYLOAD

    key_set = published_key_set([(r.kid, key) for r, key in published])
    assert len(key_set.keys) == 2
    assert joserfc_verify(old_token, key_set).protected["kid"] == first.kid
    assert joserfc_verify(new_token, key_set).protected["kid"] == second.kid


def test_a_token_is_refused_once_its_key_is_no_longer_published() -> None:
    both = {KID: KEY.public_key(), OTHER_KID: OTHER_KEY.public_key()}
    token = sign_voucher(VOUCHER_PAYLOAD, OTHER_KID, OTHER_KEY)
    assert verify_voucher(token, both, NOW) == VOUCHER_PAYLOAD
    assert refusal(token, public_keys=PUBLIC_KEYS) == "unknown_key"


# --------------------------------------------------------------------------------------------
# Refusals, each with its stable reason
# --------------------------------------------------------------------------------------------


def _non_canonical_signature(token: str) -> str:
    """The last base64url character of a 64-byte signature carries 4 unused bits: set one."""
    header, payload, signature = segments(token)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet[alphabet.index(signature[-1]) | 1]
    return f"{header}.{payload}.{signature[:-1]}{last}"


MALFORMED: list[Any] = [
    pytest.param("", id="empty"),
    pytest.param("not a token", id="words"),
    pytest.param(TOKEN.rsplit(".", 1)[0], id="two-parts"),
    pytest.param(TOKEN + "." + segments(TOKEN)[2], id="four-parts"),
    pytest.param(TOKEN[: len(TOKEN) // 2], id="cut-in-the-payload"),
    pytest.param(TOKEN[:-1], id="signature-one-character-short"),
    pytest.param(TOKEN[:-4], id="signature-three-bytes-short"),
    pytest.param(TOKEN.rsplit(".", 1)[0] + ".", id="signature-removed"),
    pytest.param(TOKEN + "AAAA", id="signature-three-bytes-long"),
    pytest.param(TOKEN + "==", id="padding"),
    pytest.param(TOKEN + "\n", id="trailing-newline"),
    pytest.param(" " + TOKEN, id="leading-space"),
    pytest.param(TOKEN.replace(".", ".!", 1), id="not-base64url"),
    pytest.param(TOKEN.replace("-", "+").replace("_", "/") + "+/", id="plain-base64"),
    pytest.param(_non_canonical_signature(TOKEN), id="non-canonical-signature"),
    pytest.param(raw_compact(b"not json", json.dumps(PAYLOAD).encode()), id="header-text"),
    pytest.param(raw_compact(b'["Ed25519"]', json.dumps(PAYLOAD).encode()), id="header-array"),
    pytest.param(raw_compact(b"\xff\xfe", json.dumps(PAYLOAD).encode()), id="header-bytes"),
    pytest.param(compact(HEADER, b"not json"), id="signed-payload-not-json"),
    pytest.param(compact(HEADER, b"[1, 2, 3]"), id="signed-payload-array"),
    pytest.param(compact(HEADER, b'"a string"'), id="signed-payload-string"),
    pytest.param(compact({**HEADER, "crit": ["exp"], "exp": 1}, PAYLOAD), id="unknown-crit"),
    pytest.param(compact({**HEADER, "b64": False, "crit": ["b64"]}, PAYLOAD), id="b64-false"),
]


@pytest.mark.parametrize("token", MALFORMED)
def test_a_malformed_token_is_refused_as_malformed(token: str) -> None:
    assert refusal(token) == "malformed"


def _with_payload(token: str, payload: dict[str, Any]) -> str:
    header, _payload, signature = segments(token)
    return f"{header}.{b64url(json.dumps(payload).encode())}.{signature}"


def _with_header(token: str, header: dict[str, Any]) -> str:
    _header, payload, signature = segments(token)
    return f"{b64url(json.dumps(header).encode())}.{payload}.{signature}"


def _with_signature(token: str, make: Callable[[bytes], bytes]) -> str:
    header, payload, signature = segments(token)
    return f"{header}.{payload}.{b64url(make(b64url_decode(signature)))}"


BAD_SIGNATURE: list[Any] = [
    pytest.param(_with_payload(TOKEN, {**PAYLOAD, "v": 9_999_999}), id="face-value-raised"),
    pytest.param(_with_payload(TOKEN, {**PAYLOAD, "exp": PAYLOAD["exp"] + 1}), id="exp-extended"),
    pytest.param(_with_payload(TOKEN, {**PAYLOAD, "s": "91440300MA5DE0001R"}), id="another-sme"),
    pytest.param(_with_payload(TOKEN, {**PAYLOAD, "c": "3G92-30VQ-VSR"}), id="another-code"),
    pytest.param(_with_payload(TOKEN, PAYLOAD), id="payload-re-encoded"),
    pytest.param(_with_header(TOKEN, {**HEADER, "typ": "JOSE"}), id="header-changed"),
    pytest.param(_with_signature(TOKEN, lambda s: s[:-1] + bytes([s[-1] ^ 1])), id="bit-flipped"),
    pytest.param(_with_signature(TOKEN, lambda s: s[32:] + s[:32]), id="halves-swapped"),
    pytest.param(_with_signature(TOKEN, lambda s: bytes(64)), id="zero-signature"),
    pytest.param(compact(HEADER, PAYLOAD, OTHER_KEY), id="other-key-under-this-kid"),
    pytest.param(
        _with_signature(TOKEN, lambda s: b64url_decode(segments(compact(HEADER, {}))[2])),
        id="signature-of-another-token",
    ),
]


@pytest.mark.parametrize("token", BAD_SIGNATURE)
def test_a_tampered_token_is_refused_for_its_signature(token: str) -> None:
    assert refusal(token) == "bad_signature"


def _hs256(secret: bytes, header: dict[str, Any] | None = None) -> str:
    """An HS256 token keyed with `secret`: what an attacker makes from a public key."""
    head = {"alg": "HS256", "kid": KID, "typ": "JWT"} if header is None else header
    signing_input = f"{b64url(json.dumps(head).encode())}.{b64url(json.dumps(PAYLOAD).encode())}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(mac)}"


_PEM = KEY.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)


def test_an_hs256_token_hmaced_with_the_public_key_bytes_is_refused() -> None:
    for secret in (raw_public(KEY), _PEM, b64url(raw_public(KEY)).encode()):
        token = _hs256(secret)
        assert refusal(token) == "unsupported_algorithm"
        assert refusal(token, allow_expired=True) == "unsupported_algorithm"
        # the forgery is refused even where the key is looked up by kid or published as bytes
        assert refusal(token, public_keys={KID: KEY.public_key()}) == "unsupported_algorithm"


UNSUPPORTED: list[Any] = [
    pytest.param(compact({**HEADER, "alg": "none"}, PAYLOAD, None), id="none-unsigned"),
    pytest.param(compact({**HEADER, "alg": "none"}, PAYLOAD), id="none-with-a-signature"),
    pytest.param(compact({**HEADER, "alg": "None"}, PAYLOAD, None), id="None"),
    pytest.param(_hs256(raw_public(KEY)), id="HS256-public-key-bytes"),
    pytest.param(_hs256(_PEM, {"alg": "HS512", "kid": KID}), id="HS512-label"),
    pytest.param(compact({**HEADER, "alg": "RS256"}, PAYLOAD), id="RS256"),
    pytest.param(compact({**HEADER, "alg": "ES256"}, PAYLOAD), id="ES256"),
    pytest.param(compact({**HEADER, "alg": "Ed448"}, PAYLOAD), id="Ed448"),
    pytest.param(compact({**HEADER, "alg": "ed25519"}, PAYLOAD), id="lower-case"),
    pytest.param(compact({**HEADER, "alg": "eddsa"}, PAYLOAD), id="lower-case-legacy"),
    pytest.param(compact({**HEADER, "alg": ["Ed25519"]}, PAYLOAD), id="alg-array"),
    pytest.param(compact({"kid": KID, "typ": "JWT"}, PAYLOAD), id="alg-missing"),
]


@pytest.mark.parametrize("token", UNSUPPORTED)
def test_any_algorithm_but_ed25519_is_refused(token: str) -> None:
    assert refusal(token) == "unsupported_algorithm"


UNKNOWN_KEY: list[Any] = [
    pytest.param(compact({"alg": "Ed25519"}, PAYLOAD), id="kid-missing"),
    pytest.param(compact({**HEADER, "kid": OTHER_KID}, PAYLOAD, OTHER_KEY), id="unpublished-key"),
    pytest.param(compact({**HEADER, "kid": ""}, PAYLOAD), id="kid-empty"),
    pytest.param(compact({**HEADER, "kid": KID.upper()}, PAYLOAD), id="kid-other-case"),
    pytest.param(compact({**HEADER, "kid": [KID]}, PAYLOAD), id="kid-array"),
    pytest.param(compact({**HEADER, "kid": 1}, PAYLOAD), id="kid-number"),
]


@pytest.mark.parametrize("token", UNKNOWN_KEY)
def test_a_token_naming_no_known_key_is_refused(token: str) -> None:
    assert refusal(token) == "unknown_key"


def test_a_token_is_refused_when_no_keys_are_known() -> None:
    assert refusal(TOKEN, public_keys={}) == "unknown_key"


# --------------------------------------------------------------------------------------------
# Payload and time
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", PAYLOAD_FIELDS)
def test_a_token_without_a_required_payload_field_is_refused(name: str) -> None:
    payload = {k: v for k, v in PAYLOAD.items() if k != name}
    with pytest.raises(InvalidVoucherToken, match=name) as caught:
        verify_voucher(compact(HEADER, payload), PUBLIC_KEYS, NOW)
    assert caught.value.details["reason"] == "missing_claims"


def test_a_token_with_an_empty_payload_is_refused() -> None:
    assert refusal(compact(HEADER, {})) == "missing_claims"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("c", ""),
        ("c", None),
        ("c", 1),
        ("s", ["91110000600037341L"]),
        ("s", ""),
        ("v", "2000000"),
        ("v", 2_000_000.0),
        ("v", True),
        ("v", -1),
        ("exp", None),
        ("exp", "2026-06-01"),
        ("exp", 1.5),
    ],
)
def test_a_token_with_a_payload_field_of_the_wrong_type_is_refused(
    name: str, value: object
) -> None:
    assert refusal(compact(HEADER, {**PAYLOAD, name: value})) == "missing_claims"


def test_a_voucher_is_valid_until_just_before_exp() -> None:
    exp = datetime.fromtimestamp(VOUCHER_PAYLOAD.exp, UTC)
    assert verify_voucher(TOKEN, PUBLIC_KEYS, START) == VOUCHER_PAYLOAD
    assert verify_voucher(TOKEN, PUBLIC_KEYS, exp - timedelta(microseconds=1)) == VOUCHER_PAYLOAD
    in_shanghai = exp.astimezone(timezone(timedelta(hours=8))) - timedelta(seconds=1)
    assert verify_voucher(TOKEN, PUBLIC_KEYS, in_shanghai) == VOUCHER_PAYLOAD


def test_an_expired_token_is_refused_from_exp_on() -> None:
    exp = datetime.fromtimestamp(VOUCHER_PAYLOAD.exp, UTC)
    assert refusal(TOKEN, now=exp) == "expired"
    assert refusal(TOKEN, now=exp + timedelta(days=365)) == "expired"


def test_allow_expired_returns_the_payload_of_an_expired_but_otherwise_valid_token() -> None:
    later = datetime.fromtimestamp(VOUCHER_PAYLOAD.exp, UTC) + timedelta(days=1)
    payload = verify_voucher(TOKEN, PUBLIC_KEYS, later, allow_expired=True)
    assert payload == VOUCHER_PAYLOAD
    assert payload.exp <= later.timestamp()


def test_allow_expired_still_refuses_every_other_fault() -> None:
    later = datetime.fromtimestamp(VOUCHER_PAYLOAD.exp, UTC) + timedelta(days=1)
    tampered = _with_payload(TOKEN, {**PAYLOAD, "v": 9_999_999})
    assert refusal(tampered, now=later, allow_expired=True) == "bad_signature"
    assert refusal(TOKEN[:-4], now=later, allow_expired=True) == "malformed"
    assert refusal(TOKEN, public_keys={}, now=later, allow_expired=True) == "unknown_key"
    no_exp = compact(HEADER, {k: v for k, v in PAYLOAD.items() if k != "exp"})
    assert refusal(no_exp, now=later, allow_expired=True) == "missing_claims"


def test_verify_voucher_refuses_a_naive_now() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        verify_voucher(TOKEN, PUBLIC_KEYS, NOW.replace(tzinfo=None))


# --------------------------------------------------------------------------------------------
# The error itself
# --------------------------------------------------------------------------------------------


def test_refusals_are_invalid_input_with_a_stable_code_and_a_plain_reason() -> None:
    with pytest.raises(InvalidVoucherToken) as caught:
        verify_voucher(TOKEN, PUBLIC_KEYS, START + timedelta(days=400))
    error = caught.value
    assert isinstance(error, InvalidInput)
    assert error.code == "invalid_voucher_token"
    assert error.reason is TokenRefusal.EXPIRED
    assert error.details == {"reason": "expired"}
    assert type(error.details["reason"]) is str


def test_every_refusal_reason_is_reachable() -> None:
    cases: list[tuple[str, datetime]] = [
        (MALFORMED[0].values[0], NOW),
        (UNSUPPORTED[0].values[0], NOW),
        (UNKNOWN_KEY[0].values[0], NOW),
        (BAD_SIGNATURE[0].values[0], NOW),
        (compact(HEADER, {}), NOW),
        (TOKEN, START + timedelta(days=400)),
    ]
    reasons = [refusal(token, now=now) for token, now in cases]
    assert reasons == [r.value for r in TokenRefusal]


def test_is_current_tells_todays_tokens_from_the_older_ones_by_their_header() -> None:
    assert is_current(TOKEN)
    assert not is_current(LEGACY_TOKEN)
    assert not is_current(compact({**HEADER, "alg": "HS256"}, PAYLOAD))
    assert not is_current("not a token") and not is_current("a.b.c")
