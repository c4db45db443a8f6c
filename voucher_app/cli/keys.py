"""`flask --app wsgi keys …`: the Ed25519 signing keys in the keys folder.

keys  init | rotate | destroy --kid KID | list
"""

from __future__ import annotations

import click
from flask.cli import AppGroup

from voucher_app.cli.common import domain_errors
from voucher_app.signing.keyring import KeyPurpose
from voucher_app.wiring import current

keys_group = AppGroup("keys", help="Create, rotate and list signing keys.")


@keys_group.command("init")
@domain_errors
def keys_init() -> None:
    """Create the ledger and voucher keys that do not exist yet."""
    parts = current()
    created = parts.keyring.init(parts.clock)
    for record in created:
        click.echo(f"created {record.purpose} key {record.kid} in {parts.keyring.directory}")
    if not created:
        click.echo(f"keys already present in {parts.keyring.directory}")


@keys_group.command("rotate")
@click.argument("purpose", type=click.Choice([p.value for p in KeyPurpose]))
@domain_errors
def keys_rotate(purpose: str) -> None:
    """Add a new active key; the old one stays to verify what it signed."""
    parts = current()
    record = parts.keyring.create(KeyPurpose(purpose), parts.clock)
    click.echo(f"new active {purpose} key {record.kid}")


@keys_group.command("destroy")
# An option, not an argument: a key id is base64url and may begin with "-", which click reads
# as an option where an argument is expected, but takes as the value of `--kid`.
@click.option("--kid", required=True, help="The key id (`keys list`) of the key to destroy.")
@click.confirmation_option(
    prompt="Nothing this key signed will verify again (vouchers need reissuing). Destroy it?"
)
@domain_errors
def keys_destroy(kid: str) -> None:
    """Destroy a retired key that leaked: delete its file and stop trusting what it signed."""
    record = current().keyring.destroy(kid)
    click.echo(f"destroyed {record.purpose} key {record.kid}")


@keys_group.command("list")
@domain_errors
def keys_list() -> None:
    for record in current().keyring.records():
        click.echo(f"{record.purpose:8} {record.status:8} {record.kid}  {record.created_at}")
    for verifier in current().ledger_verifiers():
        click.echo(f"ledger vkey: {verifier.vkey}")
