"""A redemption over HTTP, as the people involved make it: the provider's desk submits with the
voucher's token (retried with the same Idempotency-Key), the SME confirms, Shenzhen's
reviewer approves; the history names each of them, and the ledger verifies."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask, json
from flask.testing import FlaskCliRunner

from tests.e2e.accounts import bearer
from tests.e2e.demo_data import load_demo, tax_adviser
from voucher_app.domain.actors import Role
from voucher_app.domain.calendar import local_date
from voucher_app.services import demo

SME_USCC = demo.SMES[0].uscc  # holds demo vouchers 0 and 1, issued by Nanshan (440305)


def test_a_redemption_is_submitted_confirmed_and_approved_over_http(
    app: Flask, runner: FlaskCliRunner
) -> None:
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    listed = runner.invoke(args=["vouchers", "list", "--json"])
    voucher = [v for v in json.loads(listed.output) if v["sme"] == SME_USCC][1]
    provider, product = tax_adviser(app)
    desk = bearer(app, Role.PROVIDER, provider=provider)
    clerk = bearer(app, Role.SME, sme=SME_USCC)
    reviewer = bearer(app, Role.CENTER_STAFF, center="440300")
    client = app.test_client()
    body = {
        "token": voucher["token"],
        "product_id": str(product),
        "invoice_number": "GZTH-2026-0415",
        "invoiced_fen": 300_000,
        "delivered_on": local_date(datetime.now(UTC)).isoformat(),
    }
    url = f"/api/v1/providers/{provider}/redemptions"
    keyed = {**desk, "Idempotency-Key": "desk-0415"}
    first = client.post(url, json=body, headers=keyed)
    assert first.status_code == 201, first.get_json()
    redemption = first.get_json()
    assert (redemption["subsidy_fen"], redemption["status"]) == (150_000, "submitted")
    again = client.post(url, json=body, headers=keyed)
    assert again.get_json()["id"] == redemption["id"]  # the retry returns the first redemption
    other = client.post(url, json={**body, "invoiced_fen": 1}, headers=keyed)
    assert (other.status_code, other.get_json()["code"]) == (409, "idempotency_key_reused")
    both = client.post(url, json={**body, "human_code": "X"}, headers=desk)
    assert both.status_code == 422  # a token or a code, not both

    base = f"/api/v1/redemptions/{redemption['id']}"
    assert client.post(f"{base}/approve", headers=clerk).status_code == 403  # not the SME's
    assert client.post(f"{base}/confirm", headers=reviewer).status_code == 403
    assert client.post(f"{base}/confirm", headers=clerk).get_json()["status"] == "confirmed"
    assert client.post(f"{base}/approve", headers=reviewer).get_json()["status"] == "approved"
    history = client.get(f"{base}/history", headers=desk).get_json()
    assert [(e["status"], e["role"]) for e in history] == [
        ("submitted", "provider"),
        ("confirmed", "sme"),
        ("approved", "center_staff"),
    ]
    assert client.get(base, headers=clerk).get_json()["status"] == "approved"

    # A second redemption is rejected; the desk corrects the invoice and submits it again.
    second = client.post(url, json={**body, "invoice_number": "GZTH-2026-0416"}, headers=desk)
    again_base = f"/api/v1/redemptions/{second.get_json()['id']}"
    rejected = client.post(f"{again_base}/reject", json={"reason": "金额有误"}, headers=reviewer)
    assert rejected.get_json()["status"] == "rejected"
    corrected = {**body, "invoice_number": "GZTH-2026-0416A", "invoiced_fen": 100_000}
    del corrected["token"]
    resubmitted = client.post(f"{again_base}/resubmit", json=corrected, headers=desk)
    assert resubmitted.status_code == 200, resubmitted.get_json()
    assert (resubmitted.get_json()["status"], resubmitted.get_json()["subsidy_fen"]) == (
        "submitted",
        50_000,
    )
    assert client.post(f"{again_base}/resubmit", json=corrected, headers=clerk).status_code == 403
    verify = runner.invoke(args=["ledger", "verify"])
    assert verify.exit_code == 0, verify.output


def test_an_sme_claims_hands_over_a_passcode_rates_and_complains_over_http(
    app: Flask, runner: FlaskCliRunner
) -> None:
    programme = load_demo(app, runner)
    provider, product = tax_adviser(app)
    desk = bearer(app, Role.PROVIDER, provider=provider)
    clerk = bearer(app, Role.SME, sme=SME_USCC)
    reviewer = bearer(app, Role.CENTER_STAFF, center="440305")
    client = app.test_client()
    held = client.get(f"/api/v1/smes/{SME_USCC}/vouchers", headers=clerk).get_json()
    claimed = client.post(
        f"/api/v1/smes/{SME_USCC}/vouchers", json={"programme_id": str(programme)}, headers=clerk
    )
    assert claimed.status_code == 201, claimed.get_json()
    voucher = claimed.get_json()
    assert voucher["token"] and voucher["remaining_fen"] == voucher["face_value_fen"]
    now_held = client.get(f"/api/v1/smes/{SME_USCC}/vouchers", headers=clerk).get_json()
    assert len(now_held) == len(held) + 1
    code = client.post(f"/api/v1/vouchers/{voucher['id']}/passcode", headers=clerk).get_json()
    assert len(code["passcode"]) == 6 and code["valid_minutes"] == 15
    body = {
        "human_code": voucher["human_code"],
        "passcode": code["passcode"],
        "product_id": str(product),
        "invoice_number": "GZTH-2026-0500",
        "invoiced_fen": 200_000,
        "delivered_on": local_date(datetime.now(UTC)).isoformat(),
    }
    redemption = client.post(f"/api/v1/providers/{provider}/redemptions", json=body, headers=desk)
    assert redemption.status_code == 201, redemption.get_json()
    base = f"/api/v1/redemptions/{redemption.get_json()['id']}"
    early = client.post(f"{base}/rating", json={"score": 5}, headers=clerk)
    assert (early.status_code, early.get_json()["code"]) == (409, "not_rateable")
    client.post(f"{base}/confirm", headers=clerk)
    assert client.post(f"{base}/approve", headers=reviewer).status_code == 200
    rated = client.post(f"{base}/rating", json={"score": 3, "comment": "晚了一周"}, headers=clerk)
    assert rated.status_code == 201 and rated.get_json() == {"count": 2, "average": 4.0}
    filed = client.post(f"{base}/complaints", json={"text": "报告晚交一周"}, headers=clerk)
    assert filed.status_code == 201 and filed.get_json()["center"] == "440305"
    listed = client.get("/api/v1/complaints?center=440305&open=true", headers=reviewer)
    assert [c["text"] for c in listed.get_json()["items"]] == ["报告晚交一周"]
    complaint = filed.get_json()["id"]
    resolved = client.post(
        f"/api/v1/complaints/{complaint}/resolve",
        json={"resolution": "机构已致歉并减免费用"},
        headers=reviewer,
    )
    assert resolved.get_json()["status"] == "resolved"
    revoked = client.post(
        f"/api/v1/vouchers/{voucher['id']}/revoke", json={"reason": "企业注销"}, headers=reviewer
    )
    assert revoked.status_code == 200 and revoked.get_json()["status"] == "revoked"
    verify = runner.invoke(args=["ledger", "verify"])
    assert verify.exit_code == 0, verify.output
