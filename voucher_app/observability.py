"""Request ids and the log context: what ties a client's report, an answer and the log together.

Every request gets an id: the caller's `X-Request-Id` when it is a sane value (1 to 128 visible
ASCII characters, no spaces — a proxy's or a client's id, safe to write into a log line), else a
new uuid4 hex. It is echoed in the answer's `X-Request-Id` header and put in problem documents
(`request_id`, see `api.problems`); while the request is handled it sits in a context variable,
and the log record factory `install_log_context` puts in place copies it onto every log record
as `request_id` (`-` outside a request), so every handler and formatter can show it — the JSON
lines of production and the plain ones alike (`app._configure_logging`).

One access line per request goes to the logger `voucher_app.access` at INFO: method, route (the
URL rule, not the path: no identifiers or query strings in it), status, duration in ms, and the
request id; its fields are also record attributes (`method`, `route`, `status`,
`duration_ms`) for the JSON formatter.
"""

from __future__ import annotations

import logging
import time
import uuid
from contextvars import ContextVar, Token
from typing import Any

from flask import Flask, Response, g, request

HEADER = "X-Request-Id"
MAX_LENGTH = 128
#: What a record's `request_id` says outside a request (a job, a command, start-up).
NO_REQUEST = "-"
#: The route label of a request no URL rule matched (a 404): never the raw path.
UNMATCHED = "<unmatched>"
#: The access line's fields, as attributes of its log record.
ACCESS_FIELDS = ("method", "route", "status", "duration_ms")

access_log = logging.getLogger("voucher_app.access")
_current: ContextVar[str | None] = ContextVar("voucher_request_id", default=None)


def request_id() -> str | None:
    """The id of the request being handled (None outside one)."""
    return _current.get()


def sane_request_id(value: str | None) -> str | None:
    """`value` when it may serve as a request id (1-128 visible ASCII characters), else None."""
    if not value or len(value) > MAX_LENGTH:
        return None
    if not all("!" <= char <= "~" for char in value):
        return None
    return value


def route() -> str:
    """The URL rule the request matched (`/api/v1/smes/<string:uscc>/vouchers`), else
    `UNMATCHED`: a label of bounded cardinality for metrics and the access log."""
    rule = request.url_rule
    return rule.rule if rule is not None else UNMATCHED


def elapsed() -> float:
    """Seconds since the request began (as far as this module saw it)."""
    began: float | None = g.get("request_began")
    return 0.0 if began is None else time.perf_counter() - began


def init_app(app: Flask) -> None:
    """Give every request its id and log its access line. Register before any other request
    hook, so that what those log carries the id too."""
    app.before_request(_begin)
    app.after_request(_finish)
    app.teardown_request(_end)


def _begin() -> None:
    g.request_began = time.perf_counter()
    rid = sane_request_id(request.headers.get(HEADER)) or uuid.uuid4().hex
    g.request_id = rid
    g.request_id_token = _current.set(rid)


def _finish(response: Response) -> Response:
    rid: str | None = g.get("request_id")
    if rid is None:  # a hook before ours answered: still give the answer an id
        rid = uuid.uuid4().hex
    response.headers[HEADER] = rid
    if access_log.isEnabledFor(logging.INFO):
        duration_ms = round(elapsed() * 1000, 1)
        matched = route()
        access_log.info(
            "%s %s %s %.1f ms",
            request.method,
            matched,
            response.status_code,
            duration_ms,
            extra={
                "method": request.method,
                "route": matched,
                "status": response.status_code,
                "duration_ms": duration_ms,
            },
        )
    return response


def _end(_error: BaseException | None) -> None:
    token: Token[str | None] | None = g.pop("request_id_token", None)
    if token is not None:
        _current.reset(token)


# --- the log context ----------------------------------------------------------------------------


def install_log_context() -> None:
    """Make every log record carry `request_id` (the id of the request being handled, or
    `NO_REQUEST`). Installed once per process, around whatever record factory is in place."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "adds_request_id", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.request_id = _current.get() or NO_REQUEST
        return record

    factory.adds_request_id = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


def record_request_id(record: logging.LogRecord) -> str:
    """The record's request id: what the factory put on it, else (a record made by another
    factory) the current request's, else `NO_REQUEST`."""
    found = getattr(record, "request_id", None)
    if isinstance(found, str):
        return found
    return _current.get() or NO_REQUEST
