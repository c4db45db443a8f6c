"""The Ed25519 keys in `keys/`: one set for vouchers, one for ledger checkpoints.

The folder holds a PEM file per private key (PKCS #8, encrypted with the passphrase unless the
configuration allows plain development keys) and `keyring.json`, which lists each key's purpose,
id, file, status, creation time and public key — so publishing and verifying never decrypt a
private key. Rotation adds a new active key and retires the old one;
retired keys stay to verify what they signed. A retired key that leaked is destroyed: its file
is deleted and nothing it signed verifies any more (its record stays, so its id is not reused
silently). A key's id (`kid`) is its RFC 7638 JWK thumbprint.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import os
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
)

from voucher_app.clock import Clock
from voucher_app.domain.errors import KeyringError

MANIFEST = "keyring.json"


class KeyPurpose(StrEnum):
    LEDGER = "ledger"
    VOUCHER = "voucher"


class KeyStatus(StrEnum):
    ACTIVE = "active"
    RETIRED = "retired"
    DESTROYED = "destroyed"


@dataclass(frozen=True)
class KeyRecord:
    purpose: KeyPurpose
    kid: str
    file: str
    status: KeyStatus
    created_at: str
    public_key: str  # base64 of the raw 32-byte Ed25519 public key

    def verifying_key(self) -> Ed25519PublicKey:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(self.public_key))


def _raw(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def thumbprint(public_key: Ed25519PublicKey) -> str:
    """RFC 7638 JWK thumbprint of an Ed25519 public key, base64url without padding."""
    x = base64.urlsafe_b64encode(_raw(public_key)).rstrip(b"=").decode()
    canonical = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class Keyring:
    def __init__(self, directory: Path, passphrase: str | None, *, allow_plain: bool) -> None:
        self.directory = directory
        self._passphrase = passphrase.encode() if passphrase else None
        self._allow_plain = allow_plain
        self._private: dict[str, Ed25519PrivateKey] = {}

    # --- reading -----------------------------------------------------------------------------

    def records(self, purpose: KeyPurpose | None = None) -> list[KeyRecord]:
        path = self.directory / MANIFEST
        if not path.exists():
            return []
        try:
            raw = json.loads(path.read_text())
            records = [
                KeyRecord(
                    KeyPurpose(r["purpose"]),
                    r["kid"],
                    r["file"],
                    KeyStatus(r["status"]),
                    r["created_at"],
                    r["public_key"],
                )
                for r in raw["keys"]
            ]
        except (ValueError, KeyError, TypeError) as exc:
            raise KeyringError(f"{path} is not a valid key manifest: {exc}") from exc
        return [r for r in records if purpose is None or r.purpose is purpose]

    def has_keys(self) -> bool:
        return bool(self.records())

    def private_key(self, record: KeyRecord) -> Ed25519PrivateKey:
        key = self._private.get(record.kid)
        if key is None:
            key = self._load(record)
            self._private[record.kid] = key
        return key

    def active(self, purpose: KeyPurpose) -> tuple[KeyRecord, Ed25519PrivateKey]:
        active = [r for r in self.records(purpose) if r.status is KeyStatus.ACTIVE]
        if not active:
            raise KeyringError(
                f"no active {purpose} key in {self.directory}; run `flask --app wsgi keys init`"
            )
        return active[-1], self.private_key(active[-1])

    def public_keys(self, purpose: KeyPurpose) -> list[tuple[KeyRecord, Ed25519PublicKey]]:
        """Every key of `purpose` but destroyed ones, active last, so verifiers accept what
        retired keys signed."""
        records = sorted(self._usable(purpose), key=lambda r: r.status is KeyStatus.ACTIVE)
        return [(r, r.verifying_key()) for r in records]

    def _usable(self, purpose: KeyPurpose | None = None) -> list[KeyRecord]:
        return [r for r in self.records(purpose) if r.status is not KeyStatus.DESTROYED]

    def check(self) -> None:
        """Load every key now, so a wrong passphrase, a missing file or a manifest whose public
        key is not the private key's stops start-up."""
        for purpose in KeyPurpose:
            self.active(purpose)
        for record in self._usable():
            if _raw(self.private_key(record).public_key()) != _raw(record.verifying_key()):
                raise KeyringError(f"{MANIFEST} lists the wrong public key for {record.file}")

    def _load(self, record: KeyRecord) -> Ed25519PrivateKey:
        path = self.directory / record.file
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise KeyringError(f"cannot read key file {path}: {exc.strerror}") from exc
        encrypted = b"ENCRYPTED" in data.split(b"\n", 1)[0]
        if not encrypted and not self._allow_plain:
            raise KeyringError(f"{path} is not encrypted; this configuration needs encrypted keys")
        try:
            key = load_pem_private_key(data, self._passphrase if encrypted else None)
        except (ValueError, TypeError) as exc:
            raise KeyringError(
                f"cannot open {path}: wrong or missing VOUCHER_KEY_PASSPHRASE"
            ) from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyringError(f"{path} is not an Ed25519 key")
        return key

    # --- writing -----------------------------------------------------------------------------

    def create(self, purpose: KeyPurpose, clock: Clock) -> KeyRecord:
        """Add a new active key of `purpose`; the previous active key becomes retired."""
        if self._passphrase is None and not self._allow_plain:
            raise KeyringError("set VOUCHER_KEY_PASSPHRASE: keys must be encrypted here")
        self.directory.mkdir(parents=True, exist_ok=True)
        key = Ed25519PrivateKey.generate()
        kid = thumbprint(key.public_key())
        encryption = (
            BestAvailableEncryption(self._passphrase) if self._passphrase else NoEncryption()
        )
        pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, encryption)
        filename = f"{purpose}-{kid}.pem"
        _write_private(self.directory / filename, pem)
        record = KeyRecord(
            purpose,
            kid,
            filename,
            KeyStatus.ACTIVE,
            clock.now().isoformat(timespec="seconds"),
            base64.b64encode(_raw(key.public_key())).decode(),
        )
        records = [
            dataclasses.replace(r, status=KeyStatus.RETIRED) if r.purpose is purpose else r
            for r in self.records()
        ]
        self._write_manifest([*records, record])
        self._private[kid] = key
        return record

    def destroy(self, kid: str) -> KeyRecord:
        """Delete a retired key's private file and stop trusting what it signed."""
        records = self.records()
        record = next((r for r in records if r.kid == kid), None)
        if record is None:
            raise KeyringError(f"no key {kid} in {self.directory}")
        if record.status is not KeyStatus.RETIRED:
            raise KeyringError(
                f"key {kid} is {record.status}; rotate first, then destroy the retired key"
            )
        destroyed = dataclasses.replace(record, status=KeyStatus.DESTROYED)
        self._write_manifest([destroyed if r.kid == kid else r for r in records])
        (self.directory / record.file).unlink(missing_ok=True)
        self._private.pop(kid, None)
        return destroyed

    def init(self, clock: Clock) -> list[KeyRecord]:
        """Create a ledger and a voucher key, each unless one exists already."""
        have = {r.purpose for r in self.records()}
        return [self.create(purpose, clock) for purpose in KeyPurpose if purpose not in have]

    def _write_manifest(self, records: list[KeyRecord]) -> None:
        body = {"keys": [{k: str(v) for k, v in asdict(r).items()} for r in records]}
        path = self.directory / MANIFEST
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(body, indent=2) + "\n")
        temporary.replace(path)


def _write_private(path: Path, data: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
