"""Reading uploaded tables and writing safe ones (`voucher_app.tabular`).

Hostile XLSX files come from `tests.tables`; the biggest (three million rows in under 1 MB of
zip) is written once per session.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import tracemalloc
import zipfile
from collections import Counter
from collections.abc import Callable
from contextlib import closing
from datetime import date, datetime
from decimal import Decimal
from itertools import islice
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from tests.tables import (
    MAIN,
    SHEET_PART,
    bomb_shared_strings_xlsx,
    huge_xlsx,
    sheet_of,
    xlsx,
)
from voucher_app.domain.errors import InvalidTable, TooManyRows
from voucher_app.tabular import reading
from voucher_app.tabular.reading import (
    MAX_COLUMNS,
    MAX_LINE_CHARS,
    MAX_ROW_ELEMENTS,
    MAX_SHEET_ELEMENTS,
    Row,
    read_table,
)
from voucher_app.tabular.writing import (
    FORMULA_STARTS,
    Value,
    append_row,
    csv_bytes,
    inert,
    workbook_bytes,
)

DANGEROUS = ["=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠"]  # noqa: RUF001


def rows(filename: str, content: bytes, max_rows: int = 1000) -> list[Row]:
    return list(read_table(filename, content, max_rows=max_rows))


def saved(*table: list[Any]) -> bytes:
    """An XLSX file of `table`, as openpyxl writes it."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in table:
        sheet.append(row)
    return workbook_bytes(book)


def peak_growth(action: Callable[[], object]) -> int:
    """How far memory rose above where it was while `action` ran, in bytes."""
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        action()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


