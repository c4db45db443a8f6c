"""Who is asking: the principal of a request, for the API's routes and the pages alike.

A request is signed in by a bearer token (`Authorization: Bearer gdv_…`) or by the session
cookie a password sign-in set (Flask-Login; SameSite=Lax, so another site's form cannot send
it). The pages sign in with the same session (`SessionUser`), and both ask the same access
policy with this principal (`http.policy`). A change sent to the API with the session cookie
must come from this site's own pages, as a page's form must carry its CSRF token.
"""

from __future__ import annotations

import uuid

from flask import Flask, g, request
from flask_login import LoginManager, UserMixin, current_user

from voucher_app.domain.actors import Actor, Role
from voucher_app.domain.errors import InvalidCredentials, PermissionDenied
from voucher_app.domain.sme import parse_uscc
from voucher_app.domain.users import Principal
from voucher_app.services import users
from voucher_app.wiring import current


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
    manager.user_loader(_load)


def _load(user_id: str) -> SessionUser | None:
    """The session's user, while the account stays active."""
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


def signed_in() -> Principal:
    """The principal of a request the gate (`http.policy`) let through for a signed-in
    action."""
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
