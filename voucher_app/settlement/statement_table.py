"""Bank statements as CSV or XLSX exports, read through a center's saved column mapping.

Many banks in Guangdong offer online-banking exports rather than camt.053, each with its own
layout: title and account lines above the header, 借/贷 in a column or two amount columns
(支出金额 / 收入金额), amounts with thousands separators or full-width digits, dates written
`2026年12月07日` or `20261207`, the payment reference inside a free-text remark (附言, 摘要,
用途), totals rows at the end. A center maps its bank's headers once (`ColumnMapping`, saved
as JSON) and every export then reads into the same `Statement` that `camt053` produces, so
reconciliation does not care where a line came from.

The direction of a line is data — a 借/贷 column or the amount column it is in — never the sign
of a number, and a mapping that leaves it undecidable is refused when it is saved. Reading is all
or nothing: the first bad cell raises `InvalidStatement` naming its line and column as the user
sees them in the file. Rows are streamed and the row limit is checked as they are read.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from voucher_app.domain.bank import check_account_number, normalize_account_number
from voucher_app.domain.errors import (
    InvalidAmount,
    InvalidBankDetails,
    InvalidMapping,
    InvalidStatement,
)
from voucher_app.domain.money import parse_yuan
from voucher_app.domain.payments import find_reference, is_batch_reference
from voucher_app.settlement.camt053 import CURRENCY, NOT_PROVIDED, Statement, StatementLine
from voucher_app.tabular.reading import Cell, read_table

DEBIT_VALUES = ("借", "D", "DR", "DBIT", "DEBIT", "支出", "付", "出")
CREDIT_VALUES = ("贷", "C", "CR", "CRDT", "CREDIT", "收入", "收", "入")
#: A first cell that starts a totals row at the end of an export, not a bank line.
SUMMARY_PREFIXES = ("合计", "总计", "小计", "本页", "累计", "TOTAL")
#: How far down a header is looked for when the mapping does not say which line it is.
HEADER_SEARCH_ROWS = 30

_DATE_FORMS = (
    re.compile(r"(?P<y>[0-9]{4})-(?P<m>[0-9]{1,2})-(?P<d>[0-9]{1,2})"),
    re.compile(r"(?P<y>[0-9]{4})/(?P<m>[0-9]{1,2})/(?P<d>[0-9]{1,2})"),
    re.compile(r"(?P<y>[0-9]{4})\.(?P<m>[0-9]{1,2})\.(?P<d>[0-9]{1,2})"),
    re.compile(r"(?P<y>[0-9]{4})年(?P<m>[0-9]{1,2})月(?P<d>[0-9]{1,2})日?"),
    re.compile(r"(?P<y>[0-9]{4})(?P<m>[0-9]{2})(?P<d>[0-9]{2})"),
)
_TIME = re.compile(r"(?:[ T]+[0-9]{1,2}[:：][0-9]{2}(?:[:：][0-9]{2}(?:\.[0-9]+)?)?)?")
_ACCOUNT_LABEL = re.compile(
    r"(?:账号|帳號|帐号|账户|帐户|账户号|账号/卡号|ACCOUNT(?: NO\.?| NUMBER)?)\s*[:：]?\s*"
    r"(?P<number>[0-9][0-9 -]{5,}[0-9])?$",
)
_ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z/.:_+-]{0,34}")


@dataclass(frozen=True, slots=True)
class ColumnMapping:
    """Which header of a bank's export holds each field of a statement line.

    The amount comes either from one `amount` column and a `direction` column whose values say
    debit or credit, or from two columns, `debit_amount` and `credit_amount`, one of them filled
    on each line. The payment reference comes from `end_to_end_id` and/or free-text `remarks`
    columns, where it is found inside the text.
    """

    booked_on: str
    end_to_end_id: str | None = None
    remarks: tuple[str, ...] = ()
    amount: str | None = None
    direction: str | None = None
    debit_values: tuple[str, ...] = DEBIT_VALUES
    credit_values: tuple[str, ...] = CREDIT_VALUES
    debit_amount: str | None = None
    credit_amount: str | None = None
    returned: str | None = None  # non-empty marks a returned payment; the text is the reason
    bank_reference: str | None = None
    counterparty_account: str | None = None
    #: The account every statement read with this mapping is of (else the upload or the
    #: lines above the header say).
    account: str | None = None
    #: The line the header is on (1 for the first); found by its column names when None.
    header_row: int | None = None

    def __post_init__(self) -> None:
        _check_layout(self)

    @property
    def columns(self) -> dict[str, str]:
        """Each field read from a column, by the column's header."""
        single = {
            name: getattr(self, name)
            for name in (
                "booked_on",
                "end_to_end_id",
                "amount",
                "direction",
                "debit_amount",
                "credit_amount",
                "returned",
                "bank_reference",
                "counterparty_account",
            )
            if getattr(self, name) is not None
        }
        return single | {f"remarks[{n}]": name for n, name in enumerate(self.remarks)}

    def to_json(self) -> dict[str, Any]:
        return {
            field.name: list(value) if isinstance(value, tuple) else value
            for field in fields(self)
            if (value := getattr(self, field.name)) is not None
        }

    @classmethod
    def from_json(cls, data: object) -> ColumnMapping:
        """A mapping saved by `to_json`; refuses unknown keys, columns that are not text, and a
        layout that leaves a line's direction or reference undecidable."""
        if not isinstance(data, dict):
            raise InvalidMapping("a column mapping is a JSON object", field="mapping")
        if unknown := sorted(str(key) for key in data if key not in _FIELDS):
            raise InvalidMapping(f"unknown mapping keys: {', '.join(unknown)}", field="mapping")
        text = {name: _optional(data, name) for name in _TEXT_FIELDS}
        lists = {name: _texts(data, name) for name in _LIST_FIELDS if data.get(name) is not None}
        header_row = data.get("header_row")
        if header_row is not None and (
            isinstance(header_row, bool) or not isinstance(header_row, int) or header_row < 1
        ):
            raise InvalidMapping(
                "mapping.header_row is the line of the header, 1 or more",
                field="mapping.header_row",
            )
        booked_on = text["booked_on"]
        if booked_on is None:
            raise InvalidMapping(
                "mapping.booked_on must name the booking date's column",
                field="mapping.booked_on",
            )
        account = text["account"]
        return cls(
            booked_on=booked_on,
            end_to_end_id=text["end_to_end_id"],
            remarks=lists.get("remarks", ()),
            amount=text["amount"],
            direction=text["direction"],
            debit_values=lists.get("debit_values", DEBIT_VALUES),
            credit_values=lists.get("credit_values", CREDIT_VALUES),
            debit_amount=text["debit_amount"],
            credit_amount=text["credit_amount"],
            returned=text["returned"],
            bank_reference=text["bank_reference"],
            counterparty_account=text["counterparty_account"],
            account=None if account is None else _mapped_account(account),
            header_row=header_row,
        )


