"""The key folder's files and their failures (`voucher_app.signing.keyring`).

What an operator relies on: `keyring.json` records when each key was made and is readable
(two-space indented, one final newline); a broken manifest, a missing or foreign key file, a
missing active key and a missing passphrase are each named with the file and what to do; keys
are created in a folder that does not exist yet; a destroyed key is gone from memory too, and
destroying one whose file already went is not an error; a loaded key is kept, so the file is
read once.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from tests.harness import START
from voucher_app.clock import FrozenClock
from voucher_app.domain.errors import KeyringError
from voucher_app.signing.keyring import MANIFEST, KeyPurpose, Keyring, KeyStatus

CLOCK = FrozenClock(START)
PASSPHRASE = "correct horse battery staple"


def ring(directory: Path, passphrase: str | None = PASSPHRASE, *, plain: bool = False) -> Keyring:
    return Keyring(directory, passphrase, allow_plain=plain)


def test_a_new_key_records_its_creation_time_to_the_second(tmp_path: Path) -> None:
    record = ring(tmp_path).create(KeyPurpose.VOUCHER, CLOCK)
    assert record.created_at == START.isoformat(timespec="seconds")
    assert ring(tmp_path).records() == [record]


def test_the_manifest_is_two_space_indented_json_ending_in_a_newline(tmp_path: Path) -> None:
    ring(tmp_path).create(KeyPurpose.LEDGER, CLOCK)
    text = (tmp_path / MANIFEST).read_text()
    assert text == json.dumps(json.loads(text), indent=2) + "\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [MANIFEST, ring(tmp_path).records()[0].file]
    )


def test_keys_are_created_in_a_folder_that_does_not_exist_yet(tmp_path: Path) -> None:
    folder = tmp_path / "etc" / "voucher" / "keys"
    assert ring(folder).init(CLOCK)
    assert ring(folder).has_keys()
    assert not ring(tmp_path / "empty").has_keys()


def test_a_manifest_that_is_not_json_names_the_file(tmp_path: Path) -> None:
    (tmp_path / MANIFEST).write_text("{not json")
    with pytest.raises(KeyringError) as caught:
        ring(tmp_path).records()
    assert caught.value.message.startswith(f"{tmp_path / MANIFEST} is not a valid key manifest: ")


def test_creating_a_key_without_a_passphrase_says_which_setting_is_missing(
    tmp_path: Path,
) -> None:
    with pytest.raises(KeyringError) as caught:
        ring(tmp_path, None).create(KeyPurpose.VOUCHER, CLOCK)
    assert caught.value.message == "set VOUCHER_KEY_PASSPHRASE: keys must be encrypted here"


def test_check_needs_an_active_key_of_each_purpose(tmp_path: Path) -> None:
    keys = ring(tmp_path)
    keys.create(KeyPurpose.LEDGER, CLOCK)
    with pytest.raises(KeyringError) as caught:
        keys.check()
    assert caught.value.message == (
        f"no active voucher key in {tmp_path}; run `flask --app wsgi keys init`"
    )
    keys.create(KeyPurpose.VOUCHER, CLOCK)
    keys.check()


def test_a_missing_key_file_is_named(tmp_path: Path) -> None:
    record = ring(tmp_path).create(KeyPurpose.VOUCHER, CLOCK)
    (tmp_path / record.file).unlink()
    with pytest.raises(KeyringError) as caught:
        ring(tmp_path).private_key(record)
    assert caught.value.message == (
        f"cannot read key file {tmp_path / record.file}: No such file or directory"
    )


def test_a_key_file_that_is_not_ed25519_is_named(tmp_path: Path) -> None:
    record = ring(tmp_path, None, plain=True).create(KeyPurpose.VOUCHER, CLOCK)
    other = ec.generate_private_key(ec.SECP256R1())
    pem = other.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    (tmp_path / record.file).write_bytes(pem)
    with pytest.raises(KeyringError) as caught:
        ring(tmp_path, None, plain=True).private_key(record)
    assert caught.value.message == f"{tmp_path / record.file} is not an Ed25519 key"


def test_a_plain_key_opens_where_plain_keys_are_allowed_even_with_a_passphrase_set(
    tmp_path: Path,
) -> None:
    record = ring(tmp_path, None, plain=True).create(KeyPurpose.VOUCHER, CLOCK)
    assert ring(tmp_path, PASSPHRASE, plain=True).private_key(record) is not None


def test_a_key_is_read_from_its_file_once_and_then_kept(tmp_path: Path) -> None:
    created = ring(tmp_path)
    record = created.create(KeyPurpose.VOUCHER, CLOCK)
    loaded = ring(tmp_path)
    first = loaded.private_key(record)
    (tmp_path / record.file).unlink()
    assert loaded.private_key(record) is first
    assert created.active(KeyPurpose.VOUCHER)[1] is created.private_key(record)


def test_destroying_a_key_forgets_it_and_tolerates_a_file_already_gone(tmp_path: Path) -> None:
    keys = ring(tmp_path)
    old = keys.create(KeyPurpose.VOUCHER, CLOCK)
    keys.private_key(old)
    keys.create(KeyPurpose.VOUCHER, CLOCK)
    assert keys.destroy(old.kid).status is KeyStatus.DESTROYED
    with pytest.raises(KeyringError, match="cannot read key file"):
        keys.private_key(old)

    fresh = ring(tmp_path)  # has loaded nothing; and the retired key's file is already gone
    other = fresh.create(KeyPurpose.LEDGER, CLOCK)
    fresh.create(KeyPurpose.LEDGER, CLOCK)
    (tmp_path / other.file).unlink()
    assert ring(tmp_path).destroy(other.kid).status is KeyStatus.DESTROYED


def test_only_the_pem_first_line_says_whether_a_key_file_is_encrypted(tmp_path: Path) -> None:
    # RFC 5958/7468: an encrypted PKCS #8 key begins "-----BEGIN ENCRYPTED PRIVATE KEY-----";
    # the word anywhere else (here in a note after the key) does not make a plain key encrypted.
    record = ring(tmp_path, None, plain=True).create(KeyPurpose.VOUCHER, CLOCK)
    path = tmp_path / record.file
    path.write_bytes(path.read_bytes() + b"note: this key is not ENCRYPTED\n")
    with pytest.raises(KeyringError) as caught:
        ring(tmp_path, PASSPHRASE).private_key(record)
    assert caught.value.message == (
        f"{path} is not encrypted; this configuration needs encrypted keys"
    )
