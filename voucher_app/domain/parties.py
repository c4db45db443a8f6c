"""Related parties (关联交易): when an SME and a provider are one family, a redemption between them
splits a subsidy rather than buying a service.

Two parties are related when they are the same company (one credit code), share a legal
representative, a registered address, a contact phone or a settlement bank account, or when
either declared (or a center recorded) a relation between them: a shareholder, common control,
family, or another relation. `shared` names what two parties share, in a fixed order, so a
refusal says why.

The legal representative is a person: the system keeps one keyed digest (HMAC-SHA256 under the
deployment's matching key) of the ID number, normalised, so that two parties with one
representative match, and neither the name (checked, never kept) nor the number can be read
back, even by someone holding the database. The key must never change: digests made under
another key match nothing.
Addresses, phones and accounts are compared in a normal form (`normal_address`,
`normal_phone`, `normal_account`): "广州市天河区 体育西路 1 号" and "广州市天河区体育西路1号" are
one address.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final, NamedTuple

from stdnum.cn import ric
from stdnum.exceptions import ValidationError

from voucher_app.domain.bank import check_account_number
from voucher_app.domain.errors import InvalidInput

#: The shortest matching key a deployment may use (bytes of its UTF-8 text).
MIN_KEY_BYTES = 32
MAX_NAME = 100
#: Mainland resident ID numbers have 18 characters; a passport or a Hong Kong, Macau or Taiwan
#: permit number fewer.
MIN_ID_NUMBER, MAX_ID_NUMBER = 5, 30
MAX_ADDRESS = 300
MAX_PHONE = 40
#: A country code is taken off a number only when this many digits are left after it.
MIN_PHONE_DIGITS = 7
RESIDENT_ID_LENGTH = 18


class Shared(StrEnum):
    """What two related parties share: the `related_party` refusal's `shares`, in this order."""

    SAME_COMPANY = "same_company"
    LEGAL_REPRESENTATIVE = "legal_representative"
    ADDRESS = "address"
    PHONE = "phone"
    BANK_ACCOUNT = "bank_account"
    SHAREHOLDER = "shareholder"
    COMMON_CONTROL = "common_control"
    FAMILY = "family"
    OTHER = "other"


class Relation(StrEnum):
    """A declared relation: `related` is a shareholder of the party, under common control with
    it (实际控制人相同), family of its owners, or otherwise related."""

    SHAREHOLDER = "shareholder"
    COMMON_CONTROL = "common_control"
    FAMILY = "family"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class LegalRepresentative:
    """A legal representative as typed: kept only as `legal_rep_digest`'s digest."""

    name: str
    id_number: str

    def __repr__(self) -> str:  # never in a log line or a traceback's locals
        return "LegalRepresentative(…)"


@dataclass(frozen=True, slots=True)
class MatchingKey:
    """The deployment's key for the legal representatives' digests (config
    `PARTY_MATCHING_KEY`)."""

    secret: bytes

    def __post_init__(self) -> None:
        if len(self.secret) < MIN_KEY_BYTES:
            raise ValueError(f"a matching key has at least {MIN_KEY_BYTES} bytes")

    def __repr__(self) -> str:
        return "MatchingKey(…)"


@dataclass(frozen=True, slots=True)
class Party:
    """What a related party would share with another, as stored."""

    uscc: str
    legal_rep_digest: bytes | None = field(default=None, repr=False)
    address: str | None = None
    phone: str | None = None
    bank_account: str | None = None


def legal_rep_digest(key: MatchingKey, representative: LegalRepresentative) -> bytes:
    """The keyed digest that identifies a legal representative: of the ID number alone, in its
    normal form, since one person's name is written in several ways (陳/陈, spaces, the order
    of Latin names) and the number is theirs alone. The name is checked, never kept."""
    name = representative.name.strip()
    if not 0 < len(name) <= MAX_NAME:
        raise InvalidInput(
            f"a legal representative's name has 1 to {MAX_NAME} characters",
            field="legal_representative.name",
        )
    number = normal_id_number(representative.id_number)
    message = f"legal-representative-id\x00{number}".encode()
    return hmac.new(key.secret, message, hashlib.sha256).digest()


