"""Bank statements as CSV or XLSX exports (`voucher_app.settlement.statement_table`)."""

from __future__ import annotations

import codecs
import csv
import dataclasses
import io
import json
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from tests import bank_files
from tests.bank_files import BankLine, bank_csv
from voucher_app.domain.errors import InvalidMapping, InvalidStatement, InvalidTable, TooManyRows
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


# --- Chinese banks' exports ----------------------------------------------------------------------

ACCOUNT = "6216600000000000001"
#: Batch B7Q2K9MZ4: `B` and eight Crockford base-32 characters; its payments add -0001….
BATCH = "B7Q2K9MZ4"
BANK_TWO_COLUMNS = ColumnMapping.from_json(bank_files.TWO_COLUMNS)
BANK_DIRECTION = ColumnMapping.from_json(bank_files.DIRECTION_COLUMN)
DAY_LINES = [
    BankLine(f"{BATCH}-0001", 123_450, bank_reference="R1"),
    BankLine(f"{BATCH}-0002", 5_000, debit=False, bank_reference="R2"),
    BankLine(None, 800, bank_reference="FEE"),
]
#: What `parse_table` reads of DAY_LINES: (line, reference, fen, debit, bank reference).
DAY_READ = [
    ("line 5", f"{BATCH}-0001", 123_450, True, "R1"),
    ("line 6", f"{BATCH}-0002", 5_000, False, "R2"),
    ("line 7", None, 800, True, "FEE"),
]
#: Small layouts for one cell at a time: a 借/贷 column, or two amount columns.
DIRECTION = ColumnMapping(
    booked_on="交易日期", direction="借贷标志", amount="交易金额", remarks=("摘要", "附言")
)
DIRECTION_HEADER = ("交易日期", "借贷标志", "交易金额", "摘要", "附言")
TWO_AMOUNTS = ColumnMapping(
    booked_on="交易日期", debit_amount="支出金额", credit_amount="收入金额", remarks=("附言",)
)
TWO_AMOUNTS_HEADER = ("交易日期", "支出金额", "收入金额", "附言")


def full_width(text: str) -> str:
    """`text` as a Chinese input method types it: ASCII letters, digits and signs full-width."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def read_export(
    content: bytes, mapping: ColumnMapping, *, account: str | None = None, max_rows: int = 1_000
) -> Statement:
    return parse_table(
        "export.csv", content, mapping, statement_id="2026-12", account=account, max_rows=max_rows
    )


def export(*rows: Sequence[str], above: Sequence[str] = (f"账号：{ACCOUNT}",)) -> bytes:
    """Rows as a bank's GB18030 CSV export, below a line naming the account."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows([above, *rows])
    return out.getvalue().encode("gb18030")


def read_day(
    content: bytes, mapping: ColumnMapping = BANK_TWO_COLUMNS
) -> list[tuple[str, str | None, int, bool, str | None]]:
    """A `bank_csv` export of DAY_LINES as read, as DAY_READ shows it; the upload names no
    account, so the file must."""
    statement = read_export(content, mapping)
    assert statement.account == ACCOUNT
    return [
        (line.where, line.end_to_end_id, line.amount_fen, line.debit, line.bank_reference)
        for line in statement.lines
    ]


def one_line(
    row: Sequence[str],
    mapping: ColumnMapping = DIRECTION,
    header: Sequence[str] = DIRECTION_HEADER,
) -> StatementLine:
    (line,) = read_export(export(header, row), mapping).lines
    return line


def refused_line(
    row: Sequence[str],
    mapping: ColumnMapping = DIRECTION,
    header: Sequence[str] = DIRECTION_HEADER,
) -> InvalidStatement:
    with pytest.raises(InvalidStatement) as caught:
        read_export(export(header, row), mapping)
    return caught.value


@pytest.mark.parametrize("layout", ["two_columns", "direction"])
def test_lines_above_the_header_are_skipped_and_name_the_account(layout: str) -> None:
    content = bank_csv(ACCOUNT, DAY_LINES, layout=layout)
    assert content.decode("gb18030").startswith("中国工商银行 账户交易明细\r\n账号：")
    mapping = BANK_TWO_COLUMNS if layout == "two_columns" else BANK_DIRECTION
    assert read_day(content, mapping) == DAY_READ


