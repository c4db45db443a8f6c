"""A reconciliation report as files a finance office opens in a spreadsheet.

One row per payment of the center's exported batches (owed, paid, returned, settled, its
standing), then the statement lines nothing matched or that wait for review. Names come from
providers and bank files, so every cell goes through `tabular.writing`: none runs as a formula.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from voucher_app.domain.money import yuan_decimal
from voucher_app.services.reconciliation import ReconciliationReport
from voucher_app.tabular.writing import Value, append_row, csv_bytes, workbook_bytes

ITEM_COLUMNS = (
    "批次 Batch",
    "付款编号 Payment",
    "服务机构 Provider",
    "应付 Owed",
    "已付 Paid",
    "退回 Returned",
    "已结算 Settled",
    "状态 State",
)
LINE_COLUMNS = (
    "对账单 Statement",
    "位置 Position",
    "参考号 Reference",
    "金额 Amount",
    "方向 Direction",
    "结果 Outcome",
)
MONEY_FORMAT = '"¥"#,##0.00;-"¥"#,##0.00'


def reconciliation_csv(report: ReconciliationReport) -> bytes:
    """One table: the items, a blank row, then the lines to look at under their own header."""
    return csv_bytes(ITEM_COLUMNS, [*_items(report), (), LINE_COLUMNS, *_lines(report)])


def reconciliation_xlsx(report: ReconciliationReport) -> bytes:
    book = Workbook()
    items = book.active
    assert isinstance(items, Worksheet)  # a new workbook has a sheet
    items.title = "付款 Payments"
    _sheet(items, ITEM_COLUMNS, _items(report), money=range(3, 7))
    _sheet(book.create_sheet("待查 To review"), LINE_COLUMNS, _lines(report), money=range(3, 4))
    return workbook_bytes(book)


def _items(report: ReconciliationReport) -> Iterator[Sequence[Value]]:
    for item in report.items:
        yield (
            item.batch,
            item.reference,
            item.provider,
            yuan_decimal(item.amount_fen),
            yuan_decimal(item.paid_fen),
            yuan_decimal(item.returned_fen),
            yuan_decimal(item.settled_fen),
            item.state,
        )


def _lines(report: ReconciliationReport) -> Iterator[Sequence[Value]]:
    for line in report.unmatched:
        yield (
            line.statement,
            line.position,
            line.end_to_end_id,
            yuan_decimal(line.amount_fen),
            "debit" if line.debit else "credit",
            line.outcome,
        )


def _sheet(
    sheet: Worksheet, header: Sequence[str], rows: Iterator[Sequence[Value]], money: range
) -> None:
    append_row(sheet, header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        append_row(sheet, row)
        for column in money:
            sheet.cell(sheet.max_row, column + 1).number_format = MONEY_FORMAT
    sheet.freeze_panes = "A2"
