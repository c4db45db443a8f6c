"""Witness cosignatures on checkpoints (c2sp.org/tlog-cosignature, Ed25519 `cosignature/v1`).

A witness cosigns a checkpoint once it has checked that the checkpoint extends everything it
saw of that log before. Its signature line is an ordinary signed-note line whose key id is of
signature type 0x04 and whose bytes are a timestamp and a signature:

    — <witness name> base64(key id ‖ u64 big-endian POSIX time ‖ Ed25519 signature)

The signature covers `cosignature/v1\\n`, `time <t>\\n`, then the checkpoint's text. A client that
trusts a set of witnesses counts the valid cosignatures by them (`cosigned_by`) and demands a
quorum: with one, the log cannot show a checkpoint to one reader and another to the next.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from voucher_app.signing.note import (
    COSIGNATURE,
    NoteError,
    Verifier,
    key_id,
    signature_line,
    split_note,
)

HEADER = "cosignature/v1"
MAX_TIME = 2**63 - 1
_LENGTH = 4 + 8 + 64  # key id, timestamp, signature


@dataclass(frozen=True)
class Cosignature:
    """A valid cosignature: which witness, when (POSIX seconds), and its signature line."""

    witness: str
    timestamp: int
    line: str


def message(text: str, timestamp: int) -> bytes:
    """What a witness signs: the header line, the time line and the checkpoint's text."""
    return f"{HEADER}\ntime {timestamp}\n{text}".encode()


def cosign(text: str, name: str, private_key: Ed25519PrivateKey, timestamp: int) -> str:
    """The cosignature line of witness `name` on a checkpoint's `text` at `timestamp`."""
    if not 0 <= timestamp <= MAX_TIME:
        raise NoteError(f"a cosignature's time is 0 to 2**63 - 1, not {timestamp}")
    signature = private_key.sign(message(text, timestamp))
    kid = key_id(name, private_key.public_key(), COSIGNATURE)
    return signature_line(name, kid + timestamp.to_bytes(8, "big") + signature)


def cosigned_by(note: str, witnesses: Iterable[Verifier]) -> list[Cosignature]:
    """The valid cosignatures in a signed note by the given witnesses (keys of type 0x04), one
    per witness, in the note's order.

    Lines by other keys are ignored, as signed-note asks; a line that names a known witness
    (name and key id) but does not verify over this note's text is refused (`NoteError`): it
    is a cosignature of another checkpoint, or a forgery.
    """
    text, signatures = split_note(note)
    known = {(w.name, w.key_id): w for w in witnesses if w.kind == COSIGNATURE}
    found: dict[str, Cosignature] = {}
    for name, raw in signatures:
        witness = known.get((name, raw[:4]))
        if witness is None:
            continue
        timestamp = int.from_bytes(raw[4:12], "big")
        if (
            len(raw) != _LENGTH
            or timestamp > MAX_TIME
            or not witness.verifies(message(text, timestamp), raw[12:])
        ):
            raise NoteError(f"invalid cosignature by {name}")
        found.setdefault(name, Cosignature(name, timestamp, signature_line(name, raw)))
    return list(found.values())


def with_cosignatures(note: str, lines: Sequence[str]) -> str:
    """The signed note with these signature lines added (each once) after its own."""
    present = set(note.splitlines(keepends=True))
    return note + "".join(line for line in dict.fromkeys(lines) if line not in present)
