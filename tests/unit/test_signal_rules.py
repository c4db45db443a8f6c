"""The fraud signals' rules (`domain.signals`): each fires on a case over its threshold and stays
quiet on one that just misses it; thresholds come from configuration by name; an invoice's
series is all but its last characters."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

import pytest

from voucher_app.domain.errors import InvalidInput
from voucher_app.domain.signals import (
    DEFAULT_THRESHOLDS,
    ClaimFacts,
    Code,
    Thresholds,
    evaluate,
    invoice_series,
)

DAY = date(2026, 3, 20)

#: A claim nothing is odd about: every rule stays quiet.
QUIET = ClaimFacts(
    subsidy_fen=150_050,
    invoiced_fen=300_100,
    remaining_before_fen=500_000,
    submitted_on=DAY,
    provider_claims_that_day=3,
    district_claims=40,
    district_subsidy_fen=10_000_000,
    provider_district_subsidy_fen=1_000_000,
    sme_registered_on=date(2025, 6, 1),
    size_changed_on=None,
    sharing_smes=1,
    shared_what=None,
    providers_from_address=1,
    other_providers_in_series=0,
    provider_claims=20,
    provider_grievances=1,
    all_claims=1_000,
    all_grievances=20,
)


def test_a_claim_nothing_is_odd_about_shows_no_signal() -> None:
    assert evaluate(QUIET) == ()


#: Everyone's claims drew one grievance each on average.
ONE_EACH = {"all_claims": 500, "all_grievances": 500}

#: (code, facts that fire it, facts that just miss it, the figures it shows)
CASES: list[tuple[Code, dict[str, Any], dict[str, Any], dict[str, int | str]]] = [
    (
        Code.NEAR_REMAINING,
        {"subsidy_fen": 490_000},  # 2% below ¥5,000 left: at the line
        {"subsidy_fen": 489_999},
        {"subsidy_fen": 490_000, "remaining_fen": 500_000},
    ),
    (
        Code.ROUND_AMOUNT,
        {"invoiced_fen": 300_000},  # ¥3,000
        {"invoiced_fen": 299_900},  # ¥2,999
        {"invoiced_fen": 300_000, "unit_fen": 100_000},
    ),
    (
        Code.PROVIDER_DAILY_CLAIMS,
        {"provider_claims_that_day": 11},
        {"provider_claims_that_day": 10},
        {"claims": 11, "day": "2026-03-20", "limit": 10},
    ),
    (
        Code.PROVIDER_DISTRICT_SHARE,
        {"provider_district_subsidy_fen": 3_000_001},  # just over 30% of ¥100,000
        {"provider_district_subsidy_fen": 3_000_000},
        {"share_pct": 30, "limit_pct": 30, "district_claims": 40},
    ),
    (
        Code.PROVIDER_DISTRICT_SHARE,
        {"provider_district_subsidy_fen": 9_000_000, "district_claims": 20},
        {"provider_district_subsidy_fen": 9_000_000, "district_claims": 19},  # too few to say
        {"share_pct": 90, "limit_pct": 30, "district_claims": 20},
    ),
    (
        Code.NEW_SME,
        {"sme_registered_on": date(2026, 2, 19)},  # 29 days before
        {"sme_registered_on": date(2026, 2, 18)},  # 30
        {"days": 29, "limit": 30},
    ),
    (
        Code.SIZE_CHANGED,
        {"size_changed_on": date(2026, 2, 19)},
        {"size_changed_on": date(2026, 2, 18)},
        {"days": 29, "limit": 30},
    ),
    (
        Code.SHARED_CONTACT,
        {"sharing_smes": 3, "shared_what": "phone"},
        {"sharing_smes": 2, "shared_what": "phone"},
        {"smes": 3, "what": "phone"},
    ),
    (
        Code.ONE_ADDRESS_MANY_PROVIDERS,
        {"providers_from_address": 3},
        {"providers_from_address": 2},
        {"providers": 3, "days": 30},
    ),
    (
        Code.INVOICE_SERIES_SHARED,
        {"other_providers_in_series": 1},
        {"other_providers_in_series": 0},
        {"providers": 2},
    ),
    (
        Code.PROVIDER_COMPLAINT_RATE,
        {"provider_grievances": 2, "provider_claims": 10},  # 200 in 1000 vs 20: over 3x
        {"provider_grievances": 2, "provider_claims": 34},  # 58.8 in 1000: 2.94x
        {"grievances": 2, "claims": 10, "average_per_mille": 20},
    ),
    (
        Code.PROVIDER_COMPLAINT_RATE,  # exactly three times everyone's is not over it
        {"provider_grievances": 2, "provider_claims": 10, "all_claims": 300, "all_grievances": 10},
        {"provider_grievances": 1, "provider_claims": 10, "all_claims": 300, "all_grievances": 10},
        {"grievances": 2, "claims": 10, "average_per_mille": 33},
    ),
    (
        Code.PROVIDER_COMPLAINT_RATE,  # one grievance a claim on average: 1000 in a thousand
        {
            "provider_grievances": 40,
            "provider_claims": 10,
            "all_claims": 500,
            "all_grievances": 500,
        },
        {
            "provider_grievances": 30,
            "provider_claims": 10,
            "all_claims": 500,
            "all_grievances": 500,
        },
        {"grievances": 40, "claims": 10, "average_per_mille": 1000},
    ),
    (
        Code.PROVIDER_DISTRICT_SHARE,  # nearly all of it: 99 per cent, rounded down
        {"provider_district_subsidy_fen": 9_999_999},
        {"provider_district_subsidy_fen": 2_999_999},
        {"share_pct": 99, "limit_pct": 30, "district_claims": 40},
    ),
    (
        Code.NEAR_REMAINING,  # a fen left, and taken
        {"subsidy_fen": 1, "remaining_before_fen": 1},
        {"subsidy_fen": 1, "remaining_before_fen": 2},
        {"subsidy_fen": 1, "remaining_fen": 1},
    ),
    (
        Code.PROVIDER_COMPLAINT_RATE,
        {"provider_grievances": 5, "provider_claims": 5},
        {"provider_grievances": 4, "provider_claims": 4},  # fewer claims than it takes
        {"grievances": 5, "claims": 5, "average_per_mille": 20},
    ),
]


@pytest.mark.parametrize(
    ("code", "fires", "misses", "figures"), CASES, ids=[f"{c[0]}-{n}" for n, c in enumerate(CASES)]
)
def test_each_rule_fires_over_its_threshold_and_not_just_under_it(
    code: Code, fires: dict[str, Any], misses: dict[str, Any], figures: dict[str, int | str]
) -> None:
    [signal] = evaluate(dataclasses.replace(QUIET, **fires))
    assert (signal.code, signal.figures) == (code, figures)
    assert all(type(value) in (int, str) for value in signal.figures.values())  # never 2.5
    assert signal.document() == {"code": code.value, "figures": figures}
    assert evaluate(dataclasses.replace(QUIET, **misses)) == ()


def test_the_shared_thresholds_are_configured_by_name() -> None:
    strict = Thresholds.configured({"provider_daily_claims": 2, "round_unit_fen": 10_000})
    assert (strict.provider_daily_claims, strict.round_unit_fen) == (2, 10_000)
    assert strict.new_sme_days == DEFAULT_THRESHOLDS.new_sme_days
    codes = [s.code for s in evaluate(dataclasses.replace(QUIET, invoiced_fen=310_000), strict)]
    assert codes == [Code.ROUND_AMOUNT, Code.PROVIDER_DAILY_CLAIMS]
    assert Thresholds.configured({}) == DEFAULT_THRESHOLDS
    assert Thresholds.configured({"provider_daily_claims": 1}).provider_daily_claims == 1


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"provider_daily": 3}, "provider_daily", "no signal threshold is called 'provider_daily'"),
        ({"round_unit_fen": 0}, "round_unit_fen", "the threshold round_unit_fen is a positive"),
        ({"round_unit_fen": -5}, "round_unit_fen", "is a positive whole number"),
        ({"round_unit_fen": "100"}, "round_unit_fen", "is a positive whole number"),
        ({"new_sme_days": True}, "new_sme_days", "is a positive whole number"),
        ({"new_sme_days": 2.5}, "new_sme_days", "is a positive whole number"),
    ],
)
def test_a_wrong_threshold_is_refused_by_name(
    overrides: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        Thresholds.configured(overrides)
    assert refused.value.details == {"field": field}
    assert message in str(refused.value)


def test_a_claim_may_show_every_signal_at_once_in_code_order() -> None:
    everything = dataclasses.replace(
        QUIET,
        subsidy_fen=500_000,
        invoiced_fen=1_000_000,
        provider_claims_that_day=30,
        provider_district_subsidy_fen=9_000_000,
        sme_registered_on=DAY,
        size_changed_on=DAY,
        sharing_smes=5,
        shared_what="account",
        providers_from_address=4,
        other_providers_in_series=2,
        provider_grievances=10,
    )
    assert [signal.code for signal in evaluate(everything)] == list(Code)


@pytest.mark.parametrize(
    ("number", "series"),
    [
        ("44030012345678", "44030012345"),
        ("fp-2026 000123", "FP-2026000"),
        ("A1234567890", "A1234567"),
        ("A123456789", None),  # seven left: too short to be a series
        ("", None),
    ],
)
def test_an_invoice_series_is_all_but_the_last_three_characters(
    number: str, series: str | None
) -> None:
    assert invoice_series(number) == series
