"""Text no database can store — a NUL character, which PostgreSQL refuses in any text column,
or an unpaired surrogate, which is not UTF-8 — refused as a 422 naming its fields before any
route parses it, so that it never reaches a query as a server error."""

from __future__ import annotations

from typing import Any

from flask import Flask, request
from flask_smorest import abort

UNSTORABLE = "text with a NUL character or an unpaired surrogate cannot be stored"


def init_app(app: Flask) -> None:
    app.before_request(_refuse_unstorable_text)


def _refuse_unstorable_text() -> None:
    """A 422 `validation_failed` naming every path value, query argument and JSON member (or
    member name) that holds text no database column can store."""
    if not request.path.startswith("/api/"):
        return
    errors: dict[str, Any] = {}
    path = {
        name: [UNSTORABLE]
        for name, value in (request.view_args or {}).items()
        if _unstorable(value)
    }
    query = {
        name: [UNSTORABLE]
        for name, values in request.args.lists()
        if _unstorable(name) or any(_unstorable(value) for value in values)
    }
    try:
        body = _unstorable(request.get_json(silent=True)) if request.is_json else None
    except RecursionError:  # nested deeper than the parser goes: as malformed as bad syntax
        abort(400, messages={"json": ["Invalid JSON body."]})
    for location, found in (("path", path), ("query", query), ("json", body)):
        if found:
            errors[location] = found
    if errors:
        abort(422, messages=errors)


def _unstorable(value: object) -> Any:
    """None when `value` (a JSON value) is storable; else where it is not, as marshmallow
    reports failing fields (`["message"]`, or a dict of them by member name or list index)."""
    if isinstance(value, str):
        try:
            value.encode()
        except UnicodeEncodeError:
            return [UNSTORABLE]
        return [UNSTORABLE] if "\x00" in value else None
    items: list[tuple[str, object]] = []
    if isinstance(value, dict):
        items = [(str(key), item) for key, item in value.items()]
    elif isinstance(value, list):
        items = [(str(index), item) for index, item in enumerate(value)]
    found = {}
    for key, item in items:
        inner = _unstorable(key) or _unstorable(item)
        if inner:
            found[key] = inner
    return found or None
