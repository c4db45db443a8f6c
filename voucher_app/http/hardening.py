"""What every answer carries and what no client may overdo: security headers, and rate limits
(Flask-Limiter) on signing in, registering, claiming vouchers, redeeming them and checking the
whole ledger.

A limit belongs to a use case (`LIMITS`: "sign_in", "claim", "redeem", …), whether a client
takes it through the API or through a page's form: the API and the pages each say which of
their routes does which (`limit_posts`), so a page has the same limit as its API route. Each
route still counts its own requests.

Limits count per client address, in memory by default; set `VOUCHER_RATELIMIT_STORAGE_URI`
(e.g. `redis://cache:6379/0`) so that every gunicorn worker and instance counts together. With
memory, each process counts alone: two workers let a client through twice as often. A server
started in production with it says so in its log (a WARNING naming the variable) rather than
refusing: one process alone, or a proxy that limits in front, is a setup memory serves right.
A storage URI the limiter cannot use stops the start, naming the variable.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import click
from flask import Flask, Response
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits.errors import ConfigurationError as StorageUriError

from voucher_app.wiring import ConfigurationError

log = logging.getLogger(__name__)

#: Use case → limit on the POSTs that take it. Signing in is also guarded by the lockout per
#: user name.
LIMITS = {
    "sign_in": "10 per minute; 100 per hour",
    "register_account": "10 per hour",
    "apply_provider": "10 per hour",
    "register_sme": "30 per hour",
    "claim": "30 per minute",
    "redeem": "120 per minute",
    "verify_ledger": "3 per minute",
}
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Cross-Origin-Opener-Policy": "same-origin",
}


LIMITER = "voucher_app.limiter"
#: Storage schemes whose counters live in one process only.
PER_PROCESS = frozenset({"memory", "async+memory"})
COUNTING_ALONE = (
    "VOUCHER_RATELIMIT_STORAGE_URI is memory://: each worker and instance counts rate limits "
    "alone, so a client gets each limit once per process (set it to a Redis URL, "
    "redis://HOST:6379/0, that every process shares)"
)


def counts_alone(storage_uri: str) -> bool:
    """Whether rate-limit counters in this storage are seen by this process only."""
    return storage_uri.partition("://")[0].strip().lower() in PER_PROCESS


def limit_posts(app: Flask, uses: Mapping[str, str]) -> None:
    """Rate-limit the POSTs of these endpoints per client address, each by the limit of the
    use case it takes (endpoint → use case). Call after `init_app`, once the views are
    registered."""
    limiter: Limiter = app.extensions[LIMITER]
    for endpoint, use in uses.items():
        limited: Any = limiter.limit(LIMITS[use], methods=["POST"])  # typed for async views too
        app.view_functions[endpoint] = limited(app.view_functions[endpoint])


def init_app(app: Flask) -> None:
    """The limiter and the headers; `limit_posts` then limits the routes."""
    storage_uri = str(app.config["RATELIMIT_STORAGE_URI"])
    try:
        limiter = Limiter(
            get_remote_address, app=app, storage_uri=storage_uri, headers_enabled=True
        )
    except StorageUriError:
        # Only its scheme is said: the URI may hold a password.
        scheme = storage_uri.partition("://")[0] or "(none)"
        raise ConfigurationError(
            f"VOUCHER_RATELIMIT_STORAGE_URI: the rate limiter cannot use a {scheme!r} storage; "
            "use memory:// (one process) or redis://HOST:6379/0 (shared by every process)"
        ) from None
    # The views below hold the limiter weakly; with RATELIMIT_ENABLED false it registers
    # nothing on the app, so without this reference it would be collected and they would fail.
    app.extensions[LIMITER] = limiter
    production = bool(app.config.get("PRODUCTION"))
    served = click.get_current_context(silent=True) is None  # not a `flask …` command
    if production and served and limiter.enabled and counts_alone(storage_uri):
        log.warning(COUNTING_ALONE)

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
