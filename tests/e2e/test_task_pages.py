"""Long operations on the pages: the request only starts them; the task's page follows the
progress and then shows the result — to the user who started it, and nobody else."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskCliRunner

from tests import factories
from tests.e2e.accounts import PASSWORD, account
from tests.e2e.demo_data import load_demo
from tests.e2e.pages import csrf_token, finished, sign_in
from tests.e2e.uploads import Field, send_form
from voucher_app.domain.actors import Role
from voucher_app.services import demo, vouchers
from voucher_app.wiring import current


def test_a_bulk_list_runs_in_the_background_dry_then_for_real(
    app: Flask, runner: FlaskCliRunner
) -> None:
    programme = load_demo(app, runner)
    with app.app_context():
        nanshan = factories.sme(current().uow(), 7).uscc
    staff = app.test_client()
    sign_in(staff, account(app, Role.CENTER_STAFF, center="440300").username, PASSWORD)
    listing = f"uscc\n{nanshan}\n{demo.SMES[1].uscc}\n".encode()  # the second is in Guangzhou
    form: dict[str, Field] = {
        "csrf_token": csrf_token(staff, "/center/440300/issuance"),
        "programme": str(programme),
        "dry_run": "yes",
        "list": (listing, "list.csv"),
    }
    started = send_form(staff, "/center/440300/issuance", form, {})
    assert started.status_code == 302 and started.location.startswith("/tasks/")
    page = finished(staff, started.location)
    assert "试运行：将发放 1 张" in page and "不在本中心辖区" in page
    with app.app_context():
        assert vouchers.list_vouchers(current().uow(), sme_uscc=nanshan) == []

    other = app.test_client()
    sign_in(other, account(app, Role.CENTER_STAFF, center="440300").username, PASSWORD)
    assert other.get(started.location).status_code == 404  # not theirs

    real = send_form(staff, "/center/440300/issuance", {**form, "dry_run": "no"}, {})
    assert "已发放 1 张" in finished(staff, real.location)
    with app.app_context():
        assert len(vouchers.list_vouchers(current().uow(), sme_uscc=nanshan)) == 1
