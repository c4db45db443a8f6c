"""Server-rendered pages for the people who use the scheme day to day — an SME clerk on a
phone, a provider at a service desk, a center reviewer, a finance auditor — over the same
services as the JSON API, in Chinese by default and English one click away.

Each module is one area of the site; `i18n` chooses the language and formats amounts and dates;
`guard` signs pages in (the session `http.auth` reads), asks the same access gate as the API
(`http.policy`) — for the pages' routes and for the forms they show — and requires a CSRF token
on every form; `errors` answers every failure outside the API with a page.
"""

from __future__ import annotations

from flask import Flask, Response, request

from voucher_app.http import hardening
from voucher_app.web import (
    center,
    dashboard,
    errors,
    evaluation,
    finance,
    forms,
    guard,
    i18n,
    notice,
    programmes,
    provider,
    public,
    redemptions,
    registration,
    session,
    sme,
    tasks,
)

#: The pages' forms that a stranger could repeat, by the use case whose rate limit they take
#: (`http.hardening.LIMITS`): the same limits as the API's routes that do the same.
PAGE_LIMITS = {
    "session.sign_in": "sign_in",
    # An SME registers with its clerk's account: the account's limit, the stricter.
    "registration.register_sme": "register_account",
    "registration.apply_provider": "apply_provider",
    "sme.claim": "claim",
    "provider.redeem": "redeem",
    "public.verify_now": "verify_ledger",  # center staff check the whole ledger: a page only
}

#: Pages load their styles and scripts from this origin only (vendored, never a CDN).
#: The scanner runs its decoder in a worker it builds from a blob, and shows the camera.
PAGE_POLICY = (
    "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
    "worker-src 'self' blob:; frame-ancestors 'none'; form-action 'self'"
)


def init_app(app: Flask) -> None:
    """Call after the API's `init_app`: it sets up the hooks the pages share (sign-in, the
    upload limit, the rate limiter), and the pages' policy header is set before its default."""
    app.jinja_env.trim_blocks = app.jinja_env.lstrip_blocks = True
    i18n.init_app(app)
    guard.init_app(app)
    errors.init_app(app)
    app.jinja_env.globals["form_problems"] = forms.problems
    app.register_blueprint(public.blp)
    app.register_blueprint(notice.blp)
    app.register_blueprint(session.blp)
    app.register_blueprint(registration.blp)
    app.register_blueprint(sme.blp)
    app.register_blueprint(provider.blp)
    app.register_blueprint(redemptions.blp)
    app.register_blueprint(center.blp)
    app.register_blueprint(programmes.blp)
    app.register_blueprint(dashboard.blp)
    app.register_blueprint(evaluation.blp)
    app.register_blueprint(finance.blp)
    app.register_blueprint(tasks.blp)

    hardening.limit_posts(app, PAGE_LIMITS)

    @app.after_request
    def _page_policy(response: Response) -> Response:
        if response.mimetype == "text/html" and not request.path.startswith("/api/"):
            response.headers.setdefault("Content-Security-Policy", PAGE_POLICY)
        return response
