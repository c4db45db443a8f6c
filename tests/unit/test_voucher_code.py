"""A voucher's human code (`voucher_app.domain.voucher_code`)."""

from __future__ import annotations

import re

import base32_crockford
import pytest
from hypothesis import given
from hypothesis import strategies as st

from voucher_app.domain.errors import InvalidInput, InvalidVoucherCode
from voucher_app.domain.voucher_code import (
    HUMAN_CODE_BITS,
    VOUCHER_CODE_REASONS,
    new_human_code,
    normalise_human_code,
    random_human_code,
)

#: Crockford's alphabet written out here, independently of the package: 32 data symbols, then
#: the five symbols only the check symbol uses (for the remainders 32 to 36).
DATA_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CHECK_ALPHABET = DATA_ALPHABET + "*~$=U"
_DATA = "[0-9A-HJKMNP-TV-Z]"
CODE_SHAPE = re.compile(f"{_DATA}{{4}}-{_DATA}{{4}}-{_DATA}{{2}}[0-9A-HJKMNP-TV-Z*~$=U]")

bits = st.integers(min_value=0, max_value=2**HUMAN_CODE_BITS - 1)


def symbols_of(code: str) -> str:
    return code.replace("-", "")


def expected_code(n: int) -> str:
    """The code for `n` computed from the definition: 10 base-32 digits, then n mod 37."""
    digits = "".join(DATA_ALPHABET[(n >> (5 * i)) & 31] for i in reversed(range(10)))
    symbols = digits + CHECK_ALPHABET[n % 37]
    return f"{symbols[:4]}-{symbols[4:8]}-{symbols[8:]}"


def reason_of(text: str) -> str:
    with pytest.raises(InvalidVoucherCode) as caught:
        normalise_human_code(text)
    reason: str = caught.value.details["reason"]
    return reason


# --------------------------------------------------------------------------------------------
# Making codes
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "code"),
    [
        (0, "0000-0000-000"),
        (1, "0000-0000-011"),
        (31, "0000-0000-0ZZ"),
        (32, "0000-0000-10*"),
        (36, "0000-0000-14U"),
        (37, "0000-0000-150"),
        (2**HUMAN_CODE_BITS - 1, "ZZZZ-ZZZZ-ZZX"),
    ],
)
def test_new_human_code_zero_pads_ten_data_symbols_and_appends_the_mod_37_check_symbol(
    n: int, code: str
) -> None:
    assert new_human_code(n) == code
    assert expected_code(n) == code


@given(bits)
def test_new_human_code_is_grouped_4_4_3_and_follows_the_definition(n: int) -> None:
    code = new_human_code(n)
    assert CODE_SHAPE.fullmatch(code)
    assert code == expected_code(n)
    assert new_human_code(n) == code  # deterministic


@given(bits)
def test_a_code_decodes_with_the_package_back_to_its_bits(n: int) -> None:
    assert base32_crockford.decode(new_human_code(n), checksum=True) == n


@given(bits, bits)
def test_different_bits_give_different_codes(a: int, b: int) -> None:
    assert (new_human_code(a) == new_human_code(b)) == (a == b)


@pytest.mark.parametrize("n", [-1, 2**HUMAN_CODE_BITS, 2**64])
def test_new_human_code_refuses_bits_outside_50_bits(n: int) -> None:
    with pytest.raises(ValueError, match="random_bits"):
        new_human_code(n)


@pytest.mark.parametrize("n", [True, 1.0, "1"])
def test_new_human_code_refuses_anything_but_an_int(n: object) -> None:
    with pytest.raises(TypeError, match="random_bits"):
        new_human_code(n)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# Reading codes back
# --------------------------------------------------------------------------------------------


@given(bits)
def test_normalise_round_trips_a_new_code(n: int) -> None:
    code = new_human_code(n)
    assert normalise_human_code(code) == code


@given(bits, st.data())
def test_normalise_ignores_case_hyphens_and_spaces(n: int, data: st.DataObject) -> None:
    code = new_human_code(n)
    typed = ""
    for symbol in symbols_of(code):
        typed += data.draw(st.sampled_from(["", "", " ", "-", "  ", "\t", "--"]))
        typed += data.draw(st.sampled_from([symbol, symbol.lower()]))
    typed += data.draw(st.sampled_from(["", " ", "-", "\n"]))
    assert normalise_human_code(typed) == code


@given(bits, st.data())
def test_normalise_reads_i_and_l_as_one_and_o_as_zero(n: int, data: st.DataObject) -> None:
    code = new_human_code(n)
    aliases = {"1": ["1", "I", "i", "L", "l"], "0": ["0", "O", "o"]}
    typed = "".join(
        data.draw(st.sampled_from(aliases.get(symbol, [symbol]))) for symbol in symbols_of(code)
    )
    assert normalise_human_code(typed) == code


