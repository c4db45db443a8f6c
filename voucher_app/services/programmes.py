"""Programmes and their budgets: create, fund, allocate down the hierarchy, claw back.

Money moves only through the journal: funding posts `fund` (programme funding → the owning
center's available budget), allocation and claw-back post `allocate` between a center and one of
its direct children. The conditional updates in `ledger.journal` keep every center's available
budget at or above zero however many requests race.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select

from voucher_app.domain import accounts
from voucher_app.domain.actors import Actor
from voucher_app.domain.bank import BankDetails
from voucher_app.domain.entries import EntryKind, Posting
from voucher_app.domain.errors import (
    CenterOutsideProgramme,
    FundingExceedsBudget,
    InsufficientFunds,
    NotAChildCenter,
)
from voucher_app.domain.money import require_fen
from voucher_app.domain.programmes import BudgetMove, ProgrammeTerms
from voucher_app.domain.shards import shards_for
from voucher_app.domain.sme import SizeClass
from voucher_app.ledger.journal import PostedEntry
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.models import Center, Programme
from voucher_app.persistence.uow import read_only, transaction
from voucher_app.services import budgets, spend_facts
from voucher_app.services.centers import is_within


@dataclass(frozen=True, slots=True, kw_only=True)
class ProgrammeView(ProgrammeTerms):
    """A programme as recorded: its terms, its id and what has been funded so far."""

    id: uuid.UUID
    funded_fen: int
    funding_account: BankDetails | None = None  # None until its owner's administrators set it


def funding_account(programme: Programme) -> BankDetails | None:
    """The account the programme pays providers from, as recorded; None until it is set (a
    payment file needs its number and its holder's name)."""
    if not (programme.funding_account_number and programme.funding_account_name):
        return None
    return BankDetails(
        bank_name=programme.funding_bank_name or "",
        account_name=programme.funding_account_name,
        account_number=programme.funding_account_number,
        cnaps=programme.funding_bank_cnaps,
        bic=programme.funding_bank_bic,
    )


def _programme_view(uow: UnitOfWork, programme: Programme) -> ProgrammeView:
    owner = uow.session.get_one(Center, programme.owner_center_id)
    funding = accounts.funding(str(programme.public_id))
    return ProgrammeView(
        id=programme.public_id,
        name=programme.name,
        owner_center=owner.code,
        period_start=programme.period_start,
        period_end=programme.period_end,
        total_budget_fen=programme.total_budget_fen,
        funded_fen=-uow.journal.balance(funding),
        subsidy_rate_bp=programme.subsidy_rate_bp,
        sme_cap_fen=programme.sme_cap_fen,
        voucher_face_value_fen=programme.voucher_face_value_fen,
        voucher_validity_days=programme.voucher_validity_days,
        partial_spending=programme.partial_spending,
        service_categories=tuple(programme.service_categories),
        accepted_sizes=tuple(SizeClass(s) for s in programme.accepted_sizes),
        accepted_industries=tuple(programme.accepted_industries),
        confirmation_days=programme.confirmation_days,
        budget_shards=programme.budget_shards,
        related_parties_allowed=programme.related_parties_allowed,
        notice_working_days=programme.notice_working_days,
        funding_account=funding_account(programme),
    )


@transaction
def create_programme(uow: UnitOfWork, terms: ProgrammeTerms, actor: Actor) -> ProgrammeView:
    """Record a programme and open its funding account, floored at minus its total budget."""
    session = uow.session
    owner = uow.centers.by_code(terms.owner_center)
    programme = Programme(
        public_id=uuid.uuid4(),
        name=terms.name.strip(),
        owner_center_id=owner.id,
        period_start=terms.period_start,
        period_end=terms.period_end,
        total_budget_fen=terms.total_budget_fen,
        subsidy_rate_bp=terms.subsidy_rate_bp,
        sme_cap_fen=terms.sme_cap_fen,
        voucher_face_value_fen=terms.voucher_face_value_fen,
        voucher_validity_days=terms.voucher_validity_days,
        partial_spending=terms.partial_spending,
        service_categories=sorted(set(terms.service_categories)),
        accepted_sizes=sorted({s.value for s in terms.accepted_sizes}),
        accepted_industries=sorted(set(terms.accepted_industries)),
        confirmation_days=terms.confirmation_days,
        budget_shards=terms.budget_shards
        or shards_for(terms.total_budget_fen, terms.voucher_face_value_fen),
        related_parties_allowed=terms.related_parties_allowed,
        notice_working_days=terms.notice_working_days,
        created_at=uow.clock.now(),
    )
    session.add(programme)
    session.flush()
    uow.journal.open_account(
        accounts.funding(str(programme.public_id)), floor_fen=-terms.total_budget_fen
    )
    return _programme_view(uow, programme)


@read_only
def list_programmes(uow: UnitOfWork) -> list[ProgrammeView]:
    """Every programme, by name."""
    found = uow.session.scalars(select(Programme).order_by(Programme.name, Programme.id))
    return [_programme_view(uow, programme) for programme in found]


@read_only
def get_programme(uow: UnitOfWork, programme_id: uuid.UUID) -> ProgrammeView:
    return _programme_view(uow, uow.programmes.by_public_id(programme_id))


@transaction
def fund_programme(
    uow: UnitOfWork,
    programme_id: uuid.UUID,
    *,
    amount_fen: int,
    actor: Actor,
) -> PostedEntry:
    """Appropriate `amount_fen` to the programme: it lands in the owning center's budget."""
    require_fen(amount_fen)
    session = uow.session
    programme = uow.programmes.by_public_id(programme_id)
    owner = session.get_one(Center, programme.owner_center_id)
    pid = str(programme.public_id)
    funding = accounts.funding(pid)
    try:
        posted = uow.journal.post(
            EntryKind.FUND,
            [
                Posting(funding.name, -amount_fen),
                *budgets.deposit(owner.code, programme, amount_fen),
            ],
            {"programme": pid},
            actor,
        )
    except InsufficientFunds as exc:
        if exc.details.get("account") != funding.name:
            raise
        raise FundingExceedsBudget(
            f"funding {amount_fen} fen would pass the programme's total budget of "
            f"{programme.total_budget_fen} fen",
            total_budget_fen=programme.total_budget_fen,
            funded_fen=-(exc.details.get("balance_fen") or 0),
        ) from exc
    spend_facts.record(uow, posted, spend_facts.Attribution(programme.id, owner.id))
    return posted


def _move_between_parent_and_child(
    uow: UnitOfWork, programme_id: uuid.UUID, move: BudgetMove, *, downwards: bool, actor: Actor
) -> PostedEntry:
    require_fen(move.amount_fen)
    session = uow.session
    programme = uow.programmes.by_public_id(programme_id)
    ends = (move.from_center, move.to_center)
    parent_code, child_code = ends if downwards else ends[::-1]
    parent = uow.centers.by_code(parent_code)
    child = uow.centers.by_code(child_code)
    if child.parent_id != parent.id:
        raise NotAChildCenter(
            f"{child.code} is not a direct child of {parent.code}",
            parent=parent.code,
            child=child.code,
        )
    if not is_within(session, parent.id, programme.owner_center_id):
        raise CenterOutsideProgramme(
            f"center {parent.code} is outside the programme's centers", center=parent.code
        )
    pid = str(programme.public_id)
    source, target = (parent, child) if downwards else (child, parent)
    posted = uow.journal.post(
        EntryKind.ALLOCATE,
        [
            *budgets.withdraw(uow, source.code, programme, move.amount_fen, towards=target.code),
            *budgets.deposit(target.code, programme, move.amount_fen),
        ],
        {"programme": pid},
        actor,
    )
    spend_facts.record(uow, posted, spend_facts.Attribution(programme.id, target.id))
    spend_facts.record(uow, posted, spend_facts.Attribution(programme.id, source.id), direction=-1)
    return posted


@transaction
def allocate(
    uow: UnitOfWork, programme_id: uuid.UUID, move: BudgetMove, *, actor: Actor
) -> PostedEntry:
    """Move budget from a center to one of its direct children."""
    return _move_between_parent_and_child(uow, programme_id, move, downwards=True, actor=actor)


@transaction
def claw_back(
    uow: UnitOfWork, programme_id: uuid.UUID, move: BudgetMove, *, actor: Actor
) -> PostedEntry:
    """Return unspent budget from a center (`move.from_center`) to its parent."""
    return _move_between_parent_and_child(uow, programme_id, move, downwards=False, actor=actor)


def available_budget(uow: UnitOfWork, programme_id: uuid.UUID, center_code: str) -> int:
    """What the center has left to issue of the programme."""
    return available_budgets(uow, programme_id, [center_code])[center_code]


@read_only
def available_budgets(
    uow: UnitOfWork, programme_id: uuid.UUID, center_codes: list[str]
) -> dict[str, int]:
    """What each center has left to issue of the programme, in one read."""
    programme = uow.programmes.by_public_id(programme_id)
    centers = {code: uow.centers.by_code(code).code for code in center_codes}
    left = budgets.totals(uow, programme, list(centers.values()))
    return {code: left[center] for code, center in centers.items()}
