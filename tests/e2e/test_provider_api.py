"""A provider joins over HTTP: it applies to a district center, registers its desk's account,
the center approves both, and its product shows in the public catalogue."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskCliRunner

from tests import factories
from tests.e2e.accounts import PASSWORD, bearer
from voucher_app.domain.actors import Role


def test_a_provider_applies_is_approved_and_publishes_a_product(
    app: Flask, runner: FlaskCliRunner
) -> None:
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    client = app.test_client()
    application = {
        "uscc": factories.uscc(901, "440104"),
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
    applied = client.post("/api/v1/providers", json=application)
    assert applied.status_code == 201, applied.get_json()
    provider = applied.get_json()
    assert (provider["status"], provider["center"]) == ("pending", "440104")
    again = client.post("/api/v1/providers", json=application)
    assert (again.status_code, again.get_json()["code"]) == (409, "provider_exists")
    desk = {"username": "yuexiu.desk", "password": PASSWORD, "role": "provider"}
    registered = client.post("/api/v1/register", json={**desk, "provider": provider["id"]})
    assert registered.status_code == 201

    shenzhen = bearer(app, Role.CENTER_STAFF, center="440300")
    guangzhou = bearer(app, Role.CENTER_STAFF, center="440100")
    approve = {"decision": "approve"}
    url = f"/api/v1/providers/{provider['id']}/decision"
    assert client.post(url, json=approve, headers=shenzhen).status_code == 403
    assert client.post(url, json=approve, headers=guangzhou).get_json()["status"] == "approved"
    user = f"/api/v1/users/{registered.get_json()['id']}/status"
    assert client.post(user, json={"status": "active"}, headers=guangzhou).status_code == 200

    login = {"username": desk["username"], "password": PASSWORD}
    signed_in = client.post("/api/v1/auth/login", json=login)
    assert signed_in.status_code == 200
    product = {
        "name": "合同审查（十页以内）",
        "category": "legal",
        "price_fen": 80_000,
        "standard": "三个工作日内出具书面审查意见",
        "time_limit_days": 3,
        "fee_rules": "按份收费",
    }
    published = client.post(f"/api/v1/providers/{provider['id']}/products", json=product)
    assert published.status_code == 201, published.get_json()
    wrong = client.post(
        f"/api/v1/providers/{provider['id']}/products", json={**product, "category": "training"}
    )
    assert (wrong.status_code, wrong.get_json()["field"]) == (400, "category")  # not its own
    listed = client.get("/api/v1/catalogue?category=legal&center=440100").get_json()["items"]
    assert [p["name"] for p in listed if p["provider_id"] == provider["id"]] == [product["name"]]

    # New terms replace the product in the catalogue; the old version is gone from it.
    url = f"/api/v1/providers/{provider['id']}/products/{published.get_json()['id']}"
    revised = client.put(url, json={**product, "price_fen": 90_000})
    assert revised.status_code == 200, revised.get_json()
    assert revised.get_json()["id"] != published.get_json()["id"]
    listed = client.get("/api/v1/catalogue?category=legal&center=440100").get_json()["items"]
    ours = [p for p in listed if p["provider_id"] == provider["id"]]
    assert [(p["id"], p["price_fen"]) for p in ours] == [(revised.get_json()["id"], 90_000)]
    assert client.put(url, json=product).get_json()["code"] == "unknown_product"  # withdrawn
    latest = f"/api/v1/providers/{provider['id']}/products/{revised.get_json()['id']}"
    assert client.delete(latest).status_code == 204
    assert client.delete(latest).status_code == 404
    listed = client.get("/api/v1/catalogue?category=legal").get_json()["items"]
    assert [p for p in listed if p["provider_id"] == provider["id"]] == []
