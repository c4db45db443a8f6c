"""Fraud signals (风险提示): rules over a claim and what is known around it, each with a code, a
threshold kept in configuration, and the figures that explain it to a reviewer.

The abuses they look for are the ones voucher programmes meet (issue 18): an invoice inflated
to what the voucher has left; round, made-up amounts; one provider "serving" dozens of SMEs a
day or taking most of a district's money; shell companies registered (or made small) just
before claiming; SMEs that share one phone, address or account; one network address filing
claims for several providers; invoice numbers from one series used by different providers; a
provider whose claims draw disputes and complaints far more than others'.

A signal never refuses anything. It sorts the review queue and asks the reviewer who approves
past it for a reason, which the claim's events keep. Evaluation is pure: the facts are gathered
by `services.signals`, here they are only compared with the thresholds.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from voucher_app.domain.errors import InvalidInput


class Code(StrEnum):
    NEAR_REMAINING = "near_remaining"
    ROUND_AMOUNT = "round_amount"
    PROVIDER_DAILY_CLAIMS = "provider_daily_claims"
    PROVIDER_DISTRICT_SHARE = "provider_district_share"
    NEW_SME = "new_sme"
    SIZE_CHANGED = "size_changed"
    SHARED_CONTACT = "shared_contact"
    ONE_ADDRESS_MANY_PROVIDERS = "one_address_many_providers"
    INVOICE_SERIES_SHARED = "invoice_series_shared"
    PROVIDER_COMPLAINT_RATE = "provider_complaint_rate"


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Where each rule fires; configuration (`SIGNAL_THRESHOLDS`) overrides any by name."""

    #: The subsidy is within this many basis points below what the voucher had left (or equal).
    near_remaining_bp: int = 200
    #: The invoice is a whole multiple of this many fen (¥1,000).
    round_unit_fen: int = 100_000
    #: More claims than this by one provider on one day.
    provider_daily_claims: int = 10
    #: One provider holds more than this share (basis points) of a district's claimed subsidy…
    district_share_bp: int = 3_000
    #: …once the district has at least this many claims in the programme.
    district_share_min_claims: int = 20
    #: The SME registered, or changed its size figures, fewer than this many days before.
    new_sme_days: int = 30
    #: More SMEs than this share one phone, address or account.
    shared_contact_smes: int = 2
    #: Claims for more providers than this came from one network address within the window.
    one_address_providers: int = 2
    one_address_days: int = 30
    #: The provider's disputes and complaints per claim exceed the average of all providers by
    #: this factor (in hundredths)…
    complaint_rate_factor_pct: int = 300
    #: …over at least this many claims.
    complaint_rate_min_claims: int = 5

    @classmethod
    def configured(cls, overrides: Mapping[str, Any]) -> Thresholds:
        """The defaults with `overrides` applied; an unknown name or a value that is not a
        positive whole number is refused."""
        names = {field.name for field in dataclasses.fields(cls)}
        for name, value in overrides.items():
            if name not in names:
                raise InvalidInput(f"no signal threshold is called {name!r}", field=name)
            if type(value) is not int or value <= 0:
                raise InvalidInput(f"the threshold {name} is a positive whole number", field=name)
        return dataclasses.replace(cls(), **dict(overrides))


DEFAULT_THRESHOLDS = Thresholds()


@dataclass(frozen=True, slots=True)
class ClaimFacts:
    """What the rules read about one claim and its surroundings."""

    subsidy_fen: int
    invoiced_fen: int
    #: What the voucher had left before this claim (its face less earlier claims holding value).
    remaining_before_fen: int
    submitted_on: date
    #: The provider's claims submitted that day, this one included.
    provider_claims_that_day: int
    #: The district (the voucher's center) in the programme: all claims, and the provider's.
    district_claims: int
    district_subsidy_fen: int
    provider_district_subsidy_fen: int
    sme_registered_on: date
    #: The last day the SME's size figures changed after it first registered (None: never).
    size_changed_on: date | None
    #: The most SMEs that share one of this SME's phone, address or account (itself included),
    #: and which of the three that is.
    sharing_smes: int
    shared_what: str | None
    #: Providers with claims from this claim's network address within the window.
    providers_from_address: int
    #: Other providers with claims in this claim's invoice series.
    other_providers_in_series: int
    #: The provider's claims, and its disputes and complaints; the same over all providers.
    provider_claims: int
    provider_grievances: int
    all_claims: int
    all_grievances: int


@dataclass(frozen=True, slots=True)
class Signal:
    """A rule that fired, with the figures a reviewer reads (all whole numbers or ISO days)."""

    code: Code
    figures: dict[str, int | str]

    def document(self) -> dict[str, Any]:
        return {"code": self.code.value, "figures": self.figures}


def evaluate(facts: ClaimFacts, limits: Thresholds = DEFAULT_THRESHOLDS) -> tuple[Signal, ...]:
    """Every rule that fires on the claim, in the order of `Code`."""
    found = [
        _near_remaining(facts, limits),
        _round_amount(facts, limits),
        _provider_daily(facts, limits),
        _district_share(facts, limits),
        _new_sme(facts, limits),
        _size_changed(facts, limits),
        _shared_contact(facts, limits),
        _one_address(facts, limits),
        _invoice_series(facts),
        _complaint_rate(facts, limits),
    ]
    return tuple(signal for signal in found if signal is not None)


