"""The key files: encrypted with the passphrase, rotated without losing old keys."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tests.harness import START
from voucher_app.clock import FrozenClock
from voucher_app.domain.errors import InvalidVoucherToken, KeyringError
from voucher_app.domain.voucher_code import new_human_code
from voucher_app.signing.jws import VoucherPayload, sign_voucher, verify_voucher
from voucher_app.signing.keyring import MANIFEST, KeyPurpose, Keyring, KeyStatus, thumbprint

CLOCK = FrozenClock(START)
AT = START + timedelta(days=1)
VOUCHER_PAYLOAD = VoucherPayload(
    human_code=new_human_code(1),
    sme_uscc="91440305MA5DE0001R",
    face_value_fen=500_000,
    exp=int((START + timedelta(days=90)).timestamp()),
)


def test_init_creates_an_encrypted_ledger_and_voucher_key(tmp_path: Path) -> None:
    ring = Keyring(tmp_path, "correct horse battery staple", allow_plain=False)
    created = ring.init(CLOCK)
    assert {r.purpose for r in created} == {KeyPurpose.LEDGER, KeyPurpose.VOUCHER}
    for record in created:
        pem = (tmp_path / record.file).read_bytes()
        assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
        assert (tmp_path / record.file).stat().st_mode & 0o777 == 0o600
    assert ring.init(CLOCK) == []  # nothing to create the second time
    reopened = Keyring(tmp_path, "correct horse battery staple", allow_plain=False)
    reopened.check()
    assert reopened.active(KeyPurpose.LEDGER)[0].kid == created[0].kid


def test_a_wrong_or_missing_passphrase_is_a_clear_error(tmp_path: Path) -> None:
    Keyring(tmp_path, "right", allow_plain=False).init(CLOCK)
    with pytest.raises(KeyringError, match="VOUCHER_KEY_PASSPHRASE"):
        Keyring(tmp_path, "wrong", allow_plain=False).check()
    with pytest.raises(KeyringError, match="VOUCHER_KEY_PASSPHRASE"):
        Keyring(tmp_path, None, allow_plain=True).check()


def test_plain_keys_are_refused_unless_allowed(tmp_path: Path) -> None:
    with pytest.raises(KeyringError, match="encrypted"):
        Keyring(tmp_path, None, allow_plain=False).init(CLOCK)
    Keyring(tmp_path, None, allow_plain=True).init(CLOCK)
    with pytest.raises(KeyringError, match="not encrypted"):
        Keyring(tmp_path, "any", allow_plain=False).check()


def test_rotation_keeps_the_old_key_to_verify_what_it_signed(tmp_path: Path) -> None:
    ring = Keyring(tmp_path, None, allow_plain=True)
    first = {r.purpose: r for r in ring.init(CLOCK)}
    second = ring.create(KeyPurpose.LEDGER, CLOCK)
    records = {r.kid: r for r in ring.records(KeyPurpose.LEDGER)}
    assert records[first[KeyPurpose.LEDGER].kid].status is KeyStatus.RETIRED
    assert records[second.kid].status is KeyStatus.ACTIVE
    assert ring.active(KeyPurpose.LEDGER)[0].kid == second.kid
    assert [r.kid for r, _key in ring.public_keys(KeyPurpose.LEDGER)][-1] == second.kid
    assert ring.active(KeyPurpose.VOUCHER)[0].kid == first[KeyPurpose.VOUCHER].kid
    assert len(json.loads((tmp_path / MANIFEST).read_text())["keys"]) == 3


def test_key_ids_are_rfc_7638_thumbprints(tmp_path: Path) -> None:
    ring = Keyring(tmp_path, None, allow_plain=True)
    record = ring.init(CLOCK)[0]
    public = ring.private_key(record).public_key()
    x = base64.urlsafe_b64encode(public.public_bytes(Encoding.Raw, PublicFormat.Raw))
    member = x.rstrip(b"=").decode()
    canonical = '{"crv":"Ed25519","kty":"OKP","x":"' + member + '"}'
    expected = base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest())
    assert record.kid == thumbprint(public) == expected.rstrip(b"=").decode()


def test_no_keys_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(KeyringError, match="keys init"):
        Keyring(tmp_path, None, allow_plain=True).active(KeyPurpose.LEDGER)


def test_a_manifest_that_names_the_wrong_public_key_stops_start_up(tmp_path: Path) -> None:
    ring = Keyring(tmp_path, None, allow_plain=True)
    ring.init(CLOCK)
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    manifest["keys"][0]["public_key"] = manifest["keys"][1]["public_key"]
    (tmp_path / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(KeyringError, match="wrong public key"):
        Keyring(tmp_path, None, allow_plain=True).check()


def test_public_keys_are_read_without_the_passphrase(tmp_path: Path) -> None:
    Keyring(tmp_path, "secret", allow_plain=False).init(CLOCK)
    without = Keyring(tmp_path, None, allow_plain=False)
    assert len(without.public_keys(KeyPurpose.LEDGER)) == 1


def test_a_destroyed_key_loses_its_file_and_verifies_nothing(tmp_path: Path) -> None:
    ring = Keyring(tmp_path, None, allow_plain=True)
    old = {r.purpose: r for r in ring.init(CLOCK)}[KeyPurpose.VOUCHER]
    token = sign_voucher(VOUCHER_PAYLOAD, old.kid, ring.private_key(old))
    with pytest.raises(KeyringError, match="rotate first"):
        ring.destroy(old.kid)  # the only active key
    new = ring.create(KeyPurpose.VOUCHER, CLOCK)
    destroyed = ring.destroy(old.kid)
    assert destroyed.status is KeyStatus.DESTROYED
    assert not (tmp_path / old.file).exists()
    reopened = Keyring(tmp_path, None, allow_plain=True)
    reopened.check()  # start-up does not look for the deleted file
    public = {r.kid: key for r, key in reopened.public_keys(KeyPurpose.VOUCHER)}
    assert list(public) == [new.kid]
    with pytest.raises(InvalidVoucherToken) as refused:
        verify_voucher(token, public, AT)
    assert refused.value.details["reason"] == "unknown_key"
    with pytest.raises(KeyringError, match="is destroyed"):
        reopened.destroy(old.kid)
    with pytest.raises(KeyringError, match="no key"):
        reopened.destroy("not-a-kid")
