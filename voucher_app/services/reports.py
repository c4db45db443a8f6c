"""Spend reports: what each center allocated, committed, redeemed, approved, paid, got back from
expired vouchers and had returned — its own figures and its subtree's rolled up, by programme,
service category, provider and month.

A report adds up `spend_facts` (`services.spend_facts`): two GROUP BY scans of one narrow table
(by center, programme and month; by category and provider), rolled up in memory into the five
breakdowns — fast enough for a province-wide report over a million journal entries. The
hierarchy is walked in memory (`centers.Hierarchy`).
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import InstrumentedAttribute

from voucher_app.domain.categories import CATEGORIES
from voucher_app.domain.errors import InvalidInput
from voucher_app.domain.spend import Figures, Measure, share_bp, total
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.models import Programme, Provider, SpendFact
from voucher_app.persistence.uow import read_only
from voucher_app.services.centers import load_hierarchy

MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"


@dataclass(frozen=True, slots=True)
class Line:
    """One row of a breakdown: a child center, programme, category, provider or month."""

    key: str
    label: str
    figures: Figures


@dataclass(frozen=True, slots=True)
class SpendReport:
    center: str
    center_name: str
    programme_id: uuid.UUID | None
    from_month: str | None
    to_month: str | None
    #: The center and everything below it.
    total: Figures
    #: The center alone.
    own: Figures
    #: Each direct child with everything below it: the drill-down.
    children: tuple[Line, ...]
    by_programme: tuple[Line, ...]
    by_category: tuple[Line, ...]
    by_provider: tuple[Line, ...]
    by_month: tuple[Line, ...]


@dataclass(frozen=True, slots=True)
class Utilisation:
    """How much of one center's budget (its subtree's) has been committed to vouchers,
    redeemed by providers and paid: each in fen and as basis points of the budget (None when
    the center has no budget), so a ¥3M budget and a ¥10k spend are read side by side."""

    key: str
    label: str
    budget_fen: int
    committed_fen: int
    redeemed_fen: int
    paid_fen: int
    committed_bp: int | None
    redeemed_bp: int | None
    paid_bp: int | None


def utilisation(lines: Iterable[Line]) -> tuple[Utilisation, ...]:
    """Each line's use of its budget, in the lines' order (a report's `children`)."""
    return tuple(
        Utilisation(
            key=line.key,
            label=line.label,
            budget_fen=line.figures.allocated_fen,
            committed_fen=line.figures.committed_fen,
            redeemed_fen=line.figures.redeemed_fen,
            paid_fen=line.figures.paid_fen,
            committed_bp=share_bp(line.figures.committed_fen, line.figures.allocated_fen),
            redeemed_bp=share_bp(line.figures.redeemed_fen, line.figures.allocated_fen),
            paid_bp=share_bp(line.figures.paid_fen, line.figures.allocated_fen),
        )
        for line in lines
    )


@read_only
def spend_report(
    uow: UnitOfWork,
    center_code: str,
    *,
    programme_id: uuid.UUID | None = None,
    from_month: str | None = None,
    to_month: str | None = None,
) -> SpendReport:
    """The center's figures and its subtree's, rolled up, with the breakdowns; optionally for
    one programme and a range of months (inclusive, "2026-01")."""
    session = uow.session
    center = uow.centers.by_code(center_code)
    tree = load_hierarchy(session)
    subtree = tree.below(center.id)
    for bound, month in (("from_month", from_month), ("to_month", to_month)):
        if month is not None:
            _check_month(bound, month)
    where: list[ColumnElement[bool]] = []
    if len(subtree) < len(tree.centers):  # the whole province needs no filter
        where.append(SpendFact.center_id.in_(sorted(subtree)))
    if programme_id is not None:
        where.append(SpendFact.programme_id == uow.programmes.by_public_id(programme_id).id)
    if from_month is not None:
        where.append(SpendFact.month >= from_month)
    if to_month is not None:
        where.append(SpendFact.month <= to_month)
    # Two scans give all five breakdowns: budget and redemption figures by where and when,
    # and redemption figures by what and by whom (budget facts have no category or provider).
    where_when = _sums(uow, where, SpendFact.center_id, SpendFact.programme_id, SpendFact.month)
    what_whom = _sums(
        uow,
        [*where, SpendFact.measure.in_(REDEMPTION_MEASURES)],
        SpendFact.category,
        SpendFact.provider_id,
    )
    per_center = _rollup(where_when, 0)
    programmes = _rollup(where_when, 1)
    providers = _rollup(what_whom, 1)
    return SpendReport(
        center=center.code,
        center_name=center.name_zh,
        programme_id=programme_id,
        from_month=from_month,
        to_month=to_month,
        total=total(per_center.values()),
        own=per_center.get(center.id, Figures()),
        children=tuple(
            Line(
                tree.code(child),
                tree.name(child),
                total(per_center.get(c, Figures()) for c in tree.below(child)),
            )
            for child in tree.children(center.id)
        ),
        by_programme=_lines(programmes, _names(uow, Programme, programmes)),
        by_category=_lines(_rollup(what_whom, 0), _CATEGORY_NAMES),
        by_provider=_lines(providers, _names(uow, Provider, providers)),
        by_month=_lines(_rollup(where_when, 2), {}),
    )


#: The figures redemptions move; only their facts name a category and a provider.
REDEMPTION_MEASURES = (Measure.REDEEMED.value, Measure.APPROVED.value, Measure.PAID.value)

Sums = dict[tuple[Any, ...], dict[Measure, int]]


def _sums(
    uow: UnitOfWork, where: list[ColumnElement[bool]], *columns: InstrumentedAttribute[Any]
) -> Sums:
    """Each measure's sum per combination of `columns`."""
    found: Sums = defaultdict(lambda: defaultdict(int))
    for *key, measure, amount in uow.session.execute(
        select(*columns, SpendFact.measure, func.sum(SpendFact.amount_fen))
        .where(*where)
        .group_by(*columns, SpendFact.measure)
    ):
        found[tuple(key)][Measure(measure)] += int(amount)
    return found


def _rollup(sums: Sums, position: int) -> dict[Any, Figures]:
    """The sums added up by one of their key columns."""
    rolled: dict[Any, dict[Measure, int]] = defaultdict(lambda: defaultdict(int))
    for key, amounts in sums.items():
        target = rolled[key[position]]
        for measure, amount in amounts.items():
            target[measure] += amount
    return {key: Figures.of(amounts) for key, amounts in rolled.items()}


#: Each breakdown names its rows: internal key → (the key shown, its label).
_CATEGORY_NAMES = {c.code: (c.code, c.name_zh) for c in CATEGORIES}


def _check_month(name: str, month: str) -> None:
    if not re.fullmatch(MONTH_PATTERN, month):
        raise InvalidInput(f"{name} is a month written 2026-01", rule="month", field=name)


def _names(
    uow: UnitOfWork, model: type[Programme] | type[Provider], keys: Iterable[Any]
) -> dict[Any, tuple[str, str]]:
    """Internal id → (public id, name) for the programmes or providers a report names."""
    ids = [key for key in keys if key is not None]
    if not ids:
        return {}
    rows = uow.session.execute(
        select(model.id, model.public_id, model.name).where(model.id.in_(ids))
    )
    return {row.id: (str(row.public_id), row.name) for row in rows}


def _lines(
    figures: Mapping[Any, Figures], names: Mapping[Any, tuple[str, str]]
) -> tuple[Line, ...]:
    """Breakdown rows in key order, named by `names` (a row it lacks shows its key); facts
    without the dimension (budget figures have no provider or category) are left out."""
    lines = [
        Line(*names.get(key, (str(key), str(key))), amounts)
        for key, amounts in figures.items()
        if key is not None
    ]
    return tuple(sorted(lines, key=lambda line: line.key))
