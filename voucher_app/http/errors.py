"""What a failure means over HTTP, and who answers it.

A domain error's status follows from its family (invalid input 400, not signed in 401, not
allowed 403, not found 404, conflict 409, anything else our fault: 500): one mapping, so that
the API's problem documents (`api.problems`) and the pages' error pages (`web.errors`) answer
the same refusal with the same status.

Who answers follows from the path: the JSON API and what it publishes beside it (`API_PATHS`)
answer with problem documents, every other path with a page in the visitor's language. The
split is made by path, not by blueprint, because the failures that match no route (an unknown
address, a wrong method) belong to no blueprint and reach only the application's handlers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, request
from flask.typing import ErrorHandlerCallable, ResponseReturnValue

from voucher_app.domain.errors import (
    Conflict,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    VoucherError,
)

#: The paths whose clients are programs: the API, its keys, health and metrics.
API_PATHS = ("/api/", "/.well-known/", "/healthz", "/readyz", "/metrics")
#: Answers a failure of a request outside `API_PATHS`.
PageAnswer = Callable[[Exception], ResponseReturnValue]


def status_of(error: VoucherError) -> int:
    if isinstance(error, InvalidInput):
        return 400
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, Conflict):
        return 409
    if isinstance(error, NotAuthenticated):
        return 401
    if isinstance(error, PermissionDenied):
        return 403
    return 500


def for_the_api() -> bool:
    """Whether the request being handled is the API's (its failures are problem documents)."""
    return request.path.startswith(API_PATHS)


def answer_pages_with(app: Flask, answer: PageAnswer) -> None:
    """From now on `answer` answers every failure of a request outside `API_PATHS`, and the
    error handlers the application holds (the API's: call this after they are registered)
    answer only the API's. Flask keeps one application handler per exception class, so each
    is wrapped in the choice rather than registered beside it."""
    for handlers in app.error_handler_spec[None].values():
        for exception, handler in handlers.items():
            handlers[exception] = _unless_a_page(handler, answer)
    if Exception not in app.error_handler_spec[None][None]:
        app.register_error_handler(Exception, answer)


def _unless_a_page(handler: ErrorHandlerCallable, answer: PageAnswer) -> ErrorHandlerCallable:
    def choose(error: Exception) -> Any:  # the handler's answer, whatever Flask lets it be
        return handler(error) if for_the_api() else answer(error)

    return choose
