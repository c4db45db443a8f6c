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
    format_amount,
    format_yuan,
    parse_yuan,
    require_fen,
    yuan_decimal,
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
    ("value", "message"),
    [
        pytest.param(1.0, "budget_fen must be a whole number of fen, not float", id="float"),
        pytest.param(True, "budget_fen must be a whole number of fen, not bool", id="bool"),
        pytest.param("100", "budget_fen must be a whole number of fen, not str", id="string"),
        pytest.param(None, "budget_fen must be a whole number of fen, not NoneType", id="none"),
    ],
)
def test_a_refused_type_is_named_in_the_message_beside_the_field(
    value: object, message: str
) -> None:
    with pytest.raises(InvalidAmount) as caught:
        require_fen(value, field="budget_fen")
    assert caught.value.message == message
    assert caught.value.details == {"field": "budget_fen"}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (0, "budget_fen must be greater than zero"),
        (-1, "budget_fen must be greater than zero"),
        (MAX_FEN + 1, "budget_fen exceeds 9007199254740991 fen"),  # 2**53 - 1
    ],
)
def test_an_amount_out_of_range_is_refused_naming_the_field_and_the_value(
    value: int, message: str
) -> None:
    with pytest.raises(InvalidAmount) as caught:
        require_fen(value, field="budget_fen")
    assert caught.value.message == message
    assert caught.value.details == {"field": "budget_fen", "value": value}


def test_an_amount_names_the_amount_fen_field_unless_told_otherwise() -> None:
    with pytest.raises(InvalidAmount) as caught:
        require_fen(-5)
    assert caught.value.details["field"] == "amount_fen"
    assert caught.value.message == "amount_fen must be greater than zero"


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


@pytest.mark.parametrize("text", ["abc", "-1", "1.234"])
def test_parse_yuan_quotes_the_text_it_cannot_read(text: str) -> None:
    with pytest.raises(InvalidAmount) as caught:
        parse_yuan(text)
    assert caught.value.message == f"not an amount in yuan: {text!r}"
    assert caught.value.details == {"value": text}


def test_parse_yuan_refuses_a_yuan_amount_beyond_the_largest_as_an_amount() -> None:
    # 90,071,992,547,409.92 yuan is one fen more than 2**53 - 1 fen.
    with pytest.raises(InvalidAmount) as caught:
        parse_yuan("90071992547409.92")
    assert caught.value.details == {"field": "amount", "value": 9_007_199_254_740_992}
    assert parse_yuan("90071992547409.91") == MAX_FEN


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


@pytest.mark.parametrize(
    ("fen", "text"),
    [
        (123_450, "1234.50"),
        (100_000_000, "1000000.00"),  # no thousands separators in a payment file
        (1, "0.01"),
        (99, "0.99"),
        (100, "1.00"),
        (0, "0.00"),  # zero has no sign: never "-0.00"
        (-1, "-0.01"),
        (-99, "-0.99"),
        (-123_450, "-1234.50"),  # a negative amount keeps its minus sign
        (MAX_FEN, "90071992547409.91"),
    ],
)
def test_format_amount_writes_plain_yuan_with_two_decimals_and_a_sign_only_below_zero(
    fen: int, text: str
) -> None:
    assert format_amount(fen) == text


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=-MAX_FEN, max_value=MAX_FEN))
def test_format_amount_is_the_exact_decimal_value_in_yuan(fen: int) -> None:
    text = format_amount(fen)
    assert Decimal(text) == Fraction(fen, 100)
    assert text.startswith("-") is (fen < 0)
    assert len(text.split(".")[1]) == 2


@pytest.mark.parametrize(
    ("fen", "text"),
    [(123_450, "1234.50"), (1, "0.01"), (100, "1.00"), (0, "0.00"), (-5, "-0.05")],
)
def test_yuan_decimal_is_the_exact_amount_in_yuan_with_two_decimal_places(
    fen: int, text: str
) -> None:
    amount = yuan_decimal(fen)
    assert isinstance(amount, Decimal)
    assert str(amount) == text


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
