"""CSV and XLSX files the service writes, safe to open in a spreadsheet.

Reports and payment sheets carry text that others chose: provider and SME names, account
holders, remittance notes. Excel, WPS and LibreOffice run a CSV cell that starts like a formula
(`=HYPERLINK(...)`, `+cmd|...`, `-2+3`, `@SUM(...)`), and some locales also take the full-width
forms of those signs. So, following OWASP's advice on CSV injection, every text cell written
here that starts with one of them gets a leading apostrophe, which spreadsheets read as "this is
text" (`inert`). XLSX has real cell types, so there the text is kept as it is and stored as a
text cell, never a formula (`append_row`).

Amounts are passed as `Decimal` (or `int`), never as text: numbers are written as numbers, so
"-12.50" stays a negative number a spreadsheet can add up, where the text "-12.50" would be
quoted like any other text that starts with a minus sign.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from openpyxl.cell.cell import Cell

#: What a cell written here holds.
Value = str | int | Decimal | date | None

#: The first characters a spreadsheet may take as the start of a formula.
FORMULA_STARTS = frozenset(
    "=+-@\t\r"
    "\N{FULLWIDTH EQUALS SIGN}\N{FULLWIDTH PLUS SIGN}"
    "\N{FULLWIDTH HYPHEN-MINUS}\N{FULLWIDTH COMMERCIAL AT}"
)


def inert(text: str) -> str:
    """`text` as a spreadsheet shows it without running it: quoted if it starts like a
    formula."""
    return f"'{text}" if text[:1] in FORMULA_STARTS else text


def csv_bytes(
    header: Sequence[str],
    rows: Iterable[Sequence[Value]],
    *,
    encoding: str = "utf-8-sig",
    newline: str = "\r\n",
) -> bytes:
    """A CSV file: text made `inert`, numbers as numbers, dates as ISO dates, None empty.

    UTF-8 with a BOM (the default) is what Excel and WPS in China open without mojibake;
    Chinese banks' bulk-transfer uploads want "gb18030".
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=newline)
    writer.writerow([inert(name) for name in header])
    writer.writerows([_csv_cell(value) for value in row] for row in rows)
    return out.getvalue().encode(encoding)


def _csv_cell(value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return inert(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")  # never an exponent: 1E+2 is written 100
    return str(value)


def append_row(sheet: Any, values: Sequence[Value], *, number_format: str | None = None) -> None:
    """Appends `values` to an openpyxl worksheet: every text as a text cell, never a formula
    or an error value; `number_format` (when given) on its numbers.

    The text is stored as it is, without an apostrophe; one a spreadsheet would run also gets
    Excel's quote-prefix style, so that it stays text even after someone edits the cell.
    """
    sheet.append([_xlsx_cell(sheet, value, number_format) for value in values])


def _xlsx_cell(sheet: Any, value: Value, number_format: str | None) -> Any:
    cell = Cell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # openpyxl made "=…" a formula and "#N/A" an error value
        if value[:1] in FORMULA_STARTS:
            cell.quotePrefix = True
    elif isinstance(value, int | Decimal) and number_format is not None:
        cell.number_format = number_format
    return cell


def workbook_bytes(book: Any) -> bytes:
    """An openpyxl workbook as the bytes of its XLSX file."""
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
