"""C2SP signed notes with Ed25519 signatures, and the tlog-checkpoint text they carry.

A signed note is its text (ending in a newline), a blank line, and one line per signature:

    <text lines>\n
    \n
    — <key name> <base64(4-byte key id ‖ 64-byte signature)>\n

The key id is SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ public key)[:4] and a verifier key is written
`<name>+<hex key id>+<base64(0x01 ‖ public key)>` (c2sp.org/signed-note). A checkpoint's text is
origin, tree size and base64 root hash on three lines (c2sp.org/tlog-checkpoint).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from voucher_app.domain.errors import LedgerFault

ED25519 = 0x01
COSIGNATURE = 0x04  # c2sp.org/tlog-cosignature: timestamped Ed25519 cosignatures
SIGNATURE_PREFIX = "\u2014 "  # em dash and a space
_NAME = re.compile(r"[^\s+]+")
_SIZE = re.compile(r"0|[1-9][0-9]{0,19}")


class NoteError(LedgerFault):
    """A note, checkpoint or verifier key that is malformed or does not verify."""

    code = "note_error"


def public_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(name: str, public_key: Ed25519PublicKey, kind: int = ED25519) -> bytes:
    """SHA-256(name ‖ 0x0A ‖ signature type ‖ public key)[:4]: 0x01 for a note signature,
    0x04 for a witness's timestamped cosignature."""
    return hashlib.sha256(
        name.encode() + b"\n" + bytes([kind]) + public_bytes(public_key)
    ).digest()[:4]


@dataclass(frozen=True)
class Verifier:
    """A public key under its note name: what `--vkey` and `/ledger/vkey` carry."""

    name: str
    public_key: Ed25519PublicKey
    kind: int = ED25519  # the signature type: COSIGNATURE for a witness's key

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.public_key, self.kind)

    @property
    def vkey(self) -> str:
        encoded = base64.b64encode(bytes([self.kind]) + public_bytes(self.public_key)).decode()
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    def verifies(self, text: bytes, signature: bytes) -> bool:
        try:
            self.public_key.verify(signature, text)
        except InvalidSignature:
            return False
        return True


def parse_vkey(vkey: str, kind: int = ED25519) -> Verifier:
    """A verifier key `<name>+<hex key id>+<base64(type ‖ public key)>` of signature type `kind`
    (Ed25519: 0x01 for a log's key, 0x04 for a witness's cosigning key)."""
    parts = vkey.strip().split("+", 2)  # the base64 key itself may contain "+"
    if len(parts) != 3 or not _NAME.fullmatch(parts[0]):
        raise NoteError(f"malformed verifier key {vkey!r}")
    name, hex_id, encoded = parts
    try:
        raw = base64.b64decode(encoded, validate=True)
        claimed_id = bytes.fromhex(hex_id)
    except (binascii.Error, ValueError) as exc:
        raise NoteError(f"malformed verifier key {vkey!r}") from exc
    if len(raw) != 33 or raw[0] != kind:
        raise NoteError(f"{name} is not an Ed25519 key of signature type {kind:#04x}")
    verifier = Verifier(name, Ed25519PublicKey.from_public_bytes(raw[1:]), kind)
    if verifier.key_id != claimed_id:
        raise NoteError(f"verifier key {name} has the wrong key id")
    return verifier


def sign_note(text: str, name: str, private_key: Ed25519PrivateKey) -> str:
    """Sign `text` (which must end in a newline) as key `name`."""
    if not text.endswith("\n") or "\n\n" in text:
        raise NoteError("note text must end in a newline and contain no blank line")
    if not _NAME.fullmatch(name):
        raise NoteError(f"bad key name {name!r}")
    signature = private_key.sign(text.encode())
    return f"{text}\n" + signature_line(name, key_id(name, private_key.public_key()) + signature)


def split_note(note: str) -> tuple[str, list[tuple[str, bytes]]]:
    """A note's text (with its final newline) and its signatures as (key name, raw bytes: the
    4-byte key id and the signature). `NoteError` when the note is malformed."""
    text, sep, signature_block = note.rpartition("\n\n")
    if not sep or not signature_block.endswith("\n"):
        raise NoteError("a signed note is text, a blank line and signature lines")
    signatures: list[tuple[str, bytes]] = []
    for line in signature_block[:-1].split("\n"):
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteError(f"malformed signature line {line!r}")
        name, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except binascii.Error as exc:
            raise NoteError(f"malformed signature by {name}") from exc
        if not _NAME.fullmatch(name) or len(raw) < 5:
            raise NoteError(f"malformed signature line {line!r}")
        signatures.append((name, raw))
    return text + "\n", signatures


def signature_line(name: str, raw: bytes) -> str:
    """A note's signature line: `— <name> <base64(key id ‖ signature)>` and a newline."""
    return f"{SIGNATURE_PREFIX}{name} {base64.b64encode(raw).decode()}\n"


def open_note(note: str, verifiers: Iterable[Verifier]) -> tuple[str, list[str]]:
    """Return the note's text and the names of the known keys that signed it.

    Raises `NoteError` when the note is malformed, when a signature by a known key is invalid, or
    when no known key signed it. Signatures by unknown keys are ignored, as the format asks.
    """
    text, signatures = split_note(note)
    known = {(v.name, v.key_id): v for v in verifiers}
    signers: list[str] = []
    for name, raw in signatures:
        verifier = known.get((name, raw[:4]))
        if verifier is None:
            continue
        if not verifier.verifies(text.encode(), raw[4:]):
            raise NoteError(f"invalid signature by {name}")
        signers.append(name)
    if not signers:
        raise NoteError("the note carries no signature by a known key")
    return text, signers


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes

    def text(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"


def parse_checkpoint(text: str) -> Checkpoint:
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "" or any(not line for line in lines[:-1]):
        raise NoteError("a checkpoint is origin, size and root hash on their own lines")
    origin, size_text, root_text = lines[:3]
    if not _SIZE.fullmatch(size_text) or int(size_text) >= 2**64:
        raise NoteError(f"malformed tree size {size_text!r}")
    try:
        root = base64.b64decode(root_text, validate=True)
    except binascii.Error as exc:
        raise NoteError("malformed root hash") from exc
    if len(root) != 32:
        raise NoteError("the root hash must be 32 bytes")
    return Checkpoint(origin, int(size_text), root)


def open_checkpoint(
    note: str, verifiers: Iterable[Verifier], origin: str | None = None
) -> Checkpoint:
    """Verify a signed checkpoint note and parse it; `origin`, when given, must match.

    The checkpoint must be signed by a key named after its origin: a key of one log never
    vouches for another log's checkpoints.
    """
    text, signers = open_note(note, verifiers)
    checkpoint = parse_checkpoint(text)
    if checkpoint.origin not in signers:
        raise NoteError(f"checkpoint of {checkpoint.origin!r} is not signed by that log's key")
    if origin is not None and checkpoint.origin != origin:
        raise NoteError(f"checkpoint origin {checkpoint.origin!r} is not {origin!r}")
    return checkpoint
