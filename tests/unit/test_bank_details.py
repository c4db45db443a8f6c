"""Bank details (`voucher_app.domain.bank.check_bank_details`), and that the payment file agrees.

What registration accepts must export: the properties at the end build a pain.001 file with the
details as a creditor and validate it against the shared official schema.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime

import pytest
from hypothesis import event, given, reject
from hypothesis import strategies as st

from tests.iso20022 import assert_valid_pain001
from tests.words import said
from voucher_app.domain.bank import (
    MAX_NAME,
    BankDetails,
    check_account_number,
    check_bank_details,
)
from voucher_app.domain.errors import InvalidBankDetails, InvalidInput
from voucher_app.settlement.pain001 import (
    CreditTransfer,
    Party,
    Payment,
    build_pain001,
    parse_pain001,
)

DETAILS = BankDetails(
    bank_name="中国银行深圳南山支行",
    account_name="深圳市前海知识产权代理有限公司",
    account_number="744000000012345678",
    cnaps="104584000123",
    bic="BKCHCNBJ45A",
)

#: How the provider registration form names the fields.
PROVIDER_FORM = {
    "bank_name": "bank_name",
    "account_name": "bank_account_name",
    "account_number": "bank_account_number",
    "cnaps": "bank_cnaps",
    "bic": "bank_bic",
}


def full_width(text: str) -> str:
    """`text` as a Chinese input method types it in full-width mode (ASCII turns full-width)."""
    return "".join(
        "\u3000" if c == " " else chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text
    )


def refused(field: str, **changes: str | None) -> InvalidBankDetails:
    with pytest.raises(InvalidBankDetails) as caught:
        check_bank_details(dataclasses.replace(DETAILS, **changes))  # type: ignore[arg-type]
    assert caught.value.details["field"] == field
    return caught.value


def test_details_as_the_bank_has_them_are_returned_as_they_are() -> None:
    assert check_bank_details(DETAILS) == DETAILS


def test_numbers_typed_in_full_width_mode_are_normalised_and_names_keep_their_characters() -> None:
    typed = BankDetails(
        bank_name=" 中国银行深圳南山支行\u3000",
        account_name="ABC（深圳）科技有限公司",
        account_number=full_width("7440 0000-0012 3456 78"),
        cnaps=full_width("1045 8400 0123"),
        bic=full_width("bkchcnbj45a"),
    )
    # The bank compares the holder's name as it has it: full-width brackets stay.
    assert check_bank_details(typed) == dataclasses.replace(
        DETAILS, account_name="ABC（深圳）科技有限公司"
    )


def test_an_account_number_loses_the_spaces_and_hyphens_typed_for_readability() -> None:
    typed = dataclasses.replace(DETAILS, account_number=" 7440-0000 0012-3456 78 ")
    assert check_bank_details(typed).account_number == "744000000012345678"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        pytest.param({"bank_name": ""}, "bank_name", id="no-bank"),
        pytest.param({"bank_name": " \u3000 "}, "bank_name", id="blank-bank"),
        pytest.param({"bank_name": "中国银行\n深圳南山支行"}, "bank_name", id="line-break"),
        pytest.param({"bank_name": "中国银行\r深圳南山支行"}, "bank_name", id="carriage-return"),
        pytest.param({"bank_name": "中国银行\t深圳南山支行"}, "bank_name", id="tab"),
        pytest.param({"bank_name": "中国银行\x00"}, "bank_name", id="nul"),
        pytest.param({"bank_name": "中国银行\x7f"}, "bank_name", id="delete"),
        pytest.param({"bank_name": "中国银行\x85支行"}, "bank_name", id="next-line-c1"),
        pytest.param({"bank_name": "中国银行\u2028支行"}, "bank_name", id="line-separator"),
        pytest.param({"bank_name": "中国银行\ud800支行"}, "bank_name", id="lone-surrogate"),
        pytest.param({"bank_name": "中国银行\ufffe"}, "bank_name", id="not-a-character"),
        pytest.param({"bank_name": "中国银行\uffff"}, "bank_name", id="not-a-character-ffff"),
        pytest.param({"account_name": ""}, "account_name", id="no-account-name"),
        pytest.param({"account_name": "户" * 141}, "account_name", id="long-account-name"),
        pytest.param({"account_name": "有限\x1b公司"}, "account_name", id="escape"),
        pytest.param({"account_number": ""}, "account_number", id="no-account"),
        pytest.param({"account_number": "1234567"}, "account_number", id="7-digits"),
        pytest.param({"account_number": "1" * 33}, "account_number", id="33-digits"),
        pytest.param({"account_number": "7440 abcd 1234"}, "account_number", id="letters"),
        pytest.param({"account_number": "7440.0000.1234"}, "account_number", id="dots"),
        pytest.param({"account_number": "DE89370400440532013000"}, "account_number", id="an-iban"),
        pytest.param(
            {"account_number": "\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668"},
            "account_number",
            id="arabic-indic-digits",
        ),
        pytest.param({"cnaps": None}, "cnaps", id="no-cnaps"),
        pytest.param({"cnaps": " "}, "cnaps", id="blank-cnaps"),
        pytest.param({"cnaps": "10458400012"}, "cnaps", id="11-digit-cnaps"),
        pytest.param({"cnaps": "1045840001234"}, "cnaps", id="13-digit-cnaps"),
        pytest.param({"cnaps": "10458400012X"}, "cnaps", id="letter-in-cnaps"),
        pytest.param({"cnaps": "1045-8400-0123"}, "cnaps", id="hyphens-in-cnaps"),
        pytest.param({"bic": "BKCH"}, "bic", id="short-bic"),
        pytest.param({"bic": "BKCHCNBJ4"}, "bic", id="9-character-bic"),
        pytest.param({"bic": "BKCHCNBJ45AB"}, "bic", id="12-character-bic"),
        pytest.param({"bic": "BKCH12BJ"}, "bic", id="digits-for-country"),
        pytest.param({"bic": "BKCH CN BJ"}, "bic", id="spaces-in-bic"),
        pytest.param({"bic": "BKCHCNßJ45"}, "bic", id="uppercases-to-ascii"),
    ],
)
def test_each_rule_refuses_naming_its_field(changes: dict[str, str | None], field: str) -> None:
    error = refused(field, **changes)
    assert isinstance(error, InvalidInput)
    assert error.code == "invalid_bank_details"
    assert said(error) != error.message  # the page says it in Chinese


@pytest.mark.parametrize(
    ("changes", "message", "chinese", "details"),
    [
        pytest.param(
            {"bank_name": ""},
            "the bank's name is needed",
            "请填写开户行名称",
            {"field": "bank_name"},
            id="no-bank",
        ),
        pytest.param(
            {"account_name": "户" * 141},
            "the account name must be at most 140 characters, not 141",
            "户名不能超过 140 个字符",
            {"field": "account_name", "limit": 140},
            id="long-account-name",
        ),
        pytest.param(
            {"bank_name": "中国银行\n深圳南山支行"},
            "the bank's name holds a control character or a line break",
            "开户行名称不能包含控制字符或换行",
            {"field": "bank_name"},
            id="line-break",
        ),
        pytest.param(
            {"account_number": "1234 567"},
            "an account number is 8 to 32 digits, not '1234567'",
            "账号应为 8 至 32 位数字",
            {"field": "account_number"},
            id="7-digits",
        ),
        pytest.param(
            {"cnaps": None},
            "the CNAPS bank code (联行号) of the account's branch is needed",
            "请填写开户行联行号",
            {"field": "cnaps"},
            id="no-cnaps",
        ),
        pytest.param(
            {"cnaps": "1045 8400 X0123"},  # only spaces are dropped: the letter stays and fails
            "a CNAPS bank code is 12 digits, not '10458400X0123'",
            "联行号应为 12 位数字",
            {"field": "cnaps"},
            id="letter-among-12-digits",
        ),
        pytest.param(
            {"bic": "BKCH"},
            "'BKCH' is not a BIC (8 or 11 letters and digits, e.g. BKCHCNBJ)",
            "SWIFT 代码应为 8 或 11 位字母和数字",
            {"field": "bic"},
            id="short-bic",
        ),
    ],
)
def test_each_refusal_says_what_the_field_must_be_in_english_and_chinese(
    changes: dict[str, str | None], message: str, chinese: str, details: dict[str, object]
) -> None:
    with pytest.raises(InvalidBankDetails) as caught:
        check_bank_details(dataclasses.replace(DETAILS, **changes))  # type: ignore[arg-type]
    assert caught.value.message == message
    assert said(caught.value) == chinese
    assert caught.value.details == details


def test_an_account_number_alone_is_normalised_or_refused_naming_the_callers_field() -> None:
    assert check_account_number(full_width("7440-0000 0012")) == "744000000012"
    with pytest.raises(InvalidBankDetails) as caught:
        check_account_number("1234")
    assert caught.value.details == {"field": "account_number"}
    with pytest.raises(InvalidBankDetails) as caught:
        check_account_number("1234", field="funding_account")
    assert caught.value.details == {"field": "funding_account"}


@pytest.mark.parametrize("field", list(PROVIDER_FORM))
def test_the_error_names_the_callers_field(field: str) -> None:
    bad = {"cnaps": "123", "bic": "X"}.get(field, "")
    with pytest.raises(InvalidBankDetails) as caught:
        check_bank_details(dataclasses.replace(DETAILS, **{field: bad}), names=PROVIDER_FORM)
    assert caught.value.details["field"] == PROVIDER_FORM[field]


def test_a_field_the_caller_does_not_name_keeps_its_own_name() -> None:
    with pytest.raises(InvalidBankDetails) as caught:
        check_bank_details(dataclasses.replace(DETAILS, cnaps="1"), names={"bic": "swift"})
    assert caught.value.details["field"] == "cnaps"


def test_the_first_bad_field_is_the_one_named() -> None:
    refused("bank_name", bank_name="", account_number="1", bic="X")
    refused("account_number", account_number="1", cnaps="2", bic="X")


@pytest.mark.parametrize("digits", [8, 9, 19, 31, 32])
def test_account_numbers_of_8_to_32_digits_pass(digits: int) -> None:
    number = "6" * digits
    assert check_bank_details(dataclasses.replace(DETAILS, account_number=number)) == (
        dataclasses.replace(DETAILS, account_number=number)
    )


@pytest.mark.parametrize("digits", [7, 33])
def test_account_numbers_of_7_or_33_digits_fail(digits: int) -> None:
    refused("account_number", account_number="6" * digits)


@pytest.mark.parametrize("field", ["bank_name", "account_name"])
def test_names_of_140_characters_pass_and_141_fail(field: str) -> None:
    longest = dataclasses.replace(DETAILS, **{field: "行" * 140})
    assert check_bank_details(longest) == longest
    refused(field, **{field: "行" * 141})


def test_a_name_is_measured_composed_and_keeps_what_nfkc_would_spell_out() -> None:
    decomposed = "e\u0301"  # é typed as e and a combining accent: one character once composed
    assert check_bank_details(
        dataclasses.replace(DETAILS, account_name=decomposed * 140)
    ).account_name == ("\u00e9" * 140)
    refused("account_name", account_name=decomposed * 141)
    assert check_bank_details(dataclasses.replace(DETAILS, account_name="㍿")).account_name == "㍿"


@pytest.mark.parametrize(
    "name",
    [
        "=2+2",
        "+86 服务中心",
        "-1 有限公司",
        "@SUM(A1)",
        "O'Brien & Sons <Ltd>",
        "\U0001f3e6 银行",
        "Ŝanĝo ĉiuĵaŭde",
    ],
)
def test_names_are_not_otherwise_restricted(name: str) -> None:
    details = dataclasses.replace(DETAILS, account_name=name, bank_name=name)
    assert check_bank_details(details) == details


def test_a_cnaps_code_is_12_digits_without_the_spaces_typed_in_it() -> None:
    typed = dataclasses.replace(DETAILS, cnaps=" 1045 8400 0123 ")
    assert check_bank_details(typed).cnaps == "104584000123"


@pytest.mark.parametrize("cnaps", [None, "", "  ", "\u3000"])
def test_a_cnaps_code_may_be_absent_when_not_required(cnaps: str | None) -> None:
    details = dataclasses.replace(DETAILS, cnaps=cnaps)
    assert check_bank_details(details, require_cnaps=False).cnaps is None


def test_a_cnaps_code_not_required_is_still_checked_when_given() -> None:
    with pytest.raises(InvalidBankDetails) as caught:
        check_bank_details(dataclasses.replace(DETAILS, cnaps="10458400012"), require_cnaps=False)
    assert caught.value.details["field"] == "cnaps"


@pytest.mark.parametrize(
    ("typed", "bic"),
    [
        pytest.param(None, None, id="none"),
        pytest.param("", None, id="empty"),
        pytest.param("  ", None, id="blank"),
        pytest.param("bkchcnbj", "BKCHCNBJ", id="lower-case"),
        pytest.param(" BKCHCNBJ45A ", "BKCHCNBJ45A", id="padded"),
        pytest.param("1CBKCNBJ", "1CBKCNBJ", id="digit-in-bank-code"),
    ],
)
def test_a_bic_is_optional_and_upper_case(typed: str | None, bic: str | None) -> None:
    assert check_bank_details(dataclasses.replace(DETAILS, bic=typed)).bic == bic


# ---------------------------------------------------------------------------------------------
# What the check accepts, the payment file carries


DEBTOR = Party(
    name="广东省中小企业发展促进中心服务券专户",
    account="3602000109200123456",
    bank_name="中国工商银行广州第一支行",
    cnaps="102581000018",
)

#: How `build_pain001` names a creditor's fields in its errors.
CREDITOR_FIELDS = {
    "bank_name": "payments[0].creditor.bank_name",
    "account_name": "payments[0].creditor.name",
    "account_number": "payments[0].creditor.account",
    "cnaps": "payments[0].creditor.cnaps",
    "bic": "payments[0].creditor.bic",
}


def paying(details: BankDetails) -> CreditTransfer:
    """A transfer with one payment to `details`."""
    return CreditTransfer(
        message_id="B7Q2",
        created_at=datetime(2026, 3, 2, 8, 30, tzinfo=UTC),
        initiating_party="广东省中小企业发展促进中心",
        payment_info_id="B7Q2",
        requested_on=date(2026, 3, 3),
        debtor=DEBTOR,
        payments=(
            Payment(
                end_to_end_id="B7Q2-0001",
                amount_fen=123_450,
                creditor=Party(
                    name=details.account_name,
                    account=details.account_number,
                    bank_name=details.bank_name,
                    bic=details.bic,
                    cnaps=details.cnaps,
                ),
                remittance="中小企业服务券兑付 B7Q2-0001",
            ),
        ),
    )


def typed(text: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """`text` as people type it: as is, full-width, or padded with spaces."""
    return st.one_of(text, text.map(full_width), text.map(lambda value: f" {value}\u3000"))


def grouped(digits: st.SearchStrategy[str], gaps: str) -> st.SearchStrategy[str]:
    """`digits` as is, or written in groups of four split by one of `gaps`."""
    return digits | st.tuples(digits, st.sampled_from(gaps)).map(
        lambda drawn: drawn[1].join(drawn[0][i : i + 4] for i in range(0, len(drawn[0]), 4))
    )


def digits(size: int, most: int | None = None) -> st.SearchStrategy[str]:
    return st.text("0123456789", min_size=size, max_size=size if most is None else most)


#: Names of any characters a name may hold (NFKC may still make one too long).
NAMES = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")),
    min_size=1,
    max_size=MAX_NAME,
).filter(str.strip)
BICS = st.from_regex(r"[A-Za-z0-9]{4}[A-Za-z]{2}[A-Za-z0-9]{2}([A-Za-z0-9]{3})?", fullmatch=True)

#: Details as someone with the right papers might type them.
plausible_details = st.builds(
    BankDetails,
    bank_name=typed(NAMES),
    account_name=typed(NAMES),
    account_number=typed(grouped(digits(8, 32), " -")),
    cnaps=st.none() | typed(grouped(digits(12), " ")),
    bic=st.none() | typed(BICS),
)

#: Whatever might be typed into each field, valid or not.
ANYTHING = {
    "bank_name": st.text(),
    "account_name": st.text(),
    "account_number": typed(grouped(digits(0, 40), " -")) | st.text(max_size=40),
    "cnaps": typed(grouped(digits(10, 14), " -")) | st.text(max_size=14),
    "bic": typed(BICS).map(lambda bic: bic[1:]) | st.text(max_size=12),
}


@st.composite
def typed_details(draw: st.DrawFn) -> BankDetails:
    """Plausible details, or plausible details with one field typed as anything at all."""
    details = draw(plausible_details)
    field = draw(st.none() | st.sampled_from(sorted(ANYTHING)))
    if field is None:
        return details
    return dataclasses.replace(details, **{field: draw(ANYTHING[field])})


@given(plausible_details)
def test_whatever_the_check_accepts_a_payment_file_carries_as_the_check_returned_it(
    details: BankDetails,
) -> None:
    try:
        accepted = check_bank_details(details, require_cnaps=False)
    except InvalidBankDetails:
        reject()
    content = build_pain001(paying(details))
    assert_valid_pain001(content)
    assert parse_pain001(content) == paying(accepted)


@given(typed_details())
def test_the_payment_file_refuses_what_the_check_refuses_naming_the_same_field(
    details: BankDetails,
) -> None:
    try:
        check_bank_details(details, require_cnaps=False)
    except InvalidBankDetails as refusal:
        event(f"refused: {refusal.details['field']}")
        with pytest.raises(InvalidBankDetails) as caught:
            build_pain001(paying(details))
        assert caught.value.details["field"] == CREDITOR_FIELDS[refusal.details["field"]]
    else:
        event("accepted")
        build_pain001(paying(details))
