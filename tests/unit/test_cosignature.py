"""Witness cosignatures against c2sp.org/tlog-cosignature and against cosignatures other projects
made: sigsum-go's test vector (whose private key is known, so our own cosignature must come out
byte for byte the same) and a real witness's cosignature on a Certificate Transparency log.
"""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from voucher_app.signing import cosignature
from voucher_app.signing.note import (
    COSIGNATURE,
    Checkpoint,
    NoteError,
    Verifier,
    open_checkpoint,
    parse_vkey,
    sign_note,
)

# github.com/sigsum/sigsum-go, pkg/checkpoint/checkpoint_test.go at 2224a397, the cosignature
# tests: `crypto.PrivateKey{17}` (the seed 0x11 then 31 zero bytes), cosigner "example.org/witness".
SIGSUM_KEY = Ed25519PrivateKey.from_private_bytes(bytes([17]) + bytes(31))
SIGSUM_WITNESS = "example.org/witness"
SIGSUM_VKEY = "example.org/witness+cacf2e50+BGbguFjkYqYJ5m/nE3DIFtiEb/ED1UmaIqf+w3/bxCSn"
SIGSUM_TEXT = "example.org/log\n10\nHA5HAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
SIGSUM_LINE = (
    "— example.org/witness ys8uUAAAAAAAAATSftMzceM8zssdZ9jin9SjwIxzx9iADMf63VqirX2hafol9RsqNqbo"
    "fIz0LVRqHXI2kpEBSki5RTXFtxz1vo9+Cg==\n"
)
SIGSUM_TIME = 1234

# github.com/florolf/tlog-scales, tests/test_signing.py at 053df15f: the witness remora.n621.de
# on the CT log arche2025h1 (its vkey is also in transparency-dev/formats' note_cosigv1_test.go).
REMORA_VKEY = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2"
REMORA_TEXT = (
    "arche2025h1.staging.ct.transparency.dev\n1432088532\n"
    "U7WM79jrzyhGZ5/GUBTpM7NzwdyfFx61t3RovgcC4Ro=\n"
)
REMORA_LINE = (
    "— remora.n621.de 2net5wAAAABqEiEgPlfF3V06o0Y+fHM+J5J9s27wgxxcOVSpZ/2g/KSiXCg9DEZI+aVCIobWX9"
    "sXTynk5XeU/zZ0WBxtqB0DrAWfBw==\n"
)

LOG_KEY = Ed25519PrivateKey.from_private_bytes(bytes([1]) * 32)
ORIGIN = "gd-sme-vouchers.example/ledger"


def log_note(size: int = 42, root: bytes = bytes(range(32))) -> str:
    return sign_note(Checkpoint(ORIGIN, size, root).text(), ORIGIN, LOG_KEY)


def witness(name: str, seed: int) -> tuple[Ed25519PrivateKey, Verifier]:
    key = Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32)
    return key, Verifier(name, key.public_key(), COSIGNATURE)


