"""Command-line entry points for paying providers (`flask --app wsgi …`): parse, call one
service, print. Finance staff use these until their web pages exist.

settlement  funding-account | build | show | export | cancel     batches of approved claims
statements  mapping | import | report                            bank statements, reconciliation
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import TextIO

import click
from flask import Flask
from flask.cli import AppGroup

from voucher_app.cli import cli_actor, domain_errors
from voucher_app.domain.money import format_yuan
from voucher_app.services import reconciliation, settlement
from voucher_app.settlement.statement_table import ColumnMapping
from voucher_app.wiring import current

settlement_cli = AppGroup("settlement", help="Batches that pay providers for approved claims.")
statements_cli = AppGroup("statements", help="Bank statements and reconciliation.")


def _print_batch(batch: settlement.BatchView) -> None:
    click.echo(
        f"batch {batch.reference} ({batch.id}) {batch.status}: {len(batch.items)} payments, "
        f"{format_yuan(batch.total_fen)}"
    )
    for item in batch.items:
        click.echo(
            f"  {item.reference}  {format_yuan(item.amount_fen):>16}  paid "
            f"{format_yuan(item.paid_fen):>14}  {item.provider_name} ({len(item.claims)} claims)"
        )


@settlement_cli.command("funding-account")
@click.option("--programme", "programme_id", type=click.UUID, required=True)
@click.option("--bank", "bank_name", required=True)
@click.option("--bic", default=None)
@click.option("--name", "account_name", required=True)
@click.option("--number", "account_number", required=True)
@domain_errors
def funding_account(
    programme_id: uuid.UUID, bank_name: str, bic: str | None, account_name: str, account_number: str
) -> None:
    """Record the account the programme pays providers from."""
    account = settlement.BankAccount(bank_name, account_name, account_number, bic)
    settlement.set_funding_account(current().uow(), programme_id, account, cli_actor())
    click.echo(f"programme {programme_id} pays from {account_name} {account_number}")


@settlement_cli.command("build")
@click.option("--programme", "programme_id", type=click.UUID, required=True)
@click.option("--center", "center_code", required=True, help="Claims of this center's subtree.")
@domain_errors
def build(programme_id: uuid.UUID, center_code: str) -> None:
    """A draft batch of the approved claims waiting for payment."""
    _print_batch(settlement.build_batch(current().uow(), programme_id, center_code, cli_actor()))


@settlement_cli.command("show")
@click.argument("batch_id", type=click.UUID)
@domain_errors
def show(batch_id: uuid.UUID) -> None:
    _print_batch(settlement.get_batch(current().uow(), batch_id))


@settlement_cli.command("export")
@click.argument("batch_id", type=click.UUID)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
@domain_errors
def export(batch_id: uuid.UUID, out: Path) -> None:
    """Freeze the batch; write its pain.001 XML and CSV into OUT."""
    files = settlement.export_batch(current().uow(), batch_id, cli_actor())
    out.mkdir(parents=True, exist_ok=True)
    xml = out / f"{files.batch.reference}.pain.001.xml"
    xml.write_bytes(files.pain001)
    table = out / f"{files.batch.reference}.csv"
    table.write_text(files.csv, encoding="utf-8")
    _print_batch(files.batch)
    click.echo(f"wrote {xml} and {table}")


@settlement_cli.command("cancel")
@click.argument("batch_id", type=click.UUID)
@click.option("--reason", required=True)
@domain_errors
def cancel(batch_id: uuid.UUID, reason: str) -> None:
    """Cancel a batch nothing was paid from; its claims wait for the next one."""
    _print_batch(settlement.cancel_batch(current().uow(), batch_id, reason, cli_actor()))


@statements_cli.command("mapping")
@click.option("--center", "center_code", required=True)
@click.option("--name", required=True)
@click.argument("columns", type=click.File(encoding="utf-8"))
@domain_errors
def mapping(center_code: str, name: str, columns: TextIO) -> None:
    """Save a column mapping (a JSON file: end_to_end_id, amount, booked_on, direction, …)."""
    parsed = ColumnMapping.from_json(json.load(columns))
    reconciliation.save_mapping(current().uow(), center_code, name, parsed)
    click.echo(f"mapping {name!r} saved for center {center_code}")


@statements_cli.command("import")
@click.argument("statement", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--center", "center_code", default=None, help="Whose mapping reads a CSV/XLSX.")
@click.option("--mapping", "mapping_name", default=None)
@domain_errors
def import_statement(statement: Path, center_code: str | None, mapping_name: str | None) -> None:
    """Import a camt.053 XML (or mapped CSV/XLSX) statement and reconcile it."""
    result = reconciliation.import_statement(
        current().uow(),
        filename=statement.name,
        content=statement.read_bytes(),
        actor=cli_actor(),
        center_code=center_code,
        mapping=mapping_name,
    )
    seen = "already imported" if result.replayed else "imported"
    outcomes = ", ".join(f"{n} {outcome}" for outcome, n in sorted(result.outcomes.items()))
    click.echo(f"statement {result.statement_id} {seen}: {result.lines} lines ({outcomes})")


@statements_cli.command("report")
@click.option("--center", "center_code", required=True)
@click.option("--batch", "batch_reference", default=None)
@domain_errors
def report(center_code: str, batch_reference: str | None) -> None:
    """Each payment's standing and the statement lines nothing matched."""
    found = reconciliation.reconciliation_report(current().uow(), center_code, batch_reference)
    for item in found.items:
        click.echo(
            f"{item.reference}  {item.state:9}  owed {format_yuan(item.amount_fen):>14}  paid "
            f"{format_yuan(item.paid_fen):>14}  returned {format_yuan(item.returned_fen):>12}  "
            f"{item.provider}"
        )
    for line in found.unmatched:
        direction = "debit" if line.debit else "credit"
        click.echo(
            f"unmatched  {line.statement} {line.position}  {direction} "
            f"{format_yuan(line.amount_fen)}  {line.end_to_end_id or '-'}"
        )


def init_app(app: Flask) -> None:
    app.cli.add_command(settlement_cli)
    app.cli.add_command(statements_cli)
