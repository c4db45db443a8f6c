"""Which programmes an SME could claim a voucher from today, and for each other one the reason
it could not — what an SME clerk sees before choosing, with the claim's own rules (the period,
size, industry and center checks, the cap, the home center's budget), so the page never offers
a claim the service would refuse for a reason it could have told."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from voucher_app.domain.calendar import local_date
from voucher_app.domain.eligibility import budget_exhausted, cap_reached, check_eligibility
from voucher_app.domain.errors import ClaimRefused
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.models import Center, ClaimAllowance, Programme
from voucher_app.persistence.uow import read_only
from voucher_app.services import budgets
from voucher_app.services.centers import is_within
from voucher_app.services.smes import sme_by_uscc
from voucher_app.services.vouchers import applicant, programme_rules


@dataclass(frozen=True, slots=True)
class Offer:
    programme_id: uuid.UUID
    name: str
    face_value_fen: int
    subsidy_rate_bp: int
    period_end: date
    #: Why the SME cannot claim one now; None when it can.
    refusal: ClaimRefused | None


@read_only
def offers_for(uow: UnitOfWork, sme_uscc: str) -> list[Offer]:
    """Every programme, those the SME can claim from first, then by name."""
    session = uow.session
    sme = sme_by_uscc(uow, sme_uscc)
    home = session.get_one(Center, sme.home_center_id)
    today = local_date(uow.clock.now())
    claimed: dict[int, int] = {
        programme_id: used
        for programme_id, used in session.execute(
            select(ClaimAllowance.programme_id, ClaimAllowance.claimed_fen).where(
                ClaimAllowance.sme_id == sme.id
            )
        )
    }
    offers = []
    for programme in session.scalars(select(Programme).order_by(Programme.name)):
        refusal = None
        try:
            within = is_within(session, home.id, programme.owner_center_id)
            check_eligibility(programme_rules(programme), applicant(sme, home, within), today)
            face = programme.voucher_face_value_fen
            used = claimed.get(programme.id, 0)
            if used + face > programme.sme_cap_fen:
                raise cap_reached(programme.sme_cap_fen, used, face)
            left = budgets.totals(uow, programme, [home.code])[home.code]
            if left < face:
                raise budget_exhausted(home.code, left, face)
        except ClaimRefused as refused:
            refusal = refused
        offers.append(
            Offer(
                programme.public_id,
                programme.name,
                programme.voucher_face_value_fen,
                programme.subsidy_rate_bp,
                programme.period_end,
                refusal,
            )
        )
    return sorted(offers, key=lambda offer: offer.refusal is not None)
