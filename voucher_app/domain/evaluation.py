"""The yearly evaluation of the service centers (综合评价考核): how a center's figures become a
score and a grade, by the rules the province sets.

The policy behind the programme asks the province to evaluate every center each year on the
services it brokered, the SMEs it reached and what they thought of it (粤府办 seed, 综合评价考核,
优胜劣汰). The province decides what counts and how much: which indicators, their weights, the
value at which an indicator earns nothing and the value at which it earns full marks, the grade
bands, and how much of the weight must apply before a center is graded at all. Those decisions
are data (`voucher_app/data/center-evaluation.toml`, one table per year, read by `read_schemes`);
what the service computes is fixed here: the measures (`MEASURES`), each a ratio of figures the
ledger and the tracking tables hold.

How a center scores, exactly, so a reviewer can redo it by hand:

- an indicator's *score* is `(value - worst) / (best - worst)`, held to 0..1, times 100: linear
  between the two values, whichever way round they are (for a rate where less is better, the
  province sets `worst` above `best`);
- its *points* are its weight times its score, over 100;
- an indicator whose value cannot be computed (no vouchers issued, no ratings, no redemption
  flagged) does not apply: the *total* is the points of the indicators that apply over their
  weights, times 100, so a center is not marked down for what it had no occasion to do;
- a center where the indicators that apply carry less than `min_weight` is not graded (too
  little activity to judge), and says so;
- arithmetic is exact (fractions); values are shown rounded half up to two decimals, and the
  grade is read from the exact total.

A center's figures are those of its whole subtree, as in the KPIs: a city is judged on what its
districts did.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from voucher_app.domain.errors import InvalidEvaluationScheme, InvalidInput

#: The sum of a scheme's weights.
FULL_WEIGHT = 100
HUNDREDTH = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Figures:
    """What one center (with its subtree) did in the year: every field is a count or an amount
    owned by exactly one center, so a subtree's figures are the sum of its centers'."""

    vouchers_issued: int = 0
    #: Vouchers with an approved (or settled) redemption.
    vouchers_redeemed: int = 0
    allocated_fen: int = 0
    paid_fen: int = 0
    ratings: int = 0
    rating_total: int = 0
    #: Redemptions submitted in the year, and those among them that carried fraud signals, by how
    #: they ended: approved past the signals (with a reason), rejected, or not decided yet.
    redemptions: int = 0
    flagged: int = 0
    flagged_approved: int = 0
    flagged_rejected: int = 0
    #: Redemptions published on a notice list, and the objections filed against them.
    notice_items: int = 0
    objections: int = 0
    #: Complaints and objections filed in the year, and those of them the center resolved.
    complaints: int = 0
    complaints_resolved: int = 0

    def __add__(self, other: Figures) -> Figures:
        return Figures(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(Figures)))

    @property
    def flagged_pending(self) -> int:
        return self.flagged - self.flagged_approved - self.flagged_rejected


def _ratio(numerator: int, denominator: int) -> Fraction | None:
    return Fraction(numerator, denominator) if denominator else None


#: What the service can measure, by the code a scheme names it with.
MEASURES: dict[str, Callable[[Figures], Fraction | None]] = {
    "redemption_rate": lambda f: _ratio(f.vouchers_redeemed, f.vouchers_issued),
    "budget_execution": lambda f: _ratio(f.paid_fen, f.allocated_fen),
    "rating_average": lambda f: _ratio(f.rating_total, f.ratings),
    "flagged_share": lambda f: _ratio(f.flagged, f.redemptions),
    "flagged_resolved": lambda f: _ratio(f.flagged_approved + f.flagged_rejected, f.flagged),
    "objection_rate": lambda f: _ratio(f.objections, f.notice_items),
    "complaints_resolved": lambda f: _ratio(f.complaints_resolved, f.complaints),
}


@dataclass(frozen=True, slots=True)
class Indicator:
    code: str
    weight: int
    worst: Fraction
    best: Fraction

    def score(self, value: Fraction) -> Fraction:
        """0 to 100: where `value` lies between `worst` and `best`."""
        share = (value - self.worst) / (self.best - self.worst)
        return min(max(share, Fraction(0)), Fraction(1)) * 100


@dataclass(frozen=True, slots=True)
class Grade:
    name: str
    #: The lowest total that earns it.
    minimum: Fraction


@dataclass(frozen=True, slots=True)
class Scheme:
    year: int
    indicators: tuple[Indicator, ...]
    #: From the best to the worst; the last starts at 0.
    grades: tuple[Grade, ...]
    min_weight: int
    #: Where the province published it (a document number, a link).
    source: str

    def evaluate(self, figures: Figures) -> Evaluation:
        lines = tuple(_line(indicator, figures) for indicator in self.indicators)
        applied = sum(line.indicator.weight for line in lines if line.points is not None)
        if applied < self.min_weight:  # min_weight is at least 1: nothing applies, no grade
            return Evaluation(figures, lines, applied, None, None)
        total = sum((line.points for line in lines if line.points is not None), Fraction(0))
        total = total * FULL_WEIGHT / applied
        grade = next(grade for grade in self.grades if total >= grade.minimum)
        return Evaluation(figures, lines, applied, total, grade.name)


@dataclass(frozen=True, slots=True)
class Line:
    indicator: Indicator
    #: None: the indicator does not apply (nothing to divide by).
    value: Fraction | None
    score: Fraction | None
    points: Fraction | None


def _line(indicator: Indicator, figures: Figures) -> Line:
    value = MEASURES[indicator.code](figures)
    if value is None:
        return Line(indicator, None, None, None)
    score = indicator.score(value)
    return Line(indicator, value, score, score * indicator.weight / FULL_WEIGHT)


@dataclass(frozen=True, slots=True)
class Evaluation:
    figures: Figures
    lines: tuple[Line, ...]
    #: The weight of the indicators that apply.
    applied_weight: int
    #: 0 to 100; None when too little of the weight applies to grade the center.
    total: Fraction | None
    grade: str | None


def shown(value: Fraction | None) -> Decimal | None:
    """A value as the page, the API and the export show it: two decimals, half up."""
    if value is None:
        return None
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(
        HUNDREDTH, rounding=ROUND_HALF_UP
    )


def read_schemes(text: str) -> dict[int, Scheme]:
    """The schemes in a TOML file, one table per year (`[2026]`); a file that does not hold
    together is refused, naming the year and what is wrong."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as wrong:
        raise InvalidEvaluationScheme(f"not TOML: {wrong}") from wrong
    schemes = {}
    for key, table in data.items():
        if not key.isdigit() or not isinstance(table, dict):
            raise InvalidEvaluationScheme(f"{key!r}: each table is a year, like [2026]")
        try:
            schemes[int(key)] = _scheme(int(key), table)
        except KeyError as missing:
            raise InvalidEvaluationScheme(f"[{key}]: {missing.args[0]} is missing") from missing
        except (TypeError, ValueError) as wrong:
            raise InvalidEvaluationScheme(f"[{key}]: {wrong}") from wrong
    return schemes


