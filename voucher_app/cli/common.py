"""What every command group shares: a domain error printed as one line, and the acting user."""

from __future__ import annotations

import functools
import getpass
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import click

from voucher_app.domain.actors import Actor, Role
from voucher_app.domain.errors import LedgerFault, VoucherError

P = ParamSpec("P")
T = TypeVar("T")


def domain_errors(command: Callable[P, T]) -> Callable[P, T]:
    """Print a domain error as `code: message` and exit 1, instead of a traceback (a
    `LedgerFault` keeps its traceback, as any other fault does)."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return command(*args, **kwargs)
        except LedgerFault:
            raise  # not a refusal but the ledger's own fault: whoever investigates needs its trace
        except VoucherError as error:
            raise click.ClickException(f"{error.code}: {error.message}") from error

    return run


def cli_actor() -> Actor:
    """Commands act as the operating-system user who runs them."""
    return Actor(f"cli-{getpass.getuser()}"[:64], Role.ADMIN)
