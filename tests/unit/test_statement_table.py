"""Bank statements as CSV or XLSX exports (`voucher_app.settlement.statement_table`)."""

from __future__ import annotations

import dataclasses
import io
import json
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from voucher_app.domain.errors import InvalidMapping, InvalidStatement, InvalidTable
from voucher_app.settlement.camt053 import Statement, StatementLine, parse_camt053
from voucher_app.settlement.statement_table import (
    CREDIT_VALUES,
    DEBIT_VALUES,
    ColumnMapping,
    parse_table,
)

SAMPLES = Path(__file__).parent.parent / "samples"
CSV_SAMPLE = SAMPLES / "statement.csv"

MAPPING = ColumnMapping(
    end_to_end_id="端到端编号",
    amount="金额",
    booked_on="交易日期",
    direction="借贷标志",
    returned="退汇原因",
    bank_reference="银行流水号",
)

HEADER = "交易日期,借贷标志,金额,对方户名,端到端编号,退汇原因,摘要,银行流水号"


def parse(filename: str, content: bytes, mapping: ColumnMapping = MAPPING) -> Statement:
    return parse_table(
        filename,
        content,
        mapping,
        statement_id="ICBC-2026-03",
        account="3602000109200123456",
        max_rows=1_000,
    )


def csv_bytes(*rows: str) -> bytes:
    return "\r\n".join([HEADER, *rows, ""]).encode()


def refused(filename: str, content: bytes, mapping: ColumnMapping = MAPPING) -> InvalidStatement:
    with pytest.raises(InvalidStatement) as caught:
        parse(filename, content, mapping)
    error = caught.value
    assert error.code == "invalid_statement"
    assert error.message.startswith(error.details["where"])
    return error


def essentials(line: StatementLine) -> tuple[str | None, int, bool, date, bool, str | None]:
    return (
        line.end_to_end_id,
        line.amount_fen,
        line.debit,
        line.booked_on,
        line.returned,
        line.return_reason,
    )


EXPECTED = [
    ("B7Q2-0001", 123_450, True, date(2026, 3, 3), False, None),
    ("B7Q2-0002", 199_800, True, date(2026, 3, 3), False, None),
    ("B7Q2-0003", 46_750, True, date(2026, 3, 4), False, None),
    ("B7Q2-0004", 88_000, True, date(2026, 3, 4), False, None),
    ("B7Q2-0003", 46_750, False, date(2026, 3, 5), True, "AC04 收款账户已销户"),
    (None, 1_500, True, date(2026, 3, 5), False, None),
]


def test_reads_the_csv_sample_naming_each_line_as_the_file_numbers_it() -> None:
    content = CSV_SAMPLE.read_bytes()
    assert content.startswith("\ufeff".encode())  # saved by Excel: UTF-8 with a BOM
    statement = parse("statement.csv", content)
    assert (statement.statement_id, statement.account, statement.currency) == (
        "ICBC-2026-03",
        "3602000109200123456",
        "CNY",
    )
    assert [essentials(line) for line in statement.lines] == EXPECTED
    # Line 6 is blank (skipped), so the return is on line 7.
    assert [line.where for line in statement.lines] == [f"line {n}" for n in (2, 3, 4, 5, 7, 8)]
    assert [line.bank_reference for line in statement.lines] == [
        "ICBC20260303000117",
        "ICBC20260303000118",
        "ICBC20260304000042",
        "ICBC20260304000042",
        "ICBC20260305000009",
        "ICBC20260305000077",
    ]


def test_the_csv_sample_says_what_the_camt053_sample_says() -> None:
    camt = parse_camt053((SAMPLES / "camt053_batch.xml").read_bytes())
    table = parse("statement.csv", CSV_SAMPLE.read_bytes())
    assert [essentials(line)[:5] for line in table.lines] == [
        essentials(line)[:5] for line in camt.lines
    ]


