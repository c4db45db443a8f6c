"""The Idempotency-Key header on every state-changing API request (`services.idempotency`).

Before a POST, PUT, PATCH or DELETE that carries the header runs, its key is claimed for its
owner (the signed-in user, else the client address) with a digest of the method, path, query
and body; a retry gets the first answer back, marked `Idempotent-Replayed: true`. Signing in
and out are left out: their answer is a session, not a stored document. `KeyDocumentation`
declares the header on those same operations in the OpenAPI document.
"""

from __future__ import annotations

import hashlib
from typing import Any

from apispec import APISpec, BasePlugin
from flask import Flask, Response, g, request

from voucher_app.api.auth import UNSAFE, current_principal
from voucher_app.services import idempotency
from voucher_app.wiring import current

HEADER = "Idempotency-Key"
SESSION_ENDPOINTS = frozenset({"auth.Login", "auth.Logout"})


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
    material = b"\n".join(
        (
            request.method.encode(),
            request.path.encode(),
            request.query_string,
            request.get_data(cache=True),
        )
    )
    return hashlib.sha256(material).digest()


def _before() -> Response | None:
    if not _applies():
        return None
    owner, key = _owner(), request.headers[HEADER]
    stored = idempotency.begin(current().uow(), owner, key, _digest())
    if stored is None:
        g.idempotency = (owner, key)
        return None
    replay = Response(stored.body, status=stored.status, content_type=stored.content_type)
    replay.headers["Idempotent-Replayed"] = "true"
    return replay


def _after(response: Response) -> Response:
    claimed = g.pop("idempotency", None)
    if claimed is None:
        return response
    owner, key = claimed
    uow = current().uow()
    if response.status_code >= 500:
        idempotency.abandon(uow, owner, key)  # our failure: let a retry run again
    else:
        answer = idempotency.StoredAnswer(
            response.status_code, response.content_type, response.get_data()
        )
        idempotency.finish(uow, owner, key, answer)
    return response
