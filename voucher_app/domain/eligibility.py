"""Whether an SME may claim a voucher of a programme, and why not: a refusal's code and the
values its sentence names (the pages say it in the visitor's language, `web.messages`).

The rules that need no counting: the programme's period, the SME's size class, its industry,
and its home center lying within the programme's centers. The per-SME cap and the budget are
counted under concurrency by the claim service (conditional updates), with the same refusals.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

from voucher_app.domain.errors import (
    BudgetExhausted,
    CapReached,
    NotAnSme,
    NotEligibleCenter,
    NotEligibleIndustry,
    NotEligibleSize,
    ProgrammeClosed,
)
from voucher_app.domain.money import format_yuan
from voucher_app.domain.sme import SizeClass


@dataclass(frozen=True, slots=True)
class ProgrammeRules:
    period_start: date
    period_end: date
    accepted_sizes: Collection[SizeClass]
    accepted_industries: Collection[str]  # empty: every industry


@dataclass(frozen=True, slots=True)
class Applicant:
    size: SizeClass
    industry: str
    home_center: str
    in_programme_centers: bool


def check_eligibility(rules: ProgrammeRules, applicant: Applicant, today: date) -> None:
    """Raise the first `ClaimRefused` that applies, or return when the SME is eligible."""
    if not rules.period_start <= today <= rules.period_end:
        raise ProgrammeClosed(
            f"the programme runs from {rules.period_start} to {rules.period_end}",
            extra={"period_start": rules.period_start, "period_end": rules.period_end},
        )
    if applicant.size is SizeClass.LARGE:
        raise NotAnSme("by the 2011 size standard this enterprise is large, not an SME")
    if applicant.size not in rules.accepted_sizes:
        accepted = ", ".join(sorted(str(s) for s in rules.accepted_sizes))
        raise NotEligibleSize(
            f"the programme accepts {accepted} enterprises, not {applicant.size}",
            size=str(applicant.size),
        )
    if rules.accepted_industries and applicant.industry not in rules.accepted_industries:
        raise NotEligibleIndustry(
            f"the programme does not cover the industry {applicant.industry}",
            industry=applicant.industry,
        )
    if not applicant.in_programme_centers:
        raise NotEligibleCenter(
            f"center {applicant.home_center} is outside the programme's centers",
            center=applicant.home_center,
        )


def cap_reached(cap_fen: int, claimed_fen: int, face_value_fen: int) -> CapReached:
    left = max(cap_fen - claimed_fen, 0)
    return CapReached(
        f"the SME has claimed {format_yuan(claimed_fen)} of its {format_yuan(cap_fen)} cap; "
        f"a voucher of {format_yuan(face_value_fen)} does not fit in the {format_yuan(left)} left",
        cap_fen=cap_fen,
        claimed_fen=claimed_fen,
    )


def budget_exhausted(center: str, available_fen: int, face_value_fen: int) -> BudgetExhausted:
    return BudgetExhausted(
        f"center {center} has {format_yuan(available_fen)} left for this programme, "
        f"not enough for a voucher of {format_yuan(face_value_fen)}",
        center=center,
        available_fen=available_fen,
    )
