"""`flask --app wsgi db …`: the schema, through Alembic.

db  upgrade | downgrade | heads | revision
"""

from __future__ import annotations

import click
from flask.cli import AppGroup

from voucher_app.persistence import migrate
from voucher_app.wiring import current

db_group = AppGroup("db", help="Apply and write database migrations.")


def database_url() -> str:
    return current().database.url


@db_group.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: head)."""
    migrate.upgrade(database_url(), revision)
    click.echo(f"database at {revision}")


@db_group.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION (`base` empties the database)."""
    migrate.downgrade(database_url(), revision)
    click.echo(f"database at {revision}")


@db_group.command("heads")
def db_heads() -> None:
    for head in migrate.heads():
        click.echo(head)


@db_group.command("revision")
@click.option("-m", "--message", required=True)
@click.option("--autogenerate", is_flag=True, help="Start from the models' differences.")
def db_revision(message: str, autogenerate: bool) -> None:
    """Write a new migration file."""
    migrate.revision(database_url(), message, autogenerate=autogenerate)
