"""Whether an SME may claim a voucher of a programme, and why not, in English and Chinese.

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

SIZE_NAMES_ZH = {
    SizeClass.MEDIUM: "中型企业",
    SizeClass.SMALL: "小型企业",
    SizeClass.MICRO: "微型企业",
    SizeClass.LARGE: "大型企业",
}


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
            message_zh=f"该服务券项目的申领期为 {rules.period_start} 至 {rules.period_end}",
        )
    if applicant.size is SizeClass.LARGE:
        raise NotAnSme(
            "by the 2011 size standard this enterprise is large, not an SME",
            message_zh="按照2011年中小企业划型标准，该企业属于大型企业，不属于中小微企业",
        )
    if applicant.size not in rules.accepted_sizes:
        accepted = ", ".join(sorted(str(s) for s in rules.accepted_sizes))
        raise NotEligibleSize(
            f"the programme accepts {accepted} enterprises, not {applicant.size}",
            message_zh=f"该项目不面向{SIZE_NAMES_ZH[applicant.size]}",
            size=str(applicant.size),
        )
    if rules.accepted_industries and applicant.industry not in rules.accepted_industries:
        raise NotEligibleIndustry(
            f"the programme does not cover the industry {applicant.industry}",
            message_zh="该项目不覆盖该企业所属行业",
            industry=applicant.industry,
        )
    if not applicant.in_programme_centers:
        raise NotEligibleCenter(
            f"center {applicant.home_center} is outside the programme's centers",
            message_zh=f"企业所属服务中心（{applicant.home_center}）不在该项目范围内",
            center=applicant.home_center,
        )


def cap_reached(cap_fen: int, claimed_fen: int, face_value_fen: int) -> CapReached:
    left = max(cap_fen - claimed_fen, 0)
    return CapReached(
        f"the SME has claimed {format_yuan(claimed_fen)} of its {format_yuan(cap_fen)} cap; "
        f"a voucher of {format_yuan(face_value_fen)} does not fit in the {format_yuan(left)} left",
        message_zh=f"该企业在本项目的申领额度已用 {format_yuan(claimed_fen)}（上限 "
        f"{format_yuan(cap_fen)}），剩余额度不足一张服务券",
        cap_fen=cap_fen,
        claimed_fen=claimed_fen,
    )


def budget_exhausted(center: str, available_fen: int, face_value_fen: int) -> BudgetExhausted:
    return BudgetExhausted(
        f"center {center} has {format_yuan(available_fen)} left for this programme, "
        f"not enough for a voucher of {format_yuan(face_value_fen)}",
        message_zh=f"服务中心（{center}）本项目剩余预算 {format_yuan(available_fen)}，"
        "不足以发放一张服务券",
        center=center,
        available_fen=available_fen,
    )
