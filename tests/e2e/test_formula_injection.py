"""CSV injection (OWASP): text others chose comes out of every CSV and XLSX file the service
writes as text a spreadsheet shows, never as a formula it runs.

A provider chooses its own name, its account's name and its bank (branch) name; a bank chooses
its statement's id and the references on its lines. Here a provider named
`=HYPERLINK("http://evil.example","click")`, banking at a branch named `=2+2`, is paid through a
batch the bank's statement reconciles, so its texts reach the payment list, the bank's
bulk-transfer sheet, the reconciliation report and the spend report. Each file is downloaded
over HTTP: in a CSV, those cells start with an apostrophe and no cell starts like a formula
unless it is an amount; an XLSX holds no formula at all, and its text cells hold the text as it
was given.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
import uuid
import zipfile
from datetime import UTC, datetime

from flask import Flask
from flask.testing import FlaskCliRunner
from lxml import etree
from openpyxl import load_workbook

from tests import factories
from tests.bank_files import BankLine, camt053
from tests.e2e.accounts import bearer
from tests.e2e.demo_data import load_demo, new_voucher
from voucher_app.domain.actors import Actor, Role
from voucher_app.domain.calendar import local_date
from voucher_app.domain.providers import ProviderDecision
from voucher_app.services import demo, providers, reconciliation, redemptions, settlement
from voucher_app.services.redemptions import Service, VoucherProof
from voucher_app.wiring import current

EVIL_NAME = '=HYPERLINK("http://evil.example","click")'
EVIL_BANK = "=2+2"
EVIL_STATEMENT = "-2+3"  # the bank's id of its statement
EVIL_REFERENCE = "@SUM(1+1)"  # a bank line's end-to-end id that names no payment
#: What a spreadsheet may run as a formula when a cell starts with it (OWASP), and the
#: full-width forms some locales read the same way.
FORMULA_STARTS = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")
AMOUNT = re.compile(r"-?[0-9]+\.[0-9]{2}")
CENTER = "440300"
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"

REVIEWER = Actor("reviewer", Role.CENTER_STAFF)
FINANCE = Actor("finance", Role.CENTER_FINANCE)


def pay_the_evil_provider(app: Flask, programme: uuid.UUID) -> uuid.UUID:
    """The provider registered, approved, redeeming a voucher; the redemption approved, batched with
    the demo's and exported; the bank's statement proving it paid. Answers the batch's id."""
    application = dataclasses.replace(
        factories.application(66), name=EVIL_NAME, bank_account_name=EVIL_NAME, bank_name=EVIL_BANK
    )
    with app.app_context():
        parts = current()
        provider = providers.apply_provider(parts.uow(), application, REVIEWER)
        providers.decide_provider(parts.uow(), provider.id, ProviderDecision.APPROVE, REVIEWER)
    voucher = new_voucher(app, programme)
    with app.app_context():
        parts = current()
        redemption = redemptions.submit_redemption(
            parts.uow(),
            provider_id=provider.id,
            proof=VoucherProof(token=voucher.token),
            service=Service(
                "EVIL-0001",
                246_800,
                local_date(datetime.now(UTC)),
                category="accounting_tax",
                description="年度汇算清缴",
            ),
            actor=Actor("desk", Role.PROVIDER),
            public_keys=parts.voucher_keys(),
        )
        redemptions.confirm_redemption(parts.uow(), redemption.id, Actor("sme", Role.SME))
        redemptions.approve_redemption(parts.uow(), redemption.id, REVIEWER)
        batch = settlement.build_batch(parts.uow(), programme, CENTER, FINANCE)
        settlement.export_batch(parts.uow(), batch.id, FINANCE)
        (item,) = [item for item in batch.items if item.provider_id == provider.id]
        statement = camt053(
            demo.FUNDING_ACCOUNT.account_number,
            [
                BankLine(item.reference, item.amount_fen, bank_reference="PAY-1"),
                BankLine(EVIL_REFERENCE, 800, bank_reference="FEE-1"),
            ],
            statement_id=EVIL_STATEMENT,
        )
        result = reconciliation.import_statement(
            parts.uow(), filename="march.xml", content=statement, actor=FINANCE, center_code=CENTER
        )
    assert result.outcomes == {"paid": 1, "unmatched": 1}
    return batch.id


