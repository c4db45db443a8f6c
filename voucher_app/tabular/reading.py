"""Uploaded CSV and XLSX tables, read as a stream of rows that stops at a row limit.

An upload is held in memory as bytes, but nothing derived from it may grow with what the file
holds: a file past the caller's row limit is refused as soon as the row past the limit is read,
and no step decodes, unpacks or lists the whole file first.

CSV is the easy half. XLSX is a zip of XML parts, and openpyxl's read-only mode, though it
streams rows, still keeps some things whole: the shared strings, styles and workbook parts; a
whole row, however many cells it has (a 9 KB file holding one row of two million cells took
600 MB); the emptied shell of every row read, and anything in a worksheet that is not a row; and
when a worksheet declares no `<dimension>`, it reads the whole sheet while opening the workbook,
before the first row is returned. So the package is refused up front if a part other than a
worksheet is large, and every part openpyxl opens is watched while it reads it (`_PartWatch`):
row elements are counted against the row limit, each row's size is capped, and so is everything
outside rows. What a file can cost is then set by these caps and the row limit (about 100 bytes
a row for the shells), never by what the file holds: at most about 100 MB, for a shared-strings
part at its cap, and a few megabytes for ordinary files.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Generator, Iterator
from contextlib import closing
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import PurePath
from typing import IO, TYPE_CHECKING, Any, Literal, TypeVar
from xml.parsers import expat

from openpyxl.reader.excel import ExcelReader

from voucher_app.domain.errors import InvalidTable, TooManyRows

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

#: What a row holds: CSV gives text, XLSX also numbers, dates and times.
Cell = str | int | float | Decimal | date | datetime | time | None
#: A row with its line: the number the user sees (a CSV line, an XLSX row; the header is 1).
Row = tuple[int, tuple[Cell, ...]]

#: The row limit for an upload, unless a caller has a reason for another.
MAX_ROWS = 50_000
#: XLSX columns a row may use: a cell right of it refuses the file (tables we read are a few
#: columns wide; a wider row would only cost time, as openpyxl lays rows out to their last cell).
MAX_COLUMNS = 256
#: A CSV line, in characters (a field is capped by the csv module at 131,072 already).
MAX_LINE_CHARS = 1 << 20
#: An XLSX part other than a worksheet, unpacked; and what a worksheet holds outside its rows.
MAX_PART_BYTES = 16 << 20
#: All parts other than worksheets together, unpacked.
MAX_PARTS_BYTES = 64 << 20
#: XML elements outside rows, which openpyxl keeps until it is done with the part (about
#: 100 bytes each): in a worksheet, and in any other part (shared strings are two a text).
MAX_SHEET_ELEMENTS = 1 << 17
MAX_PART_ELEMENTS = 1 << 20
#: One XLSX row element, in bytes of XML and in elements (a cell is two to four of them).
MAX_ROW_BYTES = 4 << 20
MAX_ROW_ELEMENTS = 1 << 16

_T = TypeVar("_T")
_CHUNK = 1 << 16
_ENCODINGS = ("utf-8-sig", "gb18030")
_WORKSHEET_PART = re.compile(r"xl/worksheets/[^/]+\.xml")
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_WORKSHEET, _ROW, _CELL = f"{_MAIN} worksheet", f"{_MAIN} row", f"{_MAIN} c"  # as expat names them
_COLUMN = re.compile(r"[A-Z]{1,3}")


def read_table(filename: str, content: bytes, *, max_rows: int) -> Generator[Row, None, None]:
    """Each row of a CSV (UTF-8, with or without BOM, or GB18030) or XLSX file (the sheet
    active when it was saved, normally the first), in file order, blank rows included; past
    `max_rows` rows, `TooManyRows`.

    Trailing empty cells are dropped, so a blank row is `()`; an XLSX row with a cell right of
    `MAX_COLUMNS` is refused. CSV cells are text; XLSX cells keep their type. Nothing is read
    until the rows are iterated, and every refusal (`InvalidTable`, or its `TooManyRows`) is
    raised by the iteration; closing the iterator early frees everything at once. An XLSX file
    is read a little ahead, so one with too many rows may be refused a few thousand rows early;
    and the rows of any worksheet openpyxl reads while opening the file count (it reads a
    worksheet that declares no size to its end).
    """
    with closing(_rows(filename, content, max_rows)) as rows:
        for count, row in enumerate(rows, start=1):
            if count > max_rows:
                raise _too_many_rows(filename, max_rows)
            yield row


def _rows(filename: str, content: bytes, max_rows: int) -> Generator[Row, None, None]:
    suffix = PurePath(filename).suffix.lower()
    if suffix == ".csv":
        return _csv_rows(filename, content)
    if suffix == ".xlsx":
        return _xlsx_rows(filename, content, max_rows)
    raise InvalidTable(f"{filename}: a table is a .csv or .xlsx file", where=filename)


def _too_many_rows(filename: str, max_rows: int) -> TooManyRows:
    return TooManyRows(
        f"{filename}: more than {max_rows} rows: split the file", limit=max_rows, where=filename
    )


def _trimmed(cells: tuple[_T, ...]) -> tuple[_T, ...]:
    """`cells` without its trailing empty ones (None or "")."""
    end = len(cells)
    while end and (cells[end - 1] is None or cells[end - 1] == ""):
        end -= 1
    return cells[:end]


# CSV


def _csv_rows(filename: str, content: bytes) -> Generator[Row, None, None]:
    encoding = _text_encoding(filename, content)
    with io.TextIOWrapper(io.BytesIO(content), encoding=encoding, newline="") as text:
        reader = csv.reader(_lines(filename, text))
        line = 1
        try:
            for cells in reader:
                yield line, _trimmed(tuple(cells))
                # A quoted cell may span lines: a row is named by its first.
                line = reader.line_num + 1
        except csv.Error as exc:
            where = f"line {reader.line_num}"
            raise InvalidTable(f"{filename}, {where}: not CSV: {exc}", where=where) from None


def _text_encoding(filename: str, content: bytes) -> str:
    # Chinese banks and spreadsheets save UTF-8 (often with a BOM) or GB18030 (GBK's superset);
    # bytes that are valid UTF-8 are almost never meant as anything else.
    for encoding in _ENCODINGS:
        if _decodes(content, encoding):
            return encoding
    raise InvalidTable(f"{filename}: neither UTF-8 nor GB18030 text", where=filename)


def _decodes(content: bytes, encoding: str) -> bool:
    """Whether `content` is text in `encoding`, decoded a piece at a time and then dropped."""
    decoder = codecs.getincrementaldecoder(encoding)()
    view = memoryview(content)
    try:
        for start in range(0, len(view), _CHUNK):
            decoder.decode(view[start : start + _CHUNK])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _lines(filename: str, text: IO[str]) -> Iterator[str]:
    """The lines of `text`, with no BOM, refusing one too long to hold before csv sees it."""
    number = 0
    while line := text.readline(MAX_LINE_CHARS + 1):
        number += 1
        if len(line) > MAX_LINE_CHARS:
            where = f"line {number}"
            raise InvalidTable(
                f"{filename}, {where}: longer than {MAX_LINE_CHARS} characters", where=where
            )
        yield line.removeprefix("\ufeff") if number == 1 else line


# XLSX


def _xlsx_rows(filename: str, content: bytes, max_rows: int) -> Generator[Row, None, None]:
    with _open_package(filename, content, max_rows) as package:
        workbook = _load_workbook(filename, content, package)
        try:
            yield from _sheet_rows(filename, workbook)
        finally:
            workbook.close()


def _open_package(filename: str, content: bytes, max_rows: int) -> _WatchedPackage:
    try:
        package = _WatchedPackage(filename, content, max_rows)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError):
        raise InvalidTable(
            f"{filename}: not an XLSX file (not a zip: an old .xls, or locked with a password?)",
            where=filename,
        ) from None
    try:
        _check_sizes(filename, package)
    except InvalidTable:
        package.close()
        raise
    return package


def _check_sizes(filename: str, package: zipfile.ZipFile) -> None:
    """Refuses a part openpyxl would read whole that unpacks large, going by the sizes the zip
    declares (zipfile never unpacks more than that)."""
    total = 0
    for info in package.infolist():
        if _WORKSHEET_PART.fullmatch(info.filename):
            continue  # streamed, and watched as it is (`_PartWatch`)
        if info.file_size > MAX_PART_BYTES:
            raise InvalidTable(
                f"{filename}: part {info.filename} unpacks to {info.file_size} bytes, more than"
                f" {MAX_PART_BYTES}",
                where=info.filename,
            )
        total += info.file_size
    if total > MAX_PARTS_BYTES:
        raise InvalidTable(
            f"{filename}: parts other than worksheets unpack to {total} bytes, more than"
            f" {MAX_PARTS_BYTES}",
            where=filename,
        )


def _load_workbook(filename: str, content: bytes, package: _WatchedPackage) -> Any:
    """`openpyxl.load_workbook(..., read_only=True, data_only=True)`, reading from `package`.

    load_workbook is `ExcelReader(...).read()`; the reader is built here so that it reads
    through the watched package instead of the plain zip it opens for itself.
    """
    try:
        reader = ExcelReader(io.BytesIO(content), read_only=True, data_only=True, keep_links=False)
        reader.archive.close()
        reader.archive, reader.valid_files = package, package.namelist()
        reader.read()
    except InvalidTable:
        raise
    except Exception as exc:  # openpyxl raises many kinds for a file that is not XLSX
        raise InvalidTable(f"{filename}: not a readable XLSX file: {exc}", where=filename) from None
    return reader.wb


def _sheet_rows(filename: str, workbook: Any) -> Iterator[Row]:
    sheet = workbook.active
    if not hasattr(sheet, "iter_rows"):
        raise InvalidTable(f"{filename}: its first sheet is not a table", where=filename)
    # The declared <dimension> is only a hint: openpyxl pads every row to its width and stops at
    # its last row. Forget it; rows are then as wide as their last cell, which the part's watch
    # keeps within MAX_COLUMNS.
    sheet.reset_dimensions()
    line = 0
    try:
        with closing(sheet.iter_rows(values_only=True)) as values:
            for line, cells in enumerate(values, start=1):
                yield line, tuple(map(_cell, _trimmed(cells)))
    except InvalidTable:
        raise
    except Exception as exc:
        raise InvalidTable(
            f"{filename}: not a readable XLSX file after row {line}: {exc}", where=filename
        ) from None


def _cell(value: object) -> Cell:
    if value is None or isinstance(value, str | int | float | Decimal | date | time):
        return value
    return str(value)  # a duration (a [h]:mm cell): nothing else comes with data_only


def _column(reference: str | None, position: int) -> int:
    """The column number of a cell reference ("AB12" → 28); a cell without one is the next."""
    letters = _COLUMN.match(reference or "")
    if letters is None:
        return position
    number = 0
    for letter in letters.group():
        number = number * 26 + ord(letter) - ord("A") + 1
    return number


class _WatchedPackage(zipfile.ZipFile):
    """The XLSX zip, handing openpyxl every part through a `_PartWatch`."""

    def __init__(self, filename: str, content: bytes, max_rows: int) -> None:
        super().__init__(io.BytesIO(content))
        self._table = filename
        self._max_rows = max_rows

    def open(
        self,
        name: str | zipfile.ZipInfo,
        mode: Literal["r", "w"] = "r",
        pwd: bytes | None = None,
        *,
        force_zip64: bool = False,
    ) -> IO[bytes]:
        stream = super().open(name, mode, pwd, force_zip64=force_zip64)
        part = name.filename if isinstance(name, zipfile.ZipInfo) else name
        watch = _PartWatch(self._table, part, self._max_rows)
        return io.BufferedReader(_WatchedStream(stream, watch), _CHUNK)


class _WatchedStream(io.RawIOBase):
    """A part's bytes, shown to its watch before the reader gets them."""

    def __init__(self, stream: IO[bytes], watch: _PartWatch) -> None:
        self._stream = stream
        self._watch = watch

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        with memoryview(buffer) as view, view.cast("B") as target:
            data = self._stream.read(len(target))
            self._watch.see(data)
            target[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._stream.close()
        super().close()


class _PartWatch:
    """Follows the XML of one part as it is read, and refuses it before what a reader keeps of
    it grows large: rows (`<row>` elements) count against the row limit, and each is capped in
    bytes and elements; everything outside rows — all of a part that is not a worksheet —
    is capped in bytes and elements too. A DTD is refused: no XLSX part has one.

    A part that is not XML is only counted in bytes (openpyxl refuses it itself if it needed
    XML); so is the rest of a part once its XML breaks.
    """

    def __init__(self, table: str, part: str, max_rows: int) -> None:
        self._table = table
        self._part = part
        self._max_rows = max_rows
        self._parser = expat.ParserCreate(namespace_separator=" ")
        self._parser.StartElementHandler = self._start
        self._parser.EndElementHandler = self._end
        self._parser.StartDoctypeDeclHandler = self._doctype
        self._xml = True
        self._seen = 0  # bytes fed to the parser
        self._counted = 0  # bytes counted against a row or the outside
        self._depth = 0
        self._row_depth = 0  # depth of the open row element; 0 outside rows
        self._rows = 0
        self._row_bytes = self._row_elements = self._row_cells = 0
        self._outside_bytes = self._outside_elements = 0
        self._budget = MAX_PART_ELEMENTS  # for elements outside rows

    def see(self, data: bytes) -> None:
        """Takes the next bytes of the part; an empty `data` ends it."""
        self._seen += len(data)
        if self._xml:
            try:
                self._parser.Parse(data, not data)
            except expat.ExpatError:
                self._xml = False
        self._count_bytes(self._seen)

    def _start(self, name: str, attributes: dict[str, str]) -> None:
        self._count_bytes(self._parser.CurrentByteIndex)
        self._depth += 1
        if self._row_depth:
            self._row_elements += 1
            if self._row_elements > MAX_ROW_ELEMENTS:
                raise self._refusal(
                    f"row element {self._rows} holds more than {MAX_ROW_ELEMENTS} elements"
                )
            if name == _CELL:
                self._row_cells += 1
                if _column(attributes.get("r"), self._row_cells) > MAX_COLUMNS:
                    raise self._refusal(
                        f"row element {self._rows} has a cell right of column {MAX_COLUMNS}"
                    )
        elif name == _ROW:
            self._rows += 1
            if self._rows > self._max_rows:
                raise _too_many_rows(self._table, self._max_rows)
            self._row_depth = self._depth
            self._row_bytes = self._row_elements = self._row_cells = 0
        else:
            if self._depth == 1:
                self._budget = MAX_SHEET_ELEMENTS if name == _WORKSHEET else MAX_PART_ELEMENTS
            self._outside_elements += 1
            if self._outside_elements > self._budget:
                raise self._refusal(f"more than {self._budget} XML elements outside rows")

    def _end(self, _name: str) -> None:
        self._count_bytes(self._parser.CurrentByteIndex)
        if self._depth == self._row_depth:
            self._row_depth = 0
        self._depth -= 1

    def _doctype(self, *_declaration: object) -> None:
        raise self._refusal("declares a DTD, which no XLSX part has")

    def _count_bytes(self, upto: int) -> None:
        """Counts the bytes read since the last count against where the reader is now."""
        if upto <= self._counted:
            return
        size, self._counted = upto - self._counted, upto
        if self._row_depth:
            self._row_bytes += size
            if self._row_bytes > MAX_ROW_BYTES:
                raise self._refusal(f"row element {self._rows} is over {MAX_ROW_BYTES} bytes")
        else:
            self._outside_bytes += size
            if self._outside_bytes > MAX_PART_BYTES:
                raise self._refusal(f"more than {MAX_PART_BYTES} bytes outside rows")

    def _refusal(self, problem: str) -> InvalidTable:
        return InvalidTable(f"{self._table}: part {self._part}: {problem}", where=self._part)
