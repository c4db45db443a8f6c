"""What the pages' forms share: the filter forms that are GET forms, and amounts typed in yuan.

A filter form (the dashboard's programme and months, the catalogue's search) reads the query
string, so the view it chose is a link anyone can share or bookmark; it changes nothing, so it
carries no CSRF token. An amount typed in yuan is parsed here, at the edge, into fen
(`domain.money`); a wrong one is an error next to its field, never a 500.
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask_wtf import FlaskForm
from wtforms import Field

from voucher_app.domain.errors import InvalidAmount
from voucher_app.domain.money import parse_yuan
from voucher_app.web.messages import explain


class FilterForm(FlaskForm):  # type: ignore[misc]
    """A form read from the query string (a GET form), without a CSRF token."""

    class Meta:
        csrf = False

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(formdata=request.args, **kwargs)


def yuan_of(field: Field, *, optional: bool = False) -> int | None:
    """The field's amount in fen; None when it is wrong (the reason put next to the field,
    with the stable code `invalid_amount`) or, when `optional`, left empty."""
    text = (field.data or "").strip()
    if optional and not text:
        return None
    try:
        return parse_yuan(text)
    except InvalidAmount as wrong:
        field.errors = [*field.errors, explain(wrong)]
        return None
