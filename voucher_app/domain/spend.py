"""What a center spent, in the seven figures its reports show, and how each entry moves them.

Every journal entry but a reversal changes one figure of one center or, for an allocation, of
two (the parent gives, the child receives): `MEASURE` says which figure and `SIGN` which way.
A reversal moves the figures of the entry it negates back. Keeping the rule here lets the
service that records figures and the tests that replay the ledger share only the words, not
the arithmetic: the tests derive the same figures from postings on their own.

The available budget a report shows is not recorded; it follows from the others:
allocated - committed + expired + returned is exactly the balance of the centers' available
accounts, because those are the only entries that touch them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from enum import StrEnum

from voucher_app.domain.calendar import CHINA
from voucher_app.domain.entries import EntryKind


class Measure(StrEnum):
    ALLOCATED = "allocated"  # budget received (funded or allocated from above), net of passes down
    COMMITTED = "committed"  # face value of the vouchers issued
    REDEEMED = "redeemed"  # asked for by providers, net of rejected redemptions
    APPROVED = "approved"  # redemptions the center approved: owed to providers
    PAID = "paid"  # settled on a bank statement, net of returned payments
    EXPIRED = "expired"  # voucher value back in the budget because the voucher expired
    RETURNED = "returned"  # voucher value back because of revocation or a whole-voucher redemption


MEASURE: dict[EntryKind, Measure] = {
    EntryKind.FUND: Measure.ALLOCATED,
    EntryKind.ALLOCATE: Measure.ALLOCATED,
    EntryKind.ISSUE: Measure.COMMITTED,
    EntryKind.REDEEM: Measure.REDEEMED,
    EntryKind.REJECT: Measure.REDEEMED,
    EntryKind.APPROVE: Measure.APPROVED,
    EntryKind.SETTLE: Measure.PAID,
    EntryKind.EXPIRE: Measure.EXPIRED,
    EntryKind.REVOKE: Measure.RETURNED,
    EntryKind.RELEASE: Measure.RETURNED,
}

#: A rejection takes back what the redemption claimed; every other kind adds to its figure.
SIGN: dict[EntryKind, int] = {kind: -1 if kind is EntryKind.REJECT else 1 for kind in MEASURE}


def local_month(moment: datetime) -> str:
    """The month ("2026-11") in Guangdong at `moment`: reports count months in China time."""
    if moment.tzinfo is None:
        raise ValueError("a moment needs a timezone")
    return moment.astimezone(CHINA).strftime("%Y-%m")


@dataclass(frozen=True, slots=True)
class Figures:
    """One center's (or a group's) seven figures, in fen."""

    allocated_fen: int = 0
    committed_fen: int = 0
    redeemed_fen: int = 0
    approved_fen: int = 0
    paid_fen: int = 0
    expired_fen: int = 0
    returned_fen: int = 0

    @classmethod
    def of(cls, amounts: Mapping[Measure, int]) -> Figures:
        return cls(**{f"{measure}_fen": amount for measure, amount in amounts.items()})

    @property
    def available_fen(self) -> int:
        return self.allocated_fen - self.committed_fen + self.expired_fen + self.returned_fen

    def as_dict(self) -> dict[str, int]:
        figures = {field.name: getattr(self, field.name) for field in fields(self)}
        figures["available_fen"] = self.available_fen
        return figures

    def __add__(self, other: Figures) -> Figures:
        return Figures(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))


def total(figures: Iterable[Figures]) -> Figures:
    return sum(figures, Figures())


#: A share in basis points of its whole: 10 000 is all of it.
WHOLE_BP = 10_000


def share_bp(part_fen: int, whole_fen: int) -> int | None:
    """`part_fen` as basis points of `whole_fen`, rounded down (¥10,000 of a ¥3,000,000 budget is
    33 bp, 0.33%); None when there is no whole to be a share of (a center given no budget).
    A percentage, not an amount, so a ¥3M budget and its ¥10k spend can be read side by side."""
    if whole_fen <= 0:
        return None
    return part_fen * WHOLE_BP // whole_fen


def format_share(share: int | None) -> str:
    """Basis points as a percentage with two decimals ("0.33%"); a dash when there is none."""
    if share is None:
        return "—"
    sign = "-" if share < 0 else ""
    whole, hundredths = divmod(abs(share), 100)
    return f"{sign}{whole}.{hundredths:02d}%"


FIGURE_NAMES: tuple[str, ...] = (*(f"{m}_fen" for m in Measure), "available_fen")