def test_reads_gb18030_when_the_bytes_are_not_utf8() -> None:
    text = CSV_SAMPLE.read_bytes().decode("utf-8-sig")
    content = text.encode("gb18030")
    with pytest.raises(UnicodeDecodeError):
        content.decode("utf-8")
    statement = parse("statement.csv", content)
    assert [essentials(line) for line in statement.lines] == EXPECTED


def test_reads_utf8_without_a_bom() -> None:
    content = CSV_SAMPLE.read_bytes().removeprefix("\ufeff".encode())
    assert [essentials(line) for line in parse("s.CSV", content).lines] == EXPECTED


def test_a_quoted_cell_over_two_lines_keeps_later_line_numbers_true() -> None:
    content = csv_bytes(
        '2026-03-03,借,100.00,"广州市云帆信息科技有限公司\n(原广州云帆)",B7Q2-0001,,,R1',
        "2026-03-03,借,200.00,佛山德信,B7Q2-0002,,,R2",
    )
    assert [line.where for line in parse("s.csv", content).lines] == ["line 2", "line 4"]


def xlsx(rows: list[list[object]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


TWO_COLUMNS = ColumnMapping(
    end_to_end_id="E2E", debit_amount="Paid out", credit_amount="Paid in", booked_on="Value date"
)


def test_reads_xlsx_with_date_cells_numbers_and_the_column_as_direction() -> None:
    content = xlsx(
        [
            ["Value date", "Paid out", "Paid in", "E2E", "Memo"],
            [datetime(2026, 3, 3), 1234.5, None, "B7Q2-0001", "服务券兑付"],  # noqa: DTZ001 - cells are naive
            [20260303, "-1,998.00", "", "B7Q2-0002", None],  # a minus repeats the column's word
            [None, None, None, None, None],
            ["2026/3/5", None, 467.5, "B7Q2-0003", "退汇"],
            [date(2026, 3, 5), 15, None, None, "账户管理费"],
        ]
    )
    statement = parse("export.xlsx", content, TWO_COLUMNS)
    assert [
        (line.where, line.end_to_end_id, line.amount_fen, line.debit, line.booked_on)
        for line in statement.lines
    ] == [
        ("line 2", "B7Q2-0001", 123_450, True, date(2026, 3, 3)),
        ("line 3", "B7Q2-0002", 199_800, True, date(2026, 3, 3)),
        ("line 5", "B7Q2-0003", 46_750, False, date(2026, 3, 5)),
        ("line 6", None, 1_500, True, date(2026, 3, 5)),
    ]
    assert not any(line.returned for line in statement.lines)
    assert all(line.bank_reference is None for line in statement.lines)


def test_a_mapping_round_trips_through_json() -> None:
    saved = json.dumps(MAPPING.to_json(), ensure_ascii=False)
    assert ColumnMapping.from_json(json.loads(saved)) == MAPPING
    assert ColumnMapping.from_json(json.loads(json.dumps(TWO_COLUMNS.to_json()))) == TWO_COLUMNS
    assert TWO_COLUMNS.to_json() == {
        "booked_on": "Value date",
        "end_to_end_id": "E2E",
        "remarks": [],
        "debit_values": list(DEBIT_VALUES),
        "credit_values": list(CREDIT_VALUES),
        "debit_amount": "Paid out",
        "credit_amount": "Paid in",
    }
    assert ColumnMapping.from_json(
        {"remarks": ["附言"], "amount": "A", "direction": "借贷", "booked_on": "D"}
    ) == ColumnMapping(remarks=("附言",), amount="A", direction="借贷", booked_on="D")


GOOD = {"end_to_end_id": "E", "amount": "A", "direction": "借贷", "booked_on": "D"}


@pytest.mark.parametrize(
    ("data", "field"),
    [
        pytest.param(["金额"], "mapping", id="not-an-object"),
        pytest.param(GOOD | {"end_to_end_id": None}, "mapping.end_to_end_id", id="no-reference"),
        pytest.param(GOOD | {"booked_on": None}, "mapping.booked_on", id="no-date"),
        pytest.param(GOOD | {"amount": ""}, "mapping.amount", id="blank"),
        pytest.param(GOOD | {"direction": 3}, "mapping.direction", id="not-text"),
        pytest.param(GOOD | {"currency": "币种"}, "mapping", id="unknown-key"),
        pytest.param(GOOD | {"direction": None}, "mapping.direction", id="sign-as-direction"),
        pytest.param(
            GOOD | {"debit_amount": "支出金额"}, "mapping.debit_amount", id="both-layouts"
        ),
        pytest.param(
            {"booked_on": "D", "end_to_end_id": "E", "debit_amount": "支出金额"},
            "mapping.credit_amount",
            id="one-of-two-columns",
        ),
        pytest.param(
            GOOD | {"credit_values": ["贷", "借"]}, "mapping.credit_values", id="values-overlap"
        ),
        pytest.param(GOOD | {"header_row": 0}, "mapping.header_row", id="header-row"),
        pytest.param(GOOD | {"remarks": "附言"}, "mapping.remarks", id="remarks-not-a-list"),
        pytest.param(GOOD | {"amount": "D"}, "mapping", id="one-column-twice"),
    ],
)
def test_a_mapping_that_leaves_a_field_undecidable_is_refused(data: object, field: str) -> None:
    with pytest.raises(InvalidMapping) as caught:
        ColumnMapping.from_json(data)
    assert caught.value.details["field"] == field


def test_a_mapped_column_missing_from_the_header_is_refused() -> None:
    mapping = dataclasses.replace(MAPPING, bank_reference="交易流水号")
    error = refused("s.csv", CSV_SAMPLE.read_bytes(), mapping)
    assert error.details == {"where": "line 1", "column": "交易流水号"}
    assert (
        error.message == "line 1: column '交易流水号' (bank_reference) is missing from the header"
    )


def test_a_mapped_column_named_twice_in_the_header_is_refused() -> None:
    content = CSV_SAMPLE.read_bytes().replace("摘要".encode(), "金额".encode(), 1)
    assert refused("s.csv", content).details == {"where": "line 1", "column": "金额"}


@pytest.mark.parametrize(
    ("row", "column", "problem"),
    [
        pytest.param("2026-03-03,借,12.345,x,B1,,,R", "金额", "'12.345'", id="three-decimals"),
        pytest.param("2026-03-03,借,,x,B1,,,R", "金额", "''", id="empty-amount"),
        pytest.param("2026-03-03,贷,-5.00,x,B1,,,R", "金额", "negative", id="negative-credit"),
        pytest.param("2026-02-30,借,5.00,x,B1,,,R", "交易日期", "'2026-02-30'", id="no-such-day"),
        pytest.param("03/05/2026,借,5.00,x,B1,,,R", "交易日期", "'03/05/2026'", id="us-date"),
        pytest.param("2026-03-05,转,5.00,x,B1,,,R", "借贷标志", "'转'", id="direction"),
    ],
)
def test_a_bad_cell_is_refused_by_line_and_column(row: str, column: str, problem: str) -> None:
    content = csv_bytes("2026-03-03,借,100.00,x,B0,,,R0", "", row)
    error = refused("s.csv", content)
    assert error.details == {"where": "line 4", "column": column}
    assert error.message.startswith(f"line 4, column {column}: ")
    assert problem in error.message


def test_a_bad_xlsx_cell_is_refused_by_its_row() -> None:
    content = xlsx(
        [["Value date", "Paid out", "Paid in", "E2E"], [None], [date(2026, 3, 3), "abc", "", "B1"]]
    )
    assert refused("x.xlsx", content, TWO_COLUMNS).details == {
        "where": "line 3",
        "column": "Paid out",
    }


def test_what_is_not_a_table_is_refused() -> None:
    for name, content in (("s.xlsx", b"PK\x03\x04 not really"), ("s.txt", b"a,b\n")):
        with pytest.raises(InvalidTable) as caught:
            parse(name, content)
        assert caught.value.details["where"] == name
    assert refused("s.csv", b"").details["where"] == "line 1"
