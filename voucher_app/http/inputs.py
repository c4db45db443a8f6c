"""Bounds on what a request may carry, where the API's schemas and the pages' forms take the
same thing: both refuse the same input, so neither is the way round the other's limit.

A voucher token is a compact JWS of a few hundred bytes; one past `MAX_TOKEN` characters is
refused before anything decodes it. A day in a path (a notice list's) is an ISO date.
"""

from __future__ import annotations

from datetime import date

from voucher_app.domain.errors import InvalidInput

MAX_TOKEN = 4096


def day_of(text: str) -> date:
    """A day written YYYY-MM-DD, or `InvalidInput` on the field `day`."""
    try:
        if len(text) == len("2026-12-07"):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise InvalidInput("a day is written YYYY-MM-DD", rule="day", field="day")
