"""`flask --app wsgi doctor`: each thing that would stop the service is found and the fix said,
and a healthy install passes every check."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from flask import Flask

from tests import factories
from tests.harness import ORIGIN, Databases
from voucher_app import create_app
from voucher_app.clock import FrozenClock, SystemClock
from voucher_app.domain.programmes import BudgetMove
from voucher_app.services import ledger, programmes
from voucher_app.signing.keyring import Keyring
from voucher_app.wiring import current, unit_of_work


@pytest.fixture
def apps() -> Iterator[list[Flask]]:
    made: list[Flask] = []
    yield made
    for app in made:
        app.extensions["voucher_app"].database.dispose()


def service(apps: list[Flask], url: str, keys: Path, **settings: Any) -> Flask:
    app = create_app(
        "testing", {"DATABASE_URL": url, "KEYS_DIR": str(keys), "LEDGER_ORIGIN": ORIGIN, **settings}
    )
    apps.append(app)
    return app


def doctor(app: Flask) -> tuple[Result, dict[str, str]]:
    """The run, and each check's line (with its fix) by name."""
    result = app.test_cli_runner().invoke(args=["doctor"], catch_exceptions=False)
    lines: dict[str, str] = {}
    name = ""
    for line in result.output.splitlines():
        if line.startswith(("ok", "FAIL")):
            name = line.split()[1]
            lines[name] = line
        else:
            lines[name] += "\n" + line
    return result, lines


def allocate_once(app: Flask) -> None:
    with app.app_context():
        uow = current().uow()
        factories.guangdong(uow)
        programme = factories.programme(uow, fund_fen=1_000)
        programmes.allocate(
            uow,
            programme.id,
            BudgetMove(from_center="440000", to_center="440300", amount_fen=10),
            actor=factories.ADMIN,
        )


def test_a_healthy_install_passes_every_check(
    apps: list[Flask], databases: Databases, keyring: Keyring, tmp_path: Path
) -> None:
    app = service(
        apps, databases.migrated(), keyring.directory, CHECKPOINT_FILE=str(tmp_path / "c")
    )
    allocate_once(app)
    with app.app_context():
        ledger.sign_checkpoint(current().uow(), current().checkpoint_signer())
    result, lines = doctor(app)
    assert result.exit_code == 0, result.output
    assert list(lines) == ["configuration", "database", "keys", "clock", "ledger", "jobs"]
    assert all(line.startswith("ok") for line in lines.values()), result.output
    assert "at migration" in lines["database"] and "(the head)" in lines["database"]
    assert "2 entries in the log; the last checkpoint covers 2" in lines["ledger"]


def test_an_empty_database_and_a_keys_folder_without_keys_are_told_with_their_fix(
    apps: list[Flask], databases: Databases, tmp_path: Path
) -> None:
    result, lines = doctor(service(apps, databases.empty(), tmp_path / "keys"))
    assert result.exit_code == 1
    assert lines["database"].startswith("FAIL") and "at migration none" in lines["database"]
    assert "fix: run `flask --app wsgi db upgrade`" in lines["database"]
    assert lines["keys"].startswith("FAIL") and "flask --app wsgi keys init" in lines["keys"]
    assert "clock" not in lines  # what needs the schema is not checked without it


def test_a_database_that_does_not_answer_is_told(
    apps: list[Flask], keyring: Keyring, tmp_path: Path
) -> None:
    nowhere = f"sqlite:///{tmp_path / 'no-such-folder' / 'db.sqlite3'}"
    result, lines = doctor(service(apps, nowhere, keyring.directory))
    assert result.exit_code == 1
    assert "does not answer" in lines["database"] and "VOUCHER_DATABASE_URL" in lines["database"]


def test_a_log_behind_its_published_checkpoint_names_the_missing_entries(
    apps: list[Flask], databases: Databases, keyring: Keyring, tmp_path: Path
) -> None:
    published = str(tmp_path / "published-checkpoint")
    first = service(apps, databases.migrated(), keyring.directory, CHECKPOINT_FILE=published)
    allocate_once(first)
    with first.app_context():
        ledger.sign_checkpoint(current().uow(), current().checkpoint_signer())
    # A restore from a dump taken before anything was written: the same file, an empty log.
    restored = service(apps, databases.migrated(), keyring.directory, CHECKPOINT_FILE=published)
    result, lines = doctor(restored)
    assert result.exit_code == 1
    assert lines["ledger"].startswith("FAIL")
    assert "the log holds 0 entries, its published checkpoint 2" in lines["ledger"]
    assert "entries 0 to 1 are missing" in lines["ledger"]
    assert "ledger import-tail DIR" in lines["ledger"]


def test_entries_left_unsequenced_say_the_job_runner_is_not_running(
    apps: list[Flask], databases: Databases, keyring: Keyring, tmp_path: Path
) -> None:
    app = service(
        apps,
        databases.migrated(),
        keyring.directory,
        SEQUENCE_AFTER_COMMIT=False,
        READY_MAX_SEQUENCER_LAG=1,
        CHECKPOINT_FILE=str(tmp_path / "c"),
    )
    allocate_once(app)
    result, lines = doctor(app)
    assert result.exit_code == 1
    assert lines["jobs"].startswith("FAIL") and "2 entries wait for the log" in lines["jobs"]
    assert "flask --app wsgi jobs run" in lines["jobs"]


def test_a_checkpoint_signed_in_the_machines_future_says_the_clock_is_wrong(
    apps: list[Flask], databases: Databases, keyring: Keyring, tmp_path: Path
) -> None:
    app = service(
        apps, databases.migrated(), keyring.directory, CHECKPOINT_FILE=str(tmp_path / "c")
    )
    allocate_once(app)
    with app.app_context():
        parts = current()
        ahead = FrozenClock(SystemClock().now() + timedelta(hours=1))
        uow = unit_of_work(parts.database, ahead, published=parts.published_checkpoint)
        ledger.sequence_log(uow)
        ledger.sign_checkpoint(uow, parts.checkpoint_signer())
    result, lines = doctor(app)
    assert result.exit_code == 1
    assert lines["clock"].startswith("FAIL") and "in this machine's future" in lines["clock"]
