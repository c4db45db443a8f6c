"""What a page says when a service refuses: the stable error code, in the visitor's language.

The services' messages are for logs and API clients; people read these. A code without an
entry here falls back to the error's own Chinese or English message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import flash
from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import Field

from voucher_app.domain.errors import VoucherError
from voucher_app.web.i18n import current_language

T = TypeVar("T")

#: Why a typed credit code is not one (`InvalidUSCC`'s reasons); the registration page's script
#: shows the same words as the code is typed.
USCC_REASONS = {
    "wrong_length": lazy_gettext("A unified social credit code has 18 characters."),
    "invalid_character": lazy_gettext(
        "A unified social credit code has only digits and capital letters (never I, O, S, V or Z)."
    ),
    "bad_check_character": lazy_gettext(
        "The last character does not match the others: is one of them mistyped?"
    ),
}
#: Which form field a refusal is about, when the service does not name one.
FIELD_OF_CODE = {"invalid_uscc": "uscc", "sme_exists": "uscc"}

BY_CODE = {
    "sme_exists": lazy_gettext(
        "This enterprise is registered already: sign in, or ask its service center."
    ),
    "user_exists": lazy_gettext("This user name is taken: choose another."),
    "weak_password": lazy_gettext(
        "Choose a password of at least 12 characters that is not common and not your user name."
    ),
    "invalid_credentials": lazy_gettext("Wrong user name or password."),
    "account_locked": lazy_gettext(
        "Too many failed sign-ins: this account is locked for 15 minutes."
    ),
    "account_inactive": lazy_gettext("This account is waiting for approval, or is disabled."),
}


def place(form: FlaskForm, error: VoucherError) -> None:
    """Put the refusal next to the form field it names, or above the page when it names none."""
    name = error.details.get("field") or FIELD_OF_CODE.get(error.code)
    field = getattr(form, str(name), None)
    if isinstance(field, Field):
        field.errors = [*field.errors, explain(error)]
    else:
        flash(explain(error), "error")


def attempt(step: Callable[[], T], success: Callable[[T], str]) -> T | None:
    """Take a service step a form asked for, and say above the page what it did — or why it
    was refused (then None)."""
    try:
        done = step()
    except VoucherError as refused:
        flash(explain(refused), "error")
        return None
    flash(success(done), "success")
    return done


def explain(error: VoucherError) -> str:
    reason = (
        USCC_REASONS.get(str(error.details.get("reason"))) if error.code == "invalid_uscc" else None
    )
    known = reason or BY_CODE.get(error.code)
    if known is not None:
        return str(known)
    if current_language() == "zh_CN" and error.message_zh:
        return error.message_zh
    return error.message
