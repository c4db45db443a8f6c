"""XLSX files that no spreadsheet program would write, built part by part, for testing that
`voucher_app.tabular.reading` refuses them cheaply.

A few kilobytes of zip can unpack to millions of rows or hundreds of megabytes of XML; these
helpers write such packages without holding them: each part is streamed into the zip in pieces.
Each package is a valid minimal OOXML package (content types, relationships, workbook, one
worksheet), so openpyxl would read it if nothing stopped it.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from xml.sax.saxutils import escape

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELATIONSHIPS = "http://schemas.openxmlformats.org/package/2006/relationships"
_OFFICE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml"
SHEET_PART = "xl/worksheets/sheet1.xml"
STRINGS_PART = "xl/sharedStrings.xml"
_PIECE = 1 << 20


def xlsx(
    path: Path,
    sheet: Iterable[bytes],
    *,
    shared_strings: Iterable[bytes] | None = None,
    strings_part: str = STRINGS_PART,
) -> Path:
    """An XLSX package whose one worksheet is the XML `sheet` yields, and whose shared strings
    (if any) are at `strings_part`: written a piece at a time, with little memory."""
    overrides = [
        ("/xl/workbook.xml", f"{_TYPE}.sheet.main+xml"),
        (f"/{SHEET_PART}", f"{_TYPE}.worksheet+xml"),
    ]
    if shared_strings is not None:
        overrides.append((f"/{strings_part}", f"{_TYPE}.sharedStrings+xml"))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", _content_types(overrides))
        package.writestr(
            "_rels/.rels", _relationships([(f"{_OFFICE}/officeDocument", "xl/workbook.xml")])
        )
        package.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{MAIN}" xmlns:r="{_OFFICE}">'
            '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        package.writestr(
            "xl/_rels/workbook.xml.rels",
            _relationships([(f"{_OFFICE}/worksheet", "worksheets/sheet1.xml")]),
        )
        _write_part(package, SHEET_PART, sheet)
        if shared_strings is not None:
            _write_part(package, strings_part, shared_strings)
    return path


def huge_xlsx(
    path: Path,
    rows: int = 3_000_000,
    *,
    dimension: str | None = None,
    header: Sequence[str] = ("uscc",),
    cells: Sequence[int | str] = (1,),
) -> Path:
    """A sheet with a header row (`header`, inline strings; a `uscc` column unless told) and
    `rows` rows each holding `cells` (the number 1 unless told): well under 1 MB of zip. Its
    rows carry no `r` attribute, so each is as short as a row can be; text in `cells` goes to
    the shared strings, as spreadsheet programs write it, so each row stays short."""
    head = f'<dimension ref="{dimension}"/>' if dimension else ""
    texts = list(dict.fromkeys(cell for cell in cells if isinstance(cell, str)))
    row = "".join(
        f'<c t="s"><v>{texts.index(cell)}</v></c>'
        if isinstance(cell, str)
        else f"<c><v>{cell}</v></c>"
        for cell in cells
    )
    names = "".join(f'<c t="inlineStr"><is><t>{escape(name)}</t></is></c>' for name in header)
    strings = "".join(f"<si><t>{escape(text)}</t></si>" for text in texts)
    return xlsx(
        path,
        _wrapped(
            f'<worksheet xmlns="{MAIN}">{head}<sheetData><row>{names}</row>',
            f"<row>{row}</row>".encode(),
            rows,
            "</sheetData></worksheet>",
        ),
        shared_strings=[f'<sst xmlns="{MAIN}">{strings}</sst>'.encode()] if texts else None,
    )


def sheet_of(unit: bytes, times: int, *, head: str = "", tail: str = "") -> Iterator[bytes]:
    """A worksheet's XML: `head`, then `unit` `times` over, then `tail`, inside <worksheet>."""
    return _wrapped(f'<worksheet xmlns="{MAIN}">{head}', unit, times, f"{tail}</worksheet>")


def bomb_shared_strings_xlsx(path: Path, size: int = 200_000_000) -> Path:
    """A small zip whose shared strings part declares, and holds, `size` bytes of text."""
    unit = b"<si><t>" + b"x" * 1000 + b"</t></si>"
    return xlsx(
        path,
        sheet_of(b'<row><c t="s"><v>0</v></c></row>', 1, head="<sheetData>", tail="</sheetData>"),
        shared_strings=_wrapped(f'<sst xmlns="{MAIN}">', unit, size // len(unit), "</sst>"),
    )


def _wrapped(head: str, unit: bytes, times: int, tail: str) -> Iterator[bytes]:
    yield head.encode()
    per_piece = max(1, _PIECE // len(unit))
    for start in range(0, times, per_piece):
        yield unit * min(per_piece, times - start)
    yield tail.encode()


def _write_part(package: zipfile.ZipFile, name: str, pieces: Iterable[bytes]) -> None:
    with package.open(name, "w", force_zip64=True) as part:
        for piece in pieces:
            part.write(piece)


def _content_types(overrides: list[tuple[str, str]]) -> str:
    parts = "".join(
        f'<Override PartName="{name}" ContentType="{kind}"/>' for name, kind in overrides
    )
    return (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels"'
        ' ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        f'<Default Extension="xml" ContentType="application/xml"/>{parts}</Types>'
    )


def _relationships(targets: list[tuple[str, str]]) -> str:
    links = "".join(
        f'<Relationship Id="rId{number}" Type="{kind}" Target="{target}"/>'
        for number, (kind, target) in enumerate(targets, start=1)
    )
    return f'<Relationships xmlns="{_RELATIONSHIPS}">{links}</Relationships>'
