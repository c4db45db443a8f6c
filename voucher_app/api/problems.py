"""Errors as RFC 9457 `application/problem+json`, each with its stable `code`.

A domain error becomes a problem with the status its family implies (`http.errors`: invalid
input 400, not signed in 401, not allowed 403, not found 404, conflict 409). Validation
failures from request parsing become 422 problems listing the failing fields. Any other
exception is logged and answered with a bare 500 problem: no stack trace or SQL ever reaches a
client. Every problem carries the request's id (`request_id`, as in the `X-Request-Id` header
and the log lines the request wrote), so a client's report finds its log lines.
"""

from __future__ import annotations

import http
import logging
from typing import Any

from flask import Flask, Response, g, has_request_context, json
from flask_smorest import Api
from marshmallow import INCLUDE, Schema, fields
from werkzeug.exceptions import HTTPException, InternalServerError

from voucher_app import observability
from voucher_app.domain.errors import LedgerFault, VoucherError
from voucher_app.http.errors import status_of

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"


def problem(status: int, code: str, detail: str, extra: dict[str, Any] | None = None) -> Response:
    """The problem document; `extra` members (an error's details) never replace RFC 9457's,
    nor the request id. The code is also noted for the request's metrics (`metrics`)."""
    body = {
        **(extra or {}),
        "type": f"https://gd-sme-vouchers.example/problems/{code}",
        "title": code.replace("_", " "),
        "status": status,
        "code": code,
        "detail": detail,
    }
    request_id = observability.request_id()
    if request_id is not None:
        body["request_id"] = request_id
    if has_request_context():
        g.problem_code = code
    return Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)


class ProblemSchema(Schema):
    """The problem document every error answer is (for the OpenAPI document only)."""

    class Meta:
        unknown = INCLUDE  # an error's details ride along as extension members

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    code = fields.String(required=True, metadata={"description": "stable error code"})
    detail = fields.String(required=True)
    errors = fields.Dict(
        metadata={"description": "validation_failed: the failing fields, by location"}
    )
    request_id = fields.String(
        metadata={"description": "the request's id, as in its `X-Request-Id` answer header"}
    )


class ProblemApi(Api):  # type: ignore[misc]
    """flask-smorest's Api, answering HTTP errors (including 422 validation) as problems, and
    documenting its error responses as the `application/problem+json` documents they are."""

    ERROR_SCHEMA = ProblemSchema

    def _register_responses(self) -> None:
        """flask-smorest's default error responses (one per status, and DEFAULT_ERROR), with
        the problem media type instead of its `application/json`."""
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if not 100 <= status < 200 and status not in (204, 304):
                response["content"] = {PROBLEM_JSON: {"schema": self.ERROR_SCHEMA}}
            self.spec.components.response(status.name, response, lazy=True)
        self.spec.components.response(
            self.DEFAULT_ERROR_RESPONSE_NAME,
            {
                "description": "An error, as an RFC 9457 problem",
                "content": {PROBLEM_JSON: {"schema": self.ERROR_SCHEMA}},
            },
            lazy=True,
        )

    def handle_http_exception(self, error: HTTPException) -> Response:
        status = error.code or 500
        code = (error.name or "error").lower().replace(" ", "_")
        extra: dict[str, Any] = {}
        messages = getattr(error, "data", {}).get("messages")
        if messages is not None:
            code = "validation_failed"
            extra["errors"] = messages
        detail = "the request did not validate" if messages is not None else error.description
        return problem(status, code, detail or code, extra)


def register_problem_handlers(app: Flask) -> None:
    @app.errorhandler(VoucherError)
    def _domain_error(error: VoucherError) -> Response:
        status = status_of(error)
        if status >= 500:  # our fault: the operators read the details in the log, not clients
            log.error("%s: %s", error.code, error.message)
            return problem(status, error.code, InternalServerError.description)
        details = {k: v for k, v in error.details.items() if _is_plain(v)}
        response = problem(status, error.code, error.message, details)
        if status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="gd-sme-vouchers"'
        return response

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        if isinstance(error, HTTPException):
            return problem(error.code or 500, "http_error", error.description or "")
        log.exception("unhandled error")
        return problem(500, "internal_error", InternalServerError.description)

    # The ledger's own fault is no refusal: answered and logged like any other failure.
    app.register_error_handler(LedgerFault, _unexpected)


def _is_plain(value: object) -> bool:
    """A value a problem document carries as it is: a string, number, flag or nothing, or a
    list of strings (what two related parties share)."""
    if isinstance(value, list):
        return all(isinstance(item, str) for item in value)
    return isinstance(value, str | int | bool) or value is None
