"""Idempotency-Key over HTTP: a retried request gets the first answer (and does nothing more),
another request under the same key is refused, and each user's keys are their own."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from tests.e2e.accounts import PASSWORD, bearer
from voucher_app.domain.actors import Role


def test_a_retried_request_gets_the_first_answer_and_does_nothing_more(app: Flask) -> None:
    client = app.test_client()
    auth = {**bearer(app, Role.ADMIN), "Idempotency-Key": "make-token-1"}
    first = client.post("/api/v1/auth/tokens", json={"name": "ops"}, headers=auth)
    again = client.post("/api/v1/auth/tokens", json={"name": "ops"}, headers=auth)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    names = [t["name"] for t in client.get("/api/v1/auth/tokens", headers=auth).get_json()]
    assert names == ["tests", "ops"]  # the helper's token and one more, not two
    other = client.post("/api/v1/auth/tokens", json={"name": "other"}, headers=auth)
    assert (other.status_code, other.get_json()["code"]) == (409, "idempotency_key_reused")
    long_key = {**auth, "Idempotency-Key": "k" * 201}
    assert (
        client.post("/api/v1/auth/tokens", json={"name": "x"}, headers=long_key).status_code == 400
    )


def test_keys_are_per_user_and_anonymous_requests_have_them_too(
    app: Flask, client: FlaskClient
) -> None:
    one = {**bearer(app, Role.ADMIN), "Idempotency-Key": "same"}
    two = {**bearer(app, Role.ADMIN), "Idempotency-Key": "same"}
    a = client.post("/api/v1/auth/tokens", json={"name": "a"}, headers=one)
    b = client.post("/api/v1/auth/tokens", json={"name": "b"}, headers=two)
    assert a.status_code == b.status_code == 201 and a.get_json()["id"] != b.get_json()["id"]
    body = {"username": "yunfan", "password": PASSWORD, "role": "sme", "sme": "nope"}
    key = {"Idempotency-Key": "register-1"}
    first = client.post("/api/v1/register", json=body, headers=key)
    again = client.post("/api/v1/register", json=body, headers=key)
    assert first.status_code == again.status_code == 400  # not a credit code: refused, stored
    assert again.get_json() == first.get_json()
