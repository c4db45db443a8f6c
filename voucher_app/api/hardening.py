"""What every answer carries and what no client may overdo: security headers, and rate limits
(Flask-Limiter) on signing in, registering, claiming vouchers and redeeming them.

Limits count per client address, in memory by default; set `VOUCHER_RATELIMIT_STORAGE_URI`
(e.g. `redis://cache:6379/0`) so that every gunicorn worker and instance counts together.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

#: Endpoint → limit on its POSTs. Signing in is also guarded by the per-account lockout.
LIMITS = {
    "auth.Login": "10 per minute; 100 per hour",
    "users.Register": "10 per hour",
    "providers.Apply": "10 per hour",
    "smes.Register": "30 per hour",
    "smes.SmeVouchers": "30 per minute",  # claims (listing an SME's vouchers is not limited)
    "redemptions.Submit": "120 per minute",
}
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Cross-Origin-Opener-Policy": "same-origin",
}


LIMITER = "voucher_app.limiter"


def limit_posts(app: Flask, limits: dict[str, str]) -> None:
    """Rate-limit the POSTs of these endpoints per client address (the pages' forms use this
    too, once their views are registered)."""
    limiter: Limiter = app.extensions[LIMITER]
    for endpoint, limit in limits.items():
        limited: Any = limiter.limit(limit, methods=["POST"])  # typed for async views too
        app.view_functions[endpoint] = limited(app.view_functions[endpoint])


def init_app(app: Flask) -> None:
    """Call after the routes are registered: the limits wrap their views."""
    limiter = Limiter(
        get_remote_address,
        app=app,
        storage_uri=app.config["RATELIMIT_STORAGE_URI"],
        headers_enabled=True,
    )
    # The views below hold the limiter weakly; with RATELIMIT_ENABLED false it registers
    # nothing on the app, so without this reference it would be collected and they would fail.
    app.extensions[LIMITER] = limiter
    limit_posts(app, LIMITS)
    production = bool(app.config.get("PRODUCTION"))

    @app.after_request
    def _headers(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if production:
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )
        response.headers.setdefault("Cache-Control", "no-store")
        return response
