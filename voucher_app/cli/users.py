"""Account commands (`flask --app wsgi users …`): the first admin, and accounts and tokens for
operators and automation. Passwords are typed at a hidden prompt or piped on standard input,
never given as arguments (they would sit in the shell's history).

users  create | list | status | token
"""

from __future__ import annotations

import sys
import uuid

import click
from flask.cli import AppGroup

from voucher_app.cli.common import cli_actor, domain_errors
from voucher_app.domain.actors import Role
from voucher_app.domain.users import SCOPES, UserStatus
from voucher_app.services import users
from voucher_app.services.users import NewUser
from voucher_app.wiring import current

users_group = AppGroup("users", help="Accounts and API tokens.")
ROLES = [role.value for role in Role if role is not Role.SYSTEM]


@users_group.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--center", default=None, help="Center code (center staff, admins, auditors).")
@click.option("--sme", default=None, help="The SME's unified social credit code.")
@click.option("--provider", type=click.UUID, default=None, help="The provider's id.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@domain_errors
def create(  # noqa: PLR0917 - click passes each option by position
    username: str,
    role: str,
    center: str | None,
    sme: str | None,
    provider: uuid.UUID | None,
    password_stdin: bool,
) -> None:
    """Create an active account."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    parts = current()
    spec = NewUser(username, password, Role(role), center=center, sme=sme, provider=provider)
    view = users.create_user(parts.uow(), spec, parts.hasher, cli_actor())
    click.echo(f"user {view.username} ({view.id}) created: {view.role}")


@users_group.command("list")
@domain_errors
def list_users() -> None:
    after: str | None = None
    while True:
        page = users.list_users(current().uow(), after=after, limit=200)
        for view in page:
            bound = view.center or view.sme or view.provider or "-"
            click.echo(f"{view.username:<32} {view.role:<13} {view.status:<9} {bound}  {view.id}")
        if len(page) < 200:
            return
        after = page[-1].username


@users_group.command("status")
@click.argument("user_id", type=click.UUID)
@click.argument("status", type=click.Choice([s.value for s in UserStatus if s != "pending"]))
@domain_errors
def set_status(user_id: uuid.UUID, status: str) -> None:
    """Approve a registration (active) or disable an account."""
    view = users.set_status(current().uow(), user_id, UserStatus(status), cli_actor())
    click.echo(f"user {view.username} is {view.status}")


@users_group.command("token")
@click.argument("user_id", type=click.UUID)
@click.option("--name", required=True)
@click.option("--scope", "scopes", multiple=True, type=click.Choice(sorted(SCOPES)))
@click.option("--days", type=int, default=90, show_default=True)
@domain_errors
def token(user_id: uuid.UUID, name: str, scopes: tuple[str, ...], days: int) -> None:
    """Make an API token for a user (for automation); prints the secret once."""
    uow = current().uow()
    principal = users.principal_for_session(uow, user_id)
    if principal is None:
        raise click.ClickException("no active user with that id")
    secret, view = users.issue_token(
        uow, principal, name, scopes=frozenset(scopes or SCOPES), days=days
    )
    click.echo(f"token {view.id} for {principal.username}, until {view.expires_at:%Y-%m-%d}:")
    click.echo(secret)
