"""The witness's HTTP service: `POST /add-checkpoint` (c2sp.org/tlog-witness) and what it holds.

    POST /add-checkpoint   200 the cosignature line; 400/403/404/409/422 text, as the spec says
                           (409 on the old size: `text/x.tlog.size`, the size it holds)
    GET  /                 JSON: its name and vkey, and the head it holds per log
    GET  /evidence         JSON: every conflicting pair it kept (the head it held, the
                           checkpoint offered against it, the proof that came with it)
    GET  /healthz          alive

A separate WSGI application with its own settings file (`VOUCHER_WITNESS_CONFIG`), key and
database: `gunicorn 'voucher_app.witness.app:create_witness_app()'`.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from flask import Flask, Response, jsonify, request

from voucher_app.domain.errors import VoucherError
from voucher_app.persistence.database import Database
from voucher_app.signing.cosignature import cosign
from voucher_app.signing.note import COSIGNATURE, NoteError, Verifier, parse_vkey, split_note
from voucher_app.witness import state
from voucher_app.witness.protocol import SIZE_CONTENT_TYPE, Refused, parse_request

CONFIG_ENV = "VOUCHER_WITNESS_CONFIG"
PASSPHRASE_ENV = "VOUCHER_WITNESS_KEY_PASSPHRASE"  # noqa: S105 - the variable's name
MAX_REQUEST = 64 * 1024  # a checkpoint, 63 proof lines and a few dozen signatures fit easily


class WitnessConfigError(VoucherError):
    """The witness's settings file cannot be used; the message says what to fix."""

    code = "witness_config_error"


@dataclass(frozen=True)
class WitnessSettings:
    name: str
    private_key: Ed25519PrivateKey
    database_url: str
    logs: dict[str, list[Verifier]]  # origin → the log's keys

    @property
    def verifier(self) -> Verifier:
        return Verifier(self.name, self.private_key.public_key(), COSIGNATURE)


def read_settings(path: Path) -> WitnessSettings:
    """Settings from a TOML file: `name`, `key` (a PEM file, relative to the settings file),
    `database_url`, and one `[[log]]` table per log with its `origin` and `vkey`."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        folder = path.parent
        key_path = folder / data["key"]
        passphrase = os.environ.get(PASSPHRASE_ENV)
        key = load_pem_private_key(
            key_path.read_bytes(), passphrase.encode() if passphrase else None
        )
        if not isinstance(key, Ed25519PrivateKey):
            raise WitnessConfigError(f"{key_path} is not an Ed25519 key")
        logs: dict[str, list[Verifier]] = {}
        for log in data.get("log", []):
            logs.setdefault(log["origin"], []).append(parse_vkey(log["vkey"]))
        url = str(data["database_url"]).replace("{here}", str(folder))
        return WitnessSettings(str(data["name"]), key, url, logs)
    except (OSError, KeyError, TypeError, ValueError, NoteError) as exc:
        if isinstance(exc, WitnessConfigError):
            raise
        raise WitnessConfigError(f"{path}: {exc!r}") from exc


def create_witness_app(
    settings: WitnessSettings | None = None, clock: Callable[[], datetime] | None = None
) -> Flask:
    """The witness's WSGI app; without `settings`, read from the file `VOUCHER_WITNESS_CONFIG`."""
    if settings is None:
        where = os.environ.get(CONFIG_ENV)
        if not where:
            raise WitnessConfigError(f"set {CONFIG_ENV} to the witness's settings file")
        settings = read_settings(Path(where))
    now = clock or (lambda: datetime.now(UTC))
    database = Database(settings.database_url, pool_size=4)
    app = Flask("voucher_witness")
    app.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST
    app.extensions["voucher_witness"] = database

    @app.post("/add-checkpoint")
    def add_checkpoint() -> Response:
        try:
            parsed = parse_request(request.get_data())
            _, when = state.add_checkpoint(database, parsed, settings.logs, now())
        except Refused as refused:
            if refused.size is not None:  # exactly this type, no charset (tlog-witness)
                size = f"{refused.size}\n"
                return Response(size, refused.status, content_type=SIZE_CONTENT_TYPE)
            return Response(refused.message + "\n", refused.status, mimetype="text/plain")
        text = split_note(parsed.note)[0]
        line = cosign(text, settings.name, settings.private_key, int(when.timestamp()))
        return Response(line, 200, mimetype="text/plain")

    @app.get("/")
    def holdings() -> Response:
        return jsonify(
            {
                "name": settings.name,
                "vkey": settings.verifier.vkey,
                "logs": [
                    {
                        "origin": origin,
                        "tree_size": head.size,
                        "checkpoint": head.note,
                        "updated_at": updated.isoformat(),
                    }
                    for origin, head, updated in state.all_heads(database)
                ],
            }
        )

    @app.get("/evidence")
    def evidence() -> Response:
        return jsonify([_kept(pair) for pair in state.kept(database, request.args.get("origin"))])

    @app.get("/healthz")
    def healthz() -> Response:
        return jsonify({"status": "ok"})

    return app


def _kept(pair: state.Kept) -> dict[str, Any]:
    return {
        "origin": pair.origin,
        "kind": pair.kind,
        "held": pair.held_note,
        "offered": pair.offered_note,
        "proof": pair.proof,
        "received_at": pair.received_at.isoformat(),
    }
