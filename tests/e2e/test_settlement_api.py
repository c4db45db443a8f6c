"""Settlement over HTTP: Shenzhen's finance staff batch the approved redemptions, export the
pain.001 file (which freezes the batch), cancel it, and batch the redemptions again."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskCliRunner
from lxml import etree

from tests.e2e.accounts import bearer
from tests.e2e.demo_data import load_demo, new_voucher, submitted_redemption
from tests.integration.test_settlement import FUNDING, PAIN
from tests.iso20022 import assert_valid_pain001
from voucher_app.domain.actors import Actor, Role
from voucher_app.services import settlement
from voucher_app.wiring import current


def test_a_batch_is_built_exported_cancelled_and_built_again(
    app: Flask, runner: FlaskCliRunner
) -> None:
    programme = load_demo(app, runner)
    with app.app_context():
        settlement.set_funding_account(
            current().uow(), programme, FUNDING, Actor("finance", Role.CENTER_ADMIN)
        )
    finance = bearer(app, Role.CENTER_FINANCE, center="440300")
    client = app.test_client()
    built = client.post(
        f"/api/v1/programmes/{programme}/batches", json={"center": "440300"}, headers=finance
    )
    assert built.status_code == 201, built.get_json()
    batch = built.get_json()
    assert (batch["status"], batch["total_fen"], len(batch["items"])) == ("draft", 150_000, 1)
    reference = batch["items"][0]["reference"]

    exported = client.post(f"/api/v1/batches/{batch['id']}/export?format=pain001", headers=finance)
    assert exported.status_code == 200 and exported.mimetype == "application/xml"
    assert (
        f'filename="{batch["reference"]}.pain.001.xml"' in exported.headers["Content-Disposition"]
    )
    document = etree.fromstring(exported.data)
    assert document.findtext(f".//{PAIN}EndToEndId") == reference
    assert document.findtext(f".//{PAIN}CtrlSum") == "1500.00"
    assert document.findtext(f".//{PAIN}DbtrAcct/{PAIN}Id/{PAIN}Othr/{PAIN}Id") == (
        FUNDING.account_number
    )
    assert_valid_pain001(exported.data)
    as_csv = client.post(f"/api/v1/batches/{batch['id']}/export?format=csv", headers=finance)
    assert as_csv.data.startswith("\ufeff".encode())
    assert reference in as_csv.get_data(as_text=True)
    sheet = client.post(f"/api/v1/batches/{batch['id']}/export?format=bulk", headers=finance)
    assert sheet.headers["Content-Type"] == "text/csv; charset=gb18030"
    header, row = sheet.data.decode("gb18030").splitlines()
    assert header == "收款人账号,收款人户名,收款行行号,开户行名称,金额,用途"
    assert row.split(",")[4] == "1500.00" and reference in row
    status = client.get(f"/api/v1/batches/{batch['id']}", headers=finance).get_json()["status"]
    assert status == "exported"

    guangzhou = bearer(app, Role.CENTER_FINANCE, center="440100")
    cancel = {"reason": "金额与审批单不符"}
    refused = client.post(f"/api/v1/batches/{batch['id']}/cancel", json=cancel, headers=guangzhou)
    assert refused.status_code == 403
    cancelled = client.post(f"/api/v1/batches/{batch['id']}/cancel", json=cancel, headers=finance)
    assert cancelled.get_json()["status"] == "cancelled"
    again = client.post(
        f"/api/v1/programmes/{programme}/batches", json={"center": "440300"}, headers=finance
    )
    assert again.status_code == 201 and again.get_json()["total_fen"] == 150_000


def test_over_http_nobody_pays_what_they_approved_and_a_large_batch_needs_a_second_officer(
    app: Flask, runner: FlaskCliRunner
) -> None:
    """不相容职务分离 through the routes: an administrator (who may review and settle) approves a
    redemption and builds the batch paying it, and is refused its approval and its export with 403
    `duties_not_separated`; over the configured total, finance's export waits for a second
    finance officer's approval (403 `second_approval_needed`), then goes through."""
    programme = load_demo(app, runner)
    app.extensions["voucher_app"].second_approval_over_fen = 200_000
    with app.app_context():
        settlement.set_funding_account(
            current().uow(), programme, FUNDING, Actor("admin", Role.ADMIN)
        )
    voucher = new_voucher(app, programme)
    redemption = submitted_redemption(app, voucher, "GZTH-SOD-1", 300_000)
    admin = bearer(app, Role.ADMIN)
    finance = bearer(app, Role.CENTER_FINANCE, center="440300")
    second = bearer(app, Role.CENTER_FINANCE, center="440300")
    client = app.test_client()
    confirmed = client.post(
        f"/api/v1/redemptions/{redemption.id}/confirm",
        headers=bearer(app, Role.SME, sme=voucher.sme_uscc),
    )
    assert confirmed.status_code == 200, confirmed.get_json()
    approved = client.post(f"/api/v1/redemptions/{redemption.id}/approve", headers=admin)
    assert approved.get_json()["status"] == "approved"

    built = client.post(
        f"/api/v1/programmes/{programme}/batches", json={"center": "440300"}, headers=admin
    )
    assert built.status_code == 201, built.get_json()
    batch = built.get_json()
    assert batch["total_fen"] == 300_000  # the demo's approved redemption and this one
    url = f"/api/v1/batches/{batch['id']}"
    for step in (f"{url}/approval", f"{url}/export?format=pain001"):
        refused = client.post(step, headers=admin)
        assert (refused.status_code, refused.get_json()["code"]) == (403, "duties_not_separated")

    waits = client.post(f"{url}/export?format=pain001", headers=finance)
    assert (waits.status_code, waits.get_json()["code"]) == (403, "second_approval_needed")
    assert client.get(url, headers=finance).get_json()["status"] == "draft"
    assert client.post(f"{url}/approval", headers=second).status_code == 200
    exported = client.post(f"{url}/export?format=pain001", headers=finance)
    assert exported.status_code == 200
    assert_valid_pain001(exported.data)
