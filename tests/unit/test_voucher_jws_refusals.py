"""What a refused voucher token says (`voucher_app.signing.jws`): its reason and its message.

The reason (`details["reason"]`) is the stable code a scanner app branches on; the message is
what the provider's page shows beside the scanned voucher, so it names the payload field,
algorithm or part of the token at fault. The rules are the token contract in the module's
docstring: three unpadded base64url parts (RFC 7515 §7.1), a header and payload that are JSON
objects, ``alg`` exactly ``Ed25519`` (RFC 9864; or the ``EdDSA`` of RFC 8037 §3.1 that older
tokens name), a known ``kid``, a 64-byte Ed25519 signature (RFC 8032 §5.1.6), every payload
field present with its JSON type, and ``now < exp``.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.unit.test_voucher_jws import (
    HEADER,
    NOW,
    PAYLOAD,
    PUBLIC_KEYS,
    TOKEN,
    VOUCHER_PAYLOAD,
    compact,
    raw_compact,
    segments,
)
from voucher_app.domain.errors import InvalidVoucherToken
from voucher_app.signing.jws import verify_voucher


def refused(token: Any, now: datetime = NOW) -> tuple[str, str]:
    """The reason and the message `verify_voucher` refuses `token` with."""
    with pytest.raises(InvalidVoucherToken) as caught:
        verify_voucher(token, PUBLIC_KEYS, now)
    assert caught.value.code == "invalid_voucher_token"
    return caught.value.details["reason"], caught.value.message


def with_alg(alg: object) -> str:
    return compact({**HEADER, "alg": alg}, PAYLOAD)


SHAPE = "a voucher token is three base64url parts"
NOT_EDDSA = "voucher tokens are signed with Ed25519; this one names "

REFUSALS: list[Any] = [
    pytest.param("", "malformed", SHAPE, id="empty"),
    pytest.param(TOKEN.rsplit(".", 1)[0], "malformed", SHAPE, id="two-parts"),
    pytest.param(TOKEN + "==", "malformed", SHAPE, id="padded"),
    pytest.param(TOKEN.encode(), "malformed", SHAPE, id="bytes-not-text"),
    pytest.param(None, "malformed", SHAPE, id="none"),
    pytest.param(
        TOKEN[:-4], "malformed", "the signature is not 64 bytes: truncated?", id="truncated"
    ),
    pytest.param(
        TOKEN.rsplit(".", 1)[0] + ".",
        "malformed",
        "the signature is not 64 bytes: truncated?",
        id="signature-removed",
    ),
    pytest.param(
        raw_compact(b"not json", json.dumps(PAYLOAD).encode()),
        "malformed",
        "the token's header is not JSON",
        id="header-not-json",
    ),
    pytest.param(
        raw_compact(b'["Ed25519"]', json.dumps(PAYLOAD).encode()),
        "malformed",
        "the token's header is not a JSON object",
        id="header-array",
    ),
    pytest.param(
        compact(HEADER, b"not json"),
        "malformed",
        "the token's payload is not JSON",
        id="payload-not-json",
    ),
    pytest.param(
        compact(HEADER, b"[1, 2, 3]"),
        "malformed",
        "the token's payload is not a JSON object",
        id="payload-array",
    ),
    pytest.param(
        f"{segments(TOKEN)[0]}.{segments(compact(HEADER, {**PAYLOAD, 'v': 1}))[1]}."
        f"{segments(TOKEN)[2]}",
        "bad_signature",
        "the token's signature does not verify",
        id="payload-swapped",
    ),
    pytest.param(
        compact({k: v for k, v in HEADER.items() if k != "alg"}, PAYLOAD),
        "unsupported_algorithm",
        NOT_EDDSA + "no algorithm",
        id="alg-missing",
    ),
    pytest.param(with_alg(None), "unsupported_algorithm", NOT_EDDSA + "no algorithm", id="null"),
    pytest.param(with_alg("HS256"), "unsupported_algorithm", NOT_EDDSA + "'HS256'", id="HS256"),
    pytest.param(
        with_alg("A" * 16), "unsupported_algorithm", NOT_EDDSA + repr("A" * 16), id="16-chars"
    ),
    pytest.param(
        with_alg("A" * 17), "unsupported_algorithm", NOT_EDDSA + "another algorithm", id="17-chars"
    ),
    pytest.param(
        with_alg(["Ed25519"]), "unsupported_algorithm", NOT_EDDSA + "another algorithm", id="array"
    ),
    pytest.param(with_alg(7), "unsupported_algorithm", NOT_EDDSA + "another algorithm", id="int"),
    pytest.param(
        compact({**HEADER, "kid": "unknown"}, PAYLOAD),
        "unknown_key",
        "the token names no known voucher key (kid)",
        id="unknown-kid",
    ),
    pytest.param(
        compact(HEADER, {k: v for k, v in PAYLOAD.items() if k not in ("c", "exp")}),
        "missing_claims",
        "the token's payload lacks c, exp",
        id="two-fields-missing",
    ),
]


@pytest.mark.parametrize(("token", "reason", "message"), REFUSALS)
def test_a_refused_token_says_why_with_a_stable_reason_and_a_plain_message(
    token: Any, reason: str, message: str
) -> None:
    assert refused(token) == (reason, message)


def test_a_critical_header_pyjwt_does_not_know_is_malformed_and_the_message_says_so() -> None:
    reason, message = refused(compact({**HEADER, "crit": ["exp"], "exp": 1}, PAYLOAD))
    assert reason == "malformed"
    assert message.startswith("malformed token: ")
    assert "exp" in message.removeprefix("malformed token: ")


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("c", None, "a non-empty string"),
        ("c", "", "a non-empty string"),
        ("s", ["91110000600037341L"], "a non-empty string"),
        ("v", "2000000", "a non-negative integer"),
        ("v", -1, "a non-negative integer"),
        ("v", True, "a non-negative integer"),
        ("exp", 1.5, "a non-negative integer"),
        ("exp", None, "a non-negative integer"),
    ],
)
def test_a_payload_field_of_the_wrong_type_is_named_with_the_type_it_must_have(
    name: str, value: object, expected: str
) -> None:
    assert refused(compact(HEADER, {**PAYLOAD, name: value})) == (
        "missing_claims",
        f"the token's payload field {name} is not {expected}",
    )


def test_from_exp_on_the_message_says_the_voucher_has_expired() -> None:
    assert refused(TOKEN, datetime.fromtimestamp(VOUCHER_PAYLOAD.exp, UTC)) == (
        "expired",
        "the voucher has expired",
    )


def test_a_naive_now_is_a_programming_error_not_a_refusal() -> None:
    with pytest.raises(ValueError, match=f"^{re.escape('now must be timezone-aware')}$"):
        verify_voucher(TOKEN, PUBLIC_KEYS, datetime(2026, 3, 2))  # noqa: DTZ001
