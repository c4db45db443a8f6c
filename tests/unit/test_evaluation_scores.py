"""The center evaluation's arithmetic (`domain.evaluation`), against examples worked by hand
with the packaged 2026 scheme, and the scheme file's refusals.

The packaged scheme (`voucher_app/data/center-evaluation.toml`), indicator by indicator:

    code                 weight  worst  best
    redemption_rate          20      0   0.8
    budget_execution         15      0   0.9
    rating_average           20      3   5
    flagged_share            10    0.3   0.05
    flagged_resolved         10    0.5   1
    objection_rate           10    0.1   0
    complaints_resolved      15    0.5   1
    grades: 优秀 from 90, 良好 from 75, 合格 from 60, 不合格 from 0; min_weight 50
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from fractions import Fraction
from importlib import resources

import pytest

from voucher_app.domain.errors import InvalidEvaluationScheme, InvalidInput
from voucher_app.domain.evaluation import (
    MEASURES,
    Figures,
    Scheme,
    read_schemes,
    scheme_for,
    shown,
)
from voucher_app.services.evaluation import CenterScore, ranked

PACKAGED = (resources.files("voucher_app") / "data" / "center-evaluation.toml").read_text("utf-8")

#: A district's year, and what each indicator makes of it, worked by hand:
#:
#:   redemption_rate     30/40 = 0.75          0.75/0.8 = 93.75%       x20 = 18.75
#:   budget_execution    15,000,000/20,000,000 = 0.75
#:                                             0.75/0.9 = 83.33%       x15 = 12.50
#:   rating_average      86/20 = 4.30          (4.3-3)/2 = 65%         x20 = 13.00
#:   flagged_share       4/32 = 0.125          (0.125-0.3)/(0.05-0.3) = 70%
#:                                                                     x10 =  7.00
#:   flagged_resolved    (2+1)/4 = 0.75        (0.75-0.5)/0.5 = 50%    x10 =  5.00
#:   objection_rate      1/25 = 0.04           (0.04-0.1)/(0-0.1) = 60%
#:                                                                     x10 =  6.00
#:   complaints_resolved 5/6 = 0.8333          (5/6-0.5)/0.5 = 66.67%  x15 = 10.00
#:                                                           total         72.25 -> 合格
DISTRICT = Figures(
    vouchers_issued=40,
    vouchers_redeemed=30,
    allocated_fen=20_000_000,
    paid_fen=15_000_000,
    ratings=20,
    rating_total=86,
    redemptions=32,
    flagged=4,
    flagged_approved=2,
    flagged_rejected=1,
    notice_items=25,
    objections=1,
    complaints=6,
    complaints_resolved=5,
)
BY_HAND = {
    "redemption_rate": ("0.75", "93.75", "18.75"),
    "budget_execution": ("0.75", "83.33", "12.50"),
    "rating_average": ("4.30", "65.00", "13.00"),
    "flagged_share": ("0.13", "70.00", "7.00"),  # 0.125 shown half up
    "flagged_resolved": ("0.75", "50.00", "5.00"),
    "objection_rate": ("0.04", "60.00", "6.00"),
    "complaints_resolved": ("0.83", "66.67", "10.00"),
}


@pytest.fixture(scope="module")
def scheme() -> Scheme:
    return read_schemes(PACKAGED)[2026]


def _shown(value: Fraction | None) -> str | None:
    return None if value is None else str(shown(value))


def test_the_packaged_scheme_reads_as_the_table_above(scheme: Scheme) -> None:
    assert [(i.code, i.weight, i.worst, i.best) for i in scheme.indicators] == [
        ("redemption_rate", 20, 0, Fraction(4, 5)),
        ("budget_execution", 15, 0, Fraction(9, 10)),
        ("rating_average", 20, 3, 5),
        ("flagged_share", 10, Fraction(3, 10), Fraction(1, 20)),
        ("flagged_resolved", 10, Fraction(1, 2), 1),
        ("objection_rate", 10, Fraction(1, 10), 0),
        ("complaints_resolved", 15, Fraction(1, 2), 1),
    ]
    assert [(g.name, g.minimum) for g in scheme.grades] == [
        ("优秀", Fraction(90)),
        ("良好", Fraction(75)),
        ("合格", Fraction(60)),
        ("不合格", Fraction(0)),
    ]
    assert (scheme.year, scheme.min_weight) == (2026, 50)
    assert {indicator.code for indicator in scheme.indicators} == set(MEASURES)


def test_a_district_scores_as_worked_by_hand(scheme: Scheme) -> None:
    evaluation = scheme.evaluate(DISTRICT)
    assert {
        line.indicator.code: (_shown(line.value), _shown(line.score), _shown(line.points))
        for line in evaluation.lines
    } == BY_HAND
    # exact, not the sum of the rounded points
    assert evaluation.total == Fraction(7225, 100)
    assert (evaluation.applied_weight, evaluation.grade) == (100, "合格")
    assert evaluation.figures.flagged_pending == 1


def test_indicators_without_data_leave_the_total_over_the_weight_that_applies(
    scheme: Scheme,
) -> None:
    """No ratings and no flagged redemptions: 70 of the weight applies. flagged_share is 0/32,
    better than best, so full marks (10); the rest as above: 18.75 + 12.50 + 10 + 6 + 10 =
    57.25 points of 70, a total of 57.25 / 70 x 100 = 81.79 (良好)."""
    quiet = dataclasses.replace(
        DISTRICT, ratings=0, rating_total=0, flagged=0, flagged_approved=0, flagged_rejected=0
    )
    evaluation = scheme.evaluate(quiet)
    lines = {line.indicator.code: line for line in evaluation.lines}
    assert lines["rating_average"].points is None and lines["rating_average"].value is None
    assert lines["flagged_resolved"].score is None
    assert lines["flagged_share"].score == 100
    assert evaluation.applied_weight == 70
    assert evaluation.total == Fraction(5725, 70)
    assert (shown(evaluation.total), evaluation.grade) == (Decimal("81.79"), "良好")


def test_a_center_with_too_little_of_the_weight_is_not_graded(scheme: Scheme) -> None:
    """Only complaints (15) and objections (10): 25 of the weight, under the 50 needed."""
    evaluation = scheme.evaluate(
        Figures(notice_items=4, objections=0, complaints=2, complaints_resolved=2)
    )
    assert evaluation.applied_weight == 25
    assert (evaluation.total, evaluation.grade) == (None, None)
    assert evaluation.figures.complaints == 2  # the figures are still shown
    assert [line.score for line in evaluation.lines if line.score is not None] == [100, 100]
    assert scheme.evaluate(Figures()).applied_weight == 0
    assert scheme.evaluate(Figures()).total is None


def test_a_center_with_exactly_the_minimum_weight_is_graded(scheme: Scheme) -> None:
    """Ratings (20), objections (10), complaints (15) and the budget (15) are 60; without the
    budget, 45; the scheme below asks for exactly 45."""
    figures = Figures(
        ratings=1, rating_total=5, notice_items=1, complaints=1, complaints_resolved=1
    )
    at_minimum = dataclasses.replace(scheme, min_weight=45)
    evaluation = at_minimum.evaluate(figures)
    assert evaluation.applied_weight == 45
    assert (evaluation.total, evaluation.grade) == (Fraction(100), "优秀")
    assert dataclasses.replace(scheme, min_weight=46).evaluate(figures).total is None


@pytest.mark.parametrize(
    ("figures", "code", "score"),
    [
        (Figures(vouchers_issued=10, vouchers_redeemed=10), "redemption_rate", 100),  # above best
        (Figures(vouchers_issued=10, vouchers_redeemed=8), "redemption_rate", 100),  # at best
        (Figures(vouchers_issued=10, vouchers_redeemed=0), "redemption_rate", 0),  # at worst
        (Figures(redemptions=10, flagged=4), "flagged_share", 0),  # less is better: past worst
        (Figures(redemptions=10, flagged=3), "flagged_share", 0),  # at worst
        (Figures(redemptions=20, flagged=1), "flagged_share", 100),  # at best
        (Figures(redemptions=40, flagged=1), "flagged_share", 100),  # better than best
        (Figures(ratings=2, rating_total=4), "rating_average", 0),  # an average of 2
    ],
)
def test_scores_are_held_between_0_and_100(
    scheme: Scheme, figures: Figures, code: str, score: int
) -> None:
    lines = {line.indicator.code: line for line in scheme.evaluate(figures).lines}
    assert lines[code].score == score


@pytest.mark.parametrize(
    ("total", "grade"),
    [
        (Fraction(90), "优秀"),
        (Fraction(8999, 100), "良好"),
        (Fraction(75), "良好"),
        (Fraction(7499, 100), "合格"),
        (Fraction(60), "合格"),
        (Fraction(5999, 100), "不合格"),
        (Fraction(0), "不合格"),
    ],
)
def test_a_grade_starts_at_its_total(scheme: Scheme, total: Fraction, grade: str) -> None:
    """One indicator, rated: the total is that indicator's score, the average's place between
    3 and 5."""
    rating_only = dataclasses.replace(
        scheme, indicators=(dataclasses.replace(scheme.indicators[2], weight=100),)
    )
    rated = 3 + 2 * total / 100
    figures = Figures(ratings=rated.denominator, rating_total=rated.numerator)
    evaluation = rating_only.evaluate(figures)
    assert (evaluation.total, evaluation.grade) == (total, grade)


def test_a_subtree_adds_its_centers_figures_field_by_field() -> None:
    other = Figures(*range(1, 15))
    added = DISTRICT + other
    for field in dataclasses.fields(Figures):
        assert getattr(added, field.name) == getattr(DISTRICT, field.name) + getattr(
            other, field.name
        )


def test_values_are_shown_half_up_to_two_decimals() -> None:
    assert shown(Fraction(1, 8)) == Decimal("0.13")
    assert shown(Fraction(-1, 8)) == Decimal("-0.13")
    assert shown(Fraction(1, 3)) == Decimal("0.33")
    assert shown(Fraction(7)) == Decimal("7.00")
    assert shown(None) is None


def test_a_missing_year_is_refused_naming_it(scheme: Scheme) -> None:
    assert scheme_for({2026: scheme}, 2026) is scheme
    with pytest.raises(InvalidInput) as refused:
        scheme_for({2026: scheme}, 2025)
    assert refused.value.rule == "evaluation_year_missing"
    assert "no evaluation scheme for 2025" in refused.value.message
    assert refused.value.details == {"field": "year", "year": 2025}


def _edited(old: str, new: str) -> str:
    assert PACKAGED.count(old) == 1, old
    return PACKAGED.replace(old, new)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("[2026", "not TOML"),
        ('title = "x"', "each table is a year"),
        ("[evaluation]\nmin_weight = 1", "each table is a year"),
        (_edited('code = "rating_average"', 'code = "happiness"'), "unknown indicators"),
        (_edited('code = "rating_average"', 'code = "redemption_rate"'), "listed twice"),
        (_edited("weight = 20\nworst = 3", "weight = 21\nworst = 3"), "add up to 100"),
        (
            _edited("weight = 20\nworst = 3", "weight = 0\nworst = 3").replace(
                "weight = 15\nworst = 0.5", "weight = 35\nworst = 0.5"
            ),
            "positive whole number",
        ),
        (_edited("weight = 20\nworst = 3", "weight = 20.0\nworst = 3"), "not a whole number"),
        (_edited("worst = 3\nbest = 5", "worst = 5\nbest = 5"), "worst and best differ"),
        (_edited("worst = 3\nbest = 5", 'worst = "3"\nbest = 5'), "not a number"),
        (_edited("from = 75", "from = 95"), "grades go from the best down"),
        (_edited("from = 75", "from = 90"), "grades go from the best down"),
        (_edited("from = 0", "from = 10"), "grades go from the best down"),
        (_edited("min_weight = 50", "min_weight = 0"), "min_weight is 1 to 100"),
        (_edited("min_weight = 50", "min_weight = 101"), "min_weight is 1 to 100"),
        (_edited("min_weight = 50\n", ""), "min_weight is missing"),
        (_edited('code = "objection_rate"\n', ""), "code is missing"),
        (_edited("weight = 15\nworst = 0.5", "weight = [15]\nworst = 0.5"), "not a whole"),
    ],
    ids=[
        "not-toml", "not-a-table", "not-a-year", "unknown-code", "twice", "sum", "zero-weight",
        "float-weight", "flat", "text-number", "grade-out-of-order", "grade-repeated",
        "no-grade-from-0", "min-weight-0", "min-weight-over", "min-weight-missing", "no-code",
        "list-weight",
    ],
)  # fmt: skip
def test_a_scheme_file_that_does_not_hold_together_is_refused(text: str, says: str) -> None:
    with pytest.raises(InvalidEvaluationScheme) as refused:
        read_schemes(text)
    assert says in refused.value.message
    if "[2026]" in text:
        assert "2026" in refused.value.message


def test_a_scheme_without_grades_is_refused() -> None:
    text = PACKAGED.split("[[2026.grade]]")[0] + "[[2026.grade]]\nname = 'x'\nfrom = 0\n"
    assert read_schemes(text)[2026].grades[0].name == "x"
    without = PACKAGED.split("[[2026.grade]]")[0] + "[2026.nothing]\n"
    with pytest.raises(InvalidEvaluationScheme, match=r"\[2026\]: grade is missing"):
        read_schemes(without)


def test_decimals_in_the_file_are_read_exactly() -> None:
    scheme = read_schemes(_edited("best = 0.8", "best = 0.1"))[2026]
    assert scheme.indicators[0].best == Fraction(1, 10)
    assert scheme.source.startswith("广东省")


def test_the_smallest_weights_and_minimums_the_file_may_set_are_taken() -> None:
    """A weight of 1 and a min_weight of 1 or 100 are allowed; a scheme without a source
    has an empty one."""
    text = _edited("weight = 20\nworst = 3", "weight = 1\nworst = 3").replace(
        "weight = 15\nworst = 0.5", "weight = 34\nworst = 0.5"
    )
    text = text[text.index("\n[2026]") :].replace("source =", "# source =")
    scheme = read_schemes(text.replace("min_weight = 50", "min_weight = 1"))[2026]
    assert [indicator.weight for indicator in scheme.indicators][2] == 1
    assert (scheme.min_weight, scheme.source) == (1, "")
    assert read_schemes(text.replace("min_weight = 50", "min_weight = 100"))[2026].min_weight == 100


def test_centers_are_placed_by_total_sharing_a_place_when_equal(scheme: Scheme) -> None:
    """Totals 100, 62.5, 62.5, 0 and one ungraded: places 1, 2, 2, 4 and none; equal totals
    in code order, the ungraded last."""

    def center(code: str, redeemed: int | None) -> CenterScore:
        figures = (
            Figures()
            if redeemed is None
            else Figures(vouchers_issued=8, vouchers_redeemed=redeemed)
        )
        only_the_rate = dataclasses.replace(
            scheme, indicators=(dataclasses.replace(scheme.indicators[0], weight=100),)
        )
        return CenterScore(code, code, 1, "440300", only_the_rate.evaluate(figures))

    placed = ranked(
        [center("440307", None), center("440306", 4), center("440303", 0), center("440305", 4),
         center("440304", 8)]
    )  # fmt: skip
    assert [(score.center, score.rank) for score in placed] == [
        ("440304", 1),
        ("440305", 2),
        ("440306", 2),
        ("440303", 4),
        ("440307", None),
    ]
