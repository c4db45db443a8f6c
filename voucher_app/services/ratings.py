"""How SMEs rated providers and their products: count and total per provider or product, for
the public catalogue and the centers' KPIs."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute

from voucher_app.domain.tracking import RatingSummary
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.models import ServiceRating


def _summaries(
    uow: UnitOfWork, column: InstrumentedAttribute[Any], ids: list[int]
) -> dict[int, RatingSummary]:
    found: dict[int, RatingSummary] = defaultdict(RatingSummary)
    if ids:
        rows = uow.session.execute(
            select(column, func.count(), func.sum(ServiceRating.score))
            .where(column.in_(ids))
            .group_by(column)
        )
        for key, count, total in rows:
            found[key] = RatingSummary(int(count), int(total))
    return found


def by_provider(uow: UnitOfWork, provider_ids: list[int]) -> dict[int, RatingSummary]:
    return _summaries(uow, ServiceRating.provider_id, provider_ids)


def by_product(uow: UnitOfWork, product_ids: list[int]) -> dict[int, RatingSummary]:
    return _summaries(uow, ServiceRating.product_id, product_ids)
