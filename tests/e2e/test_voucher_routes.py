"""The public voucher routes over HTTP, and the voucher commands, on the demo data."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient, FlaskCliRunner
from joserfc import jws as joserfc_jws
from joserfc.jwk import KeySet

from voucher_app import create_app
from voucher_app.services import demo
from voucher_app.signing.jws import is_current


@pytest.fixture
def demo_vouchers(runner: FlaskCliRunner) -> list[dict[str, object]]:
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    listed = runner.invoke(args=["vouchers", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    issued: list[dict[str, object]] = json.loads(listed.output)
    return issued


def test_a_demo_voucher_verifies_offline_with_an_independent_library_and_the_jwks(
    client: FlaskClient, demo_vouchers: list[dict[str, object]]
) -> None:
    document = client.get("/.well-known/jwks.json")
    assert document.status_code == 200
    key_set = KeySet.import_key_set(document.get_json())
    token = str(demo_vouchers[0]["token"])
    verified = joserfc_jws.deserialize_compact(token, key_set, algorithms=["Ed25519"])
    assert verified.protected == {"alg": "Ed25519", "kid": key_set.keys[0].kid}
    payload = json.loads(verified.payload)
    assert payload["c"] == demo_vouchers[0]["code"] and payload["v"] == 500_000


def test_verify_reports_the_signature_and_the_ledgers_standing(
    client: FlaskClient, demo_vouchers: list[dict[str, object]]
) -> None:
    token = str(demo_vouchers[2]["token"])
    good = client.post("/api/v1/vouchers/verify", json={"token": token}).get_json()
    tampered = client.post("/api/v1/vouchers/verify", json={"token": token[:-3] + "AAA"})
    assert good["valid"] and good["reason"] is None
    assert good["voucher"]["status"] == "active"
    assert good["voucher"]["remaining_fen"] == good["voucher"]["face_value_fen"] == 500_000
    assert good["voucher"]["sme_uscc"] == demo.VOUCHER_HOLDERS[2]
    assert tampered.status_code == 200
    assert tampered.get_json() == {"valid": False, "reason": "bad_signature", "voucher": None}


@pytest.mark.parametrize(
    ("body", "status"),
    [({}, 422), ({"token": ""}, 422), ({"token": "x" * 5000}, 422), ({"token": 7}, 422)],
)
def test_verify_refuses_a_request_without_a_token(
    client: FlaskClient, body: dict[str, object], status: int
) -> None:
    response = client.post("/api/v1/vouchers/verify", json=body)
    assert response.status_code == status
    assert response.get_json()["code"] == "validation_failed"


def test_voucher_commands_verify_revoke_and_draw_qr_codes(
    runner: FlaskCliRunner, demo_vouchers: list[dict[str, object]], tmp_path: Path
) -> None:
    first = demo_vouchers[0]
    verified = runner.invoke(args=["vouchers", "verify", str(first["token"])])
    refused = runner.invoke(args=["vouchers", "verify", "not.a.token"])
    qr = runner.invoke(args=["vouchers", "qr", str(first["id"]), "--out", str(tmp_path / "q.svg")])
    revoked = runner.invoke(args=["vouchers", "revoke", str(first["id"]), "--reason", "demo"])
    after = runner.invoke(args=["vouchers", "verify", str(first["token"])])
    assert verified.exit_code == 0 and json.loads(verified.output)["valid"] is True
    assert refused.exit_code == 1 and json.loads(refused.output)["reason"] == "malformed"
    assert qr.exit_code == 0 and (tmp_path / "q.svg").read_text().lstrip().startswith("<svg")
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    assert json.loads(after.output)["voucher"]["status"] == "revoked"


def test_bulk_issuance_from_the_command_line(
    runner: FlaskCliRunner, demo_vouchers: list[dict[str, object]], tmp_path: Path
) -> None:
    listing = tmp_path / "list.csv"
    medium = demo.SMES[3].uscc
    listing.write_text(f"uscc\n{demo.SMES[2].uscc}\n{medium}\n", encoding="utf-8")
    programme = str(demo_vouchers[0]["programme"])
    dry = runner.invoke(
        args=["vouchers", "issue-bulk", str(listing), "--programme", programme, "--dry-run"]
    )
    real = runner.invoke(args=["vouchers", "issue-bulk", str(listing), "--programme", programme])
    again = runner.invoke(args=["vouchers", "issue-bulk", str(listing), "--programme", programme])
    assert "would_issue" in dry.output and "not_eligible_size" in dry.output
    assert dry.output.strip().endswith("would issue 1, already issued 0, refused 1")
    assert real.output.strip().endswith("issued 1, already issued 0, refused 1")
    assert again.output.strip().endswith("issued 0, already issued 1, refused 1")
    listed = json.loads(runner.invoke(args=["vouchers", "list", "--json"]).output)
    assert len(listed) == len(demo_vouchers) + 1


@pytest.fixture
def own_keys_runner(database_url: str, tmp_path: Path) -> Iterator[FlaskCliRunner]:
    """An app with a key folder of its own, for tests that rotate and destroy keys."""
    app = create_app("testing", {"DATABASE_URL": database_url, "KEYS_DIR": str(tmp_path)})
    runner = app.test_cli_runner()
    assert runner.invoke(args=["keys", "init"]).exit_code == 0
    yield runner
    app.extensions["voucher_app"].database.dispose()


def test_rotated_keys_still_verify_until_destroyed(own_keys_runner: FlaskCliRunner) -> None:
    runner = own_keys_runner
    client = runner.app.test_client()
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    token = json.loads(runner.invoke(args=["vouchers", "list", "--json"]).output)[0]["token"]
    old_kid = client.get("/.well-known/jwks.json").get_json()["keys"][0]["kid"]

    def verify() -> dict[str, object]:
        answer: dict[str, object] = client.post(
            "/api/v1/vouchers/verify", json={"token": token}
        ).get_json()
        return answer

    assert runner.invoke(args=["keys", "rotate", "voucher"]).exit_code == 0
    assert len(client.get("/.well-known/jwks.json").get_json()["keys"]) == 2
    assert verify()["valid"] is True
    refused = runner.invoke(args=["keys", "destroy", "--kid", old_kid], input="n\n")
    assert refused.exit_code == 1 and verify()["valid"] is True  # not confirmed: kept
    destroyed = runner.invoke(args=["keys", "destroy", "--yes", "--kid", old_kid])
    assert destroyed.exit_code == 0, destroyed.output
    assert old_kid not in {
        k["kid"] for k in client.get("/.well-known/jwks.json").get_json()["keys"]
    }
    assert verify() == {"valid": False, "reason": "unknown_key", "voucher": None}


def test_a_key_id_beginning_with_a_dash_is_read_as_the_key_id(
    own_keys_runner: FlaskCliRunner,
) -> None:
    """A base64url key id may begin with "-": `--kid` takes it as its value, not as an option
    (exit 2), and the keyring answers that no such key exists."""
    refused = own_keys_runner.invoke(args=["keys", "destroy", "--yes", "--kid", "-no-such-kid"])
    assert refused.exit_code == 1, refused.output
    assert "-no-such-kid" in refused.output


def test_the_demos_tokens_are_of_todays_contract_and_resign_tokens_finds_none_to_sign(
    runner: FlaskCliRunner, demo_vouchers: list[dict[str, object]]
) -> None:
    assert all(is_current(str(voucher["token"])) for voucher in demo_vouchers)
    signed = runner.invoke(args=["vouchers", "resign-tokens"])
    assert signed.exit_code == 0, signed.output
    assert signed.output.strip() == "0 voucher tokens signed again"
