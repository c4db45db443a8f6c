"""Money as integer fen (`voucher_app.domain.money`)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voucher_app.domain.errors import InvalidAmount
from voucher_app.domain.money import (
    FULL_RATE_BP,
    MAX_FEN,
    apply_rate,
    format_yuan,
    parse_yuan,
    require_fen,
)


@pytest.mark.parametrize("value", [1, 100, 123_456, MAX_FEN])
def test_require_fen_returns_positive_whole_amounts_in_range(value: int) -> None:
    assert require_fen(value) == value


def test_require_fen_accepts_zero_only_when_allowed() -> None:
    assert require_fen(0, allow_zero=True) == 0
    with pytest.raises(InvalidAmount):
        require_fen(0)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(1.0, id="float"),
        pytest.param(0.5, id="fractional-float"),
        pytest.param(float("nan"), id="nan"),
        pytest.param(True, id="true"),
        pytest.param(False, id="false"),
        pytest.param("100", id="string"),
        pytest.param(None, id="none"),
        pytest.param(Decimal(100), id="decimal"),
        pytest.param(Fraction(100), id="fraction"),
        pytest.param(0, id="zero"),
        pytest.param(-1, id="negative"),
        pytest.param(-MAX_FEN, id="most-negative"),
        pytest.param(MAX_FEN + 1, id="beyond-max"),
        pytest.param(2**64, id="far-beyond-max"),
    ],
)
def test_require_fen_refuses_anything_but_a_positive_int_within_range(value: object) -> None:
    with pytest.raises(InvalidAmount) as caught:
        require_fen(value, field="budget_fen")
    assert caught.value.details["field"] == "budget_fen"
    assert caught.value.code == "invalid_amount"


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("1234.5", 123_450),
        ("1,234.50", 123_450),
        ("¥1,234.50", 123_450),
        (" ¥1,234.50 ", 123_450),
        ("0.5", 50),
        ("0.05", 5),
        ("0", 0),
        ("0.00", 0),
        ("12", 1200),
        ("007", 700),
        ("1,000,000", 100_000_000),
        ("9999999999999.99", 999_999_999_999_999),
    ],
)
def test_parse_yuan_reads_yuan_strings_into_fen(text: str, fen: int) -> None:
    assert parse_yuan(text) == fen


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "abc",
        "¥",
        "1.234",
        "-1",
        "-¥1.00",
        "+1",
        "1e3",
        ".5",
        "1.",
        "1..2",
        "1.2.3",
        "NaN",
        "Infinity",
        "1 000",
        "¥ 1",
        "¥¥1",
        "123456789012345",  # above MAX_FEN once in fen
        "0x10",
        "1_000",
        "$1",
    ],
)
def test_parse_yuan_refuses_strings_that_are_not_yuan_amounts(text: str) -> None:
    with pytest.raises(InvalidAmount):
        parse_yuan(text)


@pytest.mark.parametrize(
    ("fen", "text"),
    [
        (123_450, "¥1,234.50"),
        (0, "¥0.00"),
        (5, "¥0.05"),
        (50, "¥0.50"),
        (100_000_000, "¥1,000,000.00"),
        (-123_450, "-¥1,234.50"),
        (-5, "-¥0.05"),
    ],
)
def test_format_yuan_writes_the_yuan_symbol_thousands_separators_and_two_decimals(
    fen: int, text: str
) -> None:
    assert format_yuan(fen) == text


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=10**15 - 1))
def test_format_then_parse_yuan_round_trips_every_amount(fen: int) -> None:
    assert parse_yuan(format_yuan(fen)) == fen


@pytest.mark.parametrize("text", ["¥1,234.50", "¥0.50", "¥0.00", "¥12,345,678.09"])
def test_parse_then_format_yuan_round_trips_canonical_strings(text: str) -> None:
    assert format_yuan(parse_yuan(text)) == text


@pytest.mark.parametrize(
    ("amount", "rate_bp", "expected"),
    [
        (10_000, FULL_RATE_BP, 10_000),
        (10_000, 0, 0),
        (999, 5_000, 499),
        (1, 9_999, 0),
        (333, 3_333, 110),
        (12_345, 1, 1),
        (MAX_FEN, FULL_RATE_BP, MAX_FEN),
    ],
)
def test_apply_rate_takes_the_basis_point_share_rounded_down(
    amount: int, rate_bp: int, expected: int
) -> None:
    assert apply_rate(amount, rate_bp) == expected


@settings(max_examples=200, deadline=None)
@given(
    amount=st.integers(min_value=0, max_value=MAX_FEN),
    rate_bp=st.integers(min_value=0, max_value=FULL_RATE_BP),
)
def test_apply_rate_never_rounds_up_and_loses_less_than_one_fen(amount: int, rate_bp: int) -> None:
    share = apply_rate(amount, rate_bp)
    exact = Fraction(amount * rate_bp, FULL_RATE_BP)
    assert share <= exact < share + 1
    assert 0 <= share <= amount
