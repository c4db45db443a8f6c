"""C2SP signed notes and tlog checkpoints (`voucher_app.signing.note`)."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from voucher_app.signing.note import (
    Checkpoint,
    NoteError,
    Verifier,
    key_id,
    open_checkpoint,
    open_note,
    parse_checkpoint,
    parse_vkey,
    sign_note,
)

ORIGIN = "gd-sme-vouchers.example/ledger"
ROOT = hashlib.sha256(b"root").digest()
TEXT = Checkpoint(ORIGIN, 42, ROOT).text()


def raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def fixed_key(byte: int) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes([byte]) * 32)


KEY = fixed_key(1)
OTHER_KEY = fixed_key(2)
VERIFIER = Verifier(ORIGIN, KEY.public_key())


def signature_line(note: str) -> str:
    return note.rstrip("\n").rsplit("\n", 1)[1]


def replace_signature_blob(note: str, make_blob: Callable[[bytes], bytes]) -> str:
    """Rewrite the base64 of the note's last signature line through `make_blob(raw)`."""
    prefix, _, encoded = note.rstrip("\n").rpartition(" ")
    raw = base64.b64decode(encoded)
    return f"{prefix} {base64.b64encode(make_blob(raw)).decode()}\n"


# --------------------------------------------------------------------------------------------
# Key ids and verifier keys
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [ORIGIN, "PeterNeumann", "a", "名字/ledger"])
def test_key_id_is_the_first_four_bytes_of_sha256_of_name_newline_0x01_public_key(
    name: str,
) -> None:
    expected = hashlib.sha256(name.encode("utf-8") + b"\n\x01" + raw_public(KEY)).digest()[:4]
    assert key_id(name, KEY.public_key()) == expected
    assert Verifier(name, KEY.public_key()).key_id == expected


def test_vkey_is_name_plus_hex_key_id_plus_base64_of_0x01_and_the_public_key() -> None:
    vkey = VERIFIER.vkey
    name, hex_id, encoded = vkey.split("+")
    assert name == ORIGIN
    assert re.fullmatch(r"[0-9a-f]{8}", hex_id)
    assert bytes.fromhex(hex_id) == key_id(ORIGIN, KEY.public_key())
    assert base64.b64decode(encoded, validate=True) == b"\x01" + raw_public(KEY)


def test_parse_vkey_round_trips_a_verifier() -> None:
    parsed = parse_vkey(VERIFIER.vkey)
    assert parsed.name == ORIGIN
    assert parsed.key_id == VERIFIER.key_id
    assert parsed.public_key.public_bytes(Encoding.Raw, PublicFormat.Raw) == raw_public(KEY)
    assert parsed.vkey == VERIFIER.vkey
    assert parse_vkey(f"  {VERIFIER.vkey}\n").vkey == VERIFIER.vkey


def test_parse_vkey_accepts_a_public_key_whose_base64_contains_a_plus_sign() -> None:
    verifier = Verifier(ORIGIN, fixed_key(8).public_key())
    vkey = verifier.vkey
    assert vkey == f"{ORIGIN}+9cb1fd80+AROY9ixtGkV8UbpqS189vS9p/KkyFiGNyJl+QWvRfZPK"
    assert parse_vkey(vkey).key_id == verifier.key_id
    assert parse_vkey(vkey).vkey == vkey


def _vkey_parts() -> tuple[str, str, str]:
    name, hex_id, encoded = VERIFIER.vkey.split("+")
    return name, hex_id, encoded


