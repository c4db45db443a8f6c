"""Why a signed note, checkpoint or verifier key is refused (`voucher_app.signing.note`).

`voucher-audit` and `flask doctor` print these messages to the person deciding whether to trust
a log, so each refusal says which rule was broken: the message is part of the behaviour. The
rules are those of c2sp.org/signed-note (a note is text ending in a newline, a blank line, then
lines "— <name> <base64(4-byte key id ‖ signature)>"; a signature of fewer than 5 bytes is
malformed; a name is non-empty with no spaces or "+") and c2sp.org/tlog-checkpoint (origin,
decimal tree size below 2**64 without leading zeros, base64 of a 32-byte root, each on its own
non-empty line, optional non-empty extension lines).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable

import pytest

from tests.unit.test_note import (
    KEY,
    ORIGIN,
    OTHER_KEY,
    ROOT,
    ROOT_B64,
    TEXT,
    VERIFIER,
    raw_public,
    replace_signature_blob,
    signature_line,
)
from voucher_app.signing.note import (
    Checkpoint,
    NoteError,
    Verifier,
    open_checkpoint,
    open_note,
    parse_checkpoint,
    parse_vkey,
    sign_note,
)

NOTE = sign_note(TEXT, ORIGIN, KEY)
LINE = signature_line(NOTE)
WITNESS = "witness.example"
NOT_A_NOTE = "a signed note is text, a blank line and signature lines"


def refused(message: str) -> pytest.RaisesExc[NoteError]:
    """Expect a `NoteError` whose message is exactly `message`."""
    return pytest.raises(NoteError, match=f"^{re.escape(message)}$")


def key_id_only(raw: bytes) -> bytes:
    return raw[:4]


def with_line(line: str) -> str:
    return f"{TEXT}\n{line}\n"


# --------------------------------------------------------------------------------------------
# Opening notes
# --------------------------------------------------------------------------------------------

OPEN_NOTE_REFUSALS: list[tuple[str, Callable[[], str], str]] = [
    ("no blank line", lambda: NOTE.replace("\n\n", "\n", 1), NOT_A_NOTE),
    ("no signature lines", lambda: TEXT + "\n", NOT_A_NOTE),
    ("an empty last line", lambda: NOTE + "\n", NOT_A_NOTE),
    ("no final newline", lambda: NOTE.rstrip("\n"), NOT_A_NOTE),
    (
        "an ascii dash",
        lambda: NOTE.replace("\u2014 ", "- ", 1),
        f"malformed signature line {LINE.replace(chr(0x2014) + ' ', '- ', 1)!r}",
    ),
    (
        "no space after the dash",
        lambda: NOTE.replace("\u2014 ", "\u2014", 1),
        f"malformed signature line {LINE.replace(chr(0x2014) + ' ', chr(0x2014), 1)!r}",
    ),
    (
        "a line that is not a signature",
        lambda: NOTE + "not a signature\n",
        "malformed signature line 'not a signature'",
    ),
    (
        "signature not base64",
        lambda: NOTE.rstrip("\n") + "!\n",
        f"malformed signature by {ORIGIN}",
    ),
    (
        "only a key id, no signature",
        lambda: replace_signature_blob(NOTE, lambda raw: raw[:4]),
        f"malformed signature line {signature_line(replace_signature_blob(NOTE, key_id_only))!r}",
    ),
    (
        "an empty key name",
        lambda: with_line("\u2014  " + LINE.split(" ")[2]),
        f"malformed signature line {'—  ' + LINE.split(' ')[2]!r}",
    ),
    (
        "a key name with a plus sign",
        lambda: with_line(f"\u2014 a+b {LINE.split(' ')[2]}"),
        f"malformed signature line {'— a+b ' + LINE.split(' ')[2]!r}",
    ),
    (
        "a space inside the signature",  # the name ends at the first space, the rest is base64
        lambda: with_line(f"\u2014 {ORIGIN} x {LINE.split(' ')[2]}"),
        f"malformed signature by {ORIGIN}",
    ),
    (
        "a key id and one byte of signature",  # well-formed (5 bytes) but does not verify
        lambda: replace_signature_blob(NOTE, lambda raw: raw[:5]),
        f"invalid signature by {ORIGIN}",
    ),
    (
        "altered text",
        lambda: NOTE.replace("42", "43", 1),
        f"invalid signature by {ORIGIN}",
    ),
    (
        "signed by another key under the same name",
        lambda: sign_note(TEXT, ORIGIN, OTHER_KEY),
        "the note carries no signature by a known key",
    ),
    (
        "signed only by an unknown key",
        lambda: sign_note(TEXT, WITNESS, OTHER_KEY),
        "the note carries no signature by a known key",
    ),
]


@pytest.mark.parametrize(
    ("note", "message"),
    [pytest.param(make, message, id=case) for case, make, message in OPEN_NOTE_REFUSALS],
)
def test_open_note_says_which_rule_of_the_signed_note_format_is_broken(
    note: Callable[[], str], message: str
) -> None:
    with refused(message):
        open_note(note(), [VERIFIER])


def test_a_note_opens_to_the_text_before_the_last_blank_line_with_its_final_newline() -> None:
    text, signers = open_note(NOTE, [VERIFIER])
    assert text == TEXT
    assert text.endswith("\n") and not text.endswith("\n\n")
    assert signers == [ORIGIN]


def test_every_known_signer_is_named_in_the_order_of_the_signature_lines() -> None:
    witness = Verifier(WITNESS, OTHER_KEY.public_key())
    witness_line = signature_line(sign_note(TEXT, WITNESS, OTHER_KEY))
    note = f"{TEXT}\n{witness_line}\n{LINE}\n"
    assert open_note(note, [VERIFIER, witness]) == (TEXT, [WITNESS, ORIGIN])
    assert open_note(note, [witness]) == (TEXT, [WITNESS])


# --------------------------------------------------------------------------------------------
# Signing
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["no newline", "blank\n\nline\n", "\n\n"])
def test_sign_note_names_the_text_rule(text: str) -> None:
    with refused("note text must end in a newline and contain no blank line"):
        sign_note(text, ORIGIN, KEY)


@pytest.mark.parametrize("name", ["", "has space", "has+plus", "tab\tname"])
def test_sign_note_names_the_key_name_it_cannot_carry(name: str) -> None:
    with refused(f"bad key name {name!r}"):
        sign_note("text\n", name, KEY)


# --------------------------------------------------------------------------------------------
# Verifier keys
# --------------------------------------------------------------------------------------------

NAME, HEX_ID, ENCODED = VERIFIER.vkey.split("+")


@pytest.mark.parametrize(
    "vkey",
    [
        f"{NAME}+{HEX_ID}",
        f"+{HEX_ID}+{ENCODED}",
        f"bad name+{HEX_ID}+{ENCODED}",
        f"{NAME}+zz+{ENCODED}",
        f"{NAME}+{HEX_ID}+not*base64",
        f"{NAME}+{HEX_ID}+{ENCODED[:-1]}",
        f"{NAME}+{HEX_ID}+{ENCODED[:8]}!{ENCODED[8:]}",  # strict base64: no stray characters
        f"{NAME}+{HEX_ID}+{ENCODED[:8]} {ENCODED[8:]}",
    ],
)
def test_parse_vkey_quotes_a_malformed_key(vkey: str) -> None:
    with refused(f"malformed verifier key {vkey!r}"):
        parse_vkey(vkey)


@pytest.mark.parametrize(
    "key_bytes",
    [
        b"\x02" + raw_public(KEY),  # another algorithm's identifier byte
        b"\x01" + raw_public(KEY)[:31],
        b"\x01" + raw_public(KEY) + b"\x00",
        raw_public(KEY),  # no algorithm byte at all
    ],
    ids=["another-algorithm", "32-bytes", "34-bytes", "no-algorithm-byte"],
)
def test_parse_vkey_accepts_only_an_ed25519_key_of_33_bytes(key_bytes: bytes) -> None:
    vkey = f"{NAME}+{HEX_ID}+{base64.b64encode(key_bytes).decode()}"
    with refused(f"{NAME} is not an Ed25519 key of signature type 0x01"):
        parse_vkey(vkey)


@pytest.mark.parametrize("hex_id", ["00000000", "", HEX_ID[:6], HEX_ID + "00"])
def test_parse_vkey_refuses_a_key_id_that_is_not_the_keys_own(hex_id: str) -> None:
    with refused(f"verifier key {NAME} has the wrong key id"):
        parse_vkey(f"{NAME}+{hex_id}+{ENCODED}")


# --------------------------------------------------------------------------------------------
# Checkpoints
# --------------------------------------------------------------------------------------------

ROOT_31_B64 = base64.b64encode(ROOT[:31]).decode()
ROOT_33_B64 = base64.b64encode(ROOT + b"x").decode()
NOT_A_CHECKPOINT = "a checkpoint is origin, size and root hash on their own lines"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", NOT_A_CHECKPOINT),
        (f"{ORIGIN}\n", NOT_A_CHECKPOINT),
        (f"{ORIGIN}\n5\n", NOT_A_CHECKPOINT),
        (f"{ORIGIN}\n5\n{ROOT_B64}", NOT_A_CHECKPOINT),
        (f"{ORIGIN}\n5\n\n", NOT_A_CHECKPOINT),
        (f"\n5\n{ROOT_B64}\n", NOT_A_CHECKPOINT),
        (f"{ORIGIN}\n\n{ROOT_B64}\n", NOT_A_CHECKPOINT),
        (f"{ORIGIN}\n5\n{ROOT_B64}\n\nextension\n", NOT_A_CHECKPOINT),
        (f"{ORIGIN}\n012\n{ROOT_B64}\n", "malformed tree size '012'"),
        (f"{ORIGIN}\n-1\n{ROOT_B64}\n", "malformed tree size '-1'"),
        (f"{ORIGIN}\n 1\n{ROOT_B64}\n", "malformed tree size ' 1'"),
        (f"{ORIGIN}\n{2**64}\n{ROOT_B64}\n", f"malformed tree size '{2**64}'"),
        (f"{ORIGIN}\n{10**20}\n{ROOT_B64}\n", f"malformed tree size '{10**20}'"),
        (f"{ORIGIN}\n{10**21}\n{ROOT_B64}\n", f"malformed tree size '{10**21}'"),
        (f"{ORIGIN}\n5\nnot base64!\n", "malformed root hash"),
        (f"{ORIGIN}\n5\n{ROOT_B64[:8]}!{ROOT_B64[8:]}\n", "malformed root hash"),  # strict
        (f"{ORIGIN}\n5\n{ROOT_31_B64}\n", "the root hash must be 32 bytes"),
        (f"{ORIGIN}\n5\n{ROOT_33_B64}\n", "the root hash must be 32 bytes"),
    ],
)
def test_parse_checkpoint_says_which_line_is_wrong(text: str, message: str) -> None:
    with refused(message):
        parse_checkpoint(text)


def test_the_largest_tree_size_is_2_to_the_64_minus_1() -> None:
    largest = f"{ORIGIN}\n{2**64 - 1}\n{ROOT_B64}\n"
    assert parse_checkpoint(largest) == Checkpoint(ORIGIN, 2**64 - 1, ROOT)
    assert parse_checkpoint(f"{ORIGIN}\n{10**19}\n{ROOT_B64}\n").size == 10**19


def test_a_checkpoint_signed_only_by_another_known_key_is_refused() -> None:
    # A witness key the verifier knows vouches for what it cosigns, not for being the log.
    witness = Verifier(WITNESS, OTHER_KEY.public_key())
    note = sign_note(TEXT, WITNESS, OTHER_KEY)
    with refused(f"checkpoint of {ORIGIN!r} is not signed by that log's key"):
        open_checkpoint(note, [VERIFIER, witness])


def test_open_checkpoint_names_the_origin_it_found_and_the_one_it_wanted() -> None:
    with refused(f"checkpoint origin {ORIGIN!r} is not 'other.example/log'"):
        open_checkpoint(NOTE, [VERIFIER], origin="other.example/log")
    assert open_checkpoint(NOTE, [VERIFIER], origin=None) == Checkpoint(ORIGIN, 42, ROOT)
