"""A programme's terms and the rules that make them coherent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from voucher_app.domain.categories import CATEGORY_CODES
from voucher_app.domain.errors import InvalidProgrammeTerms
from voucher_app.domain.money import FULL_RATE_BP, require_fen
from voucher_app.domain.shards import check_shard_count
from voucher_app.domain.sme import INDUSTRY_CODES, SME_SIZES, SizeClass
from voucher_app.domain.workdays import MAX_NOTICE_WORKING_DAYS

MAX_VALIDITY_DAYS = 3 * 366
MAX_CONFIRMATION_DAYS = 60
#: The largest face value a voucher may have: 11 digits of fen, just under ¥1,000,000,000. Its
#: token (face value, code, credit code, expiry, key id and signature) then always fits the QR
#: code a phone shows and a desk camera reads (`signing.jws.MAX_TOKEN_BYTES`).
MAX_FACE_VALUE_FEN = 99_999_999_999


@dataclass(frozen=True, slots=True)
class ProgrammeTerms:
    name: str
    owner_center: str
    period_start: date
    period_end: date
    total_budget_fen: int
    subsidy_rate_bp: int
    sme_cap_fen: int
    voucher_face_value_fen: int
    voucher_validity_days: int
    partial_spending: bool
    service_categories: tuple[str, ...]
    accepted_sizes: tuple[SizeClass, ...]
    #: Empty: every industry of the size standard.
    accepted_industries: tuple[str, ...] = ()
    #: Days an SME has to confirm or dispute a provider's redemption; silence then counts as yes.
    confirmation_days: int = 7
    #: How many shards each center's budget is held in; None: `domain.shards.shards_for`.
    budget_shards: int | None = None
    #: Whether a provider may redeem a voucher of an SME it is related to (`domain.parties`).
    related_parties_allowed: bool = False
    #: Working days an approved redemption stays on public notice before a batch may pay it
    #: (`domain.workdays`); 0: no notice.
    notice_working_days: int = 0

    def __post_init__(self) -> None:
        check_terms(self)


@dataclass(frozen=True, slots=True)
class BudgetMove:
    """Budget passing between a center and one of its direct children: down, an allocation
    (`from_center` is the parent), or back up, a claw-back (`from_center` is the child)."""

    from_center: str
    to_center: str
    amount_fen: int


def check_terms(terms: ProgrammeTerms) -> None:
    if not terms.name.strip() or len(terms.name) > 200:
        raise InvalidProgrammeTerms("a programme needs a name of at most 200 characters")
    if terms.period_end < terms.period_start:
        raise InvalidProgrammeTerms("the period ends before it starts")
    require_fen(terms.total_budget_fen, field="total_budget_fen")
    require_fen(terms.voucher_face_value_fen, field="voucher_face_value_fen")
    require_fen(terms.sme_cap_fen, field="sme_cap_fen")
    if isinstance(terms.subsidy_rate_bp, bool) or not isinstance(terms.subsidy_rate_bp, int):
        raise InvalidProgrammeTerms("subsidy_rate_bp must be a whole number of basis points")
    if not 0 < terms.subsidy_rate_bp <= FULL_RATE_BP:
        raise InvalidProgrammeTerms("subsidy_rate_bp must be between 1 and 10000")
    if terms.sme_cap_fen < terms.voucher_face_value_fen:
        raise InvalidProgrammeTerms("the per-SME cap must cover at least one voucher")
    if terms.voucher_face_value_fen > MAX_FACE_VALUE_FEN:
        raise InvalidProgrammeTerms(
            "a voucher may be worth at most ¥999,999,999.99, so that its QR code stays scannable",
            field="voucher_face_value_fen",
        )
    if terms.voucher_face_value_fen > terms.total_budget_fen:
        raise InvalidProgrammeTerms("a voucher cannot be worth more than the whole budget")
    if not 0 < terms.voucher_validity_days <= MAX_VALIDITY_DAYS:
        raise InvalidProgrammeTerms(f"validity must be 1 to {MAX_VALIDITY_DAYS} days")
    if not 0 < terms.confirmation_days <= MAX_CONFIRMATION_DAYS:
        raise InvalidProgrammeTerms(
            f"the confirmation window must be 1 to {MAX_CONFIRMATION_DAYS} days"
        )
    if not 0 <= terms.notice_working_days <= MAX_NOTICE_WORKING_DAYS:
        raise InvalidProgrammeTerms(
            f"the notice period must be 0 to {MAX_NOTICE_WORKING_DAYS} working days",
            field="notice_working_days",
        )
    _check_choices(terms)


def _check_choices(terms: ProgrammeTerms) -> None:
    """The terms chosen from lists (categories, sizes, industries) and the shard count."""
    unknown = set(terms.service_categories) - CATEGORY_CODES
    if unknown or not terms.service_categories:
        raise InvalidProgrammeTerms(
            f"unknown or missing service categories: {sorted(unknown)}", unknown=sorted(unknown)
        )
    sizes = set(terms.accepted_sizes)
    if not sizes or not sizes <= SME_SIZES:
        raise InvalidProgrammeTerms("accepted sizes must be one or more of medium, small, micro")
    strange = set(terms.accepted_industries) - INDUSTRY_CODES
    if strange:
        raise InvalidProgrammeTerms(f"unknown industries: {sorted(strange)}")
    if terms.budget_shards is not None:
        check_shard_count(terms.budget_shards)
