"""The programme's funding account on a page: only its owner center's administrators open or
set it (the API's policy, `Action.ADMINISTER` on the programme), and a pain.001 export of a
programme without one says so in the page's language and leads to that page."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import update

from tests.e2e.accounts import PASSWORD, account
from tests.e2e.demo_data import load_demo
from tests.e2e.pages import csrf_token, sign_in, visible_text
from voucher_app.domain.actors import Role
from voucher_app.persistence.models import Programme
from voucher_app.services import demo, programmes, settlement
from voucher_app.wiring import current

NEW = {
    "account_name": "广东省中小企业发展促进中心",
    "account_number": "4400123456789012",
    "bank_name": "中国银行广州分行",
    "cnaps": "104581000019",
}


def test_only_the_owner_centers_administrators_open_or_set_it(
    app: Flask, runner: FlaskCliRunner
) -> None:
    programme = load_demo(app, runner)
    path = f"/center/programmes/{programme}/funding-account"
    for role, center in (
        (Role.CENTER_FINANCE, "440000"),  # not an administrator
        (Role.CENTER_STAFF, "440000"),
        (Role.CENTER_ADMIN, "440300"),  # an administrator of another center (below the owner)
    ):
        client = app.test_client()
        sign_in(client, account(app, role, center=center).username, PASSWORD)
        assert client.get(path).status_code == 403
        token = csrf_token(client, "/")
        assert client.post(path, data={**NEW, "csrf_token": token}).status_code == 403
    with app.app_context():
        recorded = programmes.get_programme(current().uow(), programme)
    assert recorded.funding_account == demo.FUNDING_ACCOUNT

    owner = app.test_client()
    sign_in(owner, account(app, Role.CENTER_ADMIN, center="440000").username, PASSWORD)
    token = csrf_token(owner, path)
    done = owner.post(path, data={**NEW, "csrf_token": token})
    assert done.status_code == 302
    assert "4400123456789012" in visible_text(owner.get(path).get_data(as_text=True))


def test_an_export_without_a_funding_account_says_what_is_missing_and_where_to_set_it(
    app: Flask, runner: FlaskCliRunner
) -> None:
    programme = load_demo(app, runner)
    with app.app_context(), current().database.engine.begin() as connection:
        connection.execute(
            update(Programme).values(funding_account_number=None, funding_account_name=None)
        )
    finance = app.test_client()
    sign_in(finance, account(app, Role.CENTER_FINANCE, center="440000").username, PASSWORD)
    overview = finance.get("/finance/440000").get_data(as_text=True)
    assert "尚未设置资金账户：无法导出付款文件。" in visible_text(overview)
    token = csrf_token(finance, "/finance/440000")
    finance.post("/finance/440000/batches", data={"csrf_token": token, "programme": programme})
    with app.app_context():
        (batch,) = settlement.batches_of(current().uow(), "440000")
    refused = finance.post(
        f"/finance/batches/{batch.id}/export/pain001", data={"csrf_token": token}
    )
    page = refused.get_data(as_text=True)
    assert refused.status_code >= 400 and refused.mimetype == "text/html"
    assert "尚未设置资金账户" in visible_text(page) and "record the programme" not in page
    assert f'href="/center/programmes/{programme}/funding-account"' in page
    assert 'href="/finance/440000"' in page
    with app.app_context():
        assert settlement.get_batch(current().uow(), batch.id).status == "draft"  # not frozen
