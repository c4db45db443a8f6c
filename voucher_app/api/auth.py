"""Who is asking, and may they: the API's one gate.

A request is signed in by a bearer token (`Authorization: Bearer gdv_…`) or by the session
cookie a password sign-in set (Flask-Login; SameSite=Lax, so another site's form cannot send
it). Every route declares its action with `@requires(Action…, scope=…)`; the decorator finds
the principal, works out the scope from the request, and asks the access policy
(`services.access.authorize`). A test walks the route map and fails on a route without one.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from flask import Flask, g, request
from flask_login import LoginManager, UserMixin, current_user

from voucher_app.domain.actors import Actor, Role
from voucher_app.domain.errors import InvalidCredentials, PermissionDenied
from voucher_app.domain.policy import Action, Scope
from voucher_app.domain.sme import parse_uscc
from voucher_app.domain.users import Principal
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.services import access, users
from voucher_app.services.access import FindScope
from voucher_app.wiring import current

P = ParamSpec("P")
T = TypeVar("T")
#: Works out what a request touches from its parsed arguments and path values.
ScopeOf = Callable[[UnitOfWork, dict[str, Any]], Scope]
ACCESS_ATTRIBUTE = "__access__"


class SessionUser(UserMixin):  # type: ignore[misc]
    """What Flask-Login keeps for a browser session: the user's public id."""

    def __init__(self, principal: Principal) -> None:
        self.principal = principal

    def get_id(self) -> str:
        return str(self.principal.user_id)


def init_app(app: Flask) -> None:
    app.before_request(_same_site_for_sessions)
    manager = LoginManager(app)
    manager.session_protection = "strong"

    @manager.user_loader
    def _load(user_id: str) -> SessionUser | None:
        try:
            public_id = uuid.UUID(user_id)
        except ValueError:
            return None
        principal = users.principal_for_session(current().uow(), public_id)
        return SessionUser(principal) if principal is not None else None


UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _same_site_for_sessions() -> None:
    """A change sent with the session cookie must come from this site's own pages: browsers
    say where a request comes from (Origin, else Referer), and another site's form or script is
    refused, as Flask-WTF's token refuses it on the pages. Bearer tokens are not sent by
    browsers on their own, so they need no such check."""
    if request.method not in UNSAFE or not request.path.startswith("/api/"):
        return
    if "Authorization" in request.headers or not current_user.is_authenticated:
        return
    source = request.headers.get("Origin") or request.headers.get("Referer")
    if source is None:
        return  # not a browser: nothing another site could have made it send
    if source.rstrip("/") != request.host_url.rstrip("/") and not source.startswith(
        request.host_url
    ):
        raise PermissionDenied("a signed-in session cannot be used from another site")


def current_principal() -> Principal | None:
    """The principal of this request: its bearer token's, else its session's, else none."""
    if "principal" not in g:
        g.principal = _principal()
    found: Principal | None = g.principal
    return found


def _principal() -> Principal | None:
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise InvalidCredentials("send `Authorization: Bearer <token>`")
        return users.principal_for_token(current().uow(), secret.strip())
    if current_user.is_authenticated:
        principal: Principal = current_user.principal
        return principal
    return None


def requires(
    action: Action, scope: ScopeOf | None = None
) -> Callable[[Callable[P, T]], Callable[P, T]]:
    """Refuse the request unless its principal may take `action` on the scope `scope` finds
    (the whole system when there is none)."""

    def decorate(view: Callable[P, T]) -> Callable[P, T]:
        @functools.wraps(view)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> T:
            find = None if scope is None else _bound(scope, args, kwargs)
            access.authorize(
                current().uow(), current_principal(), action, find, request.remote_addr
            )
            return view(*args, **kwargs)

        setattr(guarded, ACCESS_ATTRIBUTE, action)
        return guarded

    return decorate


def _bound(scope: ScopeOf, args: tuple[Any, ...], kwargs: dict[str, Any]) -> FindScope:
    """`scope` over the request's values: its path values and its parsed arguments."""
    values: dict[str, Any] = dict(kwargs)
    for arg in args:
        if isinstance(arg, dict):
            values.update(arg)
    return lambda uow: scope(uow, values)


def scope_by(lookup: Callable[[UnitOfWork, Any], Scope], field: str) -> ScopeOf:
    """The scope `lookup` finds for the value the request carries in `field` (a path value or
    an argument): `scope_by(access.claim_scope, "redemption_id")`."""
    return lambda uow, values: lookup(uow, values[field])


def center_in(field: str) -> ScopeOf:
    """The scope of the center whose code the request carries in `field`."""
    return scope_by(access.center_scope, field)


def signed_in() -> Principal:
    """The principal of a request `requires` let through for a signed-in action."""
    principal = current_principal()
    assert principal is not None
    return principal


def acting(applicant_code: str, role: Role) -> Actor:
    """Who a request acts as: the signed-in user, or for an anonymous application (a provider
    applying, an SME registering) the applicant named by its credit code."""
    principal = current_principal()
    if principal:
        return principal.actor
    # Checked first: a malformed code would otherwise surface as a malformed actor id.
    return Actor(f"applicant:{parse_uscc(applicant_code)}", role)
