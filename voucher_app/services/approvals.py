"""What waits for a center's decision: providers that applied to it or to a center below it,
and the accounts SMEs and providers registered for themselves there — oldest first, as staff
work through them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select

from voucher_app.domain.providers import ProviderStatus
from voucher_app.domain.users import UserStatus
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.models import Provider, Sme, User
from voucher_app.persistence.uow import read_only
from voucher_app.services import providers, users
from voucher_app.services.centers import subtree_ids
from voucher_app.services.providers import ProviderView
from voucher_app.services.users import UserView


@dataclass(frozen=True, slots=True)
class Waiting:
    providers: list[ProviderView]
    accounts: list[UserView]


@read_only
def waiting_for(uow: UnitOfWork, center_code: str) -> Waiting:
    session = uow.session
    within = subtree_ids(session, uow.centers.by_code(center_code).id)
    applied = session.scalars(
        select(Provider)
        .where(Provider.status == ProviderStatus.PENDING, Provider.center_id.in_(within))
        .order_by(Provider.applied_at, Provider.id)
    )
    registered = session.scalars(
        select(User)
        .outerjoin(Sme, Sme.id == User.sme_id)
        .outerjoin(Provider, Provider.id == User.provider_id)
        .where(
            User.status == UserStatus.PENDING,
            or_(Sme.home_center_id.in_(within), Provider.center_id.in_(within)),
        )
        .order_by(User.created_at, User.id)
    )
    return Waiting(
        [providers.provider_view(uow, provider) for provider in applied],
        [users.user_view(uow, user) for user in registered],
    )
