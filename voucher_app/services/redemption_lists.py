"""The lists of redemptions people work through: a provider's own redemptions and where each
stands, the redemptions waiting for an SME's answer, and a center's review queue (confirmed
redemptions on vouchers of the center and those below it, oldest first, as a reviewer takes
them); and the two parties of each listed redemption, by name (`parties_of`), read in one query
for a whole list rather than one per row."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import Select, select

from voucher_app.domain.tracking import RATEABLE
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.models import Provider, Redemption, ServiceRating, Sme, Voucher
from voucher_app.persistence.uow import read_only
from voucher_app.services.centers import subtree_ids
from voucher_app.services.redemptions import RedemptionView, redemption_view

#: Redemptions a center reviews: the SME has confirmed them (or its window closed in silence).
TO_REVIEW = ("confirmed",)
#: Redemptions waiting for the SME to confirm or dispute.
TO_ANSWER = ("submitted",)
LIMIT = 100


@dataclass(frozen=True, slots=True)
class Parties:
    """Who a redemption is between: the SME whose voucher it spends, and the provider."""

    sme_name: str
    sme_uscc: str
    provider_name: str


@read_only
def parties_of(uow: UnitOfWork, redemption_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Parties]:
    """The parties of each of these redemptions, by its public id."""
    return parties_in(uow, redemption_ids)


def parties_in(uow: UnitOfWork, redemption_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Parties]:
    """`parties_of`, inside the caller's transaction."""
    if not redemption_ids:
        return {}
    rows = uow.session.execute(
        select(Redemption.public_id, Sme.name, Sme.uscc, Provider.name)
        .join(Voucher, Voucher.id == Redemption.voucher_id)
        .join(Sme, Sme.id == Voucher.sme_id)
        .join(Provider, Provider.id == Redemption.provider_id)
        .where(Redemption.public_id.in_(list(redemption_ids)))
    )
    return {public_id: Parties(sme, uscc, provider) for public_id, sme, uscc, provider in rows}


@read_only
def of_provider(
    uow: UnitOfWork, provider_id: uuid.UUID, limit: int = LIMIT
) -> list[RedemptionView]:
    """The provider's latest redemptions, newest first."""
    query = (
        select(Redemption)
        .join(Provider, Provider.id == Redemption.provider_id)
        .where(Provider.public_id == provider_id)
        .order_by(Redemption.submitted_at.desc(), Redemption.id.desc())
        .limit(limit)
    )
    return [redemption_view(uow, redemption) for redemption in uow.session.scalars(query)]


@read_only
def waiting_for_sme(uow: UnitOfWork, sme_uscc: str, limit: int = LIMIT) -> list[RedemptionView]:
    """Redemptions on the SME's vouchers that wait for its answer, oldest first."""
    query = _of_sme(sme_uscc, TO_ANSWER).limit(limit)
    return [redemption_view(uow, redemption) for redemption in uow.session.scalars(query)]


@read_only
def to_rate_for_sme(uow: UnitOfWork, sme_uscc: str, limit: int = LIMIT) -> list[RedemptionView]:
    """Approved or paid redemptions on the SME's vouchers that it has not rated yet, oldest
    first."""
    rated = select(ServiceRating.redemption_id)
    query = _of_sme(sme_uscc, RATEABLE).where(Redemption.id.not_in(rated)).limit(limit)
    return [redemption_view(uow, redemption) for redemption in uow.session.scalars(query)]


def _of_sme(sme_uscc: str, statuses: Collection[str]) -> Select[Redemption]:
    return (
        select(Redemption)
        .join(Voucher, Voucher.id == Redemption.voucher_id)
        .join(Sme, Sme.id == Voucher.sme_id)
        .where(Sme.uscc == sme_uscc, Redemption.status.in_(statuses))
        .order_by(Redemption.submitted_at, Redemption.id)
    )


@read_only
def review_queue(uow: UnitOfWork, center_code: str, limit: int = LIMIT) -> list[RedemptionView]:
    """Confirmed redemptions on vouchers issued in the center's subtree: those with the most
    fraud signals first (`services.signals`), then the oldest."""
    session = uow.session
    within = subtree_ids(session, uow.centers.by_code(center_code).id)
    query = (
        select(Redemption)
        .join(Voucher, Voucher.id == Redemption.voucher_id)
        .where(Voucher.issuing_center_id.in_(within), Redemption.status.in_(TO_REVIEW))
        .order_by(Redemption.signal_count.desc(), Redemption.submitted_at, Redemption.id)
        .limit(limit)
    )
    return [redemption_view(uow, redemption) for redemption in session.scalars(query)]
