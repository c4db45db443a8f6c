"""Who may see a page, and forms nobody else can submit for you.

Pages ask the same access gate as the API (`http.policy.authorize`), with the signed-in
session's principal: someone not signed in is sent to the sign-in page and brought back; a
refusal is a 403 page. Every form on a page carries a CSRF token (Flask-WTF) and a POST without
a valid one is refused. The JSON API is exempt from tokens: its clients send bearer tokens,
and a change sent there with the session cookie must come from this site
(`http.auth._same_site_for_sessions`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar
from urllib.parse import urlsplit

from flask import Flask, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.wrappers import Response

from voucher_app.domain.errors import NotAuthenticated, PermissionDenied
from voucher_app.domain.policy import Action
from voucher_app.http.policy import ACCESS_ATTRIBUTE, ScopeOf, authorize

P = ParamSpec("P")
T = TypeVar("T")
csrf = CSRFProtect()


def init_app(app: Flask) -> None:
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)  # checked below, for pages only
    csrf.init_app(app)
    app.before_request(_protect_forms)
    app.register_error_handler(CSRFError, _expired_form)


def _protect_forms() -> None:
    if request.method not in ("GET", "HEAD", "OPTIONS") and not request.path.startswith("/api/"):
        csrf.protect()


def _expired_form(error: CSRFError) -> tuple[str, int]:
    message = gettext("This form has expired or did not come from this site. Please try again.")
    return render_template("web/error.html", message=message), 400


def page(
    action: Action, scope: ScopeOf | None = None
) -> Callable[[Callable[P, T]], Callable[P, T | Response]]:
    """Show the page if the signed-in user may take `action` where `scope` finds from the
    path's values (`http.policy.scope_by`; everywhere without one); else the sign-in page, or a
    403 page."""

    def decorate(view: Callable[P, T]) -> Callable[P, T | Response]:
        @functools.wraps(view)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> T | Response:
            try:
                authorize(action, scope, dict(kwargs))
            except NotAuthenticated:
                return redirect(url_for("session.sign_in", next=request.full_path))
            except PermissionDenied:
                message = gettext("Your account may not open this page.")
                return Response(render_template("web/error.html", message=message), 403)
            return view(*args, **kwargs)

        setattr(guarded, ACCESS_ATTRIBUTE, action)
        return guarded

    return decorate


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
