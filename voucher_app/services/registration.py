"""An SME registering itself on the site: its record and its clerk's account, in one
transaction — both or neither, so a name already taken never leaves an SME without a way in.
The account waits for the home center's approval."""

from __future__ import annotations

from argon2 import PasswordHasher

from voucher_app.domain.actors import Actor, Role
from voucher_app.domain.sme import parse_uscc
from voucher_app.persistence.uow import UnitOfWork, transaction
from voucher_app.services.smes import SmeDeclaration, SmeView, register_sme_within
from voucher_app.services.users import NewUser, UserView, register_within


@transaction
def register_sme_with_account(
    uow: UnitOfWork,
    declaration: SmeDeclaration,
    username: str,
    password: str,
    hasher: PasswordHasher,
) -> tuple[SmeView, UserView]:
    applicant = Actor(f"applicant:{parse_uscc(declaration.uscc)}", Role.SME)
    sme = register_sme_within(uow, declaration, applicant, create_only=True)
    account = register_within(uow, NewUser(username, password, Role.SME, sme=sme.uscc), hasher)
    return sme, account
