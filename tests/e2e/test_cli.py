"""The commands an operator runs, through Flask's CLI runner."""

from __future__ import annotations

from pathlib import Path

from click.testing import Result
from flask import Flask
from flask.testing import FlaskCliRunner

from tests.harness import ORIGIN, Databases
from voucher_app import create_app
from voucher_app.persistence import migrate
from voucher_app.services import demo as demo_data
from voucher_app.services import ledger, users
from voucher_app.signing.note import Verifier, open_checkpoint
from voucher_app.wiring import current


def invoke(runner: FlaskCliRunner, *args: str) -> Result:
    return runner.invoke(args=list(args), catch_exceptions=False)


def test_a_fresh_install_migrates_makes_keys_loads_the_demo_and_verifies(
    databases: Databases, tmp_path: Path
) -> None:
    app = create_app(
        "testing",
        {
            "DATABASE_URL": databases.empty(),
            "KEYS_DIR": str(tmp_path / "keys"),
            "LEDGER_ORIGIN": ORIGIN,
        },
    )
    runner = app.test_cli_runner()
    try:
        assert invoke(runner, "db", "upgrade").exit_code == 0
        first_keys = invoke(runner, "keys", "init")
        again_keys = invoke(runner, "keys", "init")
        demo = invoke(runner, "demo", "load")
        verify = invoke(runner, "ledger", "verify")
    finally:
        app.extensions["voucher_app"].database.dispose()
    assert "created ledger key" in first_keys.output and "created voucher key" in first_keys.output
    assert "keys already present" in again_keys.output
    assert demo.exit_code == 0 and "47 centers" in demo.output
    assert f"checkpoint at tree size {demo_data.ENTRIES}" in demo.output
    assert verify.exit_code == 0
    assert verify.output.startswith(
        f"OK: {demo_data.ENTRIES} entries, 1 checkpoints (latest covers {demo_data.ENTRIES})"
    )


def test_demo_load_refuses_a_database_with_data(runner: FlaskCliRunner) -> None:
    assert invoke(runner, "demo", "load").exit_code == 0
    again = runner.invoke(args=["demo", "load"])
    tolerant = invoke(runner, "demo", "load", "--if-empty")
    assert again.exit_code == 1 and "database_not_empty" in again.output
    assert tolerant.exit_code == 0 and "demo not loaded" in tolerant.output


def test_checkpoint_command_signs_only_new_entries(runner: FlaskCliRunner, app: Flask) -> None:
    invoke(runner, "demo", "load")
    nothing_new = invoke(runner, "ledger", "checkpoint")
    assert nothing_new.output.strip() == "no new entries since the last checkpoint"
    with app.app_context():
        uow = current().uow()
        clawback = ledger.entries_page(uow, 11, 12).entries[0][1]["id"]  # the demo's
    invoke(runner, "ledger", "reverse", clawback)
    signed = invoke(runner, "ledger", "checkpoint")
    checkpoint = open_checkpoint(signed.output, current_verifiers(app))
    assert checkpoint.size == demo_data.ENTRIES + 1


def current_verifiers(app: Flask) -> list[Verifier]:
    with app.app_context():
        return current().ledger_verifiers()


def test_reversal_from_the_command_line_names_bad_input(runner: FlaskCliRunner) -> None:
    unknown = runner.invoke(args=["ledger", "reverse", "00000000-0000-4000-8000-000000000000"])
    malformed = runner.invoke(args=["ledger", "reverse", "not-a-uuid"])
    assert unknown.exit_code == 1 and "unknown_entry" in unknown.output
    assert malformed.exit_code == 2


def test_centers_import_and_list(runner: FlaskCliRunner, tmp_path: Path) -> None:
    imported = invoke(runner, "centers", "import")
    listed = invoke(runner, "centers", "list", "440300")
    bad = tmp_path / "bad.csv"
    bad.write_text("code,name_zh,name_en,level,parent_code\n44,x,y,city,440000\n", encoding="utf-8")
    refused = runner.invoke(args=["centers", "import", str(bad)])
    assert imported.output.strip() == "47 created, 0 updated, 0 unchanged"
    assert listed.output.splitlines()[0] == "  440300  深圳市  Shenzhen"
    assert "    440305  南山区" in listed.output
    assert refused.exit_code == 1 and "invalid_center_data" in refused.output


def test_db_heads_names_the_single_head(runner: FlaskCliRunner) -> None:
    assert invoke(runner, "db", "heads").output.split() == migrate.heads()


def test_demo_accounts_sign_in_as_each_role_and_never_in_production(
    app: Flask, runner: FlaskCliRunner
) -> None:
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    made = runner.invoke(args=["demo", "accounts"])
    assert (
        made.exit_code == 0
        and f"{len(demo_data.DEMO_ACCOUNTS)} demo accounts created" in made.output
    )
    with app.app_context():
        parts = current()
        for demo_account in demo_data.DEMO_ACCOUNTS:
            principal = users.log_in(
                parts.uow(), demo_account.username, demo_data.DEMO_PASSWORD, parts.hasher
            )
            assert principal.role is demo_account.role
    assert "0 demo accounts created" in runner.invoke(args=["demo", "accounts"]).output
    app.config["PRODUCTION"] = True
    refused = runner.invoke(args=["demo", "accounts"])
    assert refused.exit_code != 0 and "never production" in refused.output
