"""Bank statements as CSV or XLSX exports, read through a center's saved column mapping.

Many county banks in Guangdong offer online banking exports rather than camt.053, each with
its own headers (交易日期, 借贷标志, 金额 …). A center maps its bank's headers once
(`ColumnMapping`, saved as JSON) and every export then reads into the same `Statement` that
`camt053` produces, so reconciliation does not care where a line came from. As with camt.053,
reading is all or nothing: the first bad cell raises `InvalidStatement` naming its line and
column, as the user sees them in the file (the header is line 1).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime
from pathlib import PurePath

from openpyxl import load_workbook

from voucher_app.domain.errors import InvalidAmount, InvalidInput, InvalidStatement
from voucher_app.domain.money import parse_yuan
from voucher_app.settlement.camt053 import CURRENCY, NOT_PROVIDED, Statement, StatementLine

DEBIT_VALUES = frozenset({"借", "D", "DR", "DBIT", "DEBIT"})
CREDIT_VALUES = frozenset({"贷", "C", "CR", "CRDT", "CREDIT"})

_DATE = re.compile(
    r"(?P<y>[0-9]{4})(?P<sep>[-/]?)(?P<m>[0-9]{1,2})(?P=sep)(?P<d>[0-9]{1,2})"
    r"(?:[ T][0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?)?"  # a time some exports append
)

#: A row as read: CSV gives text, XLSX also numbers and dates.
Cell = str | int | float | date | None


@dataclass(frozen=True, slots=True)
class ColumnMapping:
    """Which header of a bank's export holds each field of a statement line."""

    end_to_end_id: str
    amount: str  # yuan; its sign gives the direction when `direction` is None
    booked_on: str
    direction: str | None = None  # 借/贷, D/C or DBIT/CRDT
    returned: str | None = None  # non-empty marks a returned payment; the text is the reason
    bank_reference: str | None = None

    def to_json(self) -> dict[str, str | None]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: object) -> ColumnMapping:
        """A mapping saved by `to_json`; refuses unknown keys and columns that are not text."""
        if not isinstance(data, dict):
            raise InvalidInput("a column mapping is a JSON object", field="mapping")
        if unknown := sorted(str(key) for key in data if key not in _FIELDS):
            raise InvalidInput(f"unknown mapping keys: {', '.join(unknown)}", field="mapping")
        return cls(
            end_to_end_id=_required(data, "end_to_end_id"),
            amount=_required(data, "amount"),
            booked_on=_required(data, "booked_on"),
            direction=_optional(data, "direction"),
            returned=_optional(data, "returned"),
            bank_reference=_optional(data, "bank_reference"),
        )


_FIELDS = frozenset(field.name for field in fields(ColumnMapping))


def _optional(data: dict[object, object], name: str) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(
            f"mapping.{name} must name a column of the file (or be null)", field=f"mapping.{name}"
        )
    return value.strip()


def _required(data: dict[object, object], name: str) -> str:
    value = _optional(data, name)
    if value is None:
        raise InvalidInput(
            f"mapping.{name} must name a column of the file", field=f"mapping.{name}"
        )
    return value


def parse_table(
    filename: str, content: bytes, mapping: ColumnMapping, *, statement_id: str, account: str
) -> Statement:
    """The lines of a CSV (UTF-8 or GB18030) or XLSX statement export, in file order."""
    rows = iter(_read_rows(filename, content))
    _, header = next(rows, (1, []))
    columns = _locate(mapping, header)
    lines = []
    for number, row in rows:
        if all(_text(cell) == "" for cell in row):
            continue
        lines.append(_line(f"line {number}", row, mapping, columns))
    return Statement(statement_id, account, CURRENCY, tuple(lines))