@pytest.mark.parametrize(
    "above",
    [
        pytest.param([f"账号：{ACCOUNT}"], id="label-and-number"),
        pytest.param(["账号", ACCOUNT, "户名", "服务券专户"], id="number-in-the-next-cell"),
        pytest.param(["账号：", "", "6216 6000 0000 0000 001"], id="next-filled-cell-spaced"),
        pytest.param(["户名：服务券专户", f"账户：{ACCOUNT}"], id="second-cell"),
        pytest.param([f"Account No.: {ACCOUNT}"], id="english"),
        pytest.param([f"账号：{full_width(ACCOUNT)}"], id="full-width-digits"),
    ],
)
def test_the_account_is_read_as_banks_write_it_above_the_header(above: list[str]) -> None:
    content = export(TWO_AMOUNTS_HEADER, ("2026-12-07", "12.00", "", ""), above=above)
    assert read_export(content, TWO_AMOUNTS).account == ACCOUNT


def test_the_uploads_account_must_be_the_one_the_file_names() -> None:
    content = bank_csv(ACCOUNT, DAY_LINES)
    same = read_export(content, BANK_TWO_COLUMNS, account="6216 6000 0000 0000 001")
    assert same.account == ACCOUNT
    with pytest.raises(InvalidStatement) as caught:
        read_export(content, BANK_TWO_COLUMNS, account="6216600000000000002")
    assert caught.value.details == {"where": "account"}
    assert caught.value.message == (
        f"account: the upload says 6216600000000000002, the file says {ACCOUNT}"
    )


def test_the_mappings_account_must_be_the_one_the_file_names() -> None:
    mapping = dataclasses.replace(BANK_TWO_COLUMNS, account="6216600000000000002")
    with pytest.raises(InvalidStatement) as caught:
        read_export(bank_csv(ACCOUNT, DAY_LINES), mapping)
    assert caught.value.details == {"where": "account"}
    assert "the mapping says 6216600000000000002" in caught.value.message


def test_a_statement_whose_account_nobody_names_is_refused_naming_the_account() -> None:
    content = export(TWO_AMOUNTS_HEADER, ("2026-12-07", "12.00", "", ""), above=["账户交易明细"])
    with pytest.raises(InvalidStatement) as caught:
        read_export(content, TWO_AMOUNTS)
    assert caught.value.details == {"where": "account"}
    assert caught.value.message.startswith("account: name the account")
    assert read_export(content, TWO_AMOUNTS, account=ACCOUNT).account == ACCOUNT


def test_the_mappings_header_row_names_the_header_line() -> None:
    content = bank_csv(ACCOUNT, DAY_LINES)  # the header is line 4
    on_line_4 = dataclasses.replace(BANK_TWO_COLUMNS, header_row=4)
    assert [line.where for line in read_export(content, on_line_4).lines] == [
        "line 5", "line 6", "line 7",
    ]  # fmt: skip
    on_line_3 = dataclasses.replace(BANK_TWO_COLUMNS, header_row=3)  # the period line
    with pytest.raises(InvalidStatement) as caught:
        read_export(content, on_line_3)
    assert caught.value.details == {"where": "line 3", "column": "交易日期"}


@pytest.mark.parametrize("encoding", ["gb18030", "utf-8-sig", "utf-8"])
def test_an_export_reads_the_same_in_gb18030_and_utf8_with_or_without_a_bom(
    encoding: str,
) -> None:
    content = bank_csv(ACCOUNT, DAY_LINES, encoding=encoding)
    assert content.startswith(codecs.BOM_UTF8) == (encoding == "utf-8-sig")
    if encoding == "gb18030":
        with pytest.raises(UnicodeDecodeError):
            content.decode("utf-8")
    assert read_day(content) == DAY_READ


def test_a_bom_does_not_hide_an_account_on_the_first_line() -> None:
    text = f"账号：{ACCOUNT}\r\n交易日期,支出金额,收入金额,附言\r\n2026-12-07,12.00,,\r\n"
    content = codecs.BOM_UTF8 + text.encode()
    assert read_export(content, TWO_AMOUNTS).account == ACCOUNT


@pytest.mark.parametrize(
    ("amount", "fen"),
    [
        ("1,234.50", 123_450),
        (full_width("1,234.50"), 123_450),  # typed with a Chinese input method
        ("¥1,234.50", 123_450),
        ("￥1,234.50", 123_450),  # the full-width yuan sign
        ("1,234,567.8", 123_456_780),
        ("RMB 12.00", 1_200),
        ("CNY12.00", 1_200),
        ("12.00元", 1_200),
        ("12", 1_200),
    ],
)
def test_an_amount_is_read_as_banks_write_it(amount: str, fen: int) -> None:
    assert one_line(("2026-12-07", "借", amount, "", "")).amount_fen == fen


