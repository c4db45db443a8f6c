"""The public ledger routes over HTTP (Flask test client), checked against the RFC maths."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from flask.testing import FlaskClient, FlaskCliRunner

from voucher_app import create_app
from voucher_app.ledger import merkle, tiles
from voucher_app.ledger.canonical import canonical_entry
from voucher_app.services.demo import ENTRIES
from voucher_app.signing.note import open_checkpoint, parse_vkey


@pytest.fixture
def demo(runner: FlaskCliRunner) -> FlaskCliRunner:
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    return runner


def _b64(text: str) -> bytes:
    return base64.b64decode(text)


def test_checkpoint_and_vkey_are_plain_text_and_verify(
    client: FlaskClient, demo: FlaskCliRunner
) -> None:
    note = client.get("/api/v1/ledger/checkpoint")
    vkey = client.get("/api/v1/ledger/vkey")
    assert note.status_code == 200 and note.mimetype == "text/plain"
    assert vkey.status_code == 200 and vkey.mimetype == "text/plain"
    verifier = parse_vkey(vkey.get_data(as_text=True).splitlines()[0])
    checkpoint = open_checkpoint(note.get_data(as_text=True), [verifier])
    assert checkpoint.size == ENTRIES


def test_entries_reproduce_the_signed_root_and_proofs_verify(
    client: FlaskClient, demo: FlaskCliRunner
) -> None:
    note = client.get("/api/v1/ledger/checkpoint").get_data(as_text=True)
    verifier = parse_vkey(client.get("/api/v1/ledger/vkey").get_data(as_text=True))
    checkpoint = open_checkpoint(note, [verifier])
    page = client.get("/api/v1/ledger/entries?start=0&end=1000").get_json()
    assert page["tree_size"] == checkpoint.size
    assert [e["index"] for e in page["entries"]] == list(range(checkpoint.size))
    leaves = [merkle.leaf_hash(canonical_entry(e["entry"])) for e in page["entries"]]
    assert [_b64(e["leaf_hash"]) for e in page["entries"]] == leaves
    assert merkle.root_of(leaves) == checkpoint.root

    for index in range(checkpoint.size):
        proof = client.get(
            f"/api/v1/ledger/proofs/inclusion?index={index}&tree_size={checkpoint.size}"
        ).get_json()
        merkle.verify_inclusion(
            leaves[index],
            index,
            checkpoint.size,
            [_b64(h) for h in proof["proof"]],
            checkpoint.root,
        )
    consistency = client.get(f"/api/v1/ledger/proofs/consistency?first=5&second={checkpoint.size}")
    merkle.verify_consistency(
        5,
        checkpoint.size,
        [_b64(h) for h in consistency.get_json()["proof"]],
        merkle.root_of(leaves[:5]),
        checkpoint.root,
    )


def test_entries_page_in_slices(client: FlaskClient, demo: FlaskCliRunner) -> None:
    page = client.get("/api/v1/ledger/entries?start=3&end=5").get_json()
    assert [e["index"] for e in page["entries"]] == [3, 4]
    clipped = client.get("/api/v1/ledger/entries?start=10&end=999").get_json()
    assert [e["index"] for e in clipped["entries"]] == list(range(10, ENTRIES))


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        (
            f"/api/v1/ledger/entries?start={ENTRIES}&end={ENTRIES + 4}",
            400,
            "invalid_log_range",
        ),
        ("/api/v1/ledger/entries?start=5&end=5", 400, "invalid_log_range"),
        ("/api/v1/ledger/entries?start=-1&end=5", 422, "validation_failed"),
        ("/api/v1/ledger/entries?start=abc&end=5", 422, "validation_failed"),
        ("/api/v1/ledger/entries", 422, "validation_failed"),
        (
            f"/api/v1/ledger/proofs/inclusion?index={ENTRIES}&tree_size={ENTRIES}",
            400,
            "invalid_log_range",
        ),
        (
            f"/api/v1/ledger/proofs/inclusion?index=0&tree_size={ENTRIES + 1}",
            400,
            "invalid_log_range",
        ),
        ("/api/v1/ledger/proofs/consistency?first=6&second=5", 400, "invalid_log_range"),
        ("/api/v1/ledger/proofs/consistency?first=0&second=5", 422, "validation_failed"),
        ("/api/v1/ledger/no-such-route", 404, "not_found"),
    ],
)
def test_bad_requests_get_problem_details_with_a_stable_code(
    client: FlaskClient, demo: FlaskCliRunner, path: str, status: int, code: str
) -> None:
    response = client.get(path)
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["code"] == code and body["status"] == status
    assert "Traceback" not in response.get_data(as_text=True)


def test_checkpoint_before_any_is_signed_is_a_404_problem(client: FlaskClient) -> None:
    response = client.get("/api/v1/ledger/checkpoint")
    assert response.status_code == 404
    assert response.get_json()["code"] == "no_checkpoint"


def test_health_and_openapi(client: FlaskClient) -> None:
    health = client.get("/healthz")
    spec = client.get("/api/openapi.json").get_json()
    assert health.status_code == 200 and health.get_json() == {"status": "ok", "database": "ok"}
    assert {"/api/v1/ledger/checkpoint", "/api/v1/ledger/entries", "/healthz"} <= set(spec["paths"])


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/ledger/proofs/inclusion?index=0&tree_size=100000000000000000000000",
        "/api/v1/ledger/proofs/consistency?first=1&second=100000000000000000000000",
        "/api/v1/ledger/entries?start=100000000000000000000000&end=100000000000000000000001",
    ],
)
def test_numbers_beyond_64_bits_are_invalid_input_not_a_crash(
    client: FlaskClient, demo: FlaskCliRunner, path: str
) -> None:
    response = client.get(path)
    assert response.status_code == 422
    assert response.get_json()["code"] == "validation_failed"


def test_without_keys_vkey_is_a_404_problem(database_url: str, tmp_path: Path) -> None:
    app = create_app("testing", {"DATABASE_URL": database_url, "KEYS_DIR": str(tmp_path)})
    response = app.test_client().get("/api/v1/ledger/vkey")
    app.extensions["voucher_app"].database.dispose()
    assert response.status_code == 404
    assert response.get_json()["code"] == "no_ledger_key"


def test_a_server_fault_is_reported_without_its_details(database_url: str, tmp_path: Path) -> None:
    (tmp_path / "keyring.json").write_text("{not json")  # a broken key manifest on the server
    app = create_app("testing", {"DATABASE_URL": database_url, "KEYS_DIR": str(tmp_path)})
    response = app.test_client().get("/api/v1/ledger/vkey")
    app.extensions["voucher_app"].database.dispose()
    body = response.get_json()
    assert response.status_code == 500 and body["code"] == "keyring_error"
    assert str(tmp_path) not in response.get_data(as_text=True)


def test_tiles_give_the_signed_root_and_are_cached_forever(
    client: FlaskClient, demo: FlaskCliRunner
) -> None:
    """A client that reads only the checkpoint, the vkey and the tiles (as a tlog-tiles client
    would) reproduces the signed root; tiles are octet-stream and immutable."""
    note = client.get("/api/v1/ledger/checkpoint").get_data(as_text=True)
    verifier = parse_vkey(client.get("/api/v1/ledger/vkey").get_data(as_text=True))
    checkpoint = open_checkpoint(note, [verifier])
    read: dict[tiles.Tile, list[bytes]] = {}
    for tile in tiles.tiles_for(checkpoint.size):
        response = client.get(f"/api/v1/ledger/{tile.path}")
        assert response.status_code == 200, tile.path
        assert response.mimetype == "application/octet-stream"
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        if tile.entries:
            bundle = tiles.unbundle(response.data, tile)
            assert read[tiles.Tile(0, tile.index, tile.width)] == [
                merkle.leaf_hash(entry) for entry in bundle
            ]
        else:
            read[tile] = tiles.hashes(response.data, tile)
    assert tiles.root_from_tiles(checkpoint.size, read.__getitem__) == checkpoint.root
    past = client.get(f"/api/v1/ledger/tile/0/000.p/{checkpoint.size + 1}")
    assert past.status_code == 404
    assert past.get_json()["code"] == "unknown_tile"
    malformed = client.get("/api/v1/ledger/tile/0/0")
    assert malformed.status_code == 404 and malformed.get_json()["code"] == "unknown_tile"
