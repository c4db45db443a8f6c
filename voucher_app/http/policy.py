"""May they: the one access gate that the API's routes and the pages both ask.

Every route and page declares the action it takes and, where it touches one center's or one
party's things, how to find that scope from the request's values (`scope_by`, `center_in`).
`authorize` asks the access policy (`services.access.authorize`) with the request's principal
(`http.auth`). The API's routes say `@requires(Action…, scope=…)`, which refuses with the
domain's error (a 401 or 403 problem); the pages' `web.guard.page` asks the same and answers
with the sign-in page or a 403 page. Both mark their view with its action (`ACCESS_ATTRIBUTE`)
and scope (`SCOPE_ATTRIBUTE`): a test walks the route map and fails on a route or page without
an action, and a page asks a route's own question before it offers its form (`permitted`,
`web.guard.may`), so a form is shown only to those the route will take it from.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from flask import request

from voucher_app.domain.policy import Action, Scope
from voucher_app.http.auth import current_principal
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.services import access
from voucher_app.services.access import FindScope
from voucher_app.wiring import current

P = ParamSpec("P")
T = TypeVar("T")
#: Works out what a request touches from its parsed arguments and path values.
ScopeOf = Callable[[UnitOfWork, dict[str, Any]], Scope]
ACCESS_ATTRIBUTE = "__access__"
SCOPE_ATTRIBUTE = "__access_scope__"


def authorize(action: Action, scope: ScopeOf | None, values: dict[str, Any]) -> None:
    """Return if this request's principal may take `action` where `scope` finds from `values`
    (the whole system when there is no scope); raise `NotAuthenticated` or
    `PermissionDenied`."""
    find = None if scope is None else _bound(scope, values)
    access.authorize(current().uow(), current_principal(), action, find, request.remote_addr)


def permitted(action: Action, scope: ScopeOf | None, values: dict[str, Any]) -> bool:
    """Whether `authorize` would let this request's principal take `action` where `scope`
    finds from `values`: its question, answered yes or no (a "no" is not a refusal to log)."""
    find = None if scope is None else _bound(scope, values)
    return access.permits(current().uow(), current_principal(), action, find)


def mark(view: Callable[..., Any], action: Action, scope: ScopeOf | None) -> None:
    """Note on a guarded view what it asks (`ACCESS_ATTRIBUTE`, `SCOPE_ATTRIBUTE`)."""
    setattr(view, ACCESS_ATTRIBUTE, action)
    setattr(view, SCOPE_ATTRIBUTE, scope)


def _bound(scope: ScopeOf, values: dict[str, Any]) -> FindScope:
    return lambda uow: scope(uow, values)


def requires(
    action: Action, scope: ScopeOf | None = None
) -> Callable[[Callable[P, T]], Callable[P, T]]:
    """Refuse the request unless its principal may take `action` on the scope `scope` finds
    (the whole system when there is none)."""

    def decorate(view: Callable[P, T]) -> Callable[P, T]:
        @functools.wraps(view)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> T:
            authorize(action, scope, {} if scope is None else _values(args, kwargs))
            return view(*args, **kwargs)

        mark(guarded, action, scope)
        return guarded

    return decorate


def _values(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    """The request's values: its path values and its parsed arguments."""
    values: dict[str, Any] = dict(kwargs)
    for arg in args:
        if isinstance(arg, dict):
            values.update(arg)
    return values


def scope_by(lookup: Callable[[UnitOfWork, Any], Scope], field: str) -> ScopeOf:
    """The scope `lookup` finds for the value the request carries in `field` (a path value or
    an argument): `scope_by(access.redemption_scope, "redemption_id")`."""
    return lambda uow, values: lookup(uow, values[field])


def center_in(field: str) -> ScopeOf:
    """The scope of the center whose code the request carries in `field`."""
    return scope_by(access.center_scope, field)
