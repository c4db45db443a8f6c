"""What a domain error means over HTTP: the status its family implies (invalid input 400, not
signed in 401, not allowed 403, not found 404, conflict 409, anything else our fault: 500).

One mapping, so that the API's problem documents (`api.problems`) and the pages' error pages
(`web.errors`) answer the same refusal with the same status.
"""

from __future__ import annotations

from voucher_app.domain.errors import (
    Conflict,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    VoucherError,
)


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
