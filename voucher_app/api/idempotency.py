"""The Idempotency-Key header on every state-changing API request (`services.idempotency`).

A POST, PUT, PATCH or DELETE that carries the header runs in one transaction held for the whole
request (`HeldUnitOfWork`): it first reserves the key, for its owner (the signed-in user, else
the client address) with a digest of the method, path, query and body, and the answer is written
to the key just before everything commits. A retry gets the first answer back, marked
`Idempotent-Replayed: true`. What is not an answer is never stored: a server error, a lost race
(`concurrent_request`), a rate limit — the work is rolled back and a retry runs again. Signing in
and out are left out: their answer is a session, not a stored document. `KeyDocumentation`
declares the header on those same operations in the OpenAPI document.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from typing import Any

from apispec import APISpec, BasePlugin
from flask import Flask, Response, g, request

from voucher_app.api.problems import problem
from voucher_app.domain.errors import IdempotencyKeyAnswered
from voucher_app.http.auth import UNSAFE, current_principal
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.services import idempotency
from voucher_app.wiring import current

log = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
SESSION_ENDPOINTS = frozenset({"auth.Login", "auth.Logout"})
#: Answers that are not the request's outcome: a retry must run it again.
TRANSIENT_CODES = frozenset({"concurrent_request"})


class KeyDocumentation(BasePlugin):
    """An apispec plugin: the optional Idempotency-Key header parameter on every operation
    the header applies to (unsafe methods under /api/, signing in and out aside)."""

    COMPONENT = "IDEMPOTENCY_KEY"

    def init_spec(self, spec: APISpec) -> None:
        super().init_spec(spec)
        spec.components.parameter(
            self.COMPONENT,
            "header",
            {
                "name": HEADER,
                "required": False,
                "description": "Makes a retry safe: a retry with the same key and body gets "
                "the first answer again (`Idempotent-Replayed: true`); the same key with "
                "another body is refused (409 `idempotency_key_reused`).",
                "schema": {"type": "string", "minLength": 1, "maxLength": idempotency.MAX_KEY},
            },
            lazy=True,
        )

    def operation_helper(
        self,
        path: str | None = None,
        operations: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        rule = kwargs.get("rule")
        if not path or not path.startswith("/api/") or operations is None:
            return
        if rule is not None and rule.endpoint in SESSION_ENDPOINTS:
            return
        for method, operation in operations.items():
            if method.upper() in UNSAFE:
                operation.setdefault("parameters", []).append(self.COMPONENT)


def init_app(app: Flask) -> None:
    app.before_request(_before)
    app.after_request(_after)
    app.teardown_request(_release)
    app.register_error_handler(IdempotencyKeyAnswered, _replay_answered)


def _applies() -> bool:
    return (
        request.method in UNSAFE
        and HEADER in request.headers
        and request.path.startswith("/api/")
        and request.endpoint not in SESSION_ENDPOINTS
    )


def _owner() -> str:
    principal = current_principal()
    return principal.username if principal else f"anonymous:{request.remote_addr}"


def _digest() -> bytes:
    """What tells a retry from another request under the same key: keyed (HMAC-SHA256 under the
    deployment's matching key), because a body may hold a legal representative's ID number,
    and a plain hash of a body that varies in so few digits can be found by trying them all."""
    material = b"\n".join(
        (
            request.method.encode(),
            request.path.encode(),
            request.query_string,
            request.get_data(cache=True),
        )
    )
    return hmac.new(current().matching_key().secret, material, hashlib.sha256).digest()


def _before() -> Response | None:
    if not _applies():
        return None
    key = request.headers[HEADER]
    idempotency.check_key(key)
    parts = current()
    hours = int(parts.idempotency_key_hours)

    def reserve(uow: UnitOfWork) -> None:
        owner, key, digest = g.idempotency
        idempotency.reserve(uow, owner, key, digest, hours=hours)

    # Held from here: the principal's lookup, the key's reservation, the access decision, the
    # work and the answer all run in this one transaction.
    held = g.held_uow = parts.held_uow(reserve)
    held.begin()
    owner, digest = _owner(), _digest()
    # A twin in flight makes this wait for its outcome.
    stored = held.open(lambda uow: idempotency.take(uow, owner, key, digest, hours=hours))
    if stored is not None:
        g.pop("held_uow").finish(None)
        return _replay(stored)
    g.idempotency = (owner, key, digest)
    return None


def _after(response: Response) -> Response:
    held = g.pop("held_uow", None)
    claimed = g.get("idempotency")
    if held is None:
        return response
    if claimed is None or not _is_answer(response):  # refused before its key was claimed
        held.finish(None)
        return response
    owner, key, _ = claimed
    answer = idempotency.StoredAnswer(
        response.status_code, response.content_type, response.get_data()
    )
    try:
        held.finish(lambda uow: idempotency.record(uow, owner, key, answer))
    except IdempotencyKeyAnswered:
        return _answered()
    except Exception:  # the commit's outcome is unknown: a retry with the key finds out
        log.exception("committing the request under Idempotency-Key %r failed", key)
        return problem(
            503,
            "outcome_unknown",
            "the outcome of this request is unknown: send it again with the same "
            "Idempotency-Key to get its answer, or to run it once",
        )
    return response


def _release(_error: BaseException | None) -> None:
    """A request that ended without `_after` (a hook before it failed) commits nothing."""
    held = g.pop("held_uow", None)
    if held is not None:
        held.finish(None)


def _is_answer(response: Response) -> bool:
    """Whether the response is the request's outcome, to keep for a retry."""
    if response.status_code >= 500 or response.status_code == 429:
        return False
    if response.mimetype == "application/problem+json":
        code = (response.get_json(silent=True) or {}).get("code")
        return code not in TRANSIENT_CODES
    return True


def _replay(stored: idempotency.StoredAnswer) -> Response:
    replay = Response(stored.body, status=stored.status, content_type=stored.content_type)
    replay.headers["Idempotent-Replayed"] = "true"
    return replay


def _replay_answered(_: IdempotencyKeyAnswered) -> Response:
    """The work met a twin's committed reservation (`reserve` run again after a lost race)."""
    return _answered()


def _answered() -> Response:
    """A request with the key committed first (or while this one waited): its answer, in a
    transaction of its own."""
    owner, key, digest = g.get("idempotency") or (_owner(), request.headers[HEADER], _digest())
    held = g.pop("held_uow", None)
    if held is not None:
        held.finish(None)
    parts = current()
    stored = idempotency.answer_for(
        parts.uow(), owner, key, digest, hours=int(parts.idempotency_key_hours)
    )
    if stored is None:  # it expired meanwhile: the client may send it again
        return problem(409, "concurrent_request", "a request with this key just ended")
    return _replay(stored)
