"""`flask --app wsgi demo …`: demo data for an empty database, and accounts to try the pages.

demo  load | accounts
"""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from voucher_app.cli.common import domain_errors
from voucher_app.services import demo
from voucher_app.wiring import current

demo_group = AppGroup("demo", help="Demo data.")


@demo_group.command("load")
@click.option("--if-empty", is_flag=True, help="Do nothing (and succeed) on a non-empty database.")
@domain_errors
def demo_load(if_empty: bool) -> None:
    """Fill an empty database with demo data."""
    parts = current()
    if if_empty and not demo.is_empty(parts.uow()):
        click.echo("database has data; demo not loaded")
        return
    summary = demo.load_demo(
        parts.uow(), parts.checkpoint_signer(), parts.voucher_signer(), parts.signal_thresholds
    )
    click.echo(
        f"demo loaded: {summary.centers} centers, programme {summary.programme}, "
        f"{len(demo.SMES)} SMEs, {len(demo.PROVIDERS)} providers, "
        f"{len(demo.VOUCHER_HOLDERS)} vouchers, {summary.entries} ledger entries, "
        f"checkpoint at tree size {summary.checkpoint_size}"
    )


@demo_group.command("accounts")
@domain_errors
def demo_accounts() -> None:
    """Accounts of every role for trying the pages, all with the demo password (refused in
    production)."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.config.get("PRODUCTION"):
        raise click.ClickException("demo accounts are for development, never production")
    parts = current()
    created = demo.load_demo_accounts(parts.uow(), parts.hasher)
    click.echo(f"{len(created)} demo accounts created; each signs in with {demo.DEMO_PASSWORD!r}:")
    for account in demo.DEMO_ACCOUNTS:
        click.echo(f"  {account.username:20} {account.role.value}")