@pytest.fixture
def unpacked(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Bytes unpacked from each part of an XLSX package while a test reads it, by part name:
    what reading a file costs grows with these, so a bound on them bounds the work."""
    counts: Counter[str] = Counter()
    read = reading._WatchedStream.readinto

    def counted(stream: reading._WatchedStream, buffer: Any) -> int:
        got = read(stream, buffer)
        counts[stream._watch._part] += got
        return got

    monkeypatch.setattr(reading._WatchedStream, "readinto", counted)
    return counts


def refused(filename: str, content: bytes, max_rows: int = 50_000) -> Callable[[], None]:
    """Reading the whole table, expecting TooManyRows."""

    def read() -> None:
        with pytest.raises(TooManyRows):
            rows(filename, content, max_rows)

    return read


# CSV


def test_csv_in_utf8_without_bom() -> None:
    assert rows("a.csv", "名称,金额\r\n张三,1.50\r\n".encode()) == [
        (1, ("名称", "金额")),
        (2, ("张三", "1.50")),
    ]


def test_csv_in_utf8_with_bom_loses_the_bom() -> None:
    content = codecs.BOM_UTF8 + "uscc,名称\n91110000600037341L,甲\n".encode()
    assert rows("a.csv", content) == [(1, ("uscc", "名称")), (2, ("91110000600037341L", "甲"))]


def test_csv_in_gb18030() -> None:
    content = "交易日期,借贷标志,对方户名\r\n2026-03-01,借,广州某某科技有限公司\r\n".encode(
        "gb18030"
    )
    with pytest.raises(UnicodeDecodeError):
        content.decode("utf-8")
    assert rows("a.csv", content)[1] == (2, ("2026-03-01", "借", "广州某某科技有限公司"))


def test_csv_in_gb18030_loses_its_bom() -> None:
    content = codecs.encode("\ufeff名称\r\n张三\r\n", "gb18030")
    assert content.startswith(b"\x84\x31\x95\x33")
    assert rows("a.csv", content) == [(1, ("名称",)), (2, ("张三",))]


def test_csv_in_neither_encoding_is_refused() -> None:
    with pytest.raises(InvalidTable, match="neither UTF-8 nor GB18030") as refusal:
        rows("bank.csv", b"\xff\xfe\x00\x81 not text")
    assert refusal.value.code == "invalid_table"
    assert refusal.value.details["where"] == "bank.csv"


def test_csv_rows_are_named_by_the_line_they_start_on() -> None:
    content = b'a,b\r\n"two\r\nlines",x\r\nc,d\r\n\r\n"three\nmore\nlines",y\r\ne,f\r\n'
    assert [line for line, _ in rows("a.csv", content)] == [1, 2, 4, 5, 6, 9]


def test_csv_drops_trailing_empty_cells_and_keeps_blank_rows() -> None:
    assert rows("a.csv", b"a,b,,\r\n,,\r\n\r\n,c\r\n") == [
        (1, ("a", "b")),
        (2, ()),
        (3, ()),
        (4, ("", "c")),
    ]


def test_csv_error_is_refused_naming_its_line() -> None:
    content = b"a,b\r\nc,d\r\n" + b"x" * 200_000 + b",e\r\n"
    with pytest.raises(InvalidTable, match=r"a\.csv, line 3: not CSV") as refusal:
        rows("a.csv", content)
    assert refusal.value.details["where"] == "line 3"


def test_csv_line_too_long_to_hold_is_refused_naming_it() -> None:
    content = b"a,b\r\n" + b"x," * MAX_LINE_CHARS + b"\r\n"
    with pytest.raises(InvalidTable, match="line 2: longer than") as refusal:
        rows("a.csv", content)
    assert refusal.value.details["where"] == "line 2"


@pytest.mark.parametrize("filename", ["a.xls", "a.txt", "a", "a.csv.zip"])
def test_other_files_are_refused(filename: str) -> None:
    with pytest.raises(InvalidTable, match=r"a table is a \.csv or \.xlsx file"):
        rows(filename, b"a,b\r\n")


def test_suffix_is_case_insensitive() -> None:
    assert rows("A.CSV", b"a\r\n") == [(1, ("a",))]
    assert rows("A.XLSX", saved(["a"])) == [(1, ("a",))]


# XLSX


def test_xlsx_cells_keep_their_types() -> None:
    at = datetime(2026, 3, 1, 9, 30)  # noqa: DTZ001 - cells are naive
    content = saved(
        ["uscc", "count", "share", "booked", "at"],
        ["91110000600037341L", 12, 1.5, date(2026, 3, 1), at],
    )
    [(_, header), (line, cells)] = rows("a.xlsx", content)
    assert header == ("uscc", "count", "share", "booked", "at")
    assert line == 2
    assert cells == ("91110000600037341L", 12, 1.5, at.replace(hour=0, minute=0), at)
    assert [type(cell) for cell in cells] == [str, int, float, datetime, datetime]


def test_xlsx_rows_are_numbered_as_in_the_sheet_blank_ones_included() -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet["A1"], sheet["B3"], sheet["A5"] = "header", "x", ""
    assert rows("a.xlsx", workbook_bytes(book)) == [
        (1, ("header",)),
        (2, ()),
        (3, (None, "x")),
        (4, ()),
        (5, ()),
    ]


def test_xlsx_rows_past_a_wrong_dimension_are_read(tmp_path: Path) -> None:
    sheet = sheet_of(
        b"<row><c><v>1</v></c></row>",
        5,
        head='<dimension ref="A1:A2"/><sheetData>',
        tail="</sheetData>",
    )
    content = xlsx(tmp_path / "a.xlsx", sheet).read_bytes()
    assert rows("a.xlsx", content) == [(line, (1,)) for line in range(1, 6)]


def test_an_xlsx_row_as_wide_as_the_column_cap_reads_and_a_cell_beyond_it_is_refused() -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.cell(1, 1, "first")
    sheet.cell(1, MAX_COLUMNS, "last")
    [(_, cells)] = rows("a.xlsx", workbook_bytes(book))
    assert len(cells) == MAX_COLUMNS
    assert (cells[0], cells[-1]) == ("first", "last")
    sheet.cell(2, MAX_COLUMNS + 1, "too far")
    with pytest.raises(InvalidTable, match=f"right of column {MAX_COLUMNS}"):
        rows("a.xlsx", workbook_bytes(book))


def test_not_a_zip_is_refused() -> None:
    with pytest.raises(InvalidTable, match="not an XLSX file") as refusal:
        rows("a.xlsx", b"uscc\r\n91110000600037341L\r\n")
    assert refusal.value.details["where"] == "a.xlsx"


def test_a_zip_that_is_not_xlsx_is_refused() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        package.writestr("readme.txt", "hello")
    with pytest.raises(InvalidTable, match="not a readable XLSX file"):
        rows("a.xlsx", out.getvalue())


@pytest.fixture(scope="session")
def shared_strings_bomb(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return bomb_shared_strings_xlsx(tmp_path_factory.mktemp("tables") / "bomb.xlsx").read_bytes()


def test_shared_strings_bomb_is_small(shared_strings_bomb: bytes) -> None:
    assert len(shared_strings_bomb) < 1_000_000
    with zipfile.ZipFile(io.BytesIO(shared_strings_bomb)) as package:
        assert package.getinfo("xl/sharedStrings.xml").file_size > 190_000_000


def test_shared_strings_bomb_is_refused_before_loading_it(shared_strings_bomb: bytes) -> None:
    with pytest.raises(InvalidTable, match=r"xl/sharedStrings\.xml unpacks to") as refusal:
        rows("bomb.xlsx", shared_strings_bomb)
    assert refusal.value.details["where"] == "xl/sharedStrings.xml"


def test_shared_strings_bomb_is_refused_unread_in_little_memory(
    shared_strings_bomb: bytes, unpacked: Counter[str]
) -> None:
    def read() -> None:
        with pytest.raises(InvalidTable):
            rows("bomb.xlsx", shared_strings_bomb)

    assert peak_growth(read) < 5_000_000
    assert unpacked["xl/sharedStrings.xml"] == 0  # refused from its declared size


def test_parts_that_are_large_together_are_refused() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        for number in range(5):
            with package.open(f"xl/media/image{number}.png", "w") as part:
                for _ in range(15):
                    part.write(bytes(1_000_000))
    with pytest.raises(InvalidTable, match="parts other than worksheets unpack to") as refusal:
        rows("a.xlsx", out.getvalue())
    assert refusal.value.details["where"] == "a.xlsx"


def test_shared_strings_named_like_a_worksheet_are_refused_as_they_are_read(
    tmp_path: Path,
) -> None:
    text = b"<si><t>" + b"x" * 1000 + b"</t></si>"
    strings = [f'<sst xmlns="{MAIN}">'.encode(), *[text] * 20_000, b"</sst>"]  # 20 MB
    content = xlsx(
        tmp_path / "a.xlsx",
        sheet_of(b'<row><c t="s"><v>0</v></c></row>', 1, head="<sheetData>", tail="</sheetData>"),
        shared_strings=strings,
        strings_part="xl/worksheets/strings.xml",
    ).read_bytes()
    with pytest.raises(InvalidTable, match="bytes outside rows") as refusal:
        rows("a.xlsx", content)
    assert refusal.value.details["where"] == "xl/worksheets/strings.xml"


@pytest.mark.parametrize(
    ("element", "head", "tail", "refusal"),
    [
        pytest.param(
            b"<c/>",
            "<sheetData><row>",
            "</row></sheetData>",
            f"right of column {MAX_COLUMNS}",
            id="cells",
        ),
        pytest.param(
            b"<r><t>x</t></r>",
            '<sheetData><row><c t="inlineStr"><is>',
            "</is></c></row></sheetData>",
            f"holds more than {MAX_ROW_ELEMENTS}",
            id="elements-in-one-cell",
        ),
    ],
)
def test_a_row_of_millions_of_elements_is_refused_in_little_memory(
    tmp_path: Path, element: bytes, head: str, tail: str, refusal: str
) -> None:
    content = xlsx(tmp_path / "a.xlsx", sheet_of(element, 2_000_000, head=head, tail=tail))
    assert content.stat().st_size < 100_000

    def read() -> None:
        with pytest.raises(InvalidTable, match=refusal):
            rows("a.xlsx", content.read_bytes())

    assert peak_growth(read) < 20_000_000


def test_a_cell_of_a_hundred_megabytes_is_refused(tmp_path: Path) -> None:
    content = xlsx(
        tmp_path / "a.xlsx",
        sheet_of(
            b"x" * 1000,
            100_000,
            head='<sheetData><row><c t="inlineStr"><is><t>',
            tail="</t></is></c></row></sheetData>",
        ),
    ).read_bytes()
    with pytest.raises(InvalidTable, match="row element 1 is over"):
        rows("a.xlsx", content)


def test_rows_that_openpyxl_would_skip_still_count(tmp_path: Path) -> None:
    # Every row claims to be row 1: openpyxl returns the first and skips the rest, but reads
    # (and keeps the shell of) each.
    content = xlsx(
        tmp_path / "a.xlsx",
        sheet_of(
            b'<row r="1"><c><v>1</v></c></row>', 1001, head="<sheetData>", tail="</sheetData>"
        ),
    ).read_bytes()
    with pytest.raises(TooManyRows):
        rows("a.xlsx", content, max_rows=1000)


def test_elements_that_are_not_rows_are_capped(tmp_path: Path) -> None:
    content = xlsx(
        tmp_path / "a.xlsx",
        sheet_of(b"<x/>", MAX_SHEET_ELEMENTS + 1, head="<sheetData>", tail="</sheetData>"),
    ).read_bytes()
    with pytest.raises(InvalidTable, match="XML elements outside rows") as refusal:
        rows("a.xlsx", content)
    assert refusal.value.details["where"] == SHEET_PART


def test_a_part_with_a_dtd_is_refused(tmp_path: Path) -> None:
    sheet = (
        b'<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaa">]>',
        f'<worksheet xmlns="{MAIN}"><sheetData><row><c t="inlineStr"><is><t>&a;</t></is>'
        "</c></row></sheetData></worksheet>".encode(),
    )
    content = xlsx(tmp_path / "a.xlsx", sheet).read_bytes()
    with pytest.raises(InvalidTable, match="declares a DTD"):
        rows("a.xlsx", content)


def test_broken_sheet_xml_is_refused(tmp_path: Path) -> None:
    sheet = sheet_of(b"<row><c><v>1</v></c></row>", 3, head="<sheetData>", tail="</sheetData")
    content = xlsx(tmp_path / "a.xlsx", sheet).read_bytes()
    with pytest.raises(InvalidTable, match="not a readable XLSX file"):
        rows("a.xlsx", content)


@pytest.fixture
def workbook_closes(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The workbooks closed, as the reader closes them."""
    closed: list[object] = []
    close = Workbook.close

    def recording_close(book: object) -> None:
        closed.append(book)
        close(book)

    monkeypatch.setattr(Workbook, "close", recording_close)
    return closed


def test_workbook_is_closed_when_reading_stops_early(workbook_closes: list[object]) -> None:
    table = read_table("a.xlsx", saved(["a"], ["b"], ["c"]), max_rows=10)
    assert next(table) == (1, ("a",))
    assert not workbook_closes
    table.close()
    assert len(workbook_closes) == 1


def test_workbook_is_closed_when_the_rows_run_out(workbook_closes: list[object]) -> None:
    rows("a.xlsx", saved(["a"], ["b"]))
    assert len(workbook_closes) == 1


def test_workbook_is_closed_when_refused_while_reading(workbook_closes: list[object]) -> None:
    content = saved(*([n] for n in range(5000)))
    read: list[Row] = []
    with pytest.raises(TooManyRows):
        read.extend(read_table("a.xlsx", content, max_rows=3000))
    assert read  # refused while reading rows, not while opening the workbook
    assert len(workbook_closes) == 1


# The row limit


@pytest.mark.parametrize("filename", ["a.csv", "a.xlsx"])
def test_a_table_of_the_limit_is_read(filename: str) -> None:
    table = [["uscc"], *([str(n)] for n in range(9))]
    content = saved(*table) if filename.endswith("xlsx") else csv_bytes(["uscc"], table[1:])
    assert len(rows(filename, content, max_rows=10)) == 10


@pytest.mark.parametrize("filename", ["a.csv", "a.xlsx"])
def test_a_table_past_the_limit_is_refused(filename: str) -> None:
    table = [["uscc"], *([str(n)] for n in range(10))]
    content = saved(*table) if filename.endswith("xlsx") else csv_bytes(["uscc"], table[1:])
    with pytest.raises(TooManyRows, match=f"{filename}: more than 10 rows") as refusal:
        rows(filename, content, max_rows=10)
    assert refusal.value.code == "too_many_rows"
    assert refusal.value.details == {"limit": 10, "where": filename}


def test_blank_rows_count_against_the_limit() -> None:
    with pytest.raises(TooManyRows):
        rows("a.csv", b"uscc\r\n\r\n\r\n\r\n", max_rows=3)


def test_reading_stops_at_the_row_past_the_limit() -> None:
    # Line 12 would be refused as not CSV if it were read.
    content = b"".join(b"%d\r\n" % n for n in range(1, 12)) + b"x" * 200_000 + b"\r\n"
    with pytest.raises(InvalidTable, match="not CSV"):
        rows("a.csv", content, max_rows=100)
    read = read_table("a.csv", content, max_rows=10)
    assert len(list(islice(read, 10))) == 10
    with pytest.raises(TooManyRows):
        next(read)


@pytest.fixture(scope="session")
def huge(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Three million rows, without and with a dimension claiming the whole sheet."""
    folder = tmp_path_factory.mktemp("tables")
    return {
        "undeclared": huge_xlsx(folder / "huge.xlsx"),
        "declared": huge_xlsx(folder / "declared.xlsx", dimension="A1:XFD3000000"),
    }


@pytest.mark.parametrize("kind", ["undeclared", "declared"])
def test_huge_sheet_is_under_a_megabyte(huge: dict[str, Path], kind: str) -> None:
    assert huge[kind].stat().st_size < 1_000_000


def test_huge_sheet_is_readable_by_openpyxl(huge: dict[str, Path]) -> None:
    # Only the declared one: with no dimension, openpyxl reads the whole sheet to open it.
    book = load_workbook(huge["declared"], read_only=True)
    try:
        first = list(islice(book.active.iter_rows(max_col=1, values_only=True), 10))
    finally:
        book.close()
    assert first == [("uscc",), *[(1,)] * 9]


def test_huge_sheet_with_a_dimension_starts_as_expected(huge: dict[str, Path]) -> None:
    content = huge["declared"].read_bytes()
    with closing(read_table("huge.xlsx", content, max_rows=50_000)) as table:
        first = list(islice(table, 3))
    assert first == [(1, ("uscc",)), (2, (1,)), (3, (1,))]


def test_huge_sheet_without_a_dimension_is_refused_before_its_first_row(
    huge: dict[str, Path],
) -> None:
    # To open a sheet that does not declare its size, openpyxl reads all of it.
    with pytest.raises(TooManyRows):
        next(read_table("huge.xlsx", huge["undeclared"].read_bytes(), max_rows=50_000))


@pytest.mark.parametrize("kind", ["undeclared", "declared"])
def test_huge_sheet_is_refused_at_the_row_past_the_limit(
    huge: dict[str, Path], kind: str, unpacked: Counter[str]
) -> None:
    content = huge[kind].read_bytes()
    refused("huge.xlsx", content, max_rows=50_000)()
    with zipfile.ZipFile(io.BytesIO(content)) as package:
        sheet = package.read(SHEET_PART)
    # Where the row past the limit ends: the header row, 50,000 rows, then one more.
    past_limit = sheet.index(b"</row>", _nth(sheet, b"<row>", 50_002)) + len(b"</row>")
    assert unpacked[SHEET_PART] > 0
    # No further than that row and two buffers of read-ahead: 1.4 of the sheet's 78 MB.
    assert unpacked[SHEET_PART] <= past_limit + 2 * reading._CHUNK
    assert unpacked[SHEET_PART] < len(sheet) // 20


def _nth(data: bytes, part: bytes, n: int) -> int:
    """Where the `n`th (from 1) occurrence of `part` in `data` starts."""
    at = -1
    for _ in range(n):
        at = data.index(part, at + 1)
    return at


@pytest.mark.parametrize("kind", ["undeclared", "declared"])
def test_huge_sheet_is_refused_in_under_50_mb(huge: dict[str, Path], kind: str) -> None:
    assert peak_growth(refused("huge.xlsx", huge[kind].read_bytes())) < 50_000_000


# Writing


def csv_cells(content: bytes, encoding: str = "utf-8-sig") -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode(encoding), newline="")))


@pytest.mark.parametrize("start", DANGEROUS)
def test_text_that_starts_like_a_formula_is_quoted(start: str) -> None:
    text = f'{start}HYPERLINK("http://x","y")'
    [header, [cell]] = csv_cells(csv_bytes([text], [[text]]))
    assert header == [f"'{text}"]
    assert cell == f"'{text}"


def test_the_dangerous_starts_are_the_owasp_ones_and_their_full_width_forms() -> None:
    assert set(DANGEROUS) == FORMULA_STARTS


@pytest.mark.parametrize("text", ["张三", "a=b", "1+1", "'quoted", "", " =1", "(+86) 20"])
def test_other_text_is_written_as_it_is(text: str) -> None:
    assert inert(text) == text
    assert csv_cells(csv_bytes(["name"], [[text]]))[1] == [text]


def test_amounts_passed_as_decimal_stay_numbers() -> None:
    content = csv_bytes(["amount", "as text"], [[Decimal("-12.50"), "-12.50"]])
    assert content.endswith(b"\r\n-12.50,'-12.50\r\n")


def test_numbers_dates_and_nothing() -> None:
    content = csv_bytes(
        ["a", "b", "c", "d", "e"], [[7, Decimal("1E+2"), date(2026, 3, 1), None, -3]]
    )
    assert csv_cells(content)[1] == ["7", "100", "2026-03-01", "", "-3"]


def test_csv_starts_with_a_bom_by_default() -> None:
    content = csv_bytes(["名称"], [["张三"]])
    assert content.startswith(codecs.BOM_UTF8)
    assert content.decode("utf-8-sig") == "名称\r\n张三\r\n"


def test_csv_in_gb18030_round_trips_chinese_text() -> None:
    table: list[list[Value]] = [["6222020200112233445", "广州某某科技有限公司", Decimal("1234.50")]]
    content = csv_bytes(["收款人账号", "收款人户名", "金额"], table, encoding="gb18030")
    assert not content.startswith(codecs.BOM_UTF8)
    assert csv_cells(content, "gb18030") == [
        ["收款人账号", "收款人户名", "金额"],
        ["6222020200112233445", "广州某某科技有限公司", "1234.50"],
    ]


def test_newline_is_a_parameter() -> None:
    assert csv_bytes(["a"], [["b"]], newline="\n") == codecs.BOM_UTF8 + b"a\nb\n"


@given(st.text())
def test_any_text_reads_back_inert_and_never_starts_a_formula(text: str) -> None:
    [header, row] = csv_cells(csv_bytes([text], [[text]]))
    assert header == row == [inert(text)]
    assert row[0][:1] not in FORMULA_STARTS


def test_written_csv_reads_back_through_read_table() -> None:
    content = csv_bytes(["name", "amount"], [["=2+2", Decimal("-1.50")]])
    assert rows("a.csv", content) == [(1, ("name", "amount")), (2, ("'=2+2", "-1.50"))]


FORMULAS = ['=HYPERLINK("http://x","y")', "=2+2"]


@pytest.fixture
def written_xlsx() -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    append_row(sheet, ["text", "amount", "note"])
    for formula in FORMULAS:
        append_row(sheet, [formula, Decimal("-12.50"), "#N/A"], number_format="0.00")
    return workbook_bytes(book)


def test_xlsx_text_is_never_a_formula(written_xlsx: bytes) -> None:
    book = load_workbook(io.BytesIO(written_xlsx))
    sheet = book.active
    assert sheet is not None
    for row, formula in enumerate(FORMULAS, start=2):
        cell = sheet.cell(row, 1)
        assert (cell.value, cell.data_type) == (formula, "s")
        assert cell.quotePrefix
        note = sheet.cell(row, 3)
        assert (note.value, note.data_type) == ("#N/A", "s")
    assert sheet.cell(1, 1).quotePrefix is False
    book.close()


def test_xlsx_sheet_holds_no_formula_element(written_xlsx: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(written_xlsx)) as package:
        sheet = package.read("xl/worksheets/sheet1.xml").decode()
    assert re.search(r"<f[\s>/]", sheet) is None
    assert "=2+2" in sheet


def test_xlsx_numbers_are_numbers_in_the_format_given(written_xlsx: bytes) -> None:
    book = load_workbook(io.BytesIO(written_xlsx))
    sheet = book.active
    assert sheet is not None
    amount = sheet.cell(2, 2)
    assert (amount.value, amount.data_type, amount.number_format) == (-12.5, "n", "0.00")
    book.close()


def test_written_xlsx_reads_back_through_read_table(written_xlsx: bytes) -> None:
    assert rows("a.xlsx", written_xlsx)[1] == (2, (FORMULAS[0], -12.5, "#N/A"))
