"""Cursor pagination for list routes: `?after=…&limit=…` in, `{"items": […], "next": …}` out.

`next` is the cursor of the page's last item when more follow (null on the last page); the
services read `limit + 1` rows so the route knows whether they do without counting.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from marshmallow import Schema, fields, validate

T = TypeVar("T")
DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class PageArgs(Schema):
    after = fields.UUID(
        load_default=None, metadata={"description": "the `next` cursor of the page before"}
    )
    limit = fields.Integer(
        load_default=DEFAULT_LIMIT, validate=validate.Range(min=1, max=MAX_LIMIT)
    )


def page_schema(item: type[Schema]) -> type[Schema]:
    """The schema of a page of `item`s, named after it (`ComplaintPage` for `ComplaintSchema`)."""
    name = item.__name__.removesuffix("Schema") + "Page"
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item), required=True),
            "next": fields.String(
                required=True,
                allow_none=True,
                metadata={"description": "`after` for the next page; null on the last"},
            ),
        },
        name=name,
    )


def page(found: Sequence[T], limit: int, cursor: Callable[[T], object]) -> dict[str, Any]:
    """The page of `found` (up to `limit + 1` rows, in order) and the cursor past it."""
    items = list(found[:limit])
    more = len(found) > limit
    return {"items": items, "next": str(cursor(items[-1])) if more else None}
