"""Keyset pagination: a page starts after the row the cursor names, by the list's own order.

A cursor is the public id of the last item a client saw. Unlike an offset it stays right while
rows are added ahead of it, and the database seeks to it through the order's index instead of
counting past every earlier row.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select, tuple_
from sqlalchemy.orm import QueryableAttribute, Session
from sqlalchemy.sql import ColumnElement

from voucher_app.domain.errors import InvalidInput

S = TypeVar("S", bound=Select[*tuple[Any, ...]])
Column = QueryableAttribute[Any] | ColumnElement[Any]


def after(
    session: Session,
    query: S,
    order: tuple[Column, ...],
    anchor: Select[*tuple[Any, ...]] | None,
) -> S:
    """`query` (ordered by `order`, unique) limited to the rows after the one `anchor` selects
    — a query of that row's `order` values; None: from the start."""
    if anchor is None:
        return query
    values = session.execute(anchor).one_or_none()
    if values is None:
        raise InvalidInput("the cursor names nothing in this list", field="after")
    return query.where(tuple_(*order) > tuple_(*values))