def _near_remaining(facts: ClaimFacts, limits: Thresholds) -> Signal | None:
    remaining = facts.remaining_before_fen
    # subsidy >= remaining * (1 - bp / 10000), in whole numbers
    floor = remaining * (10_000 - limits.near_remaining_bp)
    if facts.subsidy_fen * 10_000 >= floor:  # a subsidy is never more than what was left
        return Signal(
            Code.NEAR_REMAINING,
            {"subsidy_fen": facts.subsidy_fen, "remaining_fen": remaining},
        )
    return None


def _round_amount(facts: ClaimFacts, limits: Thresholds) -> Signal | None:
    if facts.invoiced_fen % limits.round_unit_fen == 0:
        return Signal(
            Code.ROUND_AMOUNT,
            {"invoiced_fen": facts.invoiced_fen, "unit_fen": limits.round_unit_fen},
        )
    return None


def _provider_daily(facts: ClaimFacts, limits: Thresholds) -> Signal | None:
    if facts.provider_claims_that_day > limits.provider_daily_claims:
        return Signal(
            Code.PROVIDER_DAILY_CLAIMS,
            {
                "claims": facts.provider_claims_that_day,
                "day": facts.submitted_on.isoformat(),
                "limit": limits.provider_daily_claims,
            },
        )
    return None


def _district_share(facts: ClaimFacts, limits: Thresholds) -> Signal | None:
    total = facts.district_subsidy_fen  # over at least one claim, so never 0 where it is read
    if facts.district_claims < limits.district_share_min_claims:
        return None
    if facts.provider_district_subsidy_fen * 10_000 > total * limits.district_share_bp:
        return Signal(
            Code.PROVIDER_DISTRICT_SHARE,
            {
                "share_pct": facts.provider_district_subsidy_fen * 100 // total,
                "limit_pct": limits.district_share_bp // 100,
                "district_claims": facts.district_claims,
            },
        )
    return None


def _new_sme(facts: ClaimFacts, limits: Thresholds) -> Signal | None:
    days = (facts.submitted_on - facts.sme_registered_on).days
    if days < limits.new_sme_days:
        return Signal(Code.NEW_SME, {"days": days, "limit": limits.new_sme_days})
    return None


def _size_changed(facts: ClaimFacts, limits: Thresholds) -> Signal | None:
    if facts.size_changed_on is None:
        return None
    days = (facts.submitted_on - facts.size_changed_on).days
    if days < limits.new_sme_days:
        return Signal(Code.SIZE_CHANGED, {"days": days, "limit": limits.new_sme_days})
    return None


def _shared_contact(facts: ClaimFacts, limits: Thresholds) -> Signal | None:
    if facts.shared_what is not None and facts.sharing_smes > limits.shared_contact_smes:
        return Signal(
            Code.SHARED_CONTACT,
            {"smes": facts.sharing_smes, "what": facts.shared_what},
        )
    return None


def _one_address(facts: ClaimFacts, limits: Thresholds) -> Signal | None:
    if facts.providers_from_address > limits.one_address_providers:
        return Signal(
            Code.ONE_ADDRESS_MANY_PROVIDERS,
            {"providers": facts.providers_from_address, "days": limits.one_address_days},
        )
    return None


def _invoice_series(facts: ClaimFacts) -> Signal | None:
    if facts.other_providers_in_series > 0:
        return Signal(
            Code.INVOICE_SERIES_SHARED,
            {"providers": facts.other_providers_in_series + 1},
        )
    return None


def _complaint_rate(facts: ClaimFacts, limits: Thresholds) -> Signal | None:
    claims, everyone = facts.provider_claims, facts.all_claims  # everyone's include its own
    if claims < limits.complaint_rate_min_claims:
        return None
    # grievances / claims > factor * all_grievances / all_claims, in whole numbers
    if (
        facts.provider_grievances * everyone * 100
        > limits.complaint_rate_factor_pct * facts.all_grievances * claims
    ):
        return Signal(
            Code.PROVIDER_COMPLAINT_RATE,
            {
                "grievances": facts.provider_grievances,
                "claims": claims,
                "average_per_mille": facts.all_grievances * 1000 // everyone,
            },
        )
    return None


#: Invoice numbers that differ only in their last this many characters are one series (one
#: invoice book); a series is named only when at least `SERIES_MIN` characters are left. Fixed,
#: not configured: the series is kept with each claim when it is submitted.
SERIES_SUFFIX = 3
SERIES_MIN = 8


def invoice_series(invoice_number: str) -> str | None:
    """The series an invoice number belongs to: all but its last `SERIES_SUFFIX` characters,
    spaces and case aside; None when fewer than `SERIES_MIN` are left (a short prefix such
    as `INV-20` is a habit many providers share, not a series)."""
    text = "".join(invoice_number.split()).upper()
    stem = text[:-SERIES_SUFFIX]
    return stem if len(stem) >= SERIES_MIN else None