@pytest.mark.parametrize(
    "amount", ["12.345", "1,234.505", full_width("12.345"), "12,34.00", "1.234,50", "12.00美元", ""]
)
def test_an_amount_with_more_than_two_decimals_or_not_an_amount_is_refused(amount: str) -> None:
    error = refused_line(("2026-12-07", "借", amount, "", ""))
    assert error.details == {"where": "line 3", "column": "交易金额"}
    assert "is not an amount in yuan" in error.message


@pytest.mark.parametrize(
    "booked",
    [
        "2026-12-07",
        "2026/12/7",
        "20261207",
        "2026年12月07日",
        "2026年12月7日",
        "2026.12.07",
        "2026-12-07 10:11:12",
        "2026/12/7 9:05",
        "2026年12月07日 10:11:12",
        "2026-12-07T10:11:12",
        full_width("2026-12-07"),
    ],
)
def test_a_date_is_read_as_banks_write_it(booked: str) -> None:
    assert one_line((booked, "借", "12.00", "", "")).booked_on == date(2026, 12, 7)


@pytest.mark.parametrize(
    "booked", ["2026年02月30日", "2026-02-30 10:00", "12/07/2026", "2026-12-07 午后", "2026年12月"]
)
def test_a_date_that_is_not_a_day_is_refused(booked: str) -> None:
    error = refused_line((booked, "借", "12.00", "", ""))
    assert error.details == {"where": "line 3", "column": "交易日期"}
    assert f"{booked!r} is not a date" in error.message


@pytest.mark.parametrize(
    ("paid", "got", "fen", "debit"),
    [("1,234.50", "", 123_450, True), ("", "50.00", 5_000, False), ("-12.00", "", 1_200, True)],
)
def test_with_two_amount_columns_the_filled_one_says_the_direction(
    paid: str, got: str, fen: int, debit: bool
) -> None:
    line = one_line(("2026-12-07", paid, got, ""), TWO_AMOUNTS, TWO_AMOUNTS_HEADER)
    assert (line.amount_fen, line.debit) == (fen, debit)


@pytest.mark.parametrize(
    ("paid", "got", "column", "problem"),
    [
        ("12.00", "5.00", "收入金额", "both the debit and the credit column hold an amount"),
        ("", "", "支出金额", "neither the debit nor the credit column holds an amount"),
        ("0.00", "", "支出金额", "neither the debit nor the credit column holds an amount"),
        ("", "-5.00", "收入金额", "a negative amount in the credit column"),
    ],
)
def test_with_two_amount_columns_a_line_that_is_not_one_amount_is_refused(
    paid: str, got: str, column: str, problem: str
) -> None:
    error = refused_line(("2026-12-07", paid, got, ""), TWO_AMOUNTS, TWO_AMOUNTS_HEADER)
    assert error.details == {"where": "line 3", "column": column}
    assert error.message == f"line 3, column {column}: {problem}"


@pytest.mark.parametrize(
    ("flag", "debit"),
    [
        ("借", True), ("贷", False), ("支出", True), ("收入", False), ("付", True), ("收", False),
        ("D", True), ("C", False), ("dr", True), ("cr", False), ("DBIT", True), ("CRDT", False),
        ("Debit", True), ("credit", False), (full_width("D"), True), (" 贷 ", False),
    ],
)  # fmt: skip
def test_the_default_direction_values_are_those_banks_use(flag: str, debit: bool) -> None:
    assert one_line(("2026-12-07", flag, "12.00", "", "")).debit is debit


def test_configured_direction_values_replace_the_defaults() -> None:
    mapping = dataclasses.replace(DIRECTION, debit_values=("出",), credit_values=("入",))
    assert one_line(("2026-12-07", "出", "12.00", "", ""), mapping).debit is True
    assert one_line(("2026-12-07", "入", "12.00", "", ""), mapping).debit is False
    error = refused_line(("2026-12-07", "借", "12.00", "", ""), mapping)
    assert error.details == {"where": "line 3", "column": "借贷标志"}
    assert error.message == "line 3, column 借贷标志: '借' is not one of 出/入"


