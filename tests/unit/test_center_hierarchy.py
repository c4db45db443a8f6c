"""The center hierarchy file: six-digit codes, both names, a province without a parent, cities
under the province, counties under a city; refused whole, naming the line or the center, at the
first problem; read back parents first."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from voucher_app.domain.centers import (
    CenterLevel,
    CenterSpec,
    order_parents_first,
    parse_center_rows,
)
from voucher_app.domain.errors import InvalidCenterData

REFERENCE = Path(__file__).parents[2] / "voucher_app" / "data" / "guangdong-centers.csv"

PROVINCE = {"code": "440000", "name_zh": "广东省", "name_en": "Guangdong", "level": "province"}
CITY = {
    "code": "440300",
    "name_zh": "深圳市",
    "name_en": "Shenzhen",
    "level": "city",
    "parent_code": "440000",
}
COUNTY = {
    "code": "440305",
    "name_zh": "南山区",
    "name_en": "Nanshan",
    "level": "county",
    "parent_code": "440300",
}


def refusal(rows: list[dict[str, str]]) -> str:
    with pytest.raises(InvalidCenterData) as refused:
        parse_center_rows(rows)
    assert refused.value.code == "invalid_center_data"
    return str(refused.value)


def test_the_provinces_own_file_reads_parents_first() -> None:
    with REFERENCE.open(encoding="utf-8", newline="") as file:
        specs = parse_center_rows(csv.DictReader(file))
    levels = [spec.level for spec in specs]
    assert levels.count(CenterLevel.PROVINCE) == 1
    assert levels.count(CenterLevel.CITY) == 21  # Guangdong's 21 prefecture-level cities
    assert levels == sorted(levels, key=list(CenterLevel).index)
    assert specs[0] == CenterSpec(
        "440000", "广东省", "Guangdong Province", CenterLevel.PROVINCE, None
    )


def test_rows_are_read_stripped_and_ordered_province_city_county_then_by_code() -> None:
    other_city = {**CITY, "code": "440100", "name_en": " Guangzhou "}
    rows = [COUNTY, {**CITY, "code": " 440300 "}, other_city, {**PROVINCE, "parent_code": " "}]
    assert parse_center_rows(rows) == [
        CenterSpec("440000", "广东省", "Guangdong", CenterLevel.PROVINCE, None),
        CenterSpec("440100", "深圳市", "Guangzhou", CenterLevel.CITY, "440000"),
        CenterSpec("440300", "深圳市", "Shenzhen", CenterLevel.CITY, "440000"),
        CenterSpec("440305", "南山区", "Nanshan", CenterLevel.COUNTY, "440300"),
    ]


def test_a_province_row_may_leave_out_the_parent_column() -> None:
    assert parse_center_rows([PROVINCE])[0].parent_code is None


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        ({"code": "44030"}, "line 3: center code '44030' is not six digits"),
        ({"code": "4403000"}, "line 3: center code '4403000' is not six digits"),
        ({"code": "44O300"}, "line 3: center code '44O300' is not six digits"),
        ({"name_zh": " "}, "line 3: both names are required"),
        ({"name_en": ""}, "line 3: both names are required"),
        (
            {"level": "town"},
            "line 3: missing or invalid column ('town' is not a valid CenterLevel)",
        ),
    ],
)
def test_a_bad_row_is_refused_naming_its_line(bad: dict[str, str], says: str) -> None:
    """Line 1 is the header: the first row is line 2."""
    assert refusal([PROVINCE, {**CITY, **bad}, COUNTY]) == says


@pytest.mark.parametrize("column", ["code", "name_zh", "name_en", "level"])
def test_a_row_missing_a_column_is_refused_naming_its_line_and_the_column(column: str) -> None:
    row = {key: value for key, value in CITY.items() if key != column}
    assert refusal([PROVINCE, row]) == f"line 3: missing or invalid column ('{column}')"


def test_a_row_with_an_empty_cell_where_a_value_belongs_is_refused() -> None:
    """csv.DictReader gives None for the cells of a short line."""
    row: dict[str, str] = {**CITY, "name_en": None}  # type: ignore[dict-item]
    assert refusal([PROVINCE, row]).startswith("line 3: missing or invalid column (")


@pytest.mark.parametrize(
    ("rows", "says"),
    [
        ([PROVINCE, CITY, CITY], "center 440300 appears twice"),
        (
            [{**PROVINCE, "parent_code": "440300"}, CITY],
            "province center 440000 cannot have a parent",
        ),
        ([CITY, COUNTY], "center 440300: parent 440000 is not listed"),
        ([PROVINCE, {**CITY, "parent_code": ""}], "center 440300: parent None is not listed"),
        (
            [PROVINCE, {**COUNTY, "parent_code": "440000"}],
            "center 440305 (county) needs a city parent, not 440000 (province)",
        ),
        (
            [PROVINCE, CITY, {**CITY, "code": "440100", "parent_code": "440300"}],
            "center 440100 (city) needs a province parent, not 440300 (city)",
        ),
    ],
)
def test_a_hierarchy_that_does_not_hold_together_is_refused_naming_the_center(
    rows: list[dict[str, str]], says: str
) -> None:
    assert refusal(rows) == says


def test_specs_already_read_are_ordered_parents_first() -> None:
    county = CenterSpec("440305", "南山区", "Nanshan", CenterLevel.COUNTY, "440300")
    city = CenterSpec("440300", "深圳市", "Shenzhen", CenterLevel.CITY, "440000")
    province = CenterSpec("440000", "广东省", "Guangdong", CenterLevel.PROVINCE, None)
    assert order_parents_first([county, city, province]) == [province, city, county]
