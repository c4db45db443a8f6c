"""Files a user downloads — a settlement batch's payment files, the reconciliation report — as
HTTP answers: the same media type and file name whether the API or the finance page sends them.

What each file holds is written elsewhere (`services.settlement` exports the payment files,
`reports.reconciliation_tables` writes the report); here each becomes an attachment.
"""

from __future__ import annotations

from flask import Response

from voucher_app.reports import reconciliation_tables
from voucher_app.services.reconciliation import ReconciliationReport
from voucher_app.services.settlement import Export

#: Each payment file: its media type and file name ending.
FILES = {
    "pain001": ("application/xml", "pain.001.xml"),
    "csv": ("text/csv; charset=utf-8", "csv"),
    "bulk": ("text/csv; charset=gb18030", "bulk-transfer.csv"),
}
#: The reconciliation report as a file: its media type and writer, by file name ending.
TABLES = {
    "csv": ("text/csv; charset=utf-8", reconciliation_tables.reconciliation_csv),
    "xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        reconciliation_tables.reconciliation_xlsx,
    ),
}


def payment_file(files: Export, kind: str) -> Response:
    """One of an export's files as a download."""
    body = {"pain001": files.pain001, "csv": files.csv, "bulk": files.bulk_sheet}[kind]
    mimetype, suffix = FILES[kind]
    response = Response(body, content_type=mimetype)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{files.batch.reference}.{suffix}"'
    )
    return response


def reconciliation_file(report: ReconciliationReport, kind: str) -> Response:
    """The report as a download (CSV or XLSX)."""
    mimetype, write = TABLES[kind]
    response = Response(write(report), content_type=mimetype)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="reconciliation-{report.center}.{kind}"'
    )
    return response