_FIELDS = frozenset(field.name for field in fields(ColumnMapping))


def _mapped_account(number: str) -> str:
    try:
        return check_account_number(number, "mapping.account")
    except InvalidBankDetails as refused:
        raise InvalidMapping(refused.message, field="mapping.account") from None


_LIST_FIELDS = ("remarks", "debit_values", "credit_values")
_TEXT_FIELDS = tuple(sorted(_FIELDS - set(_LIST_FIELDS) - {"header_row"}))


def _check_layout(mapping: ColumnMapping) -> None:
    """Refuse a mapping that cannot tell a line's direction, amount or reference."""
    two_columns = (mapping.debit_amount, mapping.credit_amount)
    if mapping.amount is not None:
        if any(two_columns):
            raise InvalidMapping(
                "map either one amount column with a direction column, or a debit and a credit "
                "amount column, not both",
                field="mapping.debit_amount",
            )
        if mapping.direction is None:
            raise InvalidMapping(
                "with one amount column, mapping.direction must name the column that says debit "
                "or credit (借/贷): the sign of a number does not decide it",
                field="mapping.direction",
            )
    else:
        for name, column in zip(("debit_amount", "credit_amount"), two_columns, strict=True):
            if column is None:
                raise InvalidMapping(
                    f"mapping.{name} must name a column (or map one amount column with a "
                    "direction column)",
                    field=f"mapping.{name}",
                )
    debits = {_flag(value) for value in mapping.debit_values}
    credits = {_flag(value) for value in mapping.credit_values}
    if not debits or not credits or debits & credits or "" in debits | credits:
        raise InvalidMapping(
            "mapping.debit_values and mapping.credit_values must be non-empty and share no value",
            field="mapping.credit_values",
        )
    if mapping.end_to_end_id is None and not mapping.remarks:
        raise InvalidMapping(
            "mapping.end_to_end_id or mapping.remarks must name where the payment's reference is",
            field="mapping.end_to_end_id",
        )
    columns = list(mapping.columns.values())
    if len(set(columns)) != len(columns):
        raise InvalidMapping("a column is mapped to two fields", field="mapping")


def _optional(data: dict[object, object], name: str) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidMapping(
            f"mapping.{name} must name a column of the file (or be null)", field=f"mapping.{name}"
        )
    return value.strip()