def _scheme(year: int, table: Mapping[str, Any]) -> Scheme:
    indicators = tuple(
        Indicator(
            str(row["code"]), _whole(row["weight"]), _number(row["worst"]), _number(row["best"])
        )
        for row in table["indicator"]
    )
    codes = [indicator.code for indicator in indicators]
    if unknown := sorted(set(codes) - set(MEASURES)):
        raise InvalidEvaluationScheme(
            f"[{year}]: unknown indicators {unknown}; the service measures {sorted(MEASURES)}"
        )
    if len(set(codes)) != len(codes):
        raise InvalidEvaluationScheme(f"[{year}]: an indicator is listed twice")
    if any(indicator.weight <= 0 for indicator in indicators):
        raise InvalidEvaluationScheme(f"[{year}]: every weight is a positive whole number")
    if sum(indicator.weight for indicator in indicators) != FULL_WEIGHT:
        raise InvalidEvaluationScheme(f"[{year}]: the weights add up to {FULL_WEIGHT}")
    if any(indicator.worst == indicator.best for indicator in indicators):
        raise InvalidEvaluationScheme(f"[{year}]: an indicator's worst and best differ")
    grades = tuple(Grade(str(row["name"]), _number(row["from"])) for row in table["grade"])
    minimums = [grade.minimum for grade in grades]
    if not grades or minimums != sorted(set(minimums), reverse=True) or minimums[-1] != 0:
        raise InvalidEvaluationScheme(
            f"[{year}]: grades go from the best down, each from a lower total, the last from 0"
        )
    min_weight = _whole(table["min_weight"])
    if not 0 < min_weight <= FULL_WEIGHT:
        raise InvalidEvaluationScheme(f"[{year}]: min_weight is 1 to {FULL_WEIGHT}")
    return Scheme(year, indicators, grades, min_weight, str(table.get("source", "")))


def _whole(value: object) -> int:
    if type(value) is not int:
        raise ValueError(f"{value!r} is not a whole number")
    return value


def _number(value: object) -> Fraction:
    """A TOML number as an exact fraction (0.8 is four fifths, not the nearest binary
    float)."""
    if type(value) is int:
        return Fraction(value)
    if type(value) is float:
        return Fraction(Decimal(repr(value)))
    raise ValueError(f"{value!r} is not a number")


def scheme_for(schemes: Mapping[int, Scheme], year: int) -> Scheme:
    """The year's scheme, or a refusal that names the year."""
    if year not in schemes:
        raise InvalidInput(
            f"the province has set no evaluation scheme for {year}: add one to the evaluation file",
            field="year",
            rule="evaluation_year_missing",
            year=year,
        )
    return schemes[year]