def test_normalise_accepts_the_aliases_in_a_known_code() -> None:
    assert normalise_human_code("oooo-oooo-oil") == "0000-0000-011"
    assert normalise_human_code("0000 0000 0LI") == "0000-0000-011"
    assert normalise_human_code("0000-0000-14u") == "0000-0000-14U"


def full_width(text: str) -> str:
    """`text` as a Chinese input method types it: ASCII as full-width forms (U+FF01 to U+FF5E)."""
    return "".join(chr(ord(c) + 0xFEE0) for c in text)


def test_normalise_accepts_full_width_characters_and_ideographic_spaces() -> None:
    typed = full_width("3G92-30VQ") + "\u3000" + full_width("vsq")
    assert typed != "3G92-30VQ vsq"
    assert normalise_human_code(typed) == "3G92-30VQ-VSQ"


# --------------------------------------------------------------------------------------------
# Refusals
# --------------------------------------------------------------------------------------------


@given(bits)
def test_every_single_symbol_substitution_is_caught(n: int) -> None:
    """Crockford's mod-37 check: for data symbol k, a change by d (0 < |d| < 32) changes the
    value by d·32^k, never a multiple of the prime 37; a changed check symbol no longer matches
    the unchanged value; a check-only symbol in a data position is not a data symbol."""
    symbols = symbols_of(new_human_code(n))
    for position, original in enumerate(symbols):
        is_check = position == len(symbols) - 1
        for replacement in CHECK_ALPHABET:
            if replacement == original:
                continue
            mistyped = symbols[:position] + replacement + symbols[position + 1 :]
            expected = "invalid_character" if replacement in "*~$=U" and not is_check else None
            with pytest.raises(InvalidVoucherCode) as caught:
                normalise_human_code(mistyped)
            reason = caught.value.details["reason"]
            assert reason == (expected or "bad_check_symbol"), (mistyped, reason)


@given(bits)
def test_every_swap_of_two_neighbouring_data_symbols_is_caught(n: int) -> None:
    """Swapping data symbols a, b at weights 32^(k+1), 32^k changes the value by
    (a - b)·31·32^k, never a multiple of 37."""
    symbols = symbols_of(new_human_code(n))
    for position in range(9):
        a, b = symbols[position], symbols[position + 1]
        if a == b:
            continue
        swapped = symbols[:position] + b + a + symbols[position + 2 :]
        assert reason_of(swapped) == "bad_check_symbol", swapped


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("   - -  ", id="only-separators"),
        pytest.param("0000", id="four-symbols"),
        pytest.param("0000-0000-01", id="ten-symbols"),
        pytest.param("0000-0000-0110", id="twelve-symbols"),
        pytest.param("0000-0000-0000-011", id="leading-zero-group-too-many"),
        pytest.param("3G92-30VQ-VSQ-3G92-30VQ-VSQ", id="two-codes"),
    ],
)
def test_normalise_refuses_a_wrong_number_of_symbols(text: str) -> None:
    with pytest.raises(InvalidVoucherCode, match="11 symbols") as caught:
        normalise_human_code(text)
    assert caught.value.details["reason"] == "wrong_length"


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("3G92-30VQ-VS!", id="punctuation"),
        pytest.param("3G92_30VQ_VSQ", id="underscore-separator"),
        pytest.param("3G92.30VQ.VSQ", id="dot-separator"),
        pytest.param("3G92-30VQ-VSÄ", id="non-ascii-letter"),
        pytest.param("3G92-30VQ-VSß", id="letter-that-upper-cases-to-two"),
        pytest.param("3G92-3ØVQ-VSQ", id="slashed-o"),
        pytest.param("U000-0000-14U", id="u-as-a-data-symbol"),
        pytest.param("0000-0000-1*U", id="check-only-symbol-before-the-end"),
        pytest.param("*000-0000-000", id="asterisk-first"),
        pytest.param("3G92-30VQ-VS\u200bQ", id="zero-width-space"),
    ],
)
def test_normalise_refuses_characters_outside_the_alphabet(text: str) -> None:
    assert reason_of(text) == "invalid_character"


def test_the_refusal_names_the_offending_character_and_its_position() -> None:
    with pytest.raises(InvalidVoucherCode, match=r"character 11 \('!'\)"):
        normalise_human_code("3G92-30VQ-VS!")
    with pytest.raises(InvalidVoucherCode, match=r"character 1 \('U'\).*last \(check\) symbol"):
        normalise_human_code("u000-0000-14U")


