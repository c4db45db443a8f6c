"""Who may see a page, and forms nobody else can submit for you.

Pages ask the same access gate as the API (`http.policy.authorize`), with the signed-in
session's principal: someone not signed in is sent to the sign-in page and brought back; a
refusal is a 403 page (`web.errors`). A template asks the same question before it shows a form
or a link (`may`, by the route's endpoint): the route's own action and scope, so a page offers
nobody what its route would refuse them. Every form on a page carries a CSRF token (Flask-WTF)
and a POST without a valid one is refused. The JSON API is exempt from tokens: its clients send
bearer tokens, and a change sent there with the session cookie must come from this site
(`http.auth._same_site_for_sessions`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar
from urllib.parse import urlsplit

from flask import Flask, current_app, g, redirect, request, url_for
from flask_wtf.csrf import CSRFProtect
from werkzeug.wrappers import Response

from voucher_app.domain.actors import Role
from voucher_app.domain.errors import NotAuthenticated
from voucher_app.domain.policy import Action
from voucher_app.domain.users import Principal
from voucher_app.http.policy import (
    ACCESS_ATTRIBUTE,
    SCOPE_ATTRIBUTE,
    ScopeOf,
    authorize,
    mark,
    permitted,
)

P = ParamSpec("P")
T = TypeVar("T")
csrf = CSRFProtect()


def init_app(app: Flask) -> None:
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)  # checked below, for pages only
    csrf.init_app(app)
    app.before_request(_protect_forms)
    app.jinja_env.globals["may"] = may


def _protect_forms() -> None:
    if request.method not in ("GET", "HEAD", "OPTIONS") and not request.path.startswith("/api/"):
        csrf.protect()


def page(
    action: Action, scope: ScopeOf | None = None
) -> Callable[[Callable[P, T]], Callable[P, T | Response]]:
    """Show the page if the signed-in user may take `action` where `scope` finds from the
    path's values (`http.policy.scope_by`; everywhere without one); else the sign-in page, or a
    403 page (the refusal goes on to `web.errors`)."""

    def decorate(view: Callable[P, T]) -> Callable[P, T | Response]:
        @functools.wraps(view)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> T | Response:
            try:
                authorize(action, scope, dict(kwargs))
            except NotAuthenticated:
                return to_sign_in()
            return view(*args, **kwargs)

        mark(guarded, action, scope)
        return guarded

    return decorate


def may(endpoint: str, **values: Any) -> bool:
    """Whether the signed-in user may use the page route `endpoint` with these path values
    (those its scope reads suffice): the question its `page` guard asks, so a template shows
    a form or a link only to those the route takes it from. Asked once per request for each
    question."""
    view = current_app.view_functions[endpoint]
    action: Action = getattr(view, ACCESS_ATTRIBUTE)
    scope: ScopeOf | None = getattr(view, SCOPE_ATTRIBUTE)
    asked: dict[tuple[Any, ...], bool] = g.setdefault("access_asked", {})
    question = (action, scope, tuple(sorted((name, str(value)) for name, value in values.items())))
    if question not in asked:
        asked[question] = permitted(action, scope, values)
    return asked[question]


def to_sign_in() -> Response:
    """The sign-in page, which comes back here once signed in."""
    return redirect(url_for("session.sign_in", next=request.full_path))


#: Where each kind of account starts: a page, and what its address needs.
HOMES: dict[Role, tuple[str, dict[str, Any]]] = {
    Role.SME: ("sme.mine", {}),
    Role.PROVIDER: ("provider.mine", {}),
    Role.CENTER_STAFF: ("center.mine", {}),
    Role.CENTER_ADMIN: ("center.mine", {}),
    Role.CENTER_FINANCE: ("center.mine", {"area": "finance"}),
    Role.AUDITOR: ("dashboard.mine", {}),
    Role.ADMIN: ("dashboard.mine", {}),
}


def home_of(principal: Principal | None) -> str:
    """The address an account starts from (the public home page for a visitor)."""
    if principal is None:
        return url_for("public.home")
    endpoint, values = HOMES.get(principal.role, ("public.home", {}))
    return url_for(endpoint, **values)


def on_this_site(target: str, default: str) -> str:
    """`target` if it is a path on this site, else `default`: a form's "back to" never sends a
    visitor elsewhere. Browsers drop tabs and newlines from a URL and read a backslash as a
    slash, so a tab or a backslash after the first slash makes it another site too."""
    if any(char == "\\" or char.isspace() or not char.isprintable() for char in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target
