"""A center's approvals page: providers that applied below it and accounts that registered
there wait for its staff (not another city's); approve, reject with a reason, let in."""

from __future__ import annotations

import uuid

from flask import Flask
from flask.testing import FlaskCliRunner

from tests import factories
from tests.e2e.accounts import PASSWORD, account
from tests.e2e.demo_data import load_demo
from tests.e2e.pages import csrf_token, sign_in, visible_text
from voucher_app.domain.actors import Role
from voucher_app.services import providers, users
from voucher_app.wiring import current

APPLICATION = {
    "name": "广州越秀法律服务所",
    "service_categories": ["legal"],
    "contact_name": "李律师",
    "contact_phone": "+86 20 8000 0000",
    "contact_email": "law@example.cn",
    "bank_name": "中国银行广州越秀支行",
    "bank_account_name": "广州越秀法律服务所",
    "bank_account_number": "744000000000001",
    "bank_cnaps": "102581000013",
    "center": "440104",
}


def test_staff_approve_what_applied_below_their_center(app: Flask, runner: FlaskCliRunner) -> None:
    load_demo(app, runner)
    api = app.test_client()
    applied = api.post(
        "/api/v1/providers", json={**APPLICATION, "uscc": factories.uscc(901, "440104")}
    )
    provider = applied.get_json()["id"]
    desk = {
        "username": "yuexiu.desk",
        "password": PASSWORD,
        "role": "provider",
        "provider": provider,
    }
    registered = api.post("/api/v1/register", json=desk).get_json()["id"]
    other = api.post(
        "/api/v1/providers", json={**APPLICATION, "uscc": factories.uscc(902, "440104")}
    )

    guangzhou = app.test_client()
    sign_in(guangzhou, account(app, Role.CENTER_STAFF, center="440100").username, PASSWORD)
    assert guangzhou.get("/center/approvals").location == "/center/440100/approvals"
    page = guangzhou.get("/center/440100/approvals").get_data(as_text=True)
    assert f'id="provider-{provider}"' in page and f'id="account-{registered}"' in page
    shenzhen = app.test_client()
    sign_in(shenzhen, account(app, Role.CENTER_STAFF, center="440300").username, PASSWORD)
    assert shenzhen.get("/center/440100/approvals").status_code == 403
    assert f"provider-{provider}" not in shenzhen.get("/center/440300/approvals").get_data(
        as_text=True
    )

    back = {
        "csrf_token": csrf_token(guangzhou, "/center/440100/approvals"),
        "back": "/center/440100/approvals",
    }
    url = f"/center/providers/{other.get_json()['id']}/decision"
    guangzhou.post(url, data={**back, "decision": "reject"})
    assert "请说明理由" in visible_text(
        guangzhou.get("/center/440100/approvals").get_data(as_text=True)
    )
    guangzhou.post(url, data={**back, "decision": "reject", "reason": "执业证已过期"})
    guangzhou.post(f"/center/providers/{provider}/decision", data={**back, "decision": "approve"})
    guangzhou.post(f"/center/accounts/{registered}/activate", data=back)
    theirs = {"csrf_token": csrf_token(shenzhen, "/center/440300/approvals")}
    assert shenzhen.post(f"/center/accounts/{registered}/activate", data=theirs).status_code == 403

    with app.app_context():
        uow = current().uow()
        assert providers.get_provider(uow, uuid.UUID(provider)).status == "approved"
        rejected = providers.get_provider(uow, uuid.UUID(other.get_json()["id"]))
        assert (rejected.status, rejected.status_reason) == ("rejected", "执业证已过期")
        assert users.get_user(uow, uuid.UUID(registered)).status == "active"
    page = visible_text(guangzhou.get("/center/440100/approvals").get_data(as_text=True))
    assert "没有待决定的服务机构" in page and "没有待审核的账户" in page
