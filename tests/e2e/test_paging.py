"""Cursor pagination: walking a list page by page with `next` gives every item once, in the
list's order, whatever the page size; a cursor that names nothing and a page size out of range
are refused."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select

from tests.e2e.accounts import bearer
from voucher_app.domain.actors import Actor, Role
from voucher_app.persistence.models import Redemption
from voucher_app.services import tracking
from voucher_app.wiring import current


def walk(client: FlaskClient, url: str, limit: int, headers: dict[str, str]) -> list[Any]:
    """Every item of the list at `url`, `limit` a page, following `next` to the end."""
    items: list[Any] = []
    cursor: str | None = None
    while True:
        suffix = f"&after={cursor}" if cursor else ""
        answer = client.get(f"{url}&limit={limit}{suffix}", headers=headers)
        assert answer.status_code == 200, answer.get_json()
        page = answer.get_json()
        assert len(page["items"]) <= limit
        items += page["items"]
        cursor = page["next"]
        if cursor is None:
            return items
        assert len(page["items"]) == limit  # only a full page has a next one


@pytest.fixture
def demo(app: Flask, runner: FlaskCliRunner) -> None:
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    with app.app_context(), current().database.engine.connect() as connection:
        redemptions = connection.execute(select(Redemption.public_id)).scalars().all()
    clerk = Actor("sme-clerk", Role.SME)
    with app.app_context():
        for number, redemption in enumerate(redemptions):
            tracking.file_complaint(current().uow(), redemption, f"投诉 {number}", clerk)


@pytest.mark.usefixtures("demo")
def test_every_list_walks_whole_and_in_order_at_any_page_size(app: Flask) -> None:
    client = app.test_client()
    admin = bearer(app, Role.ADMIN)
    for name in ("li.lei", "han.meimei", "wang.fang"):
        user = {"username": name, "password": "correct horse battery staple", "role": "admin"}
        assert client.post("/api/v1/users", json=user, headers=admin).status_code == 201
    lists = {
        "/api/v1/catalogue?": {},
        "/api/v1/complaints?center=440000": admin,
        "/api/v1/users?": admin,
    }
    for url, headers in lists.items():
        whole = client.get(f"{url}&limit=200", headers=headers).get_json()
        assert whole["next"] is None and len(whole["items"]) >= 3, url
        for limit in (1, 2, len(whole["items"])):
            assert walk(client, url, limit, headers) == whole["items"], (url, limit)
    names = [user["username"] for user in walk(client, "/api/v1/users?", 2, admin)]
    assert names == sorted(names)


@pytest.mark.usefixtures("demo")
def test_a_cursor_must_name_an_item_and_a_page_has_one_to_200(app: Flask) -> None:
    client = app.test_client()
    stranger = client.get(f"/api/v1/catalogue?after={uuid.uuid4()}")
    assert (stranger.status_code, stranger.get_json()["field"]) == (400, "after")
    for limit in (0, 201, "many"):
        refused = client.get(f"/api/v1/catalogue?limit={limit}")
        assert refused.status_code == 422
        assert "limit" in refused.get_json()["errors"]["query"]
