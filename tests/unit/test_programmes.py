"""A programme's terms hold together: a name, a period that does not end before it starts,
whole positive amounts of fen, a rate of 1 to 10,000 basis points, a cap that covers a voucher
and a voucher the budget covers, a validity of 1 day to three years and a confirmation window of
1 to 60 days, known service categories (at least one), sizes that are SMEs, known industries."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

import pytest

from voucher_app.domain.errors import InvalidAmount, InvalidProgrammeTerms
from voucher_app.domain.programmes import MAX_FACE_VALUE_FEN, ProgrammeTerms
from voucher_app.domain.sme import SizeClass

TERMS = ProgrammeTerms(
    name="2026年深圳市中小企业服务券",
    owner_center="440300",
    period_start=date(2026, 3, 1),
    period_end=date(2026, 11, 30),
    total_budget_fen=10_000_000_00,
    subsidy_rate_bp=5_000,
    sme_cap_fen=30_000_00,
    voucher_face_value_fen=10_000_00,
    voucher_validity_days=180,
    partial_spending=True,
    service_categories=("accounting_tax", "legal"),
    accepted_sizes=(SizeClass.SMALL, SizeClass.MICRO),
)


def refused(**changes: Any) -> InvalidProgrammeTerms:
    with pytest.raises(InvalidProgrammeTerms) as refusal:
        dataclasses.replace(TERMS, **changes)
    assert refusal.value.code == "invalid_programme_terms"
    return refusal.value


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"name": "x" * 200},
        {"period_end": date(2026, 3, 1)},  # a one-day programme
        {"subsidy_rate_bp": 1},
        {"subsidy_rate_bp": 10_000},  # the voucher pays it all
        {"sme_cap_fen": 10_000_00},  # exactly one voucher
        {"voucher_face_value_fen": 10_000_000_00, "sme_cap_fen": 10_000_000_00},  # the whole budget
        {"voucher_validity_days": 1},
        {"voucher_validity_days": 3 * 366},
        {"confirmation_days": 1},
        {"confirmation_days": 60},
        {"service_categories": ("training",)},
        {"accepted_sizes": (SizeClass.MEDIUM, SizeClass.SMALL, SizeClass.MICRO)},
        {"accepted_industries": ("software_it", "retail")},
        {"budget_shards": 1},
        {"budget_shards": 64},
        {"notice_working_days": 0},
        {"notice_working_days": 30},
        {
            "voucher_face_value_fen": MAX_FACE_VALUE_FEN,
            "sme_cap_fen": MAX_FACE_VALUE_FEN,
            "total_budget_fen": MAX_FACE_VALUE_FEN,
        },
    ],
    ids=repr,
)
def test_terms_at_the_edges_of_the_rules_are_accepted(changes: dict[str, Any]) -> None:
    terms = dataclasses.replace(TERMS, **changes)
    assert {key: getattr(terms, key) for key in changes} == changes


@pytest.mark.parametrize("name", ["", "   ", "x" * 201])
def test_a_programme_needs_a_name_of_at_most_200_characters(name: str) -> None:
    assert str(refused(name=name)) == "a programme needs a name of at most 200 characters"


def test_a_period_may_not_end_before_it_starts() -> None:
    assert str(refused(period_end=date(2026, 2, 28))) == "the period ends before it starts"


@pytest.mark.parametrize("field", ["total_budget_fen", "voucher_face_value_fen", "sme_cap_fen"])
@pytest.mark.parametrize("value", [0, -1, 1.5, True])
def test_each_amount_is_a_whole_positive_number_of_fen_named_when_not(
    field: str, value: Any
) -> None:
    with pytest.raises(InvalidAmount) as refusal:
        dataclasses.replace(TERMS, **{field: value})
    assert refusal.value.details["field"] == field


@pytest.mark.parametrize("rate", [1.5, "5000", True, None])
def test_the_rate_is_a_whole_number_of_basis_points(rate: object) -> None:
    assert str(refused(subsidy_rate_bp=rate)) == (
        "subsidy_rate_bp must be a whole number of basis points"
    )


@pytest.mark.parametrize("rate", [0, -5_000, 10_001])
def test_the_rate_is_between_one_basis_point_and_the_whole_price(rate: int) -> None:
    assert str(refused(subsidy_rate_bp=rate)) == "subsidy_rate_bp must be between 1 and 10000"


def test_the_per_sme_cap_covers_at_least_one_voucher() -> None:
    assert str(refused(sme_cap_fen=10_000_00 - 1)) == (
        "the per-SME cap must cover at least one voucher"
    )


def test_a_voucher_is_worth_no_more_than_the_whole_budget() -> None:
    too_big = {"voucher_face_value_fen": 10_000_000_01, "sme_cap_fen": 10_000_000_01}
    assert str(refused(**too_big)) == "a voucher cannot be worth more than the whole budget"


@pytest.mark.parametrize("days", [0, -1, 3 * 366 + 1])
def test_a_voucher_is_valid_for_one_day_to_three_years(days: int) -> None:
    assert str(refused(voucher_validity_days=days)) == "validity must be 1 to 1098 days"


@pytest.mark.parametrize("days", [0, -7, 61])
def test_the_confirmation_window_is_one_to_sixty_days(days: int) -> None:
    assert str(refused(confirmation_days=days)) == "the confirmation window must be 1 to 60 days"


def test_an_unknown_service_category_is_refused_naming_it() -> None:
    refusal = refused(service_categories=("legal", "massage", "astrology"))
    assert refusal.details == {"unknown": ["astrology", "massage"]}
    assert str(refusal) == "unknown or missing service categories: ['astrology', 'massage']"


def test_a_programme_covers_at_least_one_service_category() -> None:
    refusal = refused(service_categories=())
    assert refusal.details == {"unknown": []}
    assert str(refusal) == "unknown or missing service categories: []"


@pytest.mark.parametrize(
    "sizes", [(), (SizeClass.LARGE,), (SizeClass.SMALL, SizeClass.LARGE)], ids=repr
)
def test_a_programme_accepts_one_or_more_sme_sizes_and_never_large(
    sizes: tuple[SizeClass, ...],
) -> None:
    assert str(refused(accepted_sizes=sizes)) == (
        "accepted sizes must be one or more of medium, small, micro"
    )


def test_an_industry_the_size_standard_does_not_have_is_refused_naming_it() -> None:
    refusal = refused(accepted_industries=("retail", "mining", "fishing"))
    assert str(refusal) == "unknown industries: ['fishing', 'mining']"


def test_a_voucher_worth_more_than_its_qr_code_can_carry_is_refused_naming_the_field() -> None:
    over = MAX_FACE_VALUE_FEN + 1
    refusal = refused(voucher_face_value_fen=over, sme_cap_fen=over, total_budget_fen=over)
    assert refusal.message == (
        "a voucher may be worth at most ¥999,999,999.99, so that its QR code stays scannable"
    )
    assert refusal.details["field"] == "voucher_face_value_fen"


@pytest.mark.parametrize("shards", [0, 65])
def test_a_budget_is_held_in_one_to_sixty_four_shards(shards: int) -> None:
    assert refused(budget_shards=shards).message == "a center's budget is held in 1 to 64 shards"


@pytest.mark.parametrize("days", [-1, 31])
def test_a_notice_period_is_0_to_30_working_days(days: int) -> None:
    refusal = refused(notice_working_days=days)
    assert refusal.message == "the notice period must be 0 to 30 working days"
    assert refusal.details["field"] == "notice_working_days"
