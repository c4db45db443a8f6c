"""Command-line entry points for paying providers (`flask --app wsgi …`): parse, call one
service, print. Finance staff use these until their web pages exist.

settlement  funding-account | build | show | approve | export | cancel   paying redemptions
statements  account | mapping | import | report      accounts, statements, reconciliation
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

import click
from flask.cli import AppGroup

from voucher_app.cli.common import cli_actor, domain_errors
from voucher_app.domain.bank import BankDetails
from voucher_app.domain.money import format_yuan
from voucher_app.services import bank_accounts, reconciliation, settlement
from voucher_app.settlement.statement_table import ColumnMapping
from voucher_app.wiring import current

settlement_group = AppGroup(
    "settlement", help="Batches that pay providers for approved redemptions."
)
statements_group = AppGroup("statements", help="Bank statements and reconciliation.")


def _print_batch(batch: settlement.BatchView) -> None:
    click.echo(
        f"batch {batch.reference} ({batch.id}) {batch.status}: {len(batch.items)} payments, "
        f"{format_yuan(batch.total_fen)}"
    )
    for item in batch.items:
        click.echo(
            f"  {item.reference}  {format_yuan(item.amount_fen):>16}  paid "
            f"{format_yuan(item.paid_fen):>14}  {item.provider_name} "
            f"({len(item.redemptions)} redemptions)"
        )


def bank_options(command: Callable[..., None]) -> Callable[..., None]:
    """The options that name a bank account, handed to the command as one `bank: BankDetails`."""

    @functools.wraps(command)
    def with_bank(
        *,
        bank_name: str,
        account_name: str,
        account_number: str,
        cnaps: str | None,
        bic: str | None,
        **options: Any,
    ) -> None:
        details = BankDetails(bank_name, account_name, account_number, cnaps, bic)
        command(bank=details, **options)

    wrapped: Callable[..., None] = with_bank
    for option in reversed(
        (
            click.option("--bank", "bank_name", required=True, help="开户行名称: the branch"),
            click.option("--name", "account_name", required=True, help="户名"),
            click.option("--number", "account_number", required=True, help="账号"),
            click.option("--cnaps", default=None, help="the branch's 12-digit CNAPS code"),
            click.option("--bic", default=None),
        )
    ):
        wrapped = option(wrapped)
    return wrapped


@settlement_group.command("funding-account")
@click.option("--programme", "programme_id", type=click.UUID, required=True)
@bank_options
@domain_errors
def funding_account(*, programme_id: uuid.UUID, bank: BankDetails) -> None:
    """Record the account the programme pays providers from (and register it for its owner)."""
    account = settlement.set_funding_account(current().uow(), programme_id, bank, cli_actor())
    click.echo(
        f"programme {programme_id} pays from {account.account_name} {account.account_number}"
    )


@settlement_group.command("build")
@click.option("--programme", "programme_id", type=click.UUID, required=True)
@click.option(
    "--center", "center_code", required=True, help="Redemptions of this center's subtree."
)
@domain_errors
def build(programme_id: uuid.UUID, center_code: str) -> None:
    """A draft batch of the approved redemptions waiting for payment."""
    _print_batch(settlement.build_batch(current().uow(), programme_id, center_code, cli_actor()))


@settlement_group.command("show")
@click.argument("batch_id", type=click.UUID)
@domain_errors
def show(batch_id: uuid.UUID) -> None:
    _print_batch(settlement.get_batch(current().uow(), batch_id))


@settlement_group.command("approve")
@click.argument("batch_id", type=click.UUID)
@domain_errors
def approve(batch_id: uuid.UUID) -> None:
    """A second finance officer's approval of a draft batch for export."""
    _print_batch(settlement.approve_batch(current().uow(), batch_id, cli_actor()))


@settlement_group.command("export")
@click.argument("batch_id", type=click.UUID)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
@domain_errors
def export(batch_id: uuid.UUID, out: Path) -> None:
    """Freeze the batch; write its pain.001 XML, payment CSV and bulk-transfer sheet into OUT."""
    parts = current()
    files = settlement.export_batch(
        parts.uow(), batch_id, cli_actor(), second_approval_over_fen=parts.second_approval_over_fen
    )
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for suffix, content in (
        ("pain.001.xml", files.pain001),
        ("csv", files.csv),
        ("bulk-transfer.csv", files.bulk_sheet),
    ):
        path = out / f"{files.batch.reference}.{suffix}"
        path.write_bytes(content)
        written.append(str(path))
    _print_batch(files.batch)
    click.echo(f"wrote {', '.join(written)}")


@settlement_group.command("cancel")
@click.argument("batch_id", type=click.UUID)
@click.option("--reason", required=True)
@domain_errors
def cancel(batch_id: uuid.UUID, reason: str) -> None:
    """Cancel a batch nothing was paid from; its redemptions wait for the next one."""
    _print_batch(settlement.cancel_batch(current().uow(), batch_id, reason, cli_actor()))


@statements_group.command("account")
@click.option("--center", "center_code", required=True)
@bank_options
@domain_errors
def account(*, center_code: str, bank: BankDetails) -> None:
    """Register an account the center holds: only its statements move the center's books."""
    view = bank_accounts.register_account(current().uow(), center_code, bank, cli_actor())
    click.echo(f"center {view.center} holds account {view.details.account_number}")


@statements_group.command("mapping")
@click.option("--center", "center_code", required=True)
@click.option("--name", required=True)
@click.argument("columns", type=click.File(encoding="utf-8"))
@domain_errors
def mapping(center_code: str, name: str, columns: TextIO) -> None:
    """Save a column mapping (a JSON file: booked_on, end_to_end_id or remarks, and amount with
    direction or debit_amount with credit_amount, …)."""
    parsed = ColumnMapping.from_json(json.load(columns))
    reconciliation.save_mapping(current().uow(), center_code, name, parsed)
    click.echo(f"mapping {name!r} saved for center {center_code}")


@statements_group.command("import")
@click.argument("statement", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--center", "center_code", default=None, help="Whose mapping reads a CSV/XLSX.")
@click.option("--mapping", "mapping_name", default=None)
@click.option("--account", "account_number", default=None, help="If a CSV/XLSX does not say.")
@domain_errors
def import_statement(
    statement: Path, center_code: str | None, mapping_name: str | None, account_number: str | None
) -> None:
    """Import a camt.053 XML (or mapped CSV/XLSX) statement and reconcile it."""
    parts = current()
    result = reconciliation.import_statement(
        parts.uow(),
        filename=statement.name,
        content=statement.read_bytes(),
        actor=cli_actor(),
        center_code=center_code,
        mapping=mapping_name,
        account=account_number,
        max_rows=parts.max_table_rows,
    )
    seen = "already imported" if result.replayed else "imported"
    outcomes = ", ".join(f"{n} {outcome}" for outcome, n in sorted(result.outcomes.items()))
    click.echo(f"statement {result.statement_id} {seen}: {result.lines} lines ({outcomes})")
    for position in result.skipped:
        click.echo(f"  skipped (an earlier statement carried it): {position}")


@statements_group.command("report")
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
