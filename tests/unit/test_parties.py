"""What relates two parties (`domain.parties`): each shared attribute in its normal form, the
declared relations, the keyed digest of a legal representative that matches without revealing,
and the ID numbers it refuses."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voucher_app.domain.errors import InvalidInput
from voucher_app.domain.parties import (
    LegalRepresentative,
    MatchingKey,
    Party,
    Relation,
    Shared,
    check_address,
    check_bank_account,
    check_phone,
    legal_rep_digest,
    normal_account,
    normal_address,
    normal_id_number,
    normal_phone,
    shared,
)

KEY = MatchingKey(b"k" * 32)
OTHER_KEY = MatchingKey(b"j" * 32)
#: GB 11643's example number (its check character is X), as python-stdnum's tests use it.
RESIDENT_ID = "11010519491231002X"


def _full_width(text: str) -> str:
    """ASCII letters and digits as a Chinese input method types them (U+FF01 onwards)."""
    return "".join(chr(ord(c) + 0xFEE0) for c in text)


SME = Party(
    "91440305MA0000001X",
    legal_rep_digest(KEY, LegalRepresentative("张三", RESIDENT_ID)),
    "广州市天河区体育西路1号",
    "+86 138 0013 8000",
    "6222 0200 0000 0001",
)
STRANGER = Party("91440300MA0000002Y", None, "深圳市南山区科技园", "0755-8888 0000", "744000000001")


def test_a_stranger_shares_nothing() -> None:
    assert shared(SME, STRANGER) == ()


def test_one_credit_code_is_one_company() -> None:
    assert shared(SME, Party(SME.uscc)) == (Shared.SAME_COMPANY,)


@pytest.mark.parametrize(
    ("changes", "found"),
    [
        ({"legal_rep_digest": SME.legal_rep_digest}, Shared.LEGAL_REPRESENTATIVE),
        ({"address": "广州市天河区 体育西路 1 号"}, Shared.ADDRESS),
        ({"address": "广州市天河区体育西路１号。"}, Shared.ADDRESS),  # full-width, a full stop
        ({"phone": "13800138000"}, Shared.PHONE),
        ({"phone": "0086-138-0013-8000"}, Shared.PHONE),
        ({"phone": "020 3800 1234", "other_phone": "+86 20 3800 1234"}, Shared.PHONE),
        ({"bank_account": "6222-0200-0000-0001"}, Shared.BANK_ACCOUNT),
    ],
    ids=[
        "legal rep",
        "address spaced",
        "address full-width",
        "phone",
        "phone 0086",
        "landline",
        "account",
    ],
)
def test_each_attribute_matches_in_its_normal_form_in_both_directions(
    changes: dict[str, object], found: Shared
) -> None:
    sme, changes = SME, dict(changes)  # the parameter is shared by every run: left as it is
    if "other_phone" in changes:  # a landline dialled from home and from abroad
        sme = Party(SME.uscc, phone=str(changes.pop("other_phone")))
    provider = Party(STRANGER.uscc, **{**_fields(STRANGER), **changes})  # type: ignore[arg-type]
    assert shared(sme, provider) == (found,)
    assert shared(provider, sme) == (found,)


@pytest.mark.parametrize(
    "changes",
    [
        {"address": "广州市天河区体育西路2号"},
        {"phone": "13800138001"},
        {"bank_account": "6222020000000002"},
        {
            "legal_rep_digest": legal_rep_digest(
                KEY, LegalRepresentative("张三", "110105194912310038")
            )
        },
    ],
    ids=["next door", "one digit off", "another account", "another ID"],
)
def test_a_near_miss_is_not_a_match(changes: dict[str, object]) -> None:
    provider = Party(STRANGER.uscc, **{**_fields(STRANGER), **changes})  # type: ignore[arg-type]
    assert shared(SME, provider) == ()


def test_an_attribute_neither_party_gave_matches_nothing() -> None:
    assert shared(Party("91440305MA0000001X"), Party("91440300MA0000002Y")) == ()
    assert shared(Party("A", address="", phone=""), Party("B", address=" ", phone="-")) == ()


def test_declared_relations_are_named_after_what_the_parties_share() -> None:
    provider = Party(STRANGER.uscc, phone=SME.phone)
    found = shared(SME, provider, frozenset({Relation.SHAREHOLDER, Relation.FAMILY}))
    assert found == (Shared.PHONE, Shared.SHAREHOLDER, Shared.FAMILY)


def test_the_digest_is_the_keyed_hmac_of_the_normal_id_number() -> None:
    digest = legal_rep_digest(KEY, LegalRepresentative(" 张 三 ", "110105 19491231 002x"))
    expected = hmac.new(
        b"k" * 32, f"legal-representative-id\x00{RESIDENT_ID}".encode(), hashlib.sha256
    ).digest()
    assert digest == expected == SME.legal_rep_digest
    # Under another deployment's key, the same person matches nothing.
    assert legal_rep_digest(OTHER_KEY, LegalRepresentative("张三", RESIDENT_ID)) != digest


@pytest.mark.parametrize("name", ["張三", "张 三", "ZHANG San", "Zhang San"])
def test_one_person_matches_however_the_name_is_written(name: str) -> None:
    written = legal_rep_digest(KEY, LegalRepresentative(name, RESIDENT_ID))
    assert shared(SME, Party(STRANGER.uscc, written)) == (Shared.LEGAL_REPRESENTATIVE,)


def test_a_representative_and_a_key_never_show_in_their_repr() -> None:
    shown = repr(LegalRepresentative("张三", RESIDENT_ID)) + repr(KEY)
    assert "张三" not in shown and RESIDENT_ID not in shown and "kkkk" not in shown


@pytest.mark.parametrize(
    ("number", "normal"),
    [
        (RESIDENT_ID.lower(), RESIDENT_ID),
        (_full_width(RESIDENT_ID), RESIDENT_ID),  # typed with a Chinese input method
        ("K1234567", "K1234567"),  # a Hong Kong identity card
        ("E 1234 5678", "E12345678"),  # a passport
    ],
)
def test_id_numbers_are_read_in_one_form(number: str, normal: str) -> None:
    assert normal_id_number(number) == normal


@pytest.mark.parametrize(
    "number",
    ["110105194912310021", "1234", "张三的身份证号码", "A" * 31],
    ids=["bad check character", "too short", "not letters and digits", "too long"],
)
def test_an_id_number_that_is_none_is_refused(number: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        legal_rep_digest(KEY, LegalRepresentative("张三", number))
    assert refused.value.rule == "bad_id_number"
    assert refused.value.details["field"] == "legal_representative.id_number"


def test_a_representative_needs_a_name() -> None:
    with pytest.raises(InvalidInput) as refused:
        legal_rep_digest(KEY, LegalRepresentative("  ", RESIDENT_ID))
    assert refused.value.details["field"] == "legal_representative.name"


def test_a_short_key_is_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        MatchingKey(b"k" * 31)


@given(st.text(max_size=30))
def test_normal_forms_are_stable(text: str) -> None:
    for normal in (normal_address, normal_phone):
        assert normal(normal(text)) == normal(text)


def _fields(party: Party) -> dict[str, object]:
    return {
        "legal_rep_digest": party.legal_rep_digest,
        "address": party.address,
        "phone": party.phone,
        "bank_account": party.bank_account,
    }


@pytest.mark.parametrize(
    ("typed", "normal"),
    [
        ("+86 755 8888 0000", "075588880000"),  # a landline from abroad: its trunk 0 back
        ("755 8888 0000", "75588880000"),  # no country code: nothing added
        ("86 123", "86123"),  # too short to hold a country code
        ("+86 1234567", "1234567"),  # seven digits after it: the shortest number taken
        ("0086 0086 13800138000", "13800138000"),
        ("+86 (0)755 8888 0000", "075588880000"),  # the trunk 0 written in brackets
        ("１３８-００１３-８０００", "13800138000"),  # noqa: RUF001 - typed full-width
    ],
)
def test_phone_numbers_in_their_normal_form(typed: str, normal: str) -> None:
    assert normal_phone(typed) == normal


def test_account_numbers_in_their_normal_form() -> None:
    assert normal_account(" 6222-0200 ab ") == "62220200AB"


@pytest.mark.parametrize(
    ("number", "normal"),
    [
        ("A1234", "A1234"),  # the shortest other document
        ("A" * 30, "A" * 30),  # the longest
        ("AB1234567890123456", "AB1234567890123456"),  # 18 characters, not a resident ID
        ("1ABCDEFGHIJKLMNOPQ", "1ABCDEFGHIJKLMNOPQ"),
        ("1101051949123100X2", "1101051949123100X2"),
    ],
)
def test_other_documents_numbers_are_letters_and_digits(number: str, normal: str) -> None:
    assert normal_id_number(number) == normal


def test_the_refusals_say_what_is_wrong() -> None:
    with pytest.raises(InvalidInput, match=r"^not a resident ID number: its check character"):
        normal_id_number("110105194912310021")
    with pytest.raises(InvalidInput, match=r"^an ID number has 5 to 30 letters and digits$"):
        normal_id_number("A123")
    with pytest.raises(InvalidInput, match=r"^a legal representative's name has 1 to 100 char"):
        legal_rep_digest(KEY, LegalRepresentative("李" * 101, RESIDENT_ID))
    assert legal_rep_digest(KEY, LegalRepresentative("李", RESIDENT_ID)) == SME.legal_rep_digest
    assert legal_rep_digest(KEY, LegalRepresentative("李" * 100, RESIDENT_ID))


@pytest.mark.parametrize(
    ("check", "typed", "kept"),
    [
        (check_address, " 广州市天河区体育西路1号 ", "广州市天河区体育西路1号"),
        (check_phone, " 020 3800 0000 ", "020 3800 0000"),
        (check_bank_account, "6222 0200 0000 0001", "6222020000000001"),
    ],
)
def test_contact_details_are_kept_as_typed_within_their_limits(
    check: Callable[[str], str], typed: str, kept: str
) -> None:
    assert check(typed) == kept


@pytest.mark.parametrize(
    ("check", "typed", "field", "message"),
    [
        (check_address, "，。 ", "address", "an address has 1 to 300 characters"),
        (check_address, "址" * 301, "address", "an address has 1 to 300 characters"),
        (check_phone, " ", "contact_phone", "a phone number has 1 to 40 characters"),
        (check_phone, "1" * 41, "contact_phone", "a phone number has 1 to 40 characters"),
        (check_bank_account, "12", "bank_account_number", None),
    ],
)
def test_contact_details_outside_their_limits_are_refused_naming_the_field(
    check: Callable[[str], str], typed: str, field: str, message: str | None
) -> None:
    with pytest.raises(InvalidInput) as refused:
        check(typed)
    assert refused.value.details["field"] == field
    if message is not None:
        assert refused.value.message == message


@pytest.mark.parametrize(
    ("check", "typed"),
    [(check_address, "址" * 300), (check_phone, "1" * 40), (check_bank_account, "12345678")],
)
def test_contact_details_at_their_limits_are_kept(check: Callable[[str], str], typed: str) -> None:
    assert check(typed) == typed


def test_reprs_name_the_class_and_hide_the_rest() -> None:
    assert repr(LegalRepresentative("张三", RESIDENT_ID)) == "LegalRepresentative(…)"
    assert repr(KEY) == "MatchingKey(…)"
    assert MatchingKey(b"k" * 32).secret == b"k" * 32  # 32 bytes is enough