def normal_id_number(value: str) -> str:
    """An ID number in one form: a mainland resident ID (18 characters, GB 11643) is checked
    and upper-cased; other documents' numbers are letters and digits, upper-cased."""
    number = re.sub(r"[\s\-()（）]", "", unicodedata.normalize("NFKC", value)).upper()
    if len(number) == RESIDENT_ID_LENGTH and number[:-1].isdigit():
        try:
            return str(ric.validate(number))
        except ValidationError:
            raise InvalidInput(
                "not a resident ID number: its check character, birth date or region is wrong",
                rule="bad_id_number",
                field="legal_representative.id_number",
            ) from None
    if not (
        MIN_ID_NUMBER <= len(number) <= MAX_ID_NUMBER and number.isascii() and number.isalnum()
    ):
        raise InvalidInput(
            f"an ID number has {MIN_ID_NUMBER} to {MAX_ID_NUMBER} letters and digits",
            rule="bad_id_number",
            field="legal_representative.id_number",
        )
    return number


def normal_address(value: str) -> str:
    """An address with width, case, spaces and punctuation folded away."""
    return _folded("".join(c for c in _folded(value) if not _is_separator(c)))


def normal_phone(value: str) -> str:
    """A phone number's digits, China's country code (+86, 0086) replaced by the trunk prefix
    0 that a number dialled at home has before its area code (a mobile number has none)."""
    dialled = "".join(c for c in _folded(value) if c.isascii() and c.isdigit())
    digits = dialled
    while True:
        for prefix in ("0086", "86"):
            if digits.startswith(prefix) and len(digits) - len(prefix) >= MIN_PHONE_DIGITS:
                digits = digits[len(prefix) :]
                break
        else:
            break
    if digits != dialled and not digits.startswith(("0", "1")):
        digits = "0" + digits
    return digits


def normal_account(value: str) -> str:
    """An account number's digits (spaces and hyphens dropped)."""
    return "".join(c for c in unicodedata.normalize("NFKC", value) if c.isalnum()).upper()


class ContactKeys(NamedTuple):
    """A party's phone, address and account in their normal forms (None: not given), by which
    SMEs that share one are found (`domain.signals`)."""

    phone: str | None
    address: str | None
    account: str | None


def contact_keys(phone: str | None, address: str | None, account: str | None) -> ContactKeys:
    return ContactKeys(
        (normal_phone(phone) or None) if phone else None,
        (normal_address(address) or None) if address else None,
        (normal_account(account) or None) if account else None,
    )


def check_address(value: str) -> str:
    """An address as typed, within its length (`normal_address` compares it)."""
    text = unicodedata.normalize("NFC", value).strip()
    if not normal_address(text) or len(text) > MAX_ADDRESS:
        raise InvalidInput(f"an address has 1 to {MAX_ADDRESS} characters", field="address")
    return text


def check_phone(value: str) -> str:
    """A contact phone as typed (as a provider's is kept): `normal_phone` compares it."""
    text = value.strip()
    if not text or len(text) > MAX_PHONE:
        raise InvalidInput(f"a phone number has 1 to {MAX_PHONE} characters", field="contact_phone")
    return text


def check_bank_account(value: str) -> str:
    """An SME's settlement account, checked and normalised by the bank's rules."""
    return check_account_number(value, field="bank_account_number")


def shared(
    one: Party, other: Party, relations: frozenset[Relation] = frozenset()
) -> tuple[Shared, ...]:
    """What `one` and `other` share, and the relations declared between them, in `Shared`'s
    order; empty when they are unrelated. An attribute either party lacks matches nothing."""
    found: set[Shared] = {Shared(relation.value) for relation in relations}
    if one.uscc == other.uscc:
        found.add(Shared.SAME_COMPANY)
    rep, other_rep = one.legal_rep_digest, other.legal_rep_digest
    if rep is not None and other_rep is not None and hmac.compare_digest(rep, other_rep):
        found.add(Shared.LEGAL_REPRESENTATIVE)
    for kind, normal, mine, theirs in (
        (Shared.ADDRESS, normal_address, one.address, other.address),
        (Shared.PHONE, normal_phone, one.phone, other.phone),
        (Shared.BANK_ACCOUNT, normal_account, one.bank_account, other.bank_account),
    ):
        if mine and theirs and normal(mine) and normal(mine) == normal(theirs):
            found.add(kind)
    return tuple(kind for kind in Shared if kind in found)


#: Unicode categories dropped from an address: spaces, punctuation, controls, format marks.
_SEPARATORS: Final = frozenset(
    {"Zs", "Zl", "Zp", "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "Cc", "Cf"}
)


def _is_separator(character: str) -> bool:
    return unicodedata.category(character) in _SEPARATORS


def _folded(value: str) -> str:
    """Width and case folded: NFKC, case-folded, and NFKC again (folding a case can leave a
    letter and its accent apart)."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", value).casefold())
