"""Who may claim a voucher of a programme: its period (both days included), the 2011 size
standard (a large enterprise is no SME), the sizes and industries it accepts (none listed: every
industry), its centers; and what the cap and budget refusals say."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.words import said
from voucher_app.domain.eligibility import (
    Applicant,
    ProgrammeRules,
    budget_exhausted,
    cap_reached,
    check_eligibility,
)
from voucher_app.domain.errors import (
    ClaimRefused,
    NotAnSme,
    NotEligibleCenter,
    NotEligibleIndustry,
    NotEligibleSize,
    ProgrammeClosed,
)
from voucher_app.domain.sme import SizeClass

START, END = date(2026, 3, 1), date(2026, 11, 30)
ALL_SMES = (SizeClass.MEDIUM, SizeClass.SMALL, SizeClass.MICRO)


def rules(
    sizes: tuple[SizeClass, ...] = ALL_SMES, industries: tuple[str, ...] = ()
) -> ProgrammeRules:
    return ProgrammeRules(START, END, sizes, industries)


def applicant(
    size: SizeClass = SizeClass.SMALL,
    industry: str = "software_it",
    *,
    in_centers: bool = True,
) -> Applicant:
    return Applicant(size, industry, "440305", in_centers)


@pytest.mark.parametrize("today", [START, START + timedelta(days=1), date(2026, 7, 1), END])
def test_a_programme_is_open_from_its_first_day_to_its_last_included(today: date) -> None:
    check_eligibility(rules(), applicant(), today)


@pytest.mark.parametrize("today", [START - timedelta(days=1), END + timedelta(days=1)])
def test_outside_its_period_a_programme_refuses_saying_when_it_runs(today: date) -> None:
    with pytest.raises(ProgrammeClosed) as refused:
        check_eligibility(rules(), applicant(), today)
    assert refused.value.code == "programme_closed"
    assert str(refused.value) == "the programme runs from 2026-03-01 to 2026-11-30"
    assert said(refused.value) == "该服务券项目的申领期为 2026-03-01 至 2026-11-30"
    assert refused.value.details == {}


@pytest.mark.parametrize(
    "sizes", [ALL_SMES, (SizeClass.SMALL,), (*ALL_SMES, SizeClass.LARGE)], ids=str
)
def test_a_large_enterprise_is_no_sme_whatever_the_programme_accepts(
    sizes: tuple[SizeClass, ...],
) -> None:
    with pytest.raises(NotAnSme) as refused:
        check_eligibility(rules(sizes), applicant(SizeClass.LARGE), START)
    assert refused.value.code == "not_an_sme"
    assert str(refused.value) == "by the 2011 size standard this enterprise is large, not an SME"
    assert said(refused.value) == (
        "按照2011年中小企业划型标准，该企业属于大型企业，不属于中小微企业"
    )
    assert refused.value.details == {}


@pytest.mark.parametrize(
    ("accepted", "size", "message", "chinese"),
    [
        (
            (SizeClass.SMALL, SizeClass.MICRO),
            SizeClass.MEDIUM,
            "the programme accepts micro, small enterprises, not medium",
            "该项目不面向中型企业",
        ),
        (
            (SizeClass.MICRO,),
            SizeClass.SMALL,
            "the programme accepts micro enterprises, not small",
            "该项目不面向小型企业",
        ),
        (
            (SizeClass.MEDIUM, SizeClass.SMALL),
            SizeClass.MICRO,
            "the programme accepts medium, small enterprises, not micro",
            "该项目不面向微型企业",
        ),
    ],
)
def test_a_size_the_programme_does_not_accept_is_refused_naming_it(
    accepted: tuple[SizeClass, ...], size: SizeClass, message: str, chinese: str
) -> None:
    with pytest.raises(NotEligibleSize) as refused:
        check_eligibility(rules(accepted), applicant(size), START)
    assert refused.value.code == "not_eligible_size"
    assert refused.value.details == {"size": size.value}
    assert str(refused.value) == message
    assert said(refused.value) == chinese


@pytest.mark.parametrize("size", ALL_SMES)
def test_every_accepted_size_may_claim(size: SizeClass) -> None:
    check_eligibility(rules((size,)), applicant(size), END)


@pytest.mark.parametrize("industry", ["agriculture", "industry", "software_it", "other"])
def test_a_programme_that_lists_no_industry_covers_every_industry(industry: str) -> None:
    check_eligibility(rules(industries=()), applicant(industry=industry), START)


def test_a_programme_that_lists_industries_covers_those_only() -> None:
    listed = rules(industries=("software_it", "retail"))
    check_eligibility(listed, applicant(industry="software_it"), START)
    check_eligibility(listed, applicant(industry="retail"), START)
    with pytest.raises(NotEligibleIndustry) as refused:
        check_eligibility(listed, applicant(industry="construction"), START)
    assert refused.value.code == "not_eligible_industry"
    assert refused.value.details == {"industry": "construction"}
    assert str(refused.value) == "the programme does not cover the industry construction"
    assert said(refused.value) == "该项目不覆盖该企业所属行业"


def test_an_sme_whose_home_center_is_outside_the_programme_is_refused_naming_it() -> None:
    with pytest.raises(NotEligibleCenter) as refused:
        check_eligibility(rules(), applicant(in_centers=False), START)
    assert refused.value.code == "not_eligible_center"
    assert refused.value.details == {"center": "440305"}
    assert str(refused.value) == "center 440305 is outside the programme's centers"
    assert said(refused.value) == "企业所属服务中心（440305）不在该项目范围内"


@pytest.mark.parametrize(
    ("today", "who", "first"),
    [
        # everything wrong at once: the period is said first
        (
            END + timedelta(days=1),
            applicant(SizeClass.LARGE, "construction", in_centers=False),
            "programme_closed",
        ),
        # then that a large enterprise is no SME (not merely a size not accepted)
        (START, applicant(SizeClass.LARGE, "construction", in_centers=False), "not_an_sme"),
        # then the size, the industry, the center
        (START, applicant(SizeClass.MEDIUM, "construction", in_centers=False), "not_eligible_size"),
        (
            START,
            applicant(SizeClass.SMALL, "construction", in_centers=False),
            "not_eligible_industry",
        ),
        (START, applicant(SizeClass.SMALL, "software_it", in_centers=False), "not_eligible_center"),
    ],
)
def test_the_first_refusal_that_applies_is_the_one_given(
    today: date, who: Applicant, first: str
) -> None:
    narrow = rules((SizeClass.SMALL, SizeClass.MICRO), ("software_it",))
    with pytest.raises(ClaimRefused) as refused:
        check_eligibility(narrow, who, today)
    assert refused.value.code == first


@pytest.mark.parametrize(
    ("cap", "claimed", "face", "left"),
    [
        (300_000, 250_000, 100_000, "¥500.00"),
        (300_000, 300_000, 100_000, "¥0.00"),
        (300_000, 0, 500_000, "¥3,000.00"),
        (300_000, 310_000, 100_000, "¥0.00"),  # never less than nothing left
    ],
)
def test_a_reached_cap_says_what_is_claimed_and_what_is_left(
    cap: int, claimed: int, face: int, left: str
) -> None:
    refusal = cap_reached(cap, claimed, face)
    assert refusal.code == "cap_reached"
    assert refusal.details == {"cap_fen": cap, "claimed_fen": claimed}
    yuan = {
        0: "¥0.00",
        100_000: "¥1,000.00",
        250_000: "¥2,500.00",
        300_000: "¥3,000.00",
        310_000: "¥3,100.00",
        500_000: "¥5,000.00",
    }
    assert str(refusal) == (
        f"the SME has claimed {yuan[claimed]} of its {yuan[cap]} cap; "
        f"a voucher of {yuan[face]} does not fit in the {left} left"
    )
    assert said(refusal) == (
        f"该企业在本项目的申领额度已用 {yuan[claimed]}（上限 {yuan[cap]}），剩余额度不足一张服务券"
    )


@given(cap=st.integers(0, 10**9), claimed=st.integers(0, 10**9))
def test_what_is_left_of_a_cap_is_the_cap_less_the_claims_and_never_negative(
    cap: int, claimed: int
) -> None:
    left_fen = max(cap - claimed, 0)
    left = f"¥{left_fen // 100:,}.{left_fen % 100:02d} left"
    assert str(cap_reached(cap, claimed, 1)).endswith(left)


def test_an_exhausted_budget_names_the_center_and_what_it_has_left() -> None:
    refusal = budget_exhausted("440305", 4_999, 100_000)
    assert refusal.code == "budget_exhausted"
    assert refusal.details == {"center": "440305", "available_fen": 4_999}
    assert str(refusal) == (
        "center 440305 has ¥49.99 left for this programme, not enough for a voucher of ¥1,000.00"
    )
    assert said(refusal) == ("服务中心（440305）本项目剩余预算 ¥49.99，不足以发放一张服务券")
