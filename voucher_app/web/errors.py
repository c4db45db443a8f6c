"""Failures on a page are pages too: in the page's language, in the site's frame, with the
right status, a sentence saying what happened and one saying what to do next — never the API's
JSON problem, a stack trace, SQL or a page the browser shows as source.

One answer for every failure of a page request (`answer`), whichever blueprint's view raised it
or none (an unknown address, a wrong method): `http.errors.answer_pages_with` gives it every
request outside the API, and the API keeps its problem documents. A visitor who is not signed
in is sent to sign in rather than refused (`guard.to_sign_in`).
"""

from __future__ import annotations

import logging

from flask import Flask, current_app, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import LazyString, lazy_gettext
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from voucher_app import observability
from voucher_app.domain.errors import LedgerFault, NotAuthenticated, VoucherError
from voucher_app.http.auth import current_principal
from voucher_app.http.errors import answer_pages_with, status_of
from voucher_app.web.guard import home_of, to_sign_in
from voucher_app.web.messages import explain

log = logging.getLogger(__name__)

#: What happened, by status; a status not named here reads as its family's (400 or 500).
HAPPENED: dict[int, LazyString] = {
    400: lazy_gettext("This request could not be handled."),
    403: lazy_gettext("Your account may not do this."),
    404: lazy_gettext("There is no such page."),
    405: lazy_gettext("This address does not take what was sent to it."),
    409: lazy_gettext("This changed meanwhile."),
    413: lazy_gettext("The file is too large."),
    429: lazy_gettext("Too many attempts from here: wait a little and try again."),
    500: lazy_gettext("Something went wrong on our side. Please try again later."),
}
#: What the visitor can do next, by status.
NEXT: dict[int, LazyString] = {
    400: lazy_gettext("Go back, check what you entered and send it again."),
    403: lazy_gettext(
        "If your work needs it, ask your service center's administrator, or sign in with an "
        "account that may."
    ),
    404: lazy_gettext("Check the address, or start again from the home page."),
    405: lazy_gettext("Go back to the page with the form and send it from there."),
    409: lazy_gettext("Reload the page to see where things stand now, then try again."),
    413: lazy_gettext("Send a file of at most %(size)s, or split it into several."),
    429: lazy_gettext("Wait a minute, then try again."),
    500: lazy_gettext(
        "If it keeps happening, tell your service center the time and this reference: "
        "%(reference)s."
    ),
}
#: A refusal to show a page (a GET), rather than to do what a form asked.
MAY_NOT_OPEN = lazy_gettext("Your account may not open this page.")
EXPIRED_FORM = lazy_gettext(
    "This form has expired or did not come from this site. Please try again."
)
RELOAD_FORM = lazy_gettext("Reload the page the form is on, fill it in and send it again.")


def init_app(app: Flask) -> None:
    """Answer page requests' failures with pages. Call after the API's `init_app`."""
    answer_pages_with(app, answer)


def answer(error: Exception) -> ResponseReturnValue:
    """The page for a failure of a page request."""
    if isinstance(error, NotAuthenticated):
        return to_sign_in()
    if isinstance(error, CSRFError):
        return error_page(400, str(EXPIRED_FORM), str(RELOAD_FORM))
    if isinstance(error, VoucherError) and not isinstance(error, LedgerFault):
        status = status_of(error)
        if status < 500:
            return error_page(status, _refusal(error))
        log.error("%s: %s", error.code, error.message)
        return error_page(500)
    if isinstance(error, HTTPException):
        # Its headers say what the status needs said (405's Allow), but the type is ours.
        headers = [(name, value) for name, value in error.get_headers() if name != "Content-Type"]
        return *error_page(error.code or 500), headers
    log.exception("unhandled error on a page")
    return error_page(500)


def error_page(
    status: int, happened: str | None = None, next_step: str | None = None
) -> tuple[str, int]:
    """The error page: what happened (the status's own sentence unless told) and what to do."""
    family = status if status in HAPPENED else (500 if status >= 500 else 400)
    return render_template(
        "web/error.html",
        status=status,
        message=happened or HAPPENED[family],
        next_step=next_step or _next_step(family),
        home=home_of(current_principal()),
    ), status


def _refusal(error: VoucherError) -> str:
    """A service's refusal: its own sentence where the catalogue has one. A bare "not
    allowed" has none worth showing (its English message names roles and actions)."""
    if error.code == "permission_denied":
        return str(MAY_NOT_OPEN if request.method in ("GET", "HEAD") else HAPPENED[403])
    return explain(error)


def _next_step(status: int) -> str:
    return str(NEXT[status]) % {"size": _size(), "reference": observability.request_id() or "-"}


def _size() -> str:
    """The largest body this request could have sent, in megabytes."""
    limit = request.max_content_length or current_app.config.get("MAX_CONTENT_LENGTH") or 0
    return f"{limit / (1024 * 1024):g} MB"