def _texts(data: dict[object, object], name: str) -> tuple[str, ...]:
    value = data.get(name)
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise InvalidMapping(f"mapping.{name} is a list of texts", field=f"mapping.{name}")
    return tuple(v.strip() for v in value)


def parse_table(
    filename: str,
    content: bytes,
    mapping: ColumnMapping,
    *,
    statement_id: str,
    account: str | None,
    max_rows: int,
) -> Statement:
    """The lines of a CSV (UTF-8 or GB18030) or XLSX statement export, in file order, of the
    account the upload names, the mapping names or the lines above the header name."""
    rows = read_table(filename, content, max_rows=max_rows)
    preamble, header_line, header = _header(rows, mapping)
    columns = _locate(mapping, header, f"line {header_line}")
    lines = []
    for number, row in rows:
        texts = [_text(cell) for cell in row]
        if not any(texts):
            continue
        if next(text for text in texts if text).upper().startswith(SUMMARY_PREFIXES):
            continue
        lines.append(_line(f"line {number}", row, mapping, columns))
    statement_account = _account(account, mapping.account, preamble)
    return Statement(statement_id, statement_account, CURRENCY, tuple(lines), source="table")


def _header(
    rows: Iterator[tuple[int, tuple[Cell, ...]]], mapping: ColumnMapping
) -> tuple[list[tuple[int, tuple[Cell, ...]]], int, tuple[Cell, ...]]:
    """The rows above the header (title, account, period), the header's line and the header:
    the line the mapping names, else the first that holds every mapped column."""
    wanted = set(mapping.columns.values())
    preamble: list[tuple[int, tuple[Cell, ...]]] = []
    for number, row in rows:
        names = {_text(cell) for cell in row}
        if number == mapping.header_row or (mapping.header_row is None and wanted <= names):
            return preamble, number, row
        preamble.append((number, row))
        if mapping.header_row is None and number >= HEADER_SEARCH_ROWS:
            break
    if not preamble or mapping.header_row is not None:
        where = f"line {mapping.header_row or 1}"
        raise InvalidStatement(f"{where}: no header line", where=where)
    number, first = preamble[0]
    _locate(mapping, first, f"line {number}")  # names what the first line lacks
    raise AssertionError("unreachable: the first line would have been the header")


def _locate(mapping: ColumnMapping, header: Sequence[Cell], where: str) -> dict[str, int]:
    """The index of each mapped column in the header."""
    names = [_text(cell) for cell in header]
    found = {}
    for field, name in mapping.columns.items():
        if names.count(name) != 1:
            problem = "is missing from" if name not in names else "appears twice in"
            raise InvalidStatement(
                f"{where}: column {name!r} ({field}) {problem} the header",
                where=where,
                column=name,
            )
        found[field] = names.index(name)
    return found


def _account(
    given: str | None, mapped: str | None, preamble: list[tuple[int, tuple[Cell, ...]]]
) -> str:
    """The statement's account: the upload's, the mapping's and the file's must agree."""
    stated = _stated_account(preamble)
    named = {
        source: normalize_account_number(value)
        for source, value in (("upload", given), ("mapping", mapped), ("file", stated))
        if value
    }
    if len(set(named.values())) > 1:
        said = ", ".join(f"the {source} says {number}" for source, number in named.items())
        raise InvalidStatement(f"account: {said}", where="account")
    if not named:
        raise InvalidStatement(
            "account: name the account this statement is of (upload field or column mapping); "
            "no line above the header names it",
            where="account",
        )
    return next(iter(named.values()))


def _stated_account(preamble: list[tuple[int, tuple[Cell, ...]]]) -> str | None:
    """An account number written above the header ("账号：…", or a 账号 cell and its
    neighbour)."""
    for _, row in preamble:
        texts = [_normal(_text(cell)) for cell in row]
        for position, text in enumerate(texts):
            label = _ACCOUNT_LABEL.fullmatch(text.upper())
            if label is None:
                continue
            if label["number"]:
                return label["number"]
            following = next((t for t in texts[position + 1 :] if t), "")
            if re.fullmatch(r"[0-9][0-9 -]{5,}[0-9]", following):
                return following
    return None


def _cell(row: Sequence[Cell], index: int | None) -> Cell:
    return row[index] if index is not None and index < len(row) else None


