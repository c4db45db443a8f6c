"""Bank details a bank will pay to, checked when they are typed by the rules the export applies.

A bank refuses a whole payment file for one field it cannot use: one provider's account number
typed with a full-width digit, or a branch name pasted with a line break, would stop every
provider in the batch from being paid. So the details are checked where people type them (a
provider's registration, a change of account, a programme's funding account) with this one
function, the same one the pain.001 export applies (`voucher_app.settlement.pain001`), and the
normalised form it returns is what gets stored: details that were accepted once export.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from voucher_app.domain.errors import InvalidBankDetails

#: Unicode normal form applied to numbers and codes before any rule: NFKC turns the full-width
#: digits, letters and spaces a Chinese input method types into their ASCII forms. Names keep
#: their characters (NFC only): a bank compares the account holder's name as it has it, and
#: Chinese company names are written with full-width brackets.
NORMAL_FORM: Final = "NFKC"
NAME_FORM: Final = "NFC"

#: pain.001's Max140Text: the longest bank name (开户行) or account name (户名) a file holds.
MAX_NAME = 140

#: Characters no name may hold: C0 and C1 controls (line breaks among them), DEL, the Unicode
#: line and paragraph separators, and what XML 1.0 cannot carry at all (surrogates, U+FFFE,
#: U+FFFF). Nothing else is restricted: a name is the bank's record, whatever its characters.
UNWRITABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff]")

#: Characters people type inside account numbers for readability; they are not part of it.
ACCOUNT_SEPARATORS = " -"

#: Chinese account numbers (账号) are digits only, not IBANs, and their length differs from
#: bank to bank; 8 to 32 digits admits every bank's format, refuses a phone number or a
#: truncated paste, and fits pain.001's Max34Text.
MIN_ACCOUNT_DIGITS = 8
MAX_ACCOUNT_DIGITS = 32

#: A CNAPS bank code (联行号) names the branch that holds the account: 12 digits. Its digits
#: encode bank, region and branch, but no check-digit algorithm is published that we could rely
#: on, so only the format is checked; the code itself is the provider's to give correctly.
CNAPS_DIGITS = 12

#: BICFIDec2014Identifier, as pain.001.001.09's schema writes it: bank, country, location and
#: an optional branch.
BIC_PATTERN = "[A-Z0-9]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?"

_ACCOUNT = re.compile(f"[0-9]{{{MIN_ACCOUNT_DIGITS},{MAX_ACCOUNT_DIGITS}}}")
_CNAPS = re.compile(f"[0-9]{{{CNAPS_DIGITS}}}")
_BIC = re.compile(BIC_PATTERN)

# English names of the two free-text fields, for the messages.
_NAME_LABELS = {"bank_name": "the bank's name", "account_name": "the account name"}

#: How a provider's forms and records name the fields (`names` of `check_bank_details`).
PROVIDER_FIELDS = {
    "bank_name": "bank_name",
    "account_name": "bank_account_name",
    "account_number": "bank_account_number",
    "cnaps": "bank_cnaps",
    "bic": "bank_bic",
}


@dataclass(frozen=True, slots=True)
class BankDetails:
    """Where a payment goes: the account and the branch that holds it."""

    bank_name: str  # 开户行名称: the branch that holds the account, e.g. 中国银行深圳南山支行
    account_name: str  # 户名: the account holder's name as the bank has it
    account_number: str  # 账号: digits (Chinese accounts are not IBANs)
    cnaps: str | None = None  # 联行号: the branch's 12-digit CNAPS code
    bic: str | None = None  # SWIFT BIC, optional for domestic CNY payments


def check_bank_details(
    details: BankDetails, *, require_cnaps: bool = True, names: Mapping[str, str] | None = None
) -> BankDetails:
    """The details normalised, or `InvalidBankDetails` naming the first field a bank would refuse.

    `names` maps the canonical field names (those of `BankDetails`) to the caller's, so the
    error names the field of the form or file the details came from. `require_cnaps=False`
    lets the CNAPS code be absent (it is then None).
    """

    def field(name: str) -> str:
        return names.get(name, name) if names else name

    return BankDetails(
        bank_name=_check_name(details.bank_name, "bank_name", field("bank_name")),
        account_name=_check_name(details.account_name, "account_name", field("account_name")),
        account_number=_check_account_number(details.account_number, field("account_number")),
        cnaps=_check_cnaps(details.cnaps, field("cnaps"), required=require_cnaps),
        bic=_check_bic(details.bic, field("bic")),
    )


def normalize_account_number(value: str) -> str:
    """An account number as typed or printed, in the one form it is stored, exported and matched
    in: NFKC, without the spaces and hyphens written for readability. Checks nothing."""
    return _without(_normal(value), ACCOUNT_SEPARATORS)


def _normal(value: str | None) -> str:
    return unicodedata.normalize(NORMAL_FORM, value or "").strip()


def _check_name(value: str, canonical: str, field: str) -> str:
    label = _NAME_LABELS[canonical]
    name = unicodedata.normalize(NAME_FORM, value or "").strip()
    if not name:
        raise InvalidBankDetails(f"{label} is needed", rule=f"{canonical}_missing", field=field)
    if len(name) > MAX_NAME:
        raise InvalidBankDetails(
            f"{label} must be at most {MAX_NAME} characters, not {len(name)}",
            rule=f"{canonical}_too_long",
            field=field,
            limit=MAX_NAME,
        )
    if UNWRITABLE.search(name):
        raise InvalidBankDetails(
            f"{label} holds a control character or a line break",
            rule=f"{canonical}_unwritable",
            field=field,
        )
    return name


def check_account_number(value: str, field: str = "account_number") -> str:
    """An account number normalised, or `InvalidBankDetails` naming `field`."""
    return _check_account_number(value, field)


def _check_account_number(value: str, field: str) -> str:
    number = normalize_account_number(value)
    if not _ACCOUNT.fullmatch(number):
        raise InvalidBankDetails(
            f"an account number is {MIN_ACCOUNT_DIGITS} to {MAX_ACCOUNT_DIGITS} digits, "
            f"not {number!r}",
            rule="account_number_format",
            extra={"least": MIN_ACCOUNT_DIGITS, "most": MAX_ACCOUNT_DIGITS},
            field=field,
        )
    return number


def _check_cnaps(value: str | None, field: str, *, required: bool) -> str | None:
    code = _without(_normal(value), " ")
    if not code:
        if not required:
            return None
        raise InvalidBankDetails(
            "the CNAPS bank code (联行号) of the account's branch is needed",
            rule="cnaps_missing",
            field=field,
        )
    if not _CNAPS.fullmatch(code):
        raise InvalidBankDetails(
            f"a CNAPS bank code is {CNAPS_DIGITS} digits, not {code!r}",
            rule="cnaps_format",
            extra={"digits": CNAPS_DIGITS},
            field=field,
        )
    return code


def _check_bic(value: str | None, field: str) -> str | None:
    bic = _normal(value)
    if not bic:
        return None
    if not (bic.isascii() and _BIC.fullmatch(bic.upper())):
        raise InvalidBankDetails(
            f"{bic!r} is not a BIC (8 or 11 letters and digits, e.g. BKCHCNBJ)",
            rule="bic_format",
            field=field,
        )
    return bic.upper()


def _without(value: str, characters: str) -> str:
    return value.translate({ord(character): None for character in characters})
