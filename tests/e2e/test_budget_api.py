"""Budgets over HTTP: the province funds, Shenzhen's admin passes budget down to Nanshan and
takes some back, nobody moves more than a center has, and the spend report agrees."""

from __future__ import annotations

import dataclasses
from typing import Any

from flask import Flask
from flask.testing import FlaskCliRunner

from tests import factories
from tests.e2e.accounts import bearer
from tests.e2e.demo_data import load_demo
from voucher_app.api.programmes import TermsSchema
from voucher_app.domain.actors import Role
from voucher_app.wiring import current


def test_budget_moves_down_and_back_within_what_each_center_has(
    app: Flask, runner: FlaskCliRunner
) -> None:
    programme = load_demo(app, runner)
    province = bearer(app, Role.CENTER_ADMIN, center="440000")
    shenzhen = bearer(app, Role.CENTER_ADMIN, center="440300")
    auditor = bearer(app, Role.AUDITOR, center="440000")
    client = app.test_client()
    base = f"/api/v1/programmes/{programme}"

    def left(center: str) -> int:
        answer = client.get(f"{base}/budget?center={center}", headers=auditor)
        return int(answer.get_json()["available_fen"])

    before = client.get(base).get_json()  # the terms are public
    funded = client.post(f"{base}/funding", json={"amount_fen": 50_000_000}, headers=province)
    assert funded.status_code == 201 and funded.get_json()["kind"] == "fund"
    assert client.get(base).get_json()["funded_fen"] == before["funded_fen"] + 50_000_000
    assert (
        client.post(f"{base}/funding", json={"amount_fen": 1}, headers=shenzhen).status_code == 403
    )

    nanshan, city = left("440305"), left("440300")
    move = {"from_center": "440300", "to_center": "440305", "amount_fen": 20_000_000}
    keyed = {**shenzhen, "Idempotency-Key": "sz-2026-q4"}
    first = client.post(f"{base}/allocations", json=move, headers=keyed)
    again = client.post(f"{base}/allocations", json=move, headers=keyed)
    assert first.status_code == 201 and again.get_json()["id"] == first.get_json()["id"]
    assert (left("440305"), left("440300")) == (nanshan + 20_000_000, city - 20_000_000)

    too_much = {**move, "amount_fen": city * 10}
    refused = client.post(f"{base}/allocations", json=too_much, headers=shenzhen)
    assert (refused.status_code, refused.get_json()["code"]) == (409, "insufficient_funds")
    sideways = {**move, "to_center": "440100"}
    refused = client.post(f"{base}/allocations", json=sideways, headers=shenzhen)
    assert refused.get_json()["code"] == "not_a_child_center"
    upwards = {"from_center": "440000", "to_center": "440300", "amount_fen": 1}
    assert client.post(f"{base}/allocations", json=upwards, headers=shenzhen).status_code == 403

    back = {"from_center": "440305", "to_center": "440300", "amount_fen": 5_000_000}
    assert client.post(f"{base}/clawbacks", json=back, headers=shenzhen).status_code == 201
    assert left("440305") == nanshan + 15_000_000
    # The allocation was a mistake: only an admin reverses it, once.
    entry = first.get_json()["id"]
    reverse = f"/api/v1/ledger/entries/{entry}/reverse"
    assert client.post(reverse, headers=shenzhen).status_code == 403
    admin = bearer(app, Role.ADMIN)
    reversed_ = client.post(reverse, headers=admin)
    assert reversed_.status_code == 201 and reversed_.get_json()["kind"] == "reverse"
    assert left("440305") == nanshan - 5_000_000
    twice = client.post(reverse, headers=admin)
    assert (twice.status_code, twice.get_json()["code"]) == (409, "already_reversed")
    report = client.get("/api/v1/reports/spend?center=440300", headers=auditor).get_json()
    assert report["total"]["available_fen"] == left("440300") + sum(
        left(line["key"]) for line in report["children"]
    )


def test_a_programme_created_over_http_keeps_every_term(app: Flask) -> None:
    with app.app_context():
        factories.guangdong(current().uow())
    shenzhen = bearer(app, Role.CENTER_ADMIN, center="440300")
    custom_only = ("accepted_industries", "confirmation_days", "budget_shards")
    custom = dataclasses.replace(
        factories.TERMS,
        owner_center="440300",
        accepted_industries=("software_it",),
        confirmation_days=3,
        budget_shards=5,
    )
    terms: dict[str, Any] = TermsSchema().dump(custom)
    client = app.test_client()
    created = client.post("/api/v1/programmes", json=terms, headers=shenzhen)
    assert created.status_code == 201, created.get_json()
    shown = client.get(f"/api/v1/programmes/{created.get_json()['id']}").get_json()
    as_sets = {key: sorted(v) if isinstance(v, list) else v for key, v in terms.items()}
    assert {key: shown[key] for key in terms} == as_sets  # the lists come back sorted
    default = {key: terms[key] for key in terms if key not in custom_only}
    again = client.post("/api/v1/programmes", json=default, headers=shenzhen).get_json()
    assert (again["confirmation_days"], again["accepted_industries"]) == (7, [])
    assert again["budget_shards"] == 16  # one per 8 of its 200 vouchers, at most 16
    wrong = client.post(
        "/api/v1/programmes", json={**terms, "accepted_industries": ["mining"]}, headers=shenzhen
    )
    assert (wrong.status_code, wrong.get_json()["code"]) == (422, "validation_failed")
    too_many = client.post(
        "/api/v1/programmes", json={**terms, "budget_shards": 65}, headers=shenzhen
    )
    assert (too_many.status_code, too_many.get_json()["code"]) == (422, "validation_failed")
