"""The witness's judgement of `add-checkpoint` requests (c2sp.org/tlog-witness), status by status,
and a request another project's witness tests send (FiloSottile/torchwood)."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from tests.unit.test_merkle import build, consistency_proof, leaves_from_seed
from voucher_app.signing.note import Checkpoint, Verifier, sign_note
from voucher_app.witness.protocol import (
    Evidence,
    Head,
    Refused,
    judge,
    parse_request,
    request_body,
)

# github.com/FiloSottile/torchwood, internal/witness/witness_test.go at 1cadf595 (TestRace): a
# Sigsum log's key and its first checkpoint, as a log sends it to a witness.
TORCHWOOD_LOG_KEY = bytes.fromhex(
    "ffdc2d4d98e4124d3feaf788c0c2f9abfd796083d1f0495437f302ec79cf100f"
)
TORCHWOOD_ORIGIN = (
    "sigsum.org/v1/tree/4d6d8825a6bb689d459628312889dfbb0bcd41b5211d9e1ce768b0ff0309e562"
)
TORCHWOOD_REQUEST = (
    "old 0\n\n"
    f"{TORCHWOOD_ORIGIN}\n1\nKgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n"
    f"— {TORCHWOOD_ORIGIN} UgIom7fPZTqpxWWhyjWduBvTvGVqsokMbqTArsQilegKoFBJQjUFAmQ0+YeSPM3wfUQMF"
    "SzVnnNuWRTYrajXpNUbIQY=\n"
).encode()

ORIGIN = "gd-sme-vouchers.example/ledger"
LOG_KEY = Ed25519PrivateKey.from_private_bytes(bytes([9]) * 32)
LOGS = {ORIGIN: [Verifier(ORIGIN, LOG_KEY.public_key())]}
LEAVES = leaves_from_seed(b"log", 40)
NODES, ROOTS = build(LEAVES)
FORKED_NODES, FORKED_ROOTS = build(LEAVES[:20] + leaves_from_seed(b"fork", 20))


def note(size: int, roots: dict[int, bytes] = ROOTS, key: Ed25519PrivateKey = LOG_KEY) -> str:
    return sign_note(Checkpoint(ORIGIN, size, roots[size]).text(), ORIGIN, key)


def head(size: int) -> Head:
    return Head(size, ROOTS[size], note(size))


def request(
    old: int, size: int, nodes: dict[tuple[int, int], bytes] = NODES, **kw: object
) -> bytes:
    proof = consistency_proof(old, size, nodes) if 0 < old < size else []
    return request_body(old, proof, note(size, **kw))  # type: ignore[arg-type]


def refusal(body: bytes, held: Head | None) -> Refused:
    with pytest.raises(Refused) as caught:
        judge(parse_request(body), LOGS, held)
    return caught.value


def test_another_projects_first_checkpoint_is_accepted() -> None:
    log = Verifier(TORCHWOOD_ORIGIN, Ed25519PublicKey.from_public_bytes(TORCHWOOD_LOG_KEY))
    assert log.key_id.hex() == "5202289b"  # the key id on the request's signature line
    parsed = parse_request(TORCHWOOD_REQUEST)
    assert (parsed.old_size, parsed.proof) == (0, [])
    checkpoint = judge(parsed, {TORCHWOOD_ORIGIN: [log]}, None)
    assert (checkpoint.origin, checkpoint.size) == (TORCHWOOD_ORIGIN, 1)
    assert checkpoint.root == base64.b64decode("KgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")


def test_the_request_body_is_the_spec_layout() -> None:
    # "old 20852014\n" then base64 proof lines, an empty line, then the checkpoint.
    body = request_body(20852014, [bytes(32), bytes([1]) * 32], "NOTE")
    assert body == (
        b"old 20852014\n"
        b"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
        b"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\n"
        b"\nNOTE"
    )
    parsed = parse_request(request_body(5, [bytes(32)], note(7)))
    assert (parsed.old_size, parsed.proof, parsed.note) == (5, [bytes(32)], note(7))


def test_a_first_checkpoint_then_a_consistent_one_are_accepted() -> None:
    assert judge(parse_request(request(0, 10)), LOGS, None).size == 10
    assert judge(parse_request(request(10, 33)), LOGS, head(10)).size == 33
    assert judge(parse_request(request(33, 33)), LOGS, head(33)).size == 33  # the same head


STARTS = "the request starts with an 'old <size>' line and a blank line"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"old 5\n", STARTS),
        (b"old 05\n\nx", STARTS),
        (b"new 5\n\nx", STARTS),
        (b"old -1\n\nx", STARTS),
        (b"old 5\n!!!\n\nx", "proof line '!!!' is not base64"),
        (b"old 5\nAAAA\n\nx", "proof line 'AAAA' is not a 32-byte hash"),
        (
            ("old 5\n" + ("A" * 43 + "=\n") * 64 + "\nx").encode(),
            "a consistency proof has at most 63 lines",
        ),
        (b"\xff\xfe", "the request is not UTF-8"),
        (
            b"old 0\n\nnot a checkpoint",
            "the request's checkpoint is malformed: a signed note is text, a blank line and "
            "signature lines",
        ),
    ],
)
def test_a_malformed_request_is_400(body: bytes, message: str) -> None:
    refused = refusal(body, None)
    assert (refused.status, refused.message, refused.evidence) == (400, message, None)


def test_a_proof_of_63_lines_is_the_most_a_request_carries() -> None:
    proof = [bytes([n]) * 32 for n in range(63)]
    assert parse_request(request_body(5, proof, "NOTE")).proof == proof


def test_an_unknown_log_is_404_and_a_forged_signature_403() -> None:
    other = "other.example/log"
    stranger = sign_note(Checkpoint(other, 1, bytes(32)).text(), other, LOG_KEY)
    refused = refusal(request_body(0, [], stranger), None)
    assert (refused.status, refused.message) == (
        404,
        "this witness does not know the log 'other.example/log'",
    )
    forged = request_body(0, [], note(10, key=Ed25519PrivateKey.generate()))
    refused = refusal(forged, None)
    assert (refused.status, refused.evidence) == (403, None)
    assert refused.message == (
        "the checkpoint is not signed by the log's key: the note carries no signature by a "
        "known key"
    )


def test_a_stale_old_size_is_409_with_the_size_held() -> None:
    refused = refusal(request(0, 33), head(10))
    assert (refused.status, refused.size, refused.evidence) == (409, 10, None)
    assert refused.message == "this witness holds tree size 10"
    refused = refusal(request(0, 10), head(10))  # the head it holds, from the wrong old size
    assert (refused.status, refused.size, refused.evidence) == (409, 10, None)
    refused = refusal(request(5, 33), head(10))
    assert (refused.status, refused.size) == (409, 10)
    refused = refusal(request(10, 33), None)
    assert (refused.status, refused.size) == (409, 0)


def test_an_old_size_above_the_checkpoint_is_400_and_a_rollback_is_evidence() -> None:
    refused = refusal(request_body(30, [], note(20)), head(30))
    assert (refused.status, refused.evidence) == (400, Evidence.ROLLBACK)
    assert refused.message == "the old size is larger than the checkpoint's"
    refused = refusal(request_body(30, [], note(29)), head(25))  # not a rollback: 29 > 25
    assert (refused.status, refused.evidence) == (400, None)
    refused = refusal(request(0, 20), head(30))  # a restored log that does not know the size
    assert (refused.status, refused.size, refused.evidence) == (409, 30, Evidence.ROLLBACK)


def test_another_root_at_the_held_size_is_409_and_evidence_of_a_fork() -> None:
    refused = refusal(request_body(30, [], note(30, roots=FORKED_ROOTS)), head(30))
    assert (refused.status, refused.size, refused.evidence) == (409, None, Evidence.FORK)
    assert refused.message == "another root at the size already cosigned"


def test_a_proof_that_fails_is_422_and_evidence() -> None:
    forked = request(25, 40, nodes=FORKED_NODES, roots=FORKED_ROOTS)
    refused = refusal(forked, head(25))
    assert (refused.status, refused.evidence) == (422, Evidence.INCONSISTENT)
    assert "does not extend the one cosigned" in refused.message
    no_proof = request_body(25, [], note(40))
    assert refusal(no_proof, head(25)).status == 422


def test_a_head_of_size_0_is_extended_without_a_proof() -> None:
    # A log may start with a checkpoint of size 0 (Sigsum's do); "The proof MUST be empty if
    # the old size is zero", and nothing can be proven consistent with an empty tree.
    empty = Head(0, ROOTS[0], note(0))
    assert judge(parse_request(request_body(0, [], note(10))), LOGS, empty).size == 10
    refused = refusal(request_body(0, [bytes(32)], note(10)), empty)
    assert refused.status == 400 and refused.evidence is None


def test_a_first_checkpoint_comes_without_a_proof() -> None:
    body = request_body(0, [bytes(32)], note(10))
    refused = refusal(body, None)
    assert (refused.status, refused.message) == (400, "the proof from an old size of 0 is empty")
