"""An SME or a provider registering itself on the site: its record and its first account, in
one transaction — both or neither, so a name already taken never leaves it without a way in.
The center approves both."""

from __future__ import annotations

from argon2 import PasswordHasher

from voucher_app.domain.actors import Actor, Role
from voucher_app.domain.sme import parse_uscc
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.uow import transaction
from voucher_app.services.parties import NO_DETAILS, PartyDetails
from voucher_app.services.providers import ProviderApplication, ProviderView, apply_provider_within
from voucher_app.services.smes import SmeDeclaration, SmeView, register_sme_within
from voucher_app.services.users import NewUser, UserView, register_within


@transaction
def register_sme_with_account(
    uow: UnitOfWork,
    declaration: SmeDeclaration,
    username: str,
    password: str,
    hasher: PasswordHasher,
    *,
    party: PartyDetails = NO_DETAILS,
) -> tuple[SmeView, UserView]:
    applicant = Actor(f"applicant:{parse_uscc(declaration.uscc)}", Role.SME)
    sme = register_sme_within(uow, declaration, applicant, create_only=True, party=party)
    account = register_within(uow, NewUser(username, password, Role.SME, sme=sme.uscc), hasher)
    return sme, account


@transaction
def apply_provider_with_account(
    uow: UnitOfWork,
    application: ProviderApplication,
    username: str,
    password: str,
    hasher: PasswordHasher,
    *,
    party: PartyDetails = NO_DETAILS,
) -> tuple[ProviderView, UserView]:
    applicant = Actor(f"applicant:{parse_uscc(application.uscc)}", Role.PROVIDER)
    provider = apply_provider_within(uow, application, applicant, party)
    spec = NewUser(username, password, Role.PROVIDER, provider=provider.id)
    return provider, register_within(uow, spec, hasher)
