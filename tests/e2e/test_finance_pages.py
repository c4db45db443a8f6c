"""Finance's page: build the batch, download its pain.001 (which freezes it), upload the bank's
statement, and read the payment as paid; auditors read it, other cities neither read nor act."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskCliRunner
from lxml import etree

from tests.e2e.accounts import PASSWORD, account
from tests.e2e.demo_data import load_demo
from tests.e2e.pages import csrf_token, finished, sign_in, visible_text
from tests.e2e.uploads import Field, send_form
from tests.integration.test_settlement import FUNDING, PAIN, camt053, entry
from tests.iso20022 import assert_valid_pain001
from voucher_app.domain.actors import Actor, Role
from voucher_app.services import demo, programmes, settlement
from voucher_app.wiring import current


def test_finance_batches_exports_and_reconciles_from_its_page(
    app: Flask, runner: FlaskCliRunner
) -> None:
    programme = load_demo(app, runner)
    with app.app_context():
        settlement.set_funding_account(
            current().uow(), programme, FUNDING, Actor("admin", Role.CENTER_ADMIN)
        )
    finance = app.test_client()
    sign_in(finance, account(app, Role.CENTER_FINANCE, center="440300").username, PASSWORD)
    token = csrf_token(finance, "/finance/440300")
    built = finance.post(
        "/finance/440300/batches", data={"csrf_token": token, "programme": str(programme)}
    )
    page = finance.get(built.location).get_data(as_text=True)
    with app.app_context():
        (batch,) = settlement.batches_of(current().uow(), "440300")
    assert f"{batch.reference}" in visible_text(page) and "¥1,500.00" in visible_text(page)

    exported = finance.post(
        f"/finance/batches/{batch.id}/export/pain001", data={"csrf_token": token}
    )
    assert exported.mimetype == "application/xml"
    reference = batch.items[0].reference
    assert etree.fromstring(exported.data).findtext(f".//{PAIN}EndToEndId") == reference
    bank = camt053("PAGE-1", [entry(reference, "1500.00")])
    form: dict[str, Field] = {"csrf_token": token, "statement": (bank, "march.xml")}
    uploaded = send_form(finance, "/finance/440300/statements", form, {})
    assert "已付清: 1" in finished(finance, uploaded.location)
    row = (
        finance.get("/finance/440300")
        .get_data(as_text=True)
        .split(f'data-reference="{reference}"')[1]
    )
    assert "已付清" in row.split("</tr>")[0]
    # The end-of-day statement carries the same payment again: counted once, and said so.
    evening = camt053("PAGE-2", [entry(reference, "1500.00")])
    form = {"csrf_token": token, "statement": (evening, "evening.xml")}
    again = finished(finance, send_form(finance, "/finance/440300/statements", form, {}).location)
    assert "此前对账单已包含的记录" in again and "Stmt[1]/Ntry[1]/NtryDtls/TxDtls[1]" in again

    auditor = app.test_client()
    sign_in(auditor, account(app, Role.AUDITOR, center="440000").username, PASSWORD)
    assert auditor.get("/finance/440300").status_code == 200
    theirs = {"csrf_token": csrf_token(auditor, "/finance/440300"), "programme": str(programme)}
    assert auditor.post("/finance/440300/batches", data=theirs).status_code == 403
    guangzhou = app.test_client()
    sign_in(guangzhou, account(app, Role.CENTER_FINANCE, center="440100").username, PASSWORD)
    assert guangzhou.get("/finance/440300").status_code == 403


def test_a_newcomer_downloads_a_pain001_from_the_demo_as_its_finance_officer(
    app: Flask, runner: FlaskCliRunner
) -> None:
    """`make run` loads the demo and its accounts: the province's finance officer batches the
    demo's approved redemption and downloads a pain.001 the official schema accepts, paying the
    provider's branch by its CNAPS code from the programme's funding account."""
    for args in (["demo", "load"], ["demo", "accounts"]):
        assert runner.invoke(args=args).exit_code == 0
    finance = app.test_client()
    sign_in(finance, "finance.guangdong", demo.DEMO_PASSWORD)
    assert finance.get("/center/finance").location == "/finance/440000"  # the menu's link
    token = csrf_token(finance, "/finance/440000")
    with app.app_context():
        (programme,) = programmes.list_programmes(current().uow())
    finance.post("/finance/440000/batches", data={"csrf_token": token, "programme": programme.id})
    with app.app_context():
        (batch,) = settlement.batches_of(current().uow(), "440000")
    exported = finance.post(
        f"/finance/batches/{batch.id}/export/pain001", data={"csrf_token": token}
    )
    assert exported.mimetype == "application/xml", exported.get_data(as_text=True)[:300]
    assert_valid_pain001(exported.data)
    document = etree.fromstring(exported.data)
    assert document.findtext(f".//{PAIN}DbtrAcct/{PAIN}Id/{PAIN}Othr/{PAIN}Id") == (
        demo.FUNDING_ACCOUNT.account_number
    )
    creditor = document.find(f".//{PAIN}CdtTrfTxInf/{PAIN}CdtrAgt/{PAIN}FinInstnId")
    assert creditor is not None
    assert creditor.findtext(f"{PAIN}ClrSysMmbId/{PAIN}ClrSysId/{PAIN}Cd") == "CNAPS"
    assert len(creditor.findtext(f"{PAIN}ClrSysMmbId/{PAIN}MmbId") or "") == 12
