"""A city's administrators pass budget down to a district and take unspent budget back from
their page; its staff read it; another city neither reads nor moves it."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskCliRunner

from tests.e2e.accounts import PASSWORD, account
from tests.e2e.demo_data import load_demo
from tests.e2e.pages import csrf_token, sign_in
from voucher_app.domain.actors import Role
from voucher_app.services import programmes
from voucher_app.wiring import current


def left(app: Flask, programme: object, code: str) -> int:
    with app.app_context():
        return programmes.available_budget(current().uow(), programme, code)  # type: ignore[arg-type]


def test_budget_moves_between_a_center_and_its_child(app: Flask, runner: FlaskCliRunner) -> None:
    programme = load_demo(app, runner)
    admin = app.test_client()
    sign_in(admin, account(app, Role.CENTER_ADMIN, center="440300").username, PASSWORD)
    city, nanshan = left(app, programme, "440300"), left(app, programme, "440305")
    page = admin.get("/center/440300/budget").get_data(as_text=True)
    row = page.split('data-center="440305"')[1].split("</tr>")[0]
    assert f"¥{nanshan // 100:,}.00" in row

    token = csrf_token(admin, "/center/440300/budget")
    url = f"/center/440300/budget/{programme}"
    admin.post(
        url, data={"csrf_token": token, "child": "440305", "amount": "1,000", "direction": "down"}
    )
    assert (left(app, programme, "440300"), left(app, programme, "440305")) == (
        city - 100_000, nanshan + 100_000,
    )  # fmt: skip
    admin.post(
        url, data={"csrf_token": token, "child": "440305", "amount": "400", "direction": "back"}
    )
    assert left(app, programme, "440305") == nanshan + 60_000
    too_much = {"csrf_token": token, "child": "440305", "amount": "999999999", "direction": "back"}
    refused = admin.post(url, data=too_much)
    assert left(app, programme, "440305") == nanshan + 60_000
    assert 'class="flash error"' in admin.get(refused.location).get_data(as_text=True)

    staff = app.test_client()
    sign_in(staff, account(app, Role.CENTER_STAFF, center="440300").username, PASSWORD)
    assert staff.get("/center/440300/budget").status_code == 200
    theirs = {"csrf_token": csrf_token(staff, "/center/440300/budget"), "child": "440305",
              "amount": "1", "direction": "down"}  # fmt: skip
    assert staff.post(url, data=theirs).status_code == 403  # only admins move budget
    guangzhou = app.test_client()
    sign_in(guangzhou, account(app, Role.CENTER_ADMIN, center="440100").username, PASSWORD)
    assert guangzhou.get("/center/440300/budget").status_code == 403