def _read_rows(filename: str, content: bytes) -> list[tuple[int, Sequence[Cell]]]:
    """Each row with its line number as the user sees it (the header is line 1)."""
    suffix = PurePath(filename).suffix.lower()
    if suffix == ".csv":
        return list(_csv_rows(_decode(filename, content)))
    if suffix == ".xlsx":
        try:
            workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a file that is not XLSX
            raise InvalidStatement(
                f"{filename}: not a readable XLSX file: {exc}", where=filename
            ) from None
        try:
            return list(enumerate(workbook.active.iter_rows(values_only=True), start=1))
        finally:
            workbook.close()
    raise InvalidStatement(f"{filename}: a statement table is a .csv or .xlsx file", where=filename)


def _decode(filename: str, content: bytes) -> str:
    # Chinese online banking exports are UTF-8 (often with a BOM) or GB18030 (GBK's superset);
    # bytes that are not valid UTF-8 are almost never meant as UTF-8.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InvalidStatement(f"{filename}: neither UTF-8 nor GB18030 text", where=filename)


def _csv_rows(text: str) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    start = 1
    try:
        for row in reader:
            yield start, row  # a quoted cell may span lines: a row is named by its first
            start = reader.line_num + 1
    except csv.Error as exc:
        where = f"line {reader.line_num}"
        raise InvalidStatement(f"{where}: not CSV: {exc}", where=where) from None


def _locate(mapping: ColumnMapping, header: Sequence[Cell]) -> dict[str, int]:
    """The index of each mapped column in the header."""
    names = [_text(cell) for cell in header]
    columns = {}
    for field, name in mapping.to_json().items():
        if name is None:
            continue
        if names.count(name) != 1:
            problem = "is missing from" if name not in names else "appears twice in"
            raise InvalidStatement(
                f"line 1: column {name!r} ({field}) {problem} the header",
                where="line 1",
                column=name,
            )
        columns[field] = names.index(name)
    return columns


def _line(
    where: str, row: Sequence[Cell], mapping: ColumnMapping, columns: dict[str, int]
) -> StatementLine:
    def cell(field: str) -> Cell:
        index = columns.get(field)
        return row[index] if index is not None and index < len(row) else None

    def refuse(field: str, problem: str) -> InvalidStatement:
        column = getattr(mapping, field)
        return InvalidStatement(f"{where}, column {column}: {problem}", where=where, column=column)

    text = _text(cell("amount"))
    negative = text.startswith("-")
    try:
        amount_fen = parse_yuan(text.removeprefix("-").removeprefix("+").replace("￥", "¥"))
    except InvalidAmount:
        raise refuse("amount", f"{text!r} is not an amount in yuan") from None
    if mapping.direction is None:
        debit = negative
    else:
        flag = _text(cell("direction")).upper()
        if flag not in DEBIT_VALUES | CREDIT_VALUES:
            raise refuse("direction", f"{flag!r} is not 借/贷, D/C or DBIT/CRDT")
        debit = flag in DEBIT_VALUES
        if negative and not debit:
            raise refuse("amount", f"{text!r} is negative on a credit line")
    end_to_end_id = _text(cell("end_to_end_id"))
    reason = _text(cell("returned"))
    return StatementLine(
        where=where,
        end_to_end_id=end_to_end_id if end_to_end_id not in {"", NOT_PROVIDED} else None,
        amount_fen=amount_fen,
        debit=debit,
        booked_on=_date(cell("booked_on"), lambda problem: refuse("booked_on", problem)),
        returned=bool(reason),
        return_reason=reason or None,
        bank_reference=_text(cell("bank_reference")) or None,
    )


def _date(value: Cell, refuse: Callable[[str], InvalidStatement]) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    match = _DATE.fullmatch(text)
    if match is not None and (match["sep"] or len(match["m"]) == len(match["d"]) == 2):
        try:
            return date(int(match["y"]), int(match["m"]), int(match["d"]))
        except ValueError:
            pass
    raise refuse(f"{text!r} is not a date (YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD)")


def _text(value: Cell) -> str:
    """A cell as the text a person reads in it."""
    if value is None:
        return ""
    if isinstance(value, float):
        # Spreadsheets keep numbers as binary floats; their shortest repr is what Excel shows
        # ("1234.5"), and reading it as text keeps floats out of the amounts.
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value).strip()