def assert_inert_csv(content: bytes, encoding: str, texts: list[str]) -> None:
    """Each of `texts` is a cell of the file, behind an apostrophe; no cell starts like a
    formula unless it is an amount."""
    rows = list(csv.reader(io.StringIO(content.decode(encoding), newline="")))
    cells = [cell for row in rows for cell in row]
    for text in texts:
        assert f"'{text}" in cells, f"{text!r} is not in the file as an inert cell"
        assert text not in cells
    assert [
        cell for cell in cells if cell[:1] in FORMULA_STARTS and not AMOUNT.fullmatch(cell)
    ] == []


def assert_inert_xlsx(content: bytes, texts: list[str]) -> None:
    """No worksheet holds a formula; each of `texts` is a text cell holding it exactly."""
    with zipfile.ZipFile(io.BytesIO(content)) as package:
        sheets = [n for n in package.namelist() if re.fullmatch(r"xl/worksheets/[^/]+\.xml", n)]
        assert sheets
        for sheet in sheets:
            assert etree.fromstring(package.read(sheet)).findall(f".//{MAIN}f") == [], sheet
    book = load_workbook(io.BytesIO(content))
    cells = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]
    assert [cell.coordinate for cell in cells if cell.data_type == "f"] == []
    for text in texts:
        holding = [cell for cell in cells if cell.value == text]
        assert holding, f"{text!r} is not a cell of the workbook"
        assert all(cell.data_type == "s" and cell.quotePrefix for cell in holding)


def test_names_others_chose_come_out_inert_in_every_file(
    app: Flask, runner: FlaskCliRunner
) -> None:
    programme = load_demo(app, runner)
    batch = pay_the_evil_provider(app, programme)
    finance = bearer(app, Role.CENTER_FINANCE, center=CENTER)
    auditor = bearer(app, Role.AUDITOR, center="440000")
    client = app.test_client()

    payments = client.post(f"/api/v1/batches/{batch}/export?format=csv", headers=finance)
    assert payments.status_code == 200 and payments.data.startswith("\ufeff".encode())
    assert_inert_csv(payments.data, "utf-8-sig", [EVIL_NAME, EVIL_BANK])
    sheet = client.post(f"/api/v1/batches/{batch}/export?format=bulk", headers=finance)
    assert sheet.headers["Content-Type"] == "text/csv; charset=gb18030"
    assert_inert_csv(sheet.data, "gb18030", [EVIL_NAME, EVIL_BANK])

    report = f"/api/v1/statements/reconciliation/export?center={CENTER}"
    as_csv = client.get(f"{report}&format=csv", headers=auditor)
    assert as_csv.status_code == 200
    assert_inert_csv(as_csv.data, "utf-8-sig", [EVIL_NAME, EVIL_STATEMENT, EVIL_REFERENCE])
    as_xlsx = client.get(f"{report}&format=xlsx", headers=auditor)
    assert as_xlsx.status_code == 200
    assert_inert_xlsx(as_xlsx.data, [EVIL_NAME, EVIL_STATEMENT, EVIL_REFERENCE])

    spend = f"/api/v1/reports/spend/file?center={CENTER}"
    as_csv = client.get(f"{spend}&format=csv", headers=auditor)
    assert as_csv.status_code == 200
    assert_inert_csv(as_csv.data, "utf-8-sig", [EVIL_NAME])
    as_xlsx = client.get(f"{spend}&format=xlsx", headers=auditor)
    assert as_xlsx.status_code == 200
    assert_inert_xlsx(as_xlsx.data, [EVIL_NAME])