@pytest.mark.parametrize(
    "vkey",
    [
        pytest.param("+".join(_vkey_parts()[:2]), id="two-parts"),
        pytest.param(VERIFIER.vkey + "+extra", id="four-parts"),
        pytest.param("+" + "+".join(_vkey_parts()[1:]), id="empty-name"),
        pytest.param("bad name+" + "+".join(_vkey_parts()[1:]), id="space-in-name"),
        pytest.param(f"{ORIGIN}+00000000+{_vkey_parts()[2]}", id="wrong-key-id"),
        pytest.param(f"{ORIGIN}+zzzzzzzz+{_vkey_parts()[2]}", id="key-id-not-hex"),
        pytest.param(f"{ORIGIN}+{_vkey_parts()[1]}+not*base64", id="bad-base64"),
        pytest.param(
            f"{ORIGIN}+{_vkey_parts()[1]}+" + base64.b64encode(b"\x02" + raw_public(KEY)).decode(),
            id="not-ed25519",
        ),
        pytest.param(
            f"{ORIGIN}+{_vkey_parts()[1]}+"
            + base64.b64encode(b"\x01" + raw_public(KEY)[:31]).decode(),
            id="short-key",
        ),
    ],
)
def test_parse_vkey_refuses_malformed_keys(vkey: str) -> None:
    with pytest.raises(NoteError):
        parse_vkey(vkey)


# --------------------------------------------------------------------------------------------
# The published Go golang.org/x/mod/sumdb/note test vector
# --------------------------------------------------------------------------------------------

GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT
    + "\n\u2014 PeterNeumann "
    + "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
    + "\n"
)


def go_private_key() -> Ed25519PrivateKey:
    raw = base64.b64decode(GO_SKEY.split("+", 4)[4])
    assert raw[0] == 1
    return Ed25519PrivateKey.from_private_bytes(raw[1:])


def test_go_sumdb_note_vector_key_id_and_vkey_are_reproduced() -> None:
    key = go_private_key()
    verifier = Verifier("PeterNeumann", key.public_key())
    assert verifier.key_id.hex() == "c74f20a3"
    assert verifier.vkey == GO_VKEY
    assert parse_vkey(GO_VKEY).key_id == verifier.key_id


def test_go_sumdb_note_vector_is_signed_byte_for_byte_and_opens() -> None:
    assert sign_note(GO_TEXT, "PeterNeumann", go_private_key()) == GO_NOTE
    assert open_note(GO_NOTE, [parse_vkey(GO_VKEY)]) == (GO_TEXT, ["PeterNeumann"])
    with pytest.raises(NoteError):
        open_note(GO_NOTE.replace("cryptography", "cryptographY"), [parse_vkey(GO_VKEY)])


# --------------------------------------------------------------------------------------------
# Signing and opening notes
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [TEXT, "one line\n", "多行\n文本 with — dashes\n\ttabs\n", Checkpoint(ORIGIN, 0, ROOT).text()],
)
def test_a_signed_note_opens_to_its_text_and_signer(text: str) -> None:
    note = sign_note(text, ORIGIN, KEY)
    assert note.startswith(text + "\n\u2014 " + ORIGIN + " ")
    assert note.endswith("\n")
    blob = base64.b64decode(signature_line(note).split(" ")[2], validate=True)
    assert len(blob) == 4 + 64
    assert blob[:4] == VERIFIER.key_id
    assert open_note(note, [VERIFIER]) == (text, [ORIGIN])


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("no trailing newline", ORIGIN),
        ("blank\n\nline\n", ORIGIN),
        ("ok\n", "has space"),
        ("ok\n", "has+plus"),
        ("ok\n", ""),
    ],
)
def test_sign_note_refuses_text_or_names_the_format_cannot_carry(text: str, name: str) -> None:
    with pytest.raises(NoteError):
        sign_note(text, name, KEY)


def test_signatures_by_unknown_keys_are_ignored_when_a_known_key_signed() -> None:
    note = sign_note(TEXT, ORIGIN, KEY)
    other_line = signature_line(sign_note(TEXT, "witness.example", OTHER_KEY))
    cosigned = note + other_line + "\n"
    assert open_note(cosigned, [VERIFIER]) == (TEXT, [ORIGIN])
    other = Verifier("witness.example", OTHER_KEY.public_key())
    assert open_note(cosigned, [VERIFIER, other]) == (TEXT, [ORIGIN, "witness.example"])
    unknown_first = TEXT + "\n" + other_line + "\n" + signature_line(note) + "\n"
    assert open_note(unknown_first, [VERIFIER]) == (TEXT, [ORIGIN])


