"""Failures on a page are pages too: the visitor's language, the site's frame, a way back —
never the API's JSON problem, a stack trace or SQL. Registered on each page blueprint
(`as_pages`), so they take precedence over the API's handlers for its requests."""

from __future__ import annotations

import logging

from flask import Blueprint, render_template
from flask_babel import gettext
from werkzeug.exceptions import HTTPException

from voucher_app.domain.errors import LedgerFault, VoucherError
from voucher_app.http.errors import status_of
from voucher_app.web.messages import explain

log = logging.getLogger(__name__)


def as_pages(blueprint: Blueprint) -> None:
    """Answer the blueprint's failures with the error page."""
    blueprint.register_error_handler(VoucherError, _refused)
    blueprint.register_error_handler(LedgerFault, _unexpected)  # a fault, not a refusal
    blueprint.register_error_handler(HTTPException, _http_error)
    blueprint.register_error_handler(Exception, _unexpected)


def _page(message: str, status: int) -> tuple[str, int]:
    return render_template("web/error.html", message=message), status


def _refused(error: VoucherError) -> tuple[str, int]:
    status = status_of(error)
    if status >= 500:
        log.error("%s: %s", error.code, error.message)
        return _page(gettext("Something went wrong on our side. Please try again later."), 500)
    return _page(explain(error), status)


def _http_error(error: HTTPException) -> tuple[str, int]:
    status = error.code or 500
    if status == 404:
        return _page(gettext("There is no such page."), 404)
    if status == 413:
        return _page(gettext("The file is too large."), 413)
    if status == 429:
        return _page(gettext("Too many attempts from here: wait a little and try again."), 429)
    return _page(gettext("This request could not be handled."), status)


def _unexpected(error: Exception) -> tuple[str, int]:
    log.exception("unhandled error on a page")
    return _page(gettext("Something went wrong on our side. Please try again later."), 500)