def _line(
    where: str, row: Sequence[Cell], mapping: ColumnMapping, columns: dict[str, int]
) -> StatementLine:
    def cell(field: str) -> Cell:
        return _cell(row, columns.get(field))

    def refuse(field: str, problem: str) -> InvalidStatement:
        column = mapping.columns[field]
        return InvalidStatement(f"{where}, column {column}: {problem}", where=where, column=column)

    amount_fen, debit = _amount_and_direction(mapping, cell, refuse)
    reference = _reference(
        _text(cell("end_to_end_id")) if mapping.end_to_end_id else "",
        [_text(cell(f"remarks[{n}]")) for n in range(len(mapping.remarks))],
    )
    batch = reference if reference is not None and is_batch_reference(reference) else None
    reason = _text(cell("returned"))
    counterparty = _normal(_text(cell("counterparty_account")))
    return StatementLine(
        where=where,
        end_to_end_id=None if batch else reference,
        amount_fen=amount_fen,
        debit=debit,
        booked_on=_date(cell("booked_on"), lambda problem: refuse("booked_on", problem)),
        returned=bool(reason),
        return_reason=reason[:35] or None,
        bank_reference=_text(cell("bank_reference")) or None,
        counterparty_account=normalize_account_number(counterparty) if counterparty else None,
        batch_reference=batch,
    )


def _amount_and_direction(
    mapping: ColumnMapping,
    cell: Callable[[str], Cell],
    refuse: Callable[[str, str], InvalidStatement],
) -> tuple[int, bool]:
    """The line's amount in fen and whether it is a debit, as its columns say."""
    if mapping.amount is not None:
        flag = _flag(_text(cell("direction")))
        debits = {_flag(value) for value in mapping.debit_values}
        credits = {_flag(value) for value in mapping.credit_values}
        if flag not in debits | credits:
            allowed = "/".join([*mapping.debit_values, *mapping.credit_values])
            raise refuse("direction", f"{flag!r} is not one of {allowed}")
        debit = flag in debits
        amount, negative = _yuan(cell("amount"), lambda p: refuse("amount", p))
        if negative and not debit:
            raise refuse("amount", "a negative amount on a credit line")
        return amount, debit
    paid, paid_negative = _yuan(cell("debit_amount"), lambda p: refuse("debit_amount", p), True)
    got, got_negative = _yuan(cell("credit_amount"), lambda p: refuse("credit_amount", p), True)
    if got_negative:
        raise refuse("credit_amount", "a negative amount in the credit column")
    if paid and got:
        raise refuse("credit_amount", "both the debit and the credit column hold an amount")
    if not paid and not got:
        raise refuse("debit_amount", "neither the debit nor the credit column holds an amount")
    del paid_negative  # a minus in the debit column only repeats what the column says
    return (paid, True) if paid else (got, False)


def _yuan(
    value: Cell, refuse: Callable[[str], InvalidStatement], empty_is_zero: bool = False
) -> tuple[int, bool]:
    """An amount cell as fen and whether it was written negative: thousands separators,
    full-width digits and a currency sign are read; more than two decimals are refused."""
    if isinstance(value, float | int | Decimal) and not isinstance(value, bool):
        text = _text(value)
    else:
        text = _normal(_text(value))
    text = text.replace(" ", "").removeprefix("CNY").removeprefix("RMB").removesuffix("元")
    if not text and empty_is_zero:
        return 0, False
    negative = text.startswith("-")
    try:
        return parse_yuan(text.removeprefix("-").removeprefix("+")), negative
    except InvalidAmount:
        raise refuse(f"{text!r} is not an amount in yuan") from None


def _reference(column: str, remarks: list[str]) -> str | None:
    """The payment's reference: the reference column as it is when it holds an id, else the
    one reference the column and the remarks name together (none when they name several)."""
    text = _normal(column)
    if text and text != NOT_PROVIDED and _ID.fullmatch(text):
        return find_reference(text) or text
    return find_reference(" ".join([text, *map(_normal, remarks)]))


def _date(value: Cell, refuse: Callable[[str], InvalidStatement]) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _normal(_text(value))
    for form in _DATE_FORMS:
        match = form.match(text)
        if match is None or not _TIME.fullmatch(text[match.end() :]):
            continue
        try:
            return date(int(match["y"]), int(match["m"]), int(match["d"]))
        except ValueError:
            break
    raise refuse(f"{text!r} is not a date (2026-12-07, 2026/12/7, 20261207 or 2026年12月07日)")


def _flag(text: str) -> str:
    return _normal(text).upper()


def _normal(text: str) -> str:
    """Full-width digits, letters and punctuation (typed with a Chinese IME) as ASCII."""
    return unicodedata.normalize("NFKC", text).strip()


def _text(value: Cell) -> str:
    """A cell as the text a person reads in it."""
    if value is None:
        return ""
    if isinstance(value, float):
        # Spreadsheets keep numbers as binary floats; their shortest repr is what Excel shows
        # ("1234.5"), and reading it as text keeps floats out of the amounts.
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value).strip()
