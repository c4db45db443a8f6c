"""`voucher-witness` served for a test: its own app and database on a free localhost port."""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from werkzeug.serving import make_server

from tests.harness import Databases
from voucher_app.ledger.witnesses import Answer, Witness, http_post
from voucher_app.persistence.database import Database
from voucher_app.signing.note import Verifier
from voucher_app.witness import state
from voucher_app.witness.app import WitnessSettings, create_witness_app

WITNESS_TIME = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
NAMES = ["czt.gd.example/witness", "audit.gd.example/witness"]


def witness_key(number: int) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes([40 + number]) * 32)


@dataclass
class Served:
    name: str
    url: str
    verifier: Verifier
    database: Database

    @property
    def witness(self) -> Witness:
        return Witness(self.name, self.url, self.verifier)

    def get(self, path: str) -> object:
        with urllib.request.urlopen(self.url + path, timeout=10) as response:
            return json.loads(response.read())

    def post(self, body: bytes) -> Answer:
        return http_post(self.url + "add-checkpoint", body)


@contextmanager
def served_witnesses(
    databases: Databases, log_keys: Sequence[Verifier], count: int = 2
) -> Iterator[list[Served]]:
    """`count` witnesses, each with its own key and database, that know the log's keys."""
    served: list[Served] = []
    stops: list[Callable[[], None]] = []
    try:
        for number in range(count):
            url = databases.empty()
            state.migrate(url)
            settings = WitnessSettings(
                NAMES[number], witness_key(number), url, {log_keys[0].name: list(log_keys)}
            )
            app = create_witness_app(settings, clock=lambda: WITNESS_TIME)
            server = make_server("127.0.0.1", 0, app, threaded=True)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            stops.append(server.shutdown)
            served.append(
                Served(
                    settings.name,
                    f"http://127.0.0.1:{server.server_port}/",
                    settings.verifier,
                    app.extensions["voucher_witness"],
                )
            )
        yield served
    finally:
        for stop in stops:
            stop()
        for witness in served:
            witness.database.dispose()