def test_normalise_refuses_a_check_symbol_that_does_not_match() -> None:
    assert normalise_human_code("3G92-30VQ-VSQ") == "3G92-30VQ-VSQ"
    with pytest.raises(InvalidVoucherCode, match="mistyped") as caught:
        normalise_human_code("3G92-30VQ-VSR")
    assert caught.value.details["reason"] == "bad_check_symbol"


def test_invalid_voucher_code_is_invalid_input_with_a_stable_code_and_reasons() -> None:
    assert issubclass(InvalidVoucherCode, InvalidInput)
    assert InvalidVoucherCode.code == "invalid_voucher_code"
    reasons = {reason_of("0000"), reason_of("000!-0000-000"), reason_of("0000-0000-001")}
    assert reasons == VOUCHER_CODE_REASONS


@pytest.mark.parametrize(("n", "type_name"), [(True, "bool"), (1.0, "float"), ("1", "str")])
def test_the_refusal_of_bits_that_are_not_an_int_names_the_type_given(
    n: object, type_name: str
) -> None:
    with pytest.raises(TypeError) as caught:
        new_human_code(n)  # type: ignore[arg-type]
    assert str(caught.value) == f"random_bits must be an int, not {type_name}"


def refusal(text: str) -> InvalidVoucherCode:
    with pytest.raises(InvalidVoucherCode) as caught:
        normalise_human_code(text)
    return caught.value


def test_the_character_refusal_lists_the_letters_a_code_uses() -> None:
    error = refusal("3G92-30VQ-VS!")
    assert error.message == (
        "character 11 ('!') cannot appear in a voucher code, which uses only digits and the "
        "letters ABCDEFGHJKMNPQRSTVWXYZ (I and L read as 1, O as 0)"
    )
    assert error.details == {"reason": "invalid_character"}


@pytest.mark.parametrize(("text", "length"), [("", 0), ("0000", 4), ("0000-0000-0110", 12)])
def test_the_length_refusal_names_the_number_of_symbols_typed(text: str, length: int) -> None:
    error = refusal(text)
    assert error.message == f"a voucher code has 11 symbols, not {length}"
    assert error.details == {"reason": "wrong_length", "length": length}


@pytest.mark.parametrize(
    ("text", "position", "char"),
    [
        pytest.param("0000-0000-1*U", 10, "*", id="after-two-hyphens"),
        pytest.param("0000-~000-14U", 5, "~", id="after-one-hyphen"),
        pytest.param("00 00 - $0 00 - 14U", 5, "$", id="after-spaces-and-hyphens"),
        pytest.param("0000-0000-u4U", 9, "U", id="lower-case-u"),
    ],
)
def test_a_check_only_symbol_before_the_end_is_named_at_its_position_among_the_symbols(
    text: str, position: int, char: str
) -> None:
    error = refusal(text)
    assert error.message == (
        f"character {position} ({char!r}) can only be the last (check) symbol of a voucher code"
    )
    assert error.details == {"reason": "invalid_character"}


@pytest.mark.parametrize(("text", "check"), [("3G92-30VQ-VSR", "R"), ("3g92 30vq vsr", "R")])
def test_the_check_symbol_refusal_names_the_check_symbol_as_typed_upper_cased(
    text: str, check: str
) -> None:
    error = refusal(text)
    assert error.message == (
        f"the check symbol {check!r} does not match the rest of the voucher code "
        "(is one of its characters mistyped?)"
    )
    assert error.details == {"reason": "bad_check_symbol"}


# --------------------------------------------------------------------------------------------
# Fresh codes
# --------------------------------------------------------------------------------------------


def test_a_fresh_code_draws_50_bits_again_until_the_check_symbol_is_a_letter_or_digit() -> None:
    # n mod 37 = 32..36 gives the check symbols *, ~, $, = and U: read aloud badly, so redrawn.
    draws = iter([32, 33, 34, 35, 36, 37 * 5 + 36, 1, 2])
    widths: list[int] = []

    def source(width: int) -> int:
        widths.append(width)
        return next(draws)

    assert random_human_code(source) == "0000-0000-011"
    assert widths == [50] * 7


@pytest.mark.parametrize(("n", "code"), [(31, "0000-0000-0ZZ"), (37, "0000-0000-150")])
def test_a_fresh_code_keeps_the_first_draw_whose_check_symbol_is_a_letter_or_digit(
    n: int, code: str
) -> None:
    draws = iter([n])  # a second draw would fail the test rather than loop for ever
    assert random_human_code(lambda width: next(draws)) == code


def test_a_fresh_code_from_the_system_source_has_the_shape_of_a_code() -> None:
    for _ in range(50):
        code = random_human_code()
        assert CODE_SHAPE.fullmatch(code)
        assert code[-1] in DATA_ALPHABET
        assert normalise_human_code(code) == code
