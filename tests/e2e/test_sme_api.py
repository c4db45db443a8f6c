"""SME registration over HTTP: anyone registers a new SME (its size class computed), but only
the SME itself or its center's staff update a registered one."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskCliRunner

from tests import factories
from tests.e2e.accounts import bearer
from voucher_app.domain.actors import Role


def test_anyone_registers_an_sme_and_only_it_or_its_center_updates_it(
    app: Flask, runner: FlaskCliRunner
) -> None:
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    client = app.test_client()
    code = factories.uscc(77, "440306")
    declaration = {
        "uscc": code,
        "name": "深圳市宝安区精密五金厂",
        "industry": "industry",
        "employees": 30,
        "revenue_fen": 500_000_000,
        "assets_fen": 200_000_000,
        "home_center": "440306",
    }
    made = client.post("/api/v1/smes", json=declaration)
    assert made.status_code == 201, made.get_json()
    assert (made.get_json()["size"], made.get_json()["home_center"]) == ("small", "440306")
    grown = {**declaration, "employees": 400}
    anonymous = client.post("/api/v1/smes", json=grown)
    assert (anonymous.status_code, anonymous.get_json()["code"]) == (409, "sme_exists")
    elsewhere = client.post(
        "/api/v1/smes", json=grown, headers=bearer(app, Role.CENTER_STAFF, center="440100")
    )
    assert elsewhere.get_json()["code"] == "sme_exists"  # Guangzhou may not change it
    itself = client.post("/api/v1/smes", json=grown, headers=bearer(app, Role.SME, sme=code))
    assert itself.status_code == 201 and itself.get_json()["employees"] == 400
    center = bearer(app, Role.CENTER_STAFF, center="440300")
    shrunk = client.post("/api/v1/smes", json={**declaration, "employees": 12}, headers=center)
    assert shrunk.get_json()["size"] == "micro"  # under 20 staff: micro (2011 standard)
    read = client.get(f"/api/v1/smes/{code}", headers=center)
    assert read.status_code == 200 and read.get_json()["employees"] == 12
    bad = client.post("/api/v1/smes", json={**declaration, "uscc": "91440306MA0000000X"})
    assert (bad.status_code, bad.get_json()["code"]) == (400, "invalid_uscc")
