"""The JSON API under /api/v1 (flask-smorest), its OpenAPI document and its error format."""

from __future__ import annotations

from flask import Flask

from voucher_app import metrics, observability
from voucher_app.api import (
    accounts,
    catalogue,
    docs,
    health,
    idempotency,
    issuance,
    ledger,
    notice,
    parties,
    programmes,
    providers,
    redemptions,
    reports,
    settlement,
    smes,
    statements,
    tracking,
    unstorable,
    vouchers,
)
from voucher_app.api.problems import ProblemApi, register_problem_handlers
from voucher_app.http import auth, hardening, uploads

#: The routes a stranger could repeat, by the use case whose rate limit they take
#: (`http.hardening.LIMITS`; the pages doing the same have the same limit).
LIMITED = {
    "auth.Login": "sign_in",
    "users.Register": "register_account",
    "providers.Apply": "apply_provider",
    "smes.Register": "register_sme",
    "smes.SmeVouchers": "claim",  # claims (listing an SME's vouchers is not limited)
    "redemptions.Submit": "redeem",
}


def init_app(app: Flask) -> None:
    """The API, and with it the request hooks the pages rely on too (request ids, metrics,
    sign-in, the upload limit, the rate limiter and headers), in the order they must run."""
    # First, so that every later hook (and what it logs) sees the request id, and their
    # after-request hooks run after all others (they see the final answer).
    observability.init_app(app)
    metrics.init_app(app)
    auth.init_app(app)
    api = ProblemApi(app, spec_kwargs={"extra_plugins": [idempotency.KeyDocumentation()]})
    api.register_blueprint(accounts.auth, url_prefix="/api/v1/auth")
    api.register_blueprint(accounts.people, url_prefix="/api/v1")
    api.register_blueprint(ledger.blp, url_prefix="/api/v1/ledger")
    api.register_blueprint(vouchers.blp, url_prefix="/api/v1/vouchers")
    api.register_blueprint(programmes.blp, url_prefix="/api/v1/programmes")
    api.register_blueprint(providers.blp, url_prefix="/api/v1/providers")
    api.register_blueprint(redemptions.blp, url_prefix="/api/v1")
    api.register_blueprint(tracking.blp, url_prefix="/api/v1")
    api.register_blueprint(notice.blp, url_prefix="/api/v1")
    api.register_blueprint(settlement.blp, url_prefix="/api/v1")
    api.register_blueprint(smes.blp, url_prefix="/api/v1")
    api.register_blueprint(parties.blp, url_prefix="/api/v1")
    api.register_blueprint(issuance.blp, url_prefix="/api/v1")
    api.register_blueprint(statements.blp, url_prefix="/api/v1")
    api.register_blueprint(reports.blp, url_prefix="/api/v1/reports")
    api.register_blueprint(catalogue.blp, url_prefix="/api/v1/catalogue")
    api.register_blueprint(vouchers.keys)
    api.register_blueprint(health.blp)
    if app.config.get("METRICS_ENABLED", True):
        api.register_blueprint(health.metrics_blp)
    register_problem_handlers(app)
    docs.init_app(app)
    uploads.init_app(app)  # before idempotency: it raises the limit for the body it reads
    idempotency.init_app(app)
    hardening.init_app(app)
    hardening.limit_posts(app, LIMITED)
    unstorable.init_app(app)
