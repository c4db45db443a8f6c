"""Production refuses to start with unsafe settings; environment variables override settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.harness import START
from voucher_app import create_app
from voucher_app.app import ConfigurationError
from voucher_app.clock import FrozenClock
from voucher_app.signing.keyring import Keyring

SECRET = "s" * 40
DATABASE = "postgresql+psycopg://vouchers@db.invalid/vouchers"


def production(keys: Path, **changes: object) -> dict[str, object]:
    settings: dict[str, object] = {
        "SECRET_KEY": SECRET,
        "PARTY_MATCHING_KEY": "m" * 40,
        "DATABASE_URL": DATABASE,
        "KEY_PASSPHRASE": "passphrase",
        "KEYS_DIR": str(keys),
    }
    settings.update(changes)
    return settings


@pytest.fixture
def keys(tmp_path: Path) -> Path:
    Keyring(tmp_path, "passphrase", allow_plain=False).init(FrozenClock(START))
    return tmp_path


def test_production_starts_with_its_secrets_and_keys(keys: Path) -> None:
    app = create_app("production", production(keys))
    assert app.config["DATABASE_URL"] == DATABASE and not app.testing


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"SECRET_KEY": "development-only-not-secret"}, "VOUCHER_SECRET_KEY"),
        ({"SECRET_KEY": "short"}, "VOUCHER_SECRET_KEY"),
        ({"PARTY_MATCHING_KEY": None}, "VOUCHER_PARTY_MATCHING_KEY"),
        (
            {"PARTY_MATCHING_KEY": "testing-only-party-matching-key-00"},
            "VOUCHER_PARTY_MATCHING_KEY",
        ),
        ({"DATABASE_URL": None}, "VOUCHER_DATABASE_URL"),
        ({"KEY_PASSPHRASE": None}, "VOUCHER_KEY_PASSPHRASE"),
        ({"KEY_PASSPHRASE": "wrong"}, "signing keys in VOUCHER_KEYS_DIR are not usable"),
        ({"ALLOW_PLAIN_KEYS": True}, "VOUCHER_ALLOW_PLAIN_KEYS"),
    ],
    ids=[
        "default secret",
        "short secret",
        "no matching key",
        "default matching key",
        "no database",
        "no passphrase",
        "wrong passphrase",
        "plain keys allowed",
    ],
)
def test_production_refuses_unsafe_settings(
    keys: Path, changes: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        create_app("production", production(keys, **changes))


def test_production_refuses_to_start_without_keys(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="keys init"):
        create_app("production", production(tmp_path / "empty"))


def test_voucher_environment_variables_override_the_class(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("VOUCHER_CHECKPOINT_BURST_ENTRIES", "250")
    monkeypatch.setenv("VOUCHER_LEDGER_ORIGIN", "example.test/ledger")
    app = create_app("testing", {"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}"})
    assert app.config["CHECKPOINT_BURST_ENTRIES"] == 250
    assert app.config["LEDGER_ORIGIN"] == "example.test/ledger"


def test_an_unknown_environment_name_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOUCHER_ENV", "staging")
    with pytest.raises(ConfigurationError, match="unknown VOUCHER_ENV"):
        create_app()


def test_without_voucher_env_the_app_is_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VOUCHER_ENV", raising=False)
    monkeypatch.delenv("VOUCHER_SECRET_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="VOUCHER_SECRET_KEY"):
        create_app()
