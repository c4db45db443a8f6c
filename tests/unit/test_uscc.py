"""Unified social credit codes (`voucher_app.domain.sme.parse_uscc` and friends).

Valid codes are built here from 17 characters and the check character `python-stdnum`
computes for them; one published example is checked as it stands.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import exceptions as stdnum_errors
from stdnum.cn.uscc import calc_check_digit

from voucher_app.domain.errors import InvalidInput, InvalidUSCC
from voucher_app.domain.sme import (
    USCC_REASONS,
    parse_uscc,
    region_code,
    suggest_center,
)

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"

#: The example in stdnum's documentation (registered in Beijing, 110000).
PUBLISHED = "91110000600037341L"


def complete(body: str) -> str:
    """`body` (17 characters) followed by its check character."""
    assert len(body) == 17
    return body + calc_check_digit(body)


def wrong_check(code: str) -> str:
    """`code` with a check character from the alphabet that is not the right one."""
    return code[:17] + next(c for c in ALPHABET if c != code[17])


def full_width(text: str) -> str:
    """`text` as a Chinese input method types it in full-width mode (ASCII letters and digits)."""
    return "".join(chr(ord(c) + 0xFEE0) for c in text)


SHENZHEN_FUTIAN = complete("91440304MA5F0XWH2")  # a county-level (district) registration
SHENZHEN = complete("91440300192178594")  # registered at city level
GUANGDONG = complete("12440000455858613")  # registered at province level
DONGGUAN = complete("92441900MA4W8RNL1")  # a city without counties: 441900


@pytest.mark.parametrize(
    "code",
    [
        pytest.param(PUBLISHED, id="published-example"),
        pytest.param(SHENZHEN_FUTIAN, id="shenzhen-futian"),
        pytest.param(SHENZHEN, id="shenzhen"),
        pytest.param(GUANGDONG, id="guangdong"),
        pytest.param(DONGGUAN, id="dongguan"),
        pytest.param(complete("93440606000000000"), id="all-zero-organisation-code"),
        pytest.param(complete("91445300YYYYYYYYY"), id="letters-in-organisation-code"),
    ],
)
def test_parse_uscc_returns_a_valid_code_unchanged(code: str) -> None:
    assert parse_uscc(code) == code


def test_the_published_example_is_valid_as_published() -> None:
    assert calc_check_digit(PUBLISHED[:17]) == PUBLISHED[17] == "L"
    assert parse_uscc(PUBLISHED) == PUBLISHED


bodies = st.builds(
    lambda head, tail: head + tail,
    st.text("0123456789", min_size=8, max_size=8),
    st.text(ALPHABET, min_size=9, max_size=9),
)


@settings(max_examples=300, deadline=None)
@given(bodies)
def test_parse_uscc_accepts_every_body_with_its_check_character(body: str) -> None:
    code = complete(body)
    assert parse_uscc(code) == code
    assert parse_uscc(code.lower()) == code


@settings(max_examples=300, deadline=None)
@given(body=bodies, check=st.sampled_from(ALPHABET))
def test_parse_uscc_refuses_every_other_check_character(body: str, check: str) -> None:
    if check == calc_check_digit(body):
        return
    with pytest.raises(InvalidUSCC) as caught:
        parse_uscc(body + check)
    assert caught.value.details["reason"] == "bad_check_character"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        pytest.param(PUBLISHED.lower(), PUBLISHED, id="lower-case"),
        pytest.param("91110000600037341l", PUBLISHED, id="lower-case-check"),
        pytest.param(f"  {PUBLISHED}\n", PUBLISHED, id="surrounding-whitespace"),
        pytest.param("91 110000 600037341 L", PUBLISHED, id="spaces-between-parts"),
        pytest.param("9 1 1 1 0 0 0 0 6 0 0 0 3 7 3 4 1 l", PUBLISHED, id="spaces-everywhere"),
        pytest.param("91110000\t600037341L", PUBLISHED, id="tab"),
        pytest.param("91110000\u3000600037341L", PUBLISHED, id="ideographic-space"),
        pytest.param("91110000\u00a0600037341L", PUBLISHED, id="no-break-space"),
        pytest.param(full_width(PUBLISHED), PUBLISHED, id="full-width"),
        pytest.param(full_width(PUBLISHED.lower()), PUBLISHED, id="full-width-lower-case"),
        pytest.param("91-110000-600037341-L", PUBLISHED, id="hyphens"),
    ],
)
def test_parse_uscc_normalises_case_spacing_and_full_width_forms(text: str, code: str) -> None:
    assert parse_uscc(text) == code


@pytest.mark.parametrize(
    ("text", "length"),
    [
        pytest.param("", 0, id="empty"),
        pytest.param("   ", 0, id="blank"),
        pytest.param(PUBLISHED[:17], 17, id="17-no-check-character"),
        pytest.param(PUBLISHED[1:], 17, id="17-first-dropped"),
        pytest.param(PUBLISHED + "0", 19, id="19"),
        pytest.param(PUBLISHED * 2, 36, id="twice"),
        pytest.param("440300", 6, id="region-code-only"),
        pytest.param("9111000060003734I", 17, id="17-with-forbidden-letter"),
    ],
)
def test_parse_uscc_refuses_the_wrong_length_first_and_names_it(text: str, length: int) -> None:
    with pytest.raises(InvalidUSCC) as caught:
        parse_uscc(text)
    assert caught.value.details["reason"] == "wrong_length"
    assert caught.value.details["length"] == length
    assert caught.value.message == (f"a unified social credit code has 18 characters, not {length}")


@pytest.mark.parametrize(
    ("text", "position", "char"),
    [
        *(
            pytest.param(PUBLISHED[:9] + bad + PUBLISHED[10:], 10, bad, id=f"{bad}-in-body")
            for bad in "IOSVZ"
        ),
        *(pytest.param(PUBLISHED[:17] + bad, 18, bad, id=f"{bad}-as-check") for bad in "IOSVZ"),
        pytest.param("9111000060003734i1", 17, "I", id="lower-case-i"),
        pytest.param("A1110000600037341L", 1, "A", id="letter-as-authority"),
        pytest.param("91L10000600037341L", 3, "L", id="letter-in-region"),
        pytest.param("9111000060003*341L", 14, "*", id="asterisk"),
        pytest.param("9111000060003734号L", 17, "号", id="chinese-character"),
        pytest.param("9111000060003734.L", 17, ".", id="full-stop"),
    ],
)
def test_parse_uscc_refuses_characters_outside_the_code_and_names_them(
    text: str, position: int, char: str
) -> None:
    with pytest.raises(InvalidUSCC) as caught:
        parse_uscc(text)
    assert caught.value.details["reason"] == "invalid_character"
    assert caught.value.details["position"] == position
    assert f"character {position}" in caught.value.message
    assert repr(char) in caught.value.message


@pytest.mark.parametrize(
    "code",
    [
        pytest.param(wrong_check(PUBLISHED), id="published-example"),
        pytest.param(wrong_check(SHENZHEN_FUTIAN), id="shenzhen-futian"),
        pytest.param(PUBLISHED[:8] + "600037314L", id="transposed-digits"),
        pytest.param(PUBLISHED[:8] + "600087341L", id="one-digit-mistyped"),
    ],
)
def test_parse_uscc_refuses_a_check_character_that_does_not_match(code: str) -> None:
    with pytest.raises(InvalidUSCC) as caught:
        parse_uscc(code)
    assert caught.value.details["reason"] == "bad_check_character"
    assert repr(code[17]) in caught.value.message
    assert "check character" in caught.value.message


def test_a_part_stdnum_refuses_as_a_component_is_an_invalid_character(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(number: str) -> str:
        raise stdnum_errors.InvalidComponent()

    monkeypatch.setattr("stdnum.cn.uscc.validate", refuse)
    with pytest.raises(InvalidUSCC) as caught:
        parse_uscc(PUBLISHED)
    assert caught.value.details["reason"] == "invalid_character"


@pytest.mark.parametrize("text", ["", PUBLISHED[:17], "A1110000600037341L", wrong_check(PUBLISHED)])
def test_invalid_uscc_is_invalid_input_with_a_stable_code_and_a_known_reason(text: str) -> None:
    with pytest.raises(InvalidUSCC) as caught:
        parse_uscc(text)
    assert isinstance(caught.value, InvalidInput)
    assert caught.value.code == "invalid_uscc"
    assert caught.value.details["reason"] in USCC_REASONS


@pytest.mark.parametrize(
    ("text", "region"),
    [
        pytest.param(SHENZHEN_FUTIAN, "440304", id="county"),
        pytest.param(SHENZHEN, "440300", id="city"),
        pytest.param(GUANGDONG, "440000", id="province"),
        pytest.param(PUBLISHED.lower(), "110000", id="normalised-first"),
    ],
)
def test_region_code_is_characters_3_to_8(text: str, region: str) -> None:
    assert region_code(text) == region


def test_region_code_refuses_an_invalid_code() -> None:
    with pytest.raises(InvalidUSCC):
        region_code(wrong_check(SHENZHEN_FUTIAN))


PROVINCE, CITY, COUNTY, OTHER_COUNTY = "440000", "440300", "440304", "440305"


@pytest.mark.parametrize(
    ("known", "expected"),
    [
        pytest.param({PROVINCE, CITY, COUNTY}, COUNTY, id="county-known"),
        pytest.param({COUNTY}, COUNTY, id="only-county-known"),
        pytest.param({PROVINCE, CITY, OTHER_COUNTY}, CITY, id="only-city-known"),
        pytest.param({PROVINCE, "440100", "440106"}, PROVINCE, id="only-province-known"),
        pytest.param({"110000", "440100"}, None, id="other-regions-known"),
        pytest.param(set(), None, id="nothing-known"),
    ],
)
def test_suggest_center_picks_the_most_specific_known_center(
    known: set[str], expected: str | None
) -> None:
    assert suggest_center(SHENZHEN_FUTIAN, known) == expected


def test_suggest_center_takes_any_collection_of_codes() -> None:
    assert suggest_center(SHENZHEN_FUTIAN, [PROVINCE, CITY]) == CITY
    assert suggest_center(SHENZHEN_FUTIAN, (PROVINCE,)) == PROVINCE
    assert suggest_center(SHENZHEN_FUTIAN, {CITY: "深圳"}.keys()) == CITY


@pytest.mark.parametrize(
    ("code", "known", "expected"),
    [
        pytest.param(SHENZHEN, {PROVINCE, CITY}, CITY, id="city-registration-city-known"),
        pytest.param(SHENZHEN, {PROVINCE, COUNTY}, PROVINCE, id="city-registration-county-only"),
        pytest.param(DONGGUAN, {PROVINCE, "441900"}, "441900", id="city-without-counties"),
        pytest.param(GUANGDONG, {PROVINCE, CITY, COUNTY}, PROVINCE, id="province-registration"),
    ],
)
def test_suggest_center_never_descends_below_the_registering_region(
    code: str, known: set[str], expected: str
) -> None:
    assert suggest_center(code, known) == expected


def test_suggest_center_refuses_an_invalid_code() -> None:
    with pytest.raises(InvalidUSCC):
        suggest_center("not a code", {PROVINCE})


#: The letters GB 32100-2015 allows: the Latin alphabet without I, O, S, V and Z.
LETTERS = "ABCDEFGHJKLMNPQRTUWXY"


def refusal(text: str) -> InvalidUSCC:
    with pytest.raises(InvalidUSCC) as caught:
        parse_uscc(text)
    return caught.value


def test_the_allowed_letters_are_the_alphabet_without_i_o_s_v_and_z() -> None:
    assert "".join(c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in "IOSVZ") == LETTERS
    assert ALPHABET == "0123456789" + LETTERS


@pytest.mark.parametrize("position", [1, 8])
@pytest.mark.parametrize("letter", LETTERS)
def test_a_letter_in_the_first_8_characters_is_refused_as_not_a_digit(
    letter: str, position: int
) -> None:
    # Registration authority, entity type and region code (characters 1 to 8) are digits.
    text = PUBLISHED[: position - 1] + letter + PUBLISHED[position:]
    error = refusal(text)
    assert error.message == (
        "the first 8 characters of a unified social credit code are digits, "
        f"but character {position} is {letter!r}"
    )
    assert error.details == {"reason": "invalid_character", "position": position}


def test_letters_from_character_9_on_are_allowed_so_a_later_character_is_the_one_named() -> None:
    text = PUBLISHED[:8] + "A" + "I" + PUBLISHED[10:]
    error = refusal(text)
    assert error.message == (
        "character 10 ('I') cannot appear in a unified social credit code, which uses only 0-9 "
        "and the letters ABCDEFGHJKLMNPQRTUWXY"
    )
    assert error.details == {"reason": "invalid_character", "position": 10}


def test_the_check_character_refusal_names_it_and_suggests_a_mistyped_character() -> None:
    error = refusal(PUBLISHED[:17] + "M")
    assert error.message == (
        "the check character 'M' does not match the first 17 characters of the unified social "
        "credit code (is one of them mistyped?)"
    )
    assert error.details == {"reason": "bad_check_character"}


def test_a_part_stdnum_refuses_that_no_character_explains_is_named_as_a_part(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(number: str) -> str:
        raise stdnum_errors.InvalidComponent()

    monkeypatch.setattr("stdnum.cn.uscc.validate", refuse)
    error = refusal(PUBLISHED)
    assert error.message == "a part of the unified social credit code is not valid"
    assert error.details == {"reason": "invalid_character"}
