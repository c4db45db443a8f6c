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
from voucher_app.domain.actors import Actor, Role
from voucher_app.services import settlement
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

    auditor = app.test_client()
    sign_in(auditor, account(app, Role.AUDITOR, center="440000").username, PASSWORD)
    assert auditor.get("/finance/440300").status_code == 200
    theirs = {"csrf_token": csrf_token(auditor, "/finance/440300"), "programme": str(programme)}
    assert auditor.post("/finance/440300/batches", data=theirs).status_code == 403
    guangzhou = app.test_client()
    sign_in(guangzhou, account(app, Role.CENTER_FINANCE, center="440100").username, PASSWORD)
    assert guangzhou.get("/finance/440300").status_code == 403
