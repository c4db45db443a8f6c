"""The SME registry: registration and re-registration (with history), and the home center.

An SME is known by its unified social credit code; registering the same code again updates
the figures and keeps what was declared before in `sme_history`. Its size class is computed
from the figures whenever it is needed (`domain.sme.classify`), never stored.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from voucher_app.domain.actors import Actor
from voucher_app.domain.errors import (
    ConcurrentRequest,
    InvalidIndustry,
    InvalidInput,
    InvalidUSCC,
    SmeExists,
    UnknownSme,
)
from voucher_app.domain.parties import (
    check_address,
    check_bank_account,
    check_phone,
    contact_keys,
)
from voucher_app.domain.sme import (
    Industry,
    SizeClass,
    classify,
    parse_uscc,
    suggest_center,
)
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.models import Center, Sme, SmeHistory
from voucher_app.persistence.uow import read_only, transaction
from voucher_app.services import parties
from voucher_app.services.parties import NO_DETAILS, PartyDetails


@dataclass(frozen=True, slots=True)
class SmeDeclaration:
    """What an SME (or its center, on its behalf) declares when registering."""

    uscc: str
    name: str
    industry: str
    employees: int
    revenue_fen: int
    assets_fen: int
    home_center: str
    #: What a related provider would share (`services.parties`); None keeps what is on record.
    address: str | None = None
    contact_phone: str | None = None
    bank_account_number: str | None = None


@dataclass(frozen=True, slots=True)
class SmeView:
    id: uuid.UUID
    uscc: str
    name: str
    industry: Industry
    employees: int
    revenue_fen: int
    assets_fen: int
    home_center: str
    size: SizeClass
    registered_at: datetime
    updated_at: datetime
    address: str | None
    contact_phone: str | None
    bank_account_number: str | None
    #: Whether its legal representative is on record (as a digest nobody reads back).
    legal_representative_on_record: bool


#: What each registration declares, kept on the SME and copied into its history.
DECLARED = (
    "name",
    "industry",
    "employees",
    "revenue_fen",
    "assets_fen",
    "home_center_id",
    "address",
    "contact_phone",
    "bank_account_number",
    "legal_rep_digest",
)


def sme_by_uscc(uow: UnitOfWork, uscc: str) -> Sme:
    code = parse_uscc(uscc)
    sme = uow.smes.find_by_uscc(code)
    if sme is None:
        raise unknown_sme(code)
    return sme


def unknown_sme(code: str) -> UnknownSme:
    return UnknownSme(f"no SME registered with code {code}", uscc=code)


def size_of(sme: Sme) -> SizeClass:
    return classify(Industry(sme.industry), sme.employees, sme.revenue_fen, sme.assets_fen)


def _sme_view(uow: UnitOfWork, sme: Sme) -> SmeView:
    center = uow.session.get_one(Center, sme.home_center_id)
    return SmeView(
        sme.public_id,
        sme.uscc,
        sme.name,
        Industry(sme.industry),
        sme.employees,
        sme.revenue_fen,
        sme.assets_fen,
        center.code,
        size_of(sme),
        sme.registered_at,
        sme.updated_at,
        sme.address,
        sme.contact_phone,
        sme.bank_account_number,
        sme.legal_rep_digest is not None,
    )


@transaction
def register_sme(
    uow: UnitOfWork,
    declaration: SmeDeclaration,
    actor: Actor,
    *,
    create_only: bool = False,
    party: PartyDetails = NO_DETAILS,
) -> SmeView:
    """Register an SME, or update its figures (the previous ones stay in its history); with
    `create_only`, an SME registered already is refused instead. `party`: its legal
    representative and the related parties it declares."""
    return register_sme_within(uow, declaration, actor, create_only=create_only, party=party)


def register_sme_within(
    uow: UnitOfWork,
    declaration: SmeDeclaration,
    actor: Actor,
    *,
    create_only: bool = False,
    party: PartyDetails = NO_DETAILS,
) -> SmeView:
    """`register_sme`'s steps inside the caller's open transaction (`registration` records the
    SME and opens its first account in one)."""
    uscc = parse_uscc(declaration.uscc)
    name = declaration.name.strip()
    if not name or len(name) > 200:
        raise InvalidInput("an SME needs a name of 1 to 200 characters", field="name")
    try:
        industry = Industry(declaration.industry)
    except ValueError:
        raise InvalidIndustry(
            f"unknown industry {declaration.industry!r}", industry=declaration.industry
        ) from None
    classify(industry, declaration.employees, declaration.revenue_fen, declaration.assets_fen)
    center = uow.centers.by_code(declaration.home_center)
    now = uow.clock.now()
    figures = {
        "name": name,
        "industry": industry.value,
        "employees": declaration.employees,
        "revenue_fen": declaration.revenue_fen,
        "assets_fen": declaration.assets_fen,
        "home_center_id": center.id,
        **_contact(declaration, party),
    }
    sme = uow.smes.find_by_uscc(uscc)
    if sme is None:
        sme = Sme(public_id=uuid.uuid4(), uscc=uscc, registered_at=now, updated_at=now, **figures)
        uow.session.add(sme)
    elif create_only:
        raise SmeExists(
            f"{uscc} is registered already: sign in as the SME or its center to update it",
            uscc=uscc,
        )
    else:
        for field, value in figures.items():
            setattr(sme, field, value)
        sme.updated_at = now
    sme.phone_key, sme.address_key, sme.account_key = contact_keys(
        sme.contact_phone, sme.address, sme.bank_account_number
    )
    try:
        uow.session.flush()
    except IntegrityError as exc:  # the same code registered concurrently: rerun to update it
        raise ConcurrentRequest("a concurrent request registered this code") from exc
    uow.session.add(
        SmeHistory(
            sme_id=sme.id,
            recorded_at=now,
            actor_id=actor.id,
            actor_role=actor.role.value,
            **{name: getattr(sme, name) for name in DECLARED},
        )
    )
    parties.declare_within(uow, uscc, party.related, actor)
    return _sme_view(uow, sme)


def _contact(declaration: SmeDeclaration, party: PartyDetails) -> dict[str, object]:
    """The contact details and representative a registration gives, checked; what it leaves
    out stays as it was on record."""
    given: dict[str, object] = {}
    if declaration.address is not None:
        given["address"] = check_address(declaration.address)
    if declaration.contact_phone is not None:
        given["contact_phone"] = check_phone(declaration.contact_phone)
    if declaration.bank_account_number is not None:
        given["bank_account_number"] = check_bank_account(declaration.bank_account_number)
    if party.legal_rep_digest is not None:
        given["legal_rep_digest"] = party.legal_rep_digest
    return given


@read_only
def code_of(uow: UnitOfWork, sme_id: int) -> str:
    """The credit code of the SME an account is bound to."""
    return uow.session.get_one(Sme, sme_id).uscc


@read_only
def get_sme(uow: UnitOfWork, uscc: str) -> SmeView:
    return _sme_view(uow, sme_by_uscc(uow, uscc))


@dataclass(frozen=True, slots=True)
class CodeCheck:
    """What a registration form tells an SME about the code it is typing."""

    code: str
    valid: bool
    #: Why not (`InvalidUSCC`'s reason: wrong_length, invalid_character, bad_check_character).
    reason: str | None = None
    home_center: str | None = None
    registered: bool = False


@read_only
def check_code(uow: UnitOfWork, text: str) -> CodeCheck:
    """Whether `text` is a credit code, the home center its region suggests, and whether an SME
    with it is registered already."""
    try:
        code = parse_uscc(text)
    except InvalidUSCC as invalid:
        return CodeCheck(text.strip().upper(), False, reason=str(invalid.details["reason"]))
    codes = set(uow.session.scalars(select(Center.code)))
    registered = uow.smes.find_by_uscc(code) is not None
    return CodeCheck(code, True, home_center=suggest_center(code, codes), registered=registered)


@dataclass(frozen=True, slots=True)
class Declared:
    """One registration as it was recorded."""

    recorded_at: datetime
    actor_id: str
    name: str
    industry: str
    employees: int
    revenue_fen: int
    assets_fen: int


@read_only
def history(uow: UnitOfWork, uscc: str) -> list[Declared]:
    sme = sme_by_uscc(uow, uscc)
    rows = uow.session.scalars(
        select(SmeHistory).where(SmeHistory.sme_id == sme.id).order_by(SmeHistory.id)
    )
    return [
        Declared(
            h.recorded_at, h.actor_id, h.name, h.industry, h.employees, h.revenue_fen, h.assets_fen
        )
        for h in rows
    ]