def _flip_text_character(note: str) -> str:
    return note.replace("42", "43", 1)


def _signed_by_other_key_under_the_same_name(note: str) -> str:
    return sign_note(TEXT, ORIGIN, OTHER_KEY)


def _other_keys_signature_under_the_known_key_id(note: str) -> str:
    forged = OTHER_KEY.sign(TEXT.encode())
    return replace_signature_blob(note, lambda raw: raw[:4] + forged)


def _truncated_signature(note: str) -> str:
    return replace_signature_blob(note, lambda raw: raw[:-1])


def _signature_with_a_flipped_bit(note: str) -> str:
    return replace_signature_blob(note, lambda raw: raw[:-1] + bytes([raw[-1] ^ 1]))


def _missing_blank_line(note: str) -> str:
    return note.replace("\n\n", "\n", 1)


def _no_signature_lines(note: str) -> str:
    return TEXT + "\n"


def _ascii_dash_instead_of_em_dash(note: str) -> str:
    return note.replace("\u2014 ", "- ", 1)


def _no_space_after_the_dash(note: str) -> str:
    return note.replace("\u2014 ", "\u2014", 1)


def _signature_not_base64(note: str) -> str:
    return note.rstrip("\n") + "!\n"


def _signature_shorter_than_a_key_id(note: str) -> str:
    return replace_signature_blob(note, lambda raw: raw[:4])


def _empty_signature_line(note: str) -> str:
    return note + "\n"


def _missing_final_newline(note: str) -> str:
    return note.rstrip("\n")


def _garbage_line_after_the_signature(note: str) -> str:
    return note + "not a signature\n"


@pytest.mark.parametrize(
    "tamper",
    [
        _flip_text_character,
        _signed_by_other_key_under_the_same_name,
        _other_keys_signature_under_the_known_key_id,
        _truncated_signature,
        _signature_with_a_flipped_bit,
        _missing_blank_line,
        _no_signature_lines,
        _ascii_dash_instead_of_em_dash,
        _no_space_after_the_dash,
        _signature_not_base64,
        _signature_shorter_than_a_key_id,
        _empty_signature_line,
        _missing_final_newline,
        _garbage_line_after_the_signature,
    ],
    ids=lambda f: f.__name__.strip("_").replace("_", "-"),
)
def test_open_note_refuses_a_tampered_or_malformed_note(tamper: Callable[[str], str]) -> None:
    note = sign_note(TEXT, ORIGIN, KEY)
    assert open_note(note, [VERIFIER]) == (TEXT, [ORIGIN])  # the untouched note opens
    with pytest.raises(NoteError):
        open_note(tamper(note), [VERIFIER])


def test_open_note_refuses_a_note_signed_only_by_unknown_keys() -> None:
    note = sign_note(TEXT, ORIGIN, KEY)
    with pytest.raises(NoteError, match="no signature by a known key"):
        open_note(note, [Verifier("witness.example", OTHER_KEY.public_key())])
    with pytest.raises(NoteError, match="no signature by a known key"):
        open_note(note, [Verifier(ORIGIN, OTHER_KEY.public_key())])
    with pytest.raises(NoteError):
        open_note(note, [])


def test_a_bad_signature_by_a_known_key_is_refused_even_beside_a_good_one() -> None:
    note = sign_note(TEXT, ORIGIN, KEY)
    good_line = signature_line(note)
    bad = _signature_with_a_flipped_bit(note)
    both = TEXT + "\n" + good_line + "\n" + signature_line(bad) + "\n"
    with pytest.raises(NoteError, match="invalid signature"):
        open_note(both, [VERIFIER])


# --------------------------------------------------------------------------------------------
# Checkpoints
# --------------------------------------------------------------------------------------------


