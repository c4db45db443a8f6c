"""Fixtures shared by every test layer: databases (SQLite and PostgreSQL), keys, app, clients.

Integration tests that ask for `database_url` (or anything built on it) run once per backend.
The real migrations run once per backend into a template; each test gets a fresh copy of it
(a file copy on SQLite, `CREATE DATABASE … TEMPLATE` on PostgreSQL), so tests commit for real
and still start from the same state.

PostgreSQL runs when VOUCHER_TEST_POSTGRES_URL is set (`.ci/run` sets it); if it
is set and the server does not answer, the run fails instead of skipping.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from hypothesis import settings
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from werkzeug.serving import make_server

from tests.harness import ORIGIN, POSTGRES_ENV, START, Databases, PostgresServer
from voucher_app import create_app
from voucher_app.clock import FrozenClock
from voucher_app.ledger.checkpoints import CheckpointSigner
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.database import Database
from voucher_app.services.vouchers import VoucherSigner
from voucher_app.signing.keyring import KeyPurpose, Keyring
from voucher_app.signing.note import Verifier
from voucher_app.wiring import unit_of_work

settings.register_profile("ci", derandomize=True, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `postgres_only` or `sqlite_only` test one database's features: drop the
    other database's variant instead of running it to skip."""
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        callspec = getattr(item, "callspec", None)
        backend = callspec.params.get("backend") if callspec is not None else None
        other = {"sqlite": "postgres_only", "postgresql": "sqlite_only"}.get(backend or "")
        (drop if other and item.get_closest_marker(other) else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer | None]:
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        yield None
        return
    server = PostgresServer(url)
    try:
        with server.admin.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as exc:
        pytest.fail(f"{POSTGRES_ENV} is set but PostgreSQL does not answer: {exc}", pytrace=False)
    yield server
    server.admin.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, postgres: PostgresServer | None) -> str:
    name: str = request.param
    if name == "postgresql" and postgres is None:
        pytest.skip(f"PostgreSQL tests need {POSTGRES_ENV}")
    return name


@pytest.fixture(scope="session")
def databases(
    backend: str, postgres: PostgresServer | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Databases]:
    pool = Databases(
        backend,
        tmp_path_factory.mktemp(f"{backend}-databases"),
        postgres if backend == "postgresql" else None,
    )
    yield pool
    pool.drop_all()


@pytest.fixture
def database_url(databases: Databases) -> str:
    """A fresh database at the head migration."""
    return databases.migrated()


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = Database(database_url, pool_size=40)
    yield db
    db.dispose()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def uow(database: Database, clock: FrozenClock) -> UnitOfWork:
    """A unit of work that leaves sequencing to the test (no after-commit hook)."""
    return unit_of_work(database, clock)


@pytest.fixture(scope="session")
def keyring(tmp_path_factory: pytest.TempPathFactory) -> Keyring:
    ring = Keyring(tmp_path_factory.mktemp("keys"), None, allow_plain=True)
    ring.init(FrozenClock(START))
    return ring


@pytest.fixture(scope="session")
def signer(keyring: Keyring) -> CheckpointSigner:
    return CheckpointSigner(ORIGIN, keyring.active(KeyPurpose.LEDGER)[1])


@pytest.fixture(scope="session")
def verifiers(keyring: Keyring) -> list[Verifier]:
    return [Verifier(ORIGIN, key) for _record, key in keyring.public_keys(KeyPurpose.LEDGER)]


@pytest.fixture
def app_config() -> dict[str, object]:
    """Settings a test module's app takes over the testing configuration (override it)."""
    return {}


@pytest.fixture
def app(database_url: str, keyring: Keyring, app_config: dict[str, object]) -> Iterator[Flask]:
    application = create_app(
        "testing",
        {
            "DATABASE_URL": database_url,
            "KEYS_DIR": str(keyring.directory),
            "LEDGER_ORIGIN": ORIGIN,
            **app_config,
        },
    )
    yield application
    application.extensions["voucher_app"].database.dispose()


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The app served on a free localhost port by a thread; its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture(scope="session")
def voucher_signer(keyring: Keyring) -> VoucherSigner:
    record, key = keyring.active(KeyPurpose.VOUCHER)
    return VoucherSigner(record.kid, key)


@pytest.fixture(scope="session")
def voucher_keys(keyring: Keyring) -> dict[str, Ed25519PublicKey]:
    return {record.kid: key for record, key in keyring.public_keys(KeyPurpose.VOUCHER)}
