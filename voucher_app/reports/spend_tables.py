"""A spend report as files: CSV for other systems, XLSX for people.

Both carry the same rows. CSV has one table: a `section` column says which breakdown a row
belongs to (total, own, center, programme, category, provider, month) and amounts are plain yuan
("1234.50"), as payment files carry them. XLSX has a sheet per breakdown, amounts as numbers
(exact decimals, shown ¥#,##0.00) so that finance can add them up, and a first sheet that says
what the report covers. Center and provider names are other people's text: both files are
written by `tabular.writing`, so none of it runs as a formula.
"""

from __future__ import annotations

from collections.abc import Iterator

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from voucher_app.domain.money import yuan_decimal
from voucher_app.domain.spend import FIGURE_NAMES, Figures
from voucher_app.services.reports import Line, SpendReport
from voucher_app.tabular.writing import append_row, csv_bytes, workbook_bytes

#: Each figure's column: its CSV name and its XLSX heading.
COLUMNS: tuple[tuple[str, str], ...] = tuple(
    (name.removesuffix("_fen") + "_cny", heading)
    for name, heading in zip(
        FIGURE_NAMES,
        ("已分配 allocated", "已发券 committed", "已兑付 redeemed", "已审核 approved",
         "已支付 paid", "已过期 expired", "已退回 returned", "可用 available"),
        strict=True,
    )
)  # fmt: skip
SECTIONS: tuple[tuple[str, str], ...] = (
    ("center", "下级中心 Centers"),
    ("programme", "项目 Programmes"),
    ("category", "服务类别 Categories"),
    ("provider", "服务机构 Providers"),
    ("month", "月份 Months"),
)
MONEY_FORMAT = '"¥"#,##0.00;-"¥"#,##0.00'


def _amounts(figures: Figures) -> list[int]:
    values = figures.as_dict()
    return [values[name] for name in FIGURE_NAMES]


def _rows(report: SpendReport) -> Iterator[tuple[str, Line]]:
    yield "total", Line(report.center, report.center_name, report.total)
    yield "own", Line(report.center, report.center_name, report.own)
    for section, lines in zip(
        (name for name, _ in SECTIONS),
        (report.children, report.by_programme, report.by_category, report.by_provider,
         report.by_month),
        strict=True,
    ):  # fmt: skip
        for line in lines:
            yield section, line


def spend_csv(report: SpendReport) -> bytes:
    """UTF-8 with a BOM, so spreadsheets in China read the names."""
    return csv_bytes(
        ["section", "key", "name", *(name for name, _ in COLUMNS)],
        (
            [section, line.key, line.label, *map(yuan_decimal, _amounts(line.figures))]
            for section, line in _rows(report)
        ),
    )


def spend_xlsx(report: SpendReport) -> bytes:
    book = Workbook()
    about = book.active
    assert about is not None  # a new workbook has a sheet
    about.title = "报告 Report"
    for label, value in (
        ("中心 Center", f"{report.center} {report.center_name}"),
        ("项目 Programme", str(report.programme_id) if report.programme_id else "全部 all"),
        ("起始月份 From", report.from_month or "—"),
        ("截止月份 To", report.to_month or "—"),
    ):
        append_row(about, [label, value])
    rows = list(_rows(report))
    _table(book.create_sheet("汇总 Summary"), [line for s, line in rows if s in ("total", "own")])
    for section, title in SECTIONS:
        _table(book.create_sheet(title), [line for s, line in rows if s == section])
    return workbook_bytes(book)


def _table(sheet: Worksheet, lines: list[Line]) -> None:
    append_row(sheet, ["代码 Key", "名称 Name", *(heading for _, heading in COLUMNS)])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for line in lines:
        append_row(
            sheet,
            [line.key, line.label, *map(yuan_decimal, _amounts(line.figures))],
            number_format=MONEY_FORMAT,
        )
    sheet.freeze_panes = "C2"