def test_a_negative_amount_on_a_credit_line_is_refused() -> None:
    error = refused_line(("2026-12-07", "贷", "-12.00", "", ""))
    assert error.details == {"where": "line 3", "column": "交易金额"}
    assert "a negative amount on a credit line" in error.message


@pytest.mark.parametrize(
    ("summary", "remark", "reference"),
    [
        ("代发", f"服务券兑付 {BATCH}-0001", f"{BATCH}-0001"),
        ("代发", f"服务券兑付{BATCH}-0001款", f"{BATCH}-0001"),  # no space around it
        (f"付{BATCH}-0001", "", f"{BATCH}-0001"),  # in the other remark column
        ("代发", "服务券兑付 " + full_width(f"{BATCH}-0001"), f"{BATCH}-0001"),  # full-width
        ("代发", f"{BATCH}-0001 重发 {BATCH}-0001", f"{BATCH}-0001"),  # the same one twice
        ("代发", f"{BATCH}-0001 及 {BATCH}-0002", None),  # which of the two?
        ("代发", f"X{BATCH}-0001", None),  # part of a longer code
        ("代发", "BILOU2345-0001", None),  # I, L, O and U are not Crockford characters
        ("代发", "账户管理费", None),
    ],
)
def test_the_payments_reference_is_found_in_a_remark(
    summary: str, remark: str, reference: str | None
) -> None:
    line = one_line(("2026-12-07", "借", "12.00", summary, remark))
    assert (line.end_to_end_id, line.batch_reference) == (reference, None)


def test_the_reference_is_found_in_a_purpose_column_among_three_remarks() -> None:
    """Banks name their free-text columns differently (摘要, 附言, 用途): a mapping lists
    them all, and the one that names the payment gives its reference."""
    mapping = dataclasses.replace(DIRECTION, remarks=("摘要", "附言", "用途"))
    header = (*DIRECTION_HEADER, "用途")
    row = ("2026-12-07", "借", "12.00", "代发", "", f"服务券兑付 {BATCH}-0002 某服务机构")
    line = one_line(row, mapping, header)
    assert (line.end_to_end_id, line.batch_reference) == (f"{BATCH}-0002", None)


def test_a_remark_naming_a_batch_without_an_item_number_names_the_batch() -> None:
    line = one_line(("2026-12-07", "借", "1,242.50", "批量代发", f"服务券批次 {BATCH}"))
    assert (line.end_to_end_id, line.batch_reference) == (None, BATCH)


def test_two_remark_columns_naming_two_payments_give_no_reference() -> None:
    line = one_line(("2026-12-07", "借", "12.00", f"付{BATCH}-0001", f"付{BATCH}-0002"))
    assert (line.end_to_end_id, line.batch_reference) == (None, None)


@pytest.mark.parametrize("label", ["合计", "总计", "本页合计", "本页小计", "累计", "Total"])
def test_a_totals_row_at_the_end_is_skipped(label: str) -> None:
    content = export(
        TWO_AMOUNTS_HEADER,
        ("2026-12-07", "12.00", "", f"{BATCH}-0001"),
        ("2026-12-07", "", "5.00", f"{BATCH}-0002"),
        (label, "12.00", "5.00"),
    )
    statement = read_export(content, TWO_AMOUNTS)
    assert [(line.where, line.amount_fen) for line in statement.lines] == [
        ("line 3", 1_200), ("line 4", 500),
    ]  # fmt: skip


def test_a_totals_row_labelled_in_a_first_column_that_is_not_the_date_is_skipped() -> None:
    content = export(
        ("序号", *TWO_AMOUNTS_HEADER),
        ("1", "2026-12-07", "12.00", "", f"{BATCH}-0001"),
        ("本页合计", "", "12.00", ""),
    )
    assert [line.where for line in read_export(content, TWO_AMOUNTS).lines] == ["line 3"]


def test_an_export_of_as_many_rows_as_the_limit_reads_and_one_more_is_refused() -> None:
    content = bank_csv(ACCOUNT, DAY_LINES)
    rows = len(content.decode("gb18030").splitlines())  # title, account, period, header, totals
    assert rows == len(DAY_LINES) + 5
    assert len(read_export(content, BANK_TWO_COLUMNS, max_rows=rows).lines) == len(DAY_LINES)
    with pytest.raises(TooManyRows) as caught:
        read_export(content, BANK_TWO_COLUMNS, max_rows=rows - 1)
    assert caught.value.details["limit"] == rows - 1