def test_the_signed_message_is_the_spec_example() -> None:
    # tlog-cosignature, "Ed25519 signed message": the example message, quoted.
    text = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    assert cosignature.message(text, 1679315147) == (
        b"cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\n"
        b"CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    )


def test_our_cosignature_is_sigsums_byte_for_byte() -> None:
    verifier = Verifier(SIGSUM_WITNESS, SIGSUM_KEY.public_key(), COSIGNATURE)
    assert verifier.vkey == SIGSUM_VKEY  # key id: SHA-256(name ‖ 0x0A ‖ 0x04 ‖ key)[:4]
    assert parse_vkey(SIGSUM_VKEY, COSIGNATURE) == verifier
    line = cosignature.cosign(SIGSUM_TEXT, SIGSUM_WITNESS, SIGSUM_KEY, SIGSUM_TIME)
    assert line == SIGSUM_LINE
    note = f"{SIGSUM_TEXT}\n{SIGSUM_LINE}"
    assert cosignature.cosigned_by(note, [verifier]) == [
        cosignature.Cosignature(SIGSUM_WITNESS, SIGSUM_TIME, SIGSUM_LINE)
    ]


def test_a_real_witness_cosignature_verifies() -> None:
    remora = parse_vkey(REMORA_VKEY, COSIGNATURE)
    found = cosignature.cosigned_by(f"{REMORA_TEXT}\n{REMORA_LINE}", [remora])
    assert [(c.witness, c.timestamp) for c in found] == [("remora.n621.de", 1779573024)]


def test_lines_of_unknown_keys_are_ignored_and_a_known_key_must_verify() -> None:
    verifier = parse_vkey(SIGSUM_VKEY, COSIGNATURE)
    blob = base64.b64decode(SIGSUM_LINE.rsplit(maxsplit=1)[-1])
    other_id = "— example.org/witness " + base64.b64encode(b"\xc9" + blob[1:]).decode() + "\n"
    other_name = SIGSUM_LINE.replace("example.org/witness", "example.org/witness-2")
    ignored = f"{SIGSUM_TEXT}\n{other_id}{other_name}"
    assert cosignature.cosigned_by(ignored, [verifier]) == []
    short = "— example.org/witness " + base64.b64encode(blob[:-1]).decode() + "\n"
    with pytest.raises(NoteError, match=r"invalid cosignature by example\.org/witness"):
        cosignature.cosigned_by(f"{SIGSUM_TEXT}\n{short}", [verifier])
    # A note signature (type 0x01) by a key of the same name is not a cosignature.
    assert cosignature.cosigned_by(f"{SIGSUM_TEXT}\n{SIGSUM_LINE}", [Verifier(
        SIGSUM_WITNESS, SIGSUM_KEY.public_key())]) == []  # fmt: skip


def test_a_cosignature_over_another_checkpoint_is_refused() -> None:
    key, verifier = witness("finance.gd.example/witness", 7)
    note = log_note(42)
    line = cosignature.cosign(Checkpoint(ORIGIN, 41, bytes(32)).text(), verifier.name, key, 5)
    with pytest.raises(NoteError, match=r"invalid cosignature by finance\.gd\.example/witness"):
        cosignature.cosigned_by(note + line, [verifier])
    later = cosignature.cosign(note.partition("\n\n")[0] + "\n", verifier.name, key, 5)
    stamped = later.replace(later.split()[-1], _restamp(later.split()[-1], 6))
    with pytest.raises(NoteError, match="invalid cosignature"):  # the time is signed too
        cosignature.cosigned_by(note + stamped, [verifier])


def _restamp(encoded: str, timestamp: int) -> str:
    raw = base64.b64decode(encoded)
    return base64.b64encode(raw[:4] + timestamp.to_bytes(8, "big") + raw[12:]).decode()


def test_cosignatures_ride_on_the_logs_checkpoint_and_count_once_per_witness() -> None:
    (key_a, a), (key_b, b) = witness("a.example/w", 3), witness("b.example/w", 4)
    note = log_note()
    text = note.partition("\n\n")[0] + "\n"
    line_a = cosignature.cosign(text, a.name, key_a, 100)
    line_a2 = cosignature.cosign(text, a.name, key_a, 101)
    line_b = cosignature.cosign(text, b.name, key_b, 102)
    cosigned = cosignature.with_cosignatures(note, [line_a, line_b, line_a, line_a2])
    assert cosigned == note + line_a + line_b + line_a2
    assert cosignature.with_cosignatures(cosigned, [line_b]) == cosigned
    # The log's own signature still opens it; the witnesses' lines are unknown keys to it.
    log = Verifier(ORIGIN, LOG_KEY.public_key())
    assert open_checkpoint(cosigned, [log]).size == 42
    found = cosignature.cosigned_by(cosigned, [a, b, log])
    assert [(c.witness, c.timestamp) for c in found] == [("a.example/w", 100), ("b.example/w", 102)]


@pytest.mark.parametrize("timestamp", [-1, 2**63])
def test_a_time_outside_the_signed_range_is_refused(timestamp: int) -> None:
    with pytest.raises(NoteError, match="a cosignature's time is 0 to 2\\*\\*63 - 1"):
        cosignature.cosign(SIGSUM_TEXT, SIGSUM_WITNESS, SIGSUM_KEY, timestamp)


def test_a_stated_time_past_the_signed_range_is_refused() -> None:
    verifier = parse_vkey(SIGSUM_VKEY, COSIGNATURE)
    raw = base64.b64decode(SIGSUM_LINE.rsplit(maxsplit=1)[-1])
    late = raw[:4] + (2**63).to_bytes(8, "big") + raw[12:]
    line = "— example.org/witness " + base64.b64encode(late).decode() + "\n"
    with pytest.raises(NoteError, match="invalid cosignature"):
        cosignature.cosigned_by(f"{SIGSUM_TEXT}\n{line}", [verifier])


@pytest.mark.parametrize("timestamp", [0, 1, 2**62, 2**63 - 1])
def test_every_time_in_the_signed_range_round_trips(timestamp: int) -> None:
    key, verifier = witness("range.example/w", 11)
    line = cosignature.cosign(SIGSUM_TEXT, verifier.name, key, timestamp)
    assert base64.b64decode(line.split()[-1])[4:12] == timestamp.to_bytes(8, "big")
    found = cosignature.cosigned_by(f"{SIGSUM_TEXT}\n{line}", [verifier])
    assert [c.timestamp for c in found] == [timestamp]


def test_a_signed_time_past_the_range_is_refused_even_when_the_signature_holds() -> None:
    # "It MUST NOT exceed 2^63 - 1": a witness that signs such a time anyway is not believed.
    key, verifier = witness("late.example/w", 12)
    timestamp = 2**63
    signature = key.sign(cosignature.message(SIGSUM_TEXT, timestamp))
    raw = verifier.key_id + timestamp.to_bytes(8, "big") + signature
    line = f"— {verifier.name} {base64.b64encode(raw).decode()}\n"
    with pytest.raises(NoteError, match="invalid cosignature"):
        cosignature.cosigned_by(f"{SIGSUM_TEXT}\n{line}", [verifier])
