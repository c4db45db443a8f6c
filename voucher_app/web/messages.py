"""What a page says when a service refuses: the stable error code, in the visitor's language.

The services' messages are for logs and API clients; people read these. A code without an
entry here falls back to the error's own Chinese or English message.
"""

from __future__ import annotations

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import Field

from voucher_app.domain.errors import VoucherError
from voucher_app.web.i18n import current_language

BY_CODE = {
    "invalid_credentials": lazy_gettext("Wrong user name or password."),
    "account_locked": lazy_gettext(
        "Too many failed sign-ins: this account is locked for 15 minutes."
    ),
    "account_inactive": lazy_gettext("This account is waiting for approval, or is disabled."),
}


def place(form: FlaskForm, error: VoucherError) -> str | None:
    """Put the refusal next to the form field it names; answer it when it names none."""
    field = getattr(form, str(error.details.get("field")), None)
    if isinstance(field, Field):
        field.errors = [*field.errors, explain(error)]
        return None
    return explain(error)


def explain(error: VoucherError) -> str:
    known = BY_CODE.get(error.code)
    if known is not None:
        return str(known)
    if current_language() == "zh_CN" and error.message_zh:
        return error.message_zh
    return error.message
