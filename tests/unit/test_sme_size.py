"""SME size classification under the 2011 standard (`voucher_app.domain.sme.classify`).

The thresholds below are transcribed again, independently of the module's table, from
`reference/sme-size-standard-2011.md`: once as data (`ROWS`, which the boundary cases are built
from) and once as a plain if/else reading (`reference_classify`, the Hypothesis oracle). The two
transcriptions are checked against each other at every boundary, and the module against both.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voucher_app.domain.errors import InvalidIndustry, InvalidInput, InvalidSizeFigure
from voucher_app.domain.sme import (
    FEN_PER_WAN,
    INDUSTRY_NAMES,
    SIZE_TABLE,
    Bounds,
    Industry,
    SizeClass,
    SizeRow,
    classify,
    wan,
)

W = 1_000_000  # fen in one 万元, written out rather than imported

LARGE, MEDIUM, SMALL, MICRO = SizeClass.LARGE, SizeClass.MEDIUM, SizeClass.SMALL, SizeClass.MICRO

#: industry → (SME if below either, medium if at or above both, small if at or above both), with
#: "e" employees (persons), "r" revenue and "a" total assets (万元), straight from the table.
ROWS: dict[str, tuple[dict[str, int], dict[str, int], dict[str, int]]] = {
    "agriculture": ({"r": 20000}, {"r": 500}, {"r": 50}),
    "industry": ({"e": 1000, "r": 40000}, {"e": 300, "r": 2000}, {"e": 20, "r": 300}),
    "construction": ({"r": 80000, "a": 80000}, {"r": 6000, "a": 5000}, {"r": 300, "a": 300}),
    "wholesale": ({"e": 200, "r": 40000}, {"e": 20, "r": 5000}, {"e": 5, "r": 1000}),
    "retail": ({"e": 300, "r": 20000}, {"e": 50, "r": 500}, {"e": 10, "r": 100}),
    "transport": ({"e": 1000, "r": 30000}, {"e": 300, "r": 3000}, {"e": 20, "r": 200}),
    "warehousing": ({"e": 200, "r": 30000}, {"e": 100, "r": 1000}, {"e": 20, "r": 100}),
    "postal": ({"e": 1000, "r": 30000}, {"e": 300, "r": 2000}, {"e": 20, "r": 100}),
    "accommodation": ({"e": 300, "r": 10000}, {"e": 100, "r": 2000}, {"e": 10, "r": 100}),
    "catering": ({"e": 300, "r": 10000}, {"e": 100, "r": 2000}, {"e": 10, "r": 100}),
    "information_transmission": (
        {"e": 2000, "r": 100000},
        {"e": 100, "r": 1000},
        {"e": 10, "r": 100},
    ),
    "software_it": ({"e": 300, "r": 10000}, {"e": 100, "r": 1000}, {"e": 10, "r": 50}),
    "real_estate_development": (
        {"r": 200000, "a": 10000},
        {"r": 1000, "a": 5000},
        {"r": 100, "a": 2000},
    ),
    "property_management": ({"e": 1000, "r": 5000}, {"e": 300, "r": 1000}, {"e": 100, "r": 500}),
    "leasing_business_services": (
        {"e": 300, "a": 120000},
        {"e": 100, "a": 8000},
        {"e": 10, "a": 100},
    ),
    "other": ({"e": 300}, {"e": 100}, {"e": 10}),
}

MEASURE_NAMES = {"e": "employees", "r": "revenue", "a": "assets"}


def reference_classify(industry: str, e: int, r: int, a: int) -> SizeClass:  # noqa: PLR0911, PLR0912
    """The table read row by row, as plainly as it is written (r and a in fen)."""
    if industry == "agriculture":
        if not r < 20000 * W:
            return LARGE
        if r >= 500 * W:
            return MEDIUM
        if r >= 50 * W:
            return SMALL
        if r < 50 * W:
            return MICRO
    elif industry == "industry":
        if not (e < 1000 or r < 40000 * W):
            return LARGE
        if e >= 300 and r >= 2000 * W:
            return MEDIUM
        if e >= 20 and r >= 300 * W:
            return SMALL
        if e < 20 or r < 300 * W:
            return MICRO
    elif industry == "construction":
        if not (r < 80000 * W or a < 80000 * W):
            return LARGE
        if r >= 6000 * W and a >= 5000 * W:
            return MEDIUM
        if r >= 300 * W and a >= 300 * W:
            return SMALL
        if r < 300 * W or a < 300 * W:
            return MICRO
    elif industry == "wholesale":
        if not (e < 200 or r < 40000 * W):
            return LARGE
        if e >= 20 and r >= 5000 * W:
            return MEDIUM
        if e >= 5 and r >= 1000 * W:
            return SMALL
        if e < 5 or r < 1000 * W:
            return MICRO
    elif industry == "retail":
        if not (e < 300 or r < 20000 * W):
            return LARGE
        if e >= 50 and r >= 500 * W:
            return MEDIUM
        if e >= 10 and r >= 100 * W:
            return SMALL
        if e < 10 or r < 100 * W:
            return MICRO
    elif industry == "transport":
        if not (e < 1000 or r < 30000 * W):
            return LARGE
        if e >= 300 and r >= 3000 * W:
            return MEDIUM
        if e >= 20 and r >= 200 * W:
            return SMALL
        if e < 20 or r < 200 * W:
            return MICRO
    elif industry == "warehousing":
        if not (e < 200 or r < 30000 * W):
            return LARGE
        if e >= 100 and r >= 1000 * W:
            return MEDIUM
        if e >= 20 and r >= 100 * W:
            return SMALL
        if e < 20 or r < 100 * W:
            return MICRO
    elif industry == "postal":
        if not (e < 1000 or r < 30000 * W):
            return LARGE
        if e >= 300 and r >= 2000 * W:
            return MEDIUM
        if e >= 20 and r >= 100 * W:
            return SMALL
        if e < 20 or r < 100 * W:
            return MICRO
    elif industry == "accommodation":  # noqa: SIM114 (catering has its own row in the table)
        if not (e < 300 or r < 10000 * W):
            return LARGE
        if e >= 100 and r >= 2000 * W:
            return MEDIUM
        if e >= 10 and r >= 100 * W:
            return SMALL
        if e < 10 or r < 100 * W:
            return MICRO
    elif industry == "catering":
        if not (e < 300 or r < 10000 * W):
            return LARGE
        if e >= 100 and r >= 2000 * W:
            return MEDIUM
        if e >= 10 and r >= 100 * W:
            return SMALL
        if e < 10 or r < 100 * W:
            return MICRO
    elif industry == "information_transmission":
        if not (e < 2000 or r < 100000 * W):
            return LARGE
        if e >= 100 and r >= 1000 * W:
            return MEDIUM
        if e >= 10 and r >= 100 * W:
            return SMALL
        if e < 10 or r < 100 * W:
            return MICRO
    elif industry == "software_it":
        if not (e < 300 or r < 10000 * W):
            return LARGE
        if e >= 100 and r >= 1000 * W:
            return MEDIUM
        if e >= 10 and r >= 50 * W:
            return SMALL
        if e < 10 or r < 50 * W:
            return MICRO
    elif industry == "real_estate_development":
        if not (r < 200000 * W or a < 10000 * W):
            return LARGE
        if r >= 1000 * W and a >= 5000 * W:
            return MEDIUM
        if r >= 100 * W and a >= 2000 * W:
            return SMALL
        if r < 100 * W or a < 2000 * W:
            return MICRO
    elif industry == "property_management":
        if not (e < 1000 or r < 5000 * W):
            return LARGE
        if e >= 300 and r >= 1000 * W:
            return MEDIUM
        if e >= 100 and r >= 500 * W:
            return SMALL
        if e < 100 or r < 500 * W:
            return MICRO
    elif industry == "leasing_business_services":
        if not (e < 300 or a < 120000 * W):
            return LARGE
        if e >= 100 and a >= 8000 * W:
            return MEDIUM
        if e >= 10 and a >= 100 * W:
            return SMALL
        if e < 10 or a < 100 * W:
            return MICRO
    elif industry == "other":
        if not e < 300:
            return LARGE
        if e >= 100:
            return MEDIUM
        if e >= 10:
            return SMALL
        if e < 10:
            return MICRO
    raise AssertionError(f"the table leaves {industry} {e} {r} {a} unclassified")


Case = tuple[str, int, int, int, SizeClass]


def _figures(values: dict[str, int]) -> tuple[int, int, int]:
    """(employees, revenue_fen, assets_fen); a measure the row does not use is 0."""
    return values.get("e", 0), values.get("r", 0) * W, values.get("a", 0) * W


def _case(industry: str, values: dict[str, int], expected: SizeClass, case_id: str) -> object:
    return pytest.param(industry, *_figures(values), expected, id=f"{industry}-{case_id}")


def _cases(column: int, at: SizeClass, below: SizeClass) -> Iterator[object]:
    """For each row and each bound of `column`: every figure at its bound in that column, then
    the one measure exactly at its bound (`at`), one unit (person or fen) below it (`below`) and
    one unit above it (`at` again).
    """
    for industry, row in ROWS.items():
        bounds = row[column]
        name = ("sme", "medium", "small")[column]
        for measure in bounds:
            label = f"{name}-{MEASURE_NAMES[measure]}"
            yield _case(industry, bounds, at, f"{label}-at")
            employees, revenue, assets = _figures(bounds)
            one_below = {
                "e": (employees - 1, revenue, assets),
                "r": (employees, revenue - 1, assets),
                "a": (employees, revenue, assets - 1),
            }[measure]
            yield pytest.param(industry, *one_below, below, id=f"{industry}-{label}-below")
            one_above = {
                "e": (employees + 1, revenue, assets),
                "r": (employees, revenue + 1, assets),
                "a": (employees, revenue, assets + 1),
            }[measure]
            yield pytest.param(industry, *one_above, at, id=f"{industry}-{label}-above")


#: At its SME bound with every other figure at its own, or one unit above it: large. One unit
#: below: an SME (and, being far above the medium bounds, medium).
SME_CASES = list(_cases(0, at=LARGE, below=MEDIUM))
#: At both medium bounds, or one unit above either: medium. One unit below either: small.
MEDIUM_CASES = list(_cases(1, at=MEDIUM, below=SMALL))
#: At both small bounds, or one unit above either: small. One unit below either: micro.
SMALL_CASES = list(_cases(2, at=SMALL, below=MICRO))

FIGURES = ("industry", "employees", "revenue_fen", "assets_fen", "expected")


@pytest.mark.parametrize(FIGURES, SME_CASES)
def test_an_enterprise_is_an_sme_just_below_either_sme_bound_and_large_at_all_of_them(
    industry: str, employees: int, revenue_fen: int, assets_fen: int, expected: SizeClass
) -> None:
    assert classify(Industry(industry), employees, revenue_fen, assets_fen) is expected


@pytest.mark.parametrize(FIGURES, MEDIUM_CASES)
def test_an_sme_is_medium_at_both_medium_bounds_and_small_just_below_either(
    industry: str, employees: int, revenue_fen: int, assets_fen: int, expected: SizeClass
) -> None:
    assert classify(Industry(industry), employees, revenue_fen, assets_fen) is expected


@pytest.mark.parametrize(FIGURES, SMALL_CASES)
def test_an_sme_is_small_at_both_small_bounds_and_micro_just_below_either(
    industry: str, employees: int, revenue_fen: int, assets_fen: int, expected: SizeClass
) -> None:
    assert classify(Industry(industry), employees, revenue_fen, assets_fen) is expected


@pytest.mark.parametrize(FIGURES, SME_CASES + MEDIUM_CASES + SMALL_CASES)
def test_the_reference_reading_agrees_with_every_boundary_case(
    industry: str, employees: int, revenue_fen: int, assets_fen: int, expected: SizeClass
) -> None:
    assert reference_classify(industry, employees, revenue_fen, assets_fen) is expected


def _far_above_one_sme_bound() -> Iterator[object]:
    for industry, (sme, _medium, _small) in ROWS.items():
        if len(sme) == 2:
            for measure, bound in sme.items():
                huge = {measure: bound * 100}
                label = f"{MEASURE_NAMES[measure]}-100x-others-zero"
                yield _case(industry, huge, MICRO, label)


@pytest.mark.parametrize(FIGURES, list(_far_above_one_sme_bound()))
def test_one_figure_far_above_its_sme_bound_does_not_make_a_large_enterprise_alone(
    industry: str, employees: int, revenue_fen: int, assets_fen: int, expected: SizeClass
) -> None:
    # Below the other SME bound ("或"), so an SME; below a small bound, so micro.
    assert classify(Industry(industry), employees, revenue_fen, assets_fen) is expected


@pytest.mark.parametrize("industry", list(Industry))
def test_an_enterprise_with_nothing_yet_is_micro(industry: Industry) -> None:
    assert classify(industry, 0, 0, 0) is MICRO


@pytest.mark.parametrize(
    ("industry", "employees", "revenue_fen", "assets_fen", "expected"),
    [
        pytest.param(Industry.RETAIL, 40, wan(300), 0, SMALL, id="retail-ignores-assets"),
        pytest.param(Industry.RETAIL, 40, wan(300), wan(10**6), SMALL, id="retail-huge-assets"),
        pytest.param(Industry.OTHER, 150, 0, 0, MEDIUM, id="other-ignores-money"),
        pytest.param(Industry.OTHER, 150, wan(10**6), wan(10**6), MEDIUM, id="other-huge-money"),
        pytest.param(Industry.CONSTRUCTION, 0, wan(400), wan(400), SMALL, id="construction-no-e"),
        pytest.param(
            Industry.CONSTRUCTION, 10**6, wan(400), wan(400), SMALL, id="construction-huge-e"
        ),
        pytest.param(Industry.AGRICULTURE, 10**6, wan(60), 0, SMALL, id="agriculture-huge-e"),
    ],
)
def test_a_figure_the_row_does_not_name_does_not_change_the_class(
    industry: Industry, employees: int, revenue_fen: int, assets_fen: int, expected: SizeClass
) -> None:
    assert classify(industry, employees, revenue_fen, assets_fen) is expected


def _near(bounds: set[int]) -> st.SearchStrategy[int]:
    return st.sampled_from(sorted(bounds)).flatmap(lambda b: st.integers(max(0, b - 2), b + 1))


EMPLOYEE_BOUNDS = {v for row in ROWS.values() for col in row for k, v in col.items() if k == "e"}
MONEY_BOUNDS = {v * W for row in ROWS.values() for col in row for k, v in col.items() if k != "e"}
employees_near_bounds = st.one_of(st.integers(0, 3000), _near(EMPLOYEE_BOUNDS))
fen_near_bounds = st.one_of(
    st.integers(0, 300_000 * W), st.integers(0, 10**15), _near(MONEY_BOUNDS)
)


@settings(max_examples=2000, deadline=None)
@given(
    industry=st.sampled_from(list(Industry)),
    employees=employees_near_bounds,
    revenue_fen=fen_near_bounds,
    assets_fen=fen_near_bounds,
)
def test_classify_agrees_with_a_plain_reading_of_the_table(
    industry: Industry, employees: int, revenue_fen: int, assets_fen: int
) -> None:
    expected = reference_classify(str(industry), employees, revenue_fen, assets_fen)
    assert classify(industry, employees, revenue_fen, assets_fen) is expected


@pytest.mark.parametrize("industry", [Industry.INDUSTRY, Industry.CONSTRUCTION])
@pytest.mark.parametrize("field", ["employees", "revenue_fen", "assets_fen"])
@pytest.mark.parametrize(
    "value",
    [
        pytest.param(-1, id="negative"),
        pytest.param(-(10**15), id="very-negative"),
        pytest.param(1.0, id="float"),
        pytest.param(0.5, id="fractional-float"),
        pytest.param(float("nan"), id="nan"),
        pytest.param(True, id="true"),
        pytest.param(False, id="false"),
        pytest.param("10", id="string"),
        pytest.param(None, id="none"),
        pytest.param(Decimal(10), id="decimal"),
    ],
)
def test_classify_refuses_figures_that_are_not_non_negative_whole_numbers_used_or_not(
    industry: Industry, field: str, value: object
) -> None:
    figures: dict[str, object] = {"employees": 10, "revenue_fen": wan(100), "assets_fen": wan(100)}
    figures[field] = value
    with pytest.raises(InvalidSizeFigure) as caught:
        classify(industry, **figures)  # type: ignore[arg-type]
    assert isinstance(caught.value, InvalidInput)
    assert caught.value.code == "invalid_size_figure"
    assert caught.value.details["field"] == field
    assert field in caught.value.message


@pytest.mark.parametrize("code", ["mining", "", "Retail", "software"])
def test_classify_refuses_an_industry_outside_the_standard(code: str) -> None:
    with pytest.raises(InvalidIndustry) as caught:
        classify(cast(Industry, code), 10, wan(100), wan(100))
    assert isinstance(caught.value, InvalidInput)
    assert caught.value.code == "invalid_industry"


def test_classify_accepts_an_industry_code_as_a_plain_string() -> None:
    assert classify(cast(Industry, "retail"), 50, wan(500), 0) is MEDIUM


def test_the_industries_are_the_sixteen_of_the_standard_with_stable_codes() -> None:
    assert [str(industry) for industry in Industry] == list(ROWS)


def test_every_industry_has_a_chinese_and_an_english_name() -> None:
    assert set(INDUSTRY_NAMES) == set(Industry)
    for zh, en in INDUSTRY_NAMES.values():
        assert zh.strip() and en.strip()
        assert not zh.isascii() and en.isascii()
    assert INDUSTRY_NAMES[Industry.INDUSTRY][0] == "工业"
    assert INDUSTRY_NAMES[Industry.OTHER][0] == "其他未列明行业"


def test_the_size_table_has_one_row_per_industry_under_its_own_key() -> None:
    assert set(SIZE_TABLE) == set(Industry)
    assert all(row.industry is industry for industry, row in SIZE_TABLE.items())


def test_wan_is_ten_thousand_yuan_in_fen() -> None:
    assert FEN_PER_WAN == 10_000 * 100
    assert wan(1) == 1_000_000
    assert wan(20000) == 20_000_000_000


@pytest.mark.parametrize(
    ("medium", "small"),
    [
        pytest.param(Bounds(employees=100), Bounds(revenue_fen=wan(1)), id="different-measures"),
        pytest.param(Bounds(employees=10), Bounds(employees=100), id="medium-below-small"),
        pytest.param(Bounds(), Bounds(), id="no-measures"),
    ],
)
def test_a_size_row_refuses_medium_and_small_bounds_that_do_not_fit(
    medium: Bounds, small: Bounds
) -> None:
    with pytest.raises(ValueError, match="other"):
        SizeRow(
            Industry.OTHER, sme_below=Bounds(employees=300), medium_from=medium, small_from=small
        )


def test_a_size_row_refuses_a_row_without_an_sme_bound() -> None:
    with pytest.raises(ValueError, match="SME bound"):
        SizeRow(
            Industry.OTHER,
            sme_below=Bounds(),
            medium_from=Bounds(employees=100),
            small_from=Bounds(employees=10),
        )


def test_a_size_row_accepts_medium_bounds_equal_to_the_small_ones() -> None:
    # Only a medium bound *below* the small one contradicts the standard's order; an equal one
    # merely leaves no room for "small" on that measure.
    row = SizeRow(
        Industry.OTHER,
        sme_below=Bounds(employees=300),
        medium_from=Bounds(employees=10),
        small_from=Bounds(employees=10),
    )
    assert row.medium_from == row.small_from


@pytest.mark.parametrize("code", ["mining", "", "Retail"])
def test_the_industry_refusal_names_the_code_it_was_given(code: str) -> None:
    with pytest.raises(InvalidIndustry) as caught:
        classify(cast(Industry, code), 10, wan(100), wan(100))
    assert caught.value.message == f"unknown industry {code!r}"
    assert caught.value.details == {"industry": code}


@pytest.mark.parametrize(
    ("value", "type_name"),
    [(1.0, "float"), ("10", "str"), (None, "NoneType"), (True, "bool"), (Decimal(10), "Decimal")],
)
def test_the_refusal_of_a_figure_that_is_not_whole_names_the_field_and_the_type_it_got(
    value: object, type_name: str
) -> None:
    with pytest.raises(InvalidSizeFigure) as caught:
        classify(Industry.RETAIL, 10, value, 0)  # type: ignore[arg-type]
    assert caught.value.message == f"revenue_fen must be a whole number, not {type_name}"
    assert caught.value.details == {"field": "revenue_fen"}


@pytest.mark.parametrize("field", ["employees", "revenue_fen", "assets_fen"])
def test_the_refusal_of_a_negative_figure_names_the_field_and_the_value(field: str) -> None:
    figures = {"employees": 10, "revenue_fen": wan(100), "assets_fen": wan(100), field: -7}
    with pytest.raises(InvalidSizeFigure) as caught:
        classify(Industry.CONSTRUCTION, **figures)
    assert caught.value.message == f"{field} must not be negative"
    assert caught.value.details == {"field": field, "value": -7}
