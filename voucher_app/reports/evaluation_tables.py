"""A year's center evaluation as files: CSV for other systems, XLSX for people.

Both hold one row per center of the subtree, in the hierarchy's order, with its total, grade,
place among its siblings and each indicator's value, score and points (two decimals, as the
page shows them), then the figures they were computed from, so a reviewer can redo any score
by hand. The XLSX also has a sheet with the scheme itself: weights, worst and best values,
grades. Center names are written by `tabular.writing`, so none runs as a formula.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import fields

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from voucher_app.domain.evaluation import Figures, shown
from voucher_app.services.evaluation import CenterScore, EvaluationReport
from voucher_app.tabular.writing import Value, append_row, csv_bytes, workbook_bytes

#: The figures' columns, in `Figures` order.
FIGURES = tuple(field.name for field in fields(Figures))
#: Per indicator: what its three columns hold.
PARTS = ("value", "score", "points")


def header(report: EvaluationReport) -> list[str]:
    codes = [indicator.code for indicator in report.scheme.indicators]
    return [
        "year", "center", "name", "parent", "depth", "rank", "total", "grade", "applied_weight",
        *(f"{code}_{part}" for code in codes for part in PARTS),
        *FIGURES,
    ]  # fmt: skip


def rows(report: EvaluationReport) -> Iterator[list[Value]]:
    for score in report.subtree:
        yield _row(report.year, score)


def _row(year: int, score: CenterScore) -> list[Value]:
    evaluation = score.evaluation
    figures = [getattr(evaluation.figures, name) for name in FIGURES]
    return [
        year, score.center, score.name, score.parent, score.depth, score.rank,
        shown(evaluation.total), evaluation.grade, evaluation.applied_weight,
        *(shown(getattr(line, part)) for line in evaluation.lines for part in PARTS),
        *figures,
    ]  # fmt: skip


def evaluation_csv(report: EvaluationReport) -> bytes:
    """UTF-8 with a BOM, so spreadsheets in China read the names."""
    return csv_bytes(header(report), rows(report))


def evaluation_xlsx(report: EvaluationReport) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook has a sheet
    sheet.title = "考核 Evaluation"
    _table(sheet, header(report), rows(report))
    scheme = report.scheme
    _table(
        book.create_sheet("指标 Scheme"),
        ["指标 Indicator", "权重 Weight", "最差 Worst", "最好 Best"],
        (
            [indicator.code, indicator.weight, shown(indicator.worst), shown(indicator.best)]
            for indicator in scheme.indicators
        ),
    )
    _table(
        book.create_sheet("等级 Grades"),
        ["等级 Grade", "起评分 From"],
        ([grade.name, shown(grade.minimum)] for grade in scheme.grades),
    )
    about = book.create_sheet("说明 About")
    for label, value in (
        ("年度 Year", report.year),
        ("中心 Center", f"{report.center.center} {report.center.name}"),
        ("来源 Source", scheme.source),
        ("最低适用权重 Minimum weight", scheme.min_weight),
    ):
        append_row(about, [label, value])
    return workbook_bytes(book)


def _table(sheet: Worksheet, names: Sequence[str], values: Iterator[list[Value]]) -> None:
    append_row(sheet, names)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in values:
        append_row(sheet, row)
    sheet.freeze_panes = "A2"
