"""Model objects from the rows that the hot paths' prepared statements read.

A claim or a redemption step reads a few wide rows and changes them with statements of its
own. Loading them through the ORM (identity map, attribute events, a flush at commit) costs
several times what reading them does. Here a joined row's columns, each labelled with its
table's name so that two tables' `id` or `status` keep apart, become transient model objects:
the same attributes the services read, and no session behind them. The models have no
relationships to load lazily, so nothing such an object is asked can reach the database.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import Label, inspect
from sqlalchemy.orm import DeclarativeBase, configure_mappers

from voucher_app.persistence.database import table_of

M = TypeVar("M", bound=DeclarativeBase)


def labelled(model: type[DeclarativeBase]) -> list[Label[Any]]:
    """The model's columns, each labelled `<table>_<column>`, to select for `loaded`."""
    table = table_of(model)
    return [table.c[key].label(label) for key, label in _labels(model)]


def loaded(model: type[M], row: Mapping[str, Any]) -> M:
    """A transient `model` object holding its columns of a row read with `labelled`."""
    mapper = inspect(model)
    if not mapper.configured:
        configure_mappers()
    # As the ORM loads a row: straight into the instance's dict. The constructor would set the
    # attributes one by one through their events, several times the cost for these wide rows.
    instance = mapper.class_manager.new_instance()
    assert isinstance(instance, model)
    instance.__dict__.update({key: row[label] for key, label in _labels(model)})
    return instance


@cache
def _labels(model: type[DeclarativeBase]) -> tuple[tuple[str, str], ...]:
    """Each column's attribute key and its label in `labelled`."""
    table = table_of(model)
    return tuple((column.key, f"{table.name}_{column.key}") for column in table.c)
