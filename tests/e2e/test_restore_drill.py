"""The restore drill of issue 13, with pg_dump and pg_restore and the operator's commands.

A dump is taken while entries wait to be sequenced; the service goes on and signs a larger
checkpoint; the old dump is restored. The restored service must not sign (that would be a second
tree head, under the same key, contradicting the published one) until its tail is restored from
an export (`ledger import-tail`) or a newer dump is restored.
"""

from __future__ import annotations

import io
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import text
from sqlalchemy.engine import make_url

from tests.harness import ORIGIN, PostgresServer
from voucher_app import create_app
from voucher_app.cli.audit import main as voucher_audit
from voucher_app.domain.actors import Actor, Role
from voucher_app.domain.errors import LogBehindPublished
from voucher_app.domain.programmes import BudgetMove
from voucher_app.ledger import merkle
from voucher_app.services import demo, ledger, programmes
from voucher_app.signing.keyring import Keyring
from voucher_app.signing.note import open_checkpoint
from voucher_app.wiring import current

pytestmark = pytest.mark.postgres_only

SIZE = demo.ENTRIES  # the demo's checkpoint: what the old dump's database last signed
ADMIN = Actor("drill-admin", Role.CENTER_ADMIN)


@dataclass
class Drill:
    app: Flask
    url: str
    postgres: PostgresServer
    checkpoint_file: Path
    old_dump: Path
    new_dump: Path
    export: Path
    auditor_state: Path
    published_size: int

    def cli(self, *args: str) -> Result:
        return self.app.test_cli_runner().invoke(args=list(args))

    def restore(self, dump: Path) -> None:
        """Drop the database, create it empty and restore `dump` into it, as an operator would."""
        self.app.extensions["voucher_app"].database.dispose()
        name = make_url(self.url).database
        assert name is not None
        self.postgres.drop(name)
        with self.postgres.admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {name}"))
        run("pg_restore", "--no-owner", "--exit-on-error", "-d", libpq(self.url), str(dump))

    def allocate(self, count: int) -> None:
        with self.app.app_context():
            parts = current()
            programme = ledger.entries_page(parts.uow(), 0, 1).entries[0][1]["refs"]["programme"]
            for _ in range(count):
                programmes.allocate(
                    parts.uow(),
                    uuid.UUID(programme),
                    BudgetMove(from_center="440000", to_center="440100", amount_fen=1),
                    actor=ADMIN,
                )

    def latest_size(self) -> int:
        with self.app.app_context():
            return ledger.latest_checkpoint(current().uow()).tree_size

    def behind(self) -> tuple[int, int] | None:
        with self.app.app_context():
            return ledger.behind_published(current().uow())

    def audit(self, folder: Path) -> tuple[int, str]:
        """voucher-audit on an export, pinned to the ledger's key; it remembers in
        `auditor_state` the checkpoint it verified, and demands that later logs extend it."""
        out = io.StringIO()
        with redirect_stdout(out):
            code = voucher_audit(
                [
                    str(folder),
                    "--vkey",
                    str(self.export / "ledger.vkey"),
                    "--state",
                    str(self.auditor_state),
                ]
            )
        return code, out.getvalue()


def libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def run(*command: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


@pytest.fixture
def drill(
    database_url: str, postgres: PostgresServer | None, keyring: Keyring, tmp_path: Path
) -> Iterator[Drill]:
    """A service with a signed demo ledger, an old dump (at the demo's checkpoint, with two
    entries still queued), then a larger signed checkpoint, a newer dump and an export."""
    assert postgres is not None
    app = create_app(
        "testing",
        {
            "DATABASE_URL": database_url,
            "KEYS_DIR": str(keyring.directory),
            "CHECKPOINT_FILE": str(tmp_path / "keys" / "published-checkpoint"),
            "LEDGER_ORIGIN": ORIGIN,
            "SEQUENCE_AFTER_COMMIT": False,  # entries wait in the queue, as under load
        },
    )
    drill = Drill(
        app,
        database_url,
        postgres,
        tmp_path / "keys" / "published-checkpoint",
        tmp_path / "old.dump",
        tmp_path / "new.dump",
        tmp_path / "export",
        tmp_path / "auditor-state.json",
        0,
    )
    try:
        assert drill.cli("demo", "load").exit_code == 0
        with app.app_context():
            assert (
                drill.checkpoint_file.read_text() == ledger.latest_checkpoint(current().uow()).note
            )
        drill.allocate(2)
        run("pg_dump", "--format=custom", "-f", str(drill.old_dump), libpq(database_url))
        drill.allocate(3)
        signed = drill.cli("ledger", "checkpoint")
        assert signed.exit_code == 0, signed.output
        with app.app_context():
            verifiers = current().ledger_verifiers()
        drill.published_size = open_checkpoint(signed.output, verifiers).size
        assert drill.published_size == SIZE + 5
        assert drill.checkpoint_file.read_text() == signed.output
        run("pg_dump", "--format=custom", "-f", str(drill.new_dump), libpq(database_url))
        assert drill.cli("ledger", "export", str(drill.export)).exit_code == 0
        code, out = drill.audit(drill.export)
        assert code == 0 and f"tree size {SIZE + 5}" in out, out
        yield drill
    finally:
        app.extensions["voucher_app"].database.dispose()


def test_a_restored_old_dump_signs_nothing_until_import_tail_restores_the_tail(
    drill: Drill,
) -> None:
    published = drill.published_size
    drill.restore(drill.old_dump)

    refused = drill.cli("ledger", "checkpoint")
    assert refused.exit_code == 1 and "log_behind_published" in refused.output, refused.output
    drill.allocate(1)  # the service is up and takes a write: it waits in the queue
    refused = drill.cli("ledger", "checkpoint")
    assert refused.exit_code == 1 and "log_behind_published" in refused.output, refused.output
    with drill.app.app_context(), pytest.raises(LogBehindPublished, match="are missing"):
        ledger.sign_checkpoint(current().uow(), current().checkpoint_signer())
    assert drill.latest_size() == SIZE  # nothing signed below (or at) the published size
    assert drill.behind() == (SIZE, published)

    verify = drill.cli("ledger", "verify")
    assert verify.exit_code == 1
    assert (
        f"entries {SIZE} to {published - 1} are missing: "
        "restore a newer dump or `ledger import-tail DIR`" in verify.output
    ), verify.output

    imported = drill.cli("ledger", "import-tail", str(drill.export))
    assert imported.exit_code == 0, imported.output
    assert f"entries {SIZE} to {published - 1} restored" in imported.output
    assert "(3 written, 2 already held)" in imported.output
    assert "business rows" in imported.output and "newer dump" in imported.output
    assert drill.behind() is None

    signed = drill.cli("ledger", "checkpoint")  # the write taken while behind, now after the tail
    assert signed.exit_code == 0, signed.output
    assert drill.latest_size() == published + 1
    verify = drill.cli("ledger", "verify")
    assert verify.exit_code == 0, verify.output

    # The new checkpoint extends the published one: the Merkle maths, and the outside auditor.
    with drill.app.app_context():
        uow = current().uow()
        verifiers = current().ledger_verifiers()
        new = open_checkpoint(signed.output, verifiers)
        before = open_checkpoint(
            (drill.export / "checkpoints" / f"{published:012d}.note").read_text(), verifiers
        )
        proof = ledger.consistency_proof(uow, published, published + 1)
    merkle.verify_consistency(published, published + 1, proof, before.root, new.root)
    assert drill.cli("ledger", "export", str(drill.export.with_name("after"))).exit_code == 0
    code, out = drill.audit(drill.export.with_name("after"))
    assert code == 0 and f"tree size {published + 1}" in out, out


def test_restoring_the_newer_dump_instead_lets_the_service_sign_again(drill: Drill) -> None:
    drill.restore(drill.old_dump)
    assert drill.behind() == (SIZE, drill.published_size)
    assert drill.cli("ledger", "checkpoint").exit_code == 1

    drill.restore(drill.new_dump)
    assert drill.behind() is None
    drill.allocate(1)
    signed = drill.cli("ledger", "checkpoint")
    assert signed.exit_code == 0, signed.output
    assert drill.latest_size() == drill.published_size + 1
    assert drill.checkpoint_file.read_text() == signed.output
    assert drill.cli("ledger", "verify").exit_code == 0
    assert drill.cli("ledger", "export", str(drill.export.with_name("after"))).exit_code == 0
    code, out = drill.audit(drill.export.with_name("after"))
    assert code == 0 and f"tree size {drill.published_size + 1}" in out, out