def test_checkpoint_text_is_origin_decimal_size_and_base64_root_on_three_lines() -> None:
    text = Checkpoint(ORIGIN, 1234, ROOT).text()
    assert text == f"{ORIGIN}\n1234\n{base64.b64encode(ROOT).decode()}\n"
    assert parse_checkpoint(text) == Checkpoint(ORIGIN, 1234, ROOT)


@pytest.mark.parametrize("size", [0, 1, 10, 2**63 - 1, 2**64 - 1])
def test_parse_checkpoint_round_trips_sizes(size: int) -> None:
    assert parse_checkpoint(Checkpoint(ORIGIN, size, ROOT).text()).size == size


def test_parse_checkpoint_accepts_extension_lines_after_the_root() -> None:
    text = Checkpoint(ORIGIN, 7, ROOT).text() + "extension one\nextension two\n"
    assert parse_checkpoint(text) == Checkpoint(ORIGIN, 7, ROOT)


ROOT_B64 = base64.b64encode(ROOT).decode()


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(f"{ORIGIN}\n012\n{ROOT_B64}\n", id="leading-zero"),
        pytest.param(f"{ORIGIN}\n00\n{ROOT_B64}\n", id="double-zero"),
        pytest.param(f"{ORIGIN}\n-1\n{ROOT_B64}\n", id="negative"),
        pytest.param(f"{ORIGIN}\n+1\n{ROOT_B64}\n", id="plus-sign"),
        pytest.param(f"{ORIGIN}\n1.0\n{ROOT_B64}\n", id="decimal-point"),
        pytest.param(f"{ORIGIN}\n 1\n{ROOT_B64}\n", id="leading-space"),
        pytest.param(f"{ORIGIN}\n0x10\n{ROOT_B64}\n", id="hex"),
        pytest.param(f"{ORIGIN}\n\u0661\u0662\n{ROOT_B64}\n", id="arabic-indic-digits"),
        pytest.param(f"{ORIGIN}\nten\n{ROOT_B64}\n", id="word"),
        pytest.param(f"{ORIGIN}\n5\n{base64.b64encode(ROOT[:31]).decode()}\n", id="root-31-bytes"),
        pytest.param(
            f"{ORIGIN}\n5\n{base64.b64encode(ROOT + b'x').decode()}\n", id="root-33-bytes"
        ),
        pytest.param(f"{ORIGIN}\n5\nnot base64!\n", id="root-not-base64"),
        pytest.param(f"{ORIGIN}\n5\n\n", id="root-empty"),
        pytest.param(f"{ORIGIN}\n5\n", id="root-missing"),
        pytest.param(f"{ORIGIN}\n", id="size-and-root-missing"),
        pytest.param(f"{ORIGIN}\n5\n{ROOT_B64}", id="no-final-newline"),
        pytest.param(f"\n5\n{ROOT_B64}\n", id="empty-origin"),
        pytest.param("", id="empty"),
    ],
)
def test_parse_checkpoint_refuses_malformed_text(text: str) -> None:
    with pytest.raises(NoteError):
        parse_checkpoint(text)


def test_open_checkpoint_verifies_and_parses_a_signed_checkpoint() -> None:
    note = sign_note(TEXT, ORIGIN, KEY)
    assert open_checkpoint(note, [VERIFIER]) == Checkpoint(ORIGIN, 42, ROOT)
    assert open_checkpoint(note, [VERIFIER], origin=ORIGIN) == Checkpoint(ORIGIN, 42, ROOT)


def test_open_checkpoint_refuses_another_origin() -> None:
    note = sign_note(TEXT, ORIGIN, KEY)
    with pytest.raises(NoteError, match="origin"):
        open_checkpoint(note, [VERIFIER], origin="other.example/ledger")


def test_open_checkpoint_refuses_a_signed_note_that_is_not_a_checkpoint() -> None:
    note = sign_note(f"{ORIGIN}\n042\n{ROOT_B64}\n", ORIGIN, KEY)
    with pytest.raises(NoteError, match="tree size"):
        open_checkpoint(note, [VERIFIER])
