"""Access decisions against the database: the policy's rules (`domain.policy`) with the center
hierarchy they need, and the scope each kind of thing a request names belongs to.

Entry points call `authorize` before the use case; a refusal is written to the security log
in its own transaction, then raised.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import bindparam, select

from voucher_app.domain.errors import NotAuthenticated, PermissionDenied
from voucher_app.domain.policy import Action, Scope, decide
from voucher_app.domain.sme import parse_uscc
from voucher_app.domain.users import Principal
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.database import table_of
from voucher_app.persistence.models import Programme, Provider, Redemption, Sme, Voucher
from voucher_app.persistence.prepared import Prepared
from voucher_app.persistence.repositories import PROGRAMMES, PROVIDERS, REDEMPTIONS, Lookup
from voucher_app.persistence.uow import read_only
from voucher_app.services import users
from voucher_app.services.centers import is_within
from voucher_app.services.smes import unknown_sme

#: Finds, inside the decision's transaction, what a request touches.
FindScope = Callable[[UnitOfWork], Scope]


def authorize(
    uow: UnitOfWork,
    principal: Principal | None,
    action: Action,
    find_scope: FindScope | None = None,
    remote_addr: str | None = None,
) -> None:
    """Return if the principal may take the action where `find_scope` says (everywhere when
    there is none); log and raise a refusal otherwise. The scope is looked up in the same
    read-only transaction as the decision, and only for someone signed in: nothing about the
    thing leaks to a request that is refused for want of credentials."""
    try:
        _decide(uow, principal, action, find_scope)
    except PermissionDenied:
        users.record_denied(uow, principal, action.value, remote_addr)
        raise


def permits(
    uow: UnitOfWork,
    principal: Principal | None,
    action: Action,
    find_scope: FindScope | None = None,
) -> bool:
    """Whether `authorize` would let the principal take the action where `find_scope` says: the
    same decision, asked before offering a form rather than on its way in, so a "no" is neither
    raised nor logged."""
    try:
        _decide(uow, principal, action, find_scope)
    except (NotAuthenticated, PermissionDenied):
        return False
    return True


@read_only
def _decide(
    uow: UnitOfWork, principal: Principal | None, action: Action, find_scope: FindScope | None
) -> None:
    needs_scope = find_scope is not None and principal is not None
    scope = find_scope(uow) if needs_scope and find_scope is not None else Scope()
    decide(principal, action, scope, _within(uow))


@read_only
def permits_any(
    uow: UnitOfWork,
    principal: Principal | None,
    actions: list[Action],
    find_scope: Callable[[UnitOfWork], Scope | None],
) -> bool:
    """Whether any of the actions is allowed where `find_scope` says (never when it finds
    nothing): a question, not a refusal, so nothing is logged."""
    scope = find_scope(uow)
    if scope is None:
        return False
    for action in actions:
        try:
            decide(principal, action, scope, _within(uow))
        except (NotAuthenticated, PermissionDenied):
            continue
        return True
    return False


def _within(uow: UnitOfWork) -> Callable[[int, int], bool]:
    return lambda center, root: is_within(uow.session, center, root)


# --- what a request touches (called inside `authorize`'s transaction) --------------------------


def center_scope(uow: UnitOfWork, center_code: str) -> Scope:
    return Scope(center_id=uow.centers.by_code(center_code).id)


def programme_scope(uow: UnitOfWork, programme_id: uuid.UUID) -> Scope:
    """A programme belongs to the center that owns it."""
    (owner_center_id,) = _scope_row(uow, _PROGRAMME_SCOPE, PROGRAMMES, programme_id)
    return Scope(center_id=owner_center_id)


def user_scope(uow: UnitOfWork, user_id: uuid.UUID) -> Scope:
    """A user belongs to their center, their SME's home center or their provider's center."""
    user = uow.users.by_public_id(user_id)
    center_id = user.center_id
    if user.sme_id is not None:
        center_id = uow.session.get_one(Sme, user.sme_id).home_center_id
    elif user.provider_id is not None:
        center_id = uow.session.get_one(Provider, user.provider_id).center_id
    return Scope(center_id=center_id)


def redemption_scope(uow: UnitOfWork, redemption_id: uuid.UUID) -> Scope:
    """A redemption concerns its voucher's issuing center, the voucher's SME and its provider."""
    center_id, sme_id, provider_id = _scope_row(uow, _REDEMPTION_SCOPE, REDEMPTIONS, redemption_id)
    return Scope(center_id, sme_id, provider_id)


def provider_scope(uow: UnitOfWork, provider_id: uuid.UUID) -> Scope:
    """A provider's own things; its center's staff look after it."""
    center_id, row_id = _scope_row(uow, _PROVIDER_SCOPE, PROVIDERS, provider_id)
    return Scope(center_id=center_id, provider_id=row_id)


def registered_sme_scope(uow: UnitOfWork, uscc: str) -> Scope | None:
    """The scope of the SME with this code, or None when none is registered."""
    sme = uow.smes.find_by_uscc(parse_uscc(uscc))
    return None if sme is None else Scope(center_id=sme.home_center_id, sme_id=sme.id)


def sme_scope(uow: UnitOfWork, uscc: str) -> Scope:
    """An SME's own things; its home center's staff look after it."""
    code = parse_uscc(uscc)
    found = _SME_SCOPE.run(uow.session.connection(), {"uscc": code}).first()
    if found is None:
        raise unknown_sme(code)
    home_center_id, sme_id = found
    return Scope(center_id=home_center_id, sme_id=sme_id)


def _scope_row(
    uow: UnitOfWork, statement: Prepared, lookup: Lookup[Any], public_id: uuid.UUID
) -> tuple[Any, ...]:
    found = statement.run(uow.session.connection(), {"public_id": public_id}).first()
    if found is None:
        raise lookup.missing(public_id)
    return found


# The scopes every claim and redemption request asks for, read at the driver: only the columns
# a scope holds.
_smes, _providers = table_of(Sme), table_of(Provider)
_redemptions, _vouchers = table_of(Redemption), table_of(Voucher)
_programmes = table_of(Programme)
_SME_SCOPE = Prepared(
    select(_smes.c.home_center_id, _smes.c.id).where(_smes.c.uscc == bindparam("uscc"))
)
_PROVIDER_SCOPE = Prepared(
    select(_providers.c.center_id, _providers.c.id).where(
        _providers.c.public_id == bindparam("public_id")
    )
)
_REDEMPTION_SCOPE = Prepared(
    select(_vouchers.c.issuing_center_id, _vouchers.c.sme_id, _redemptions.c.provider_id)
    .join_from(_redemptions, _vouchers, _vouchers.c.id == _redemptions.c.voucher_id)
    .where(_redemptions.c.public_id == bindparam("public_id"))
)
_PROGRAMME_SCOPE = Prepared(
    select(_programmes.c.owner_center_id).where(_programmes.c.public_id == bindparam("public_id"))
)


def voucher_scope(uow: UnitOfWork, voucher_id: uuid.UUID) -> Scope:
    """A voucher concerns its issuing center and its SME."""
    voucher = uow.vouchers.by_public_id(voucher_id)
    return Scope(center_id=voucher.issuing_center_id, sme_id=voucher.sme_id)


def complaint_scope(uow: UnitOfWork, complaint_id: uuid.UUID) -> Scope:
    """A complaint is the voucher's center's to handle."""
    return Scope(center_id=uow.complaints.by_public_id(complaint_id).center_id)


def batch_scope(uow: UnitOfWork, batch_id: uuid.UUID) -> Scope:
    """A settlement batch belongs to the center that built it."""
    return Scope(center_id=uow.batches.by_public_id(batch_id).center_id)
