"""The provider's desk and the reviewer's queue through the test client: who may open and act
on them, a rejection needs its reason, and the bulk approval touches only the center's own
queue."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from flask import Flask
from flask.testing import FlaskCliRunner

from tests import factories
from tests.e2e.accounts import PASSWORD, account
from tests.e2e.demo_data import load_demo, new_voucher, submitted_redemption, tax_adviser
from tests.e2e.pages import csrf_token, sign_in, visible_text
from voucher_app.domain.actors import Actor, Role
from voucher_app.domain.calendar import local_date
from voucher_app.services import redemptions
from voucher_app.wiring import current


def confirmed_redemption(app: Flask, runner: FlaskCliRunner) -> uuid.UUID:
    """A redemption by the demo's tax adviser on a new Nanshan voucher, confirmed by the SME."""
    voucher = new_voucher(app, load_demo(app, runner))
    redemption = submitted_redemption(app, voucher, "T-1", 100_000)
    with app.app_context():
        redemptions.confirm_redemption(current().uow(), redemption.id, Actor("clerk", Role.SME))
    return redemption.id


def another_sme(app: Flask) -> str:
    """A Nanshan firm with no vouchers."""
    with app.app_context():
        return factories.sme(current().uow(), 8).uscc


def test_only_the_provider_works_its_desk(app: Flask, runner: FlaskCliRunner) -> None:
    load_demo(app, runner)
    provider, _ = tax_adviser(app)
    desk = app.test_client()
    sign_in(desk, account(app, Role.PROVIDER, provider=provider).username, PASSWORD)
    assert desk.get("/provider/").location == f"/provider/{provider}"
    assert desk.get(f"/provider/{provider}").status_code == 200
    stranger = app.test_client()
    sign_in(stranger, account(app, Role.SME, sme=another_sme(app)).username, PASSWORD)
    assert stranger.get(f"/provider/{provider}").status_code == 403
    assert stranger.get("/provider/").status_code == 403  # an SME has no desk
    staff = app.test_client()
    sign_in(staff, account(app, Role.CENTER_STAFF, center="440100").username, PASSWORD)
    assert staff.get(f"/provider/{provider}").status_code == 200  # its center looks after it
    token = csrf_token(staff, f"/provider/{provider}")
    assert staff.post(f"/provider/{provider}/redeem", data={"csrf_token": token}).status_code == 403


def test_the_queue_is_the_centers_own(app: Flask, runner: FlaskCliRunner) -> None:
    redemption = confirmed_redemption(app, runner)
    shenzhen = app.test_client()
    sign_in(shenzhen, account(app, Role.CENTER_STAFF, center="440300").username, PASSWORD)
    guangzhou = app.test_client()
    sign_in(guangzhou, account(app, Role.CENTER_STAFF, center="440100").username, PASSWORD)
    auditor = app.test_client()
    sign_in(auditor, account(app, Role.AUDITOR, center="440000").username, PASSWORD)

    assert f'id="redemption-{redemption}"' in shenzhen.get("/center/440300/review").get_data(
        as_text=True
    )
    assert guangzhou.get("/center/440300/review").status_code == 403
    assert auditor.get("/center/440000/review").status_code == 403  # auditors change nothing
    token = csrf_token(guangzhou, "/center/440100/review")
    assert (
        guangzhou.post(
            f"/center/redemptions/{redemption}/approve", data={"csrf_token": token}
        ).status_code
        == 403
    )
    mine = guangzhou.post(
        "/center/440100/review/approve", data={"csrf_token": token, "redemption": str(redemption)}
    )
    page = guangzhou.get(mine.location).get_data(as_text=True)
    assert "已批准 0 笔兑付申请" in visible_text(page)

    token = csrf_token(shenzhen, "/center/440300/review")
    back = {"csrf_token": token, "back": "/center/440300/review"}
    shenzhen.post(f"/center/redemptions/{redemption}/reject", data={**back, "reason": "  "})
    assert "请说明理由" in visible_text(
        shenzhen.get("/center/440300/review").get_data(as_text=True)
    )
    with app.app_context():
        assert redemptions.get_redemption(current().uow(), redemption).status == "confirmed"
    done = shenzhen.post(
        "/center/440300/review/approve", data={"csrf_token": token, "redemption": str(redemption)}
    )
    assert "已批准 1 笔兑付申请" in visible_text(shenzhen.get(done.location).get_data(as_text=True))
    with app.app_context():
        assert redemptions.get_redemption(current().uow(), redemption).status == "approved"


def test_a_redemption_needs_the_voucher_shown_one_way_or_the_other(
    app: Flask, runner: FlaskCliRunner
) -> None:
    load_demo(app, runner)
    provider, product = tax_adviser(app)
    desk = app.test_client()
    sign_in(desk, account(app, Role.PROVIDER, provider=provider).username, PASSWORD)
    service = {"product_id": str(product), "invoice_number": "N-1", "invoiced": "100",
               "delivered_on": local_date(datetime.now(UTC)).isoformat()}  # fmt: skip
    token = csrf_token(desk, f"/provider/{provider}")
    page = desk.post(f"/provider/{provider}/redeem", data={**service, "csrf_token": token})
    html = page.get_data(as_text=True)
    assert "请扫描二维码，或输入券码" in visible_text(html.split('id="human_code-errors"')[1])
    assert 'value="N-1"' in html  # the rest of the form is kept
    typed = {**service, "csrf_token": token, "human_code": "ABCD-EFGH-JKM"}
    html = desk.post(f"/provider/{provider}/redeem", data=typed).get_data(as_text=True)
    assert "还需要企业提供的核验码" in visible_text(html.split('id="passcode-errors"')[1])
    forged = {**service, "csrf_token": token, "token": "not.a.voucher"}
    html = desk.post(f"/provider/{provider}/redeem", data=forged).get_data(as_text=True)
    assert 'class="flash error"' in html  # the signature is checked on the server


def test_a_provider_publishes_and_withdraws_its_services(
    app: Flask, runner: FlaskCliRunner
) -> None:
    load_demo(app, runner)
    provider, product = tax_adviser(app)
    desk = app.test_client()
    sign_in(desk, account(app, Role.PROVIDER, provider=provider).username, PASSWORD)
    token = csrf_token(desk, f"/provider/{provider}")
    service = {
        "csrf_token": token,
        "product-name": "小微企业季度纳税申报",
        "product-category": "accounting_tax",
        "product-price": "1,200",
        "product-standard": "按季度申报，出具申报回执",
        "product-time_limit_days": "10",
        "product-fee_rules": "按季度收费",
    }
    wrong = desk.post(f"/provider/{provider}/products", data={**service, "product-price": "免费"})
    assert 'id="product-price-errors"' in wrong.get_data(as_text=True)
    other = desk.post(
        f"/provider/{provider}/products", data={**service, "product-category": "legal"}
    )
    assert 'id="product-category-errors"' in other.get_data(as_text=True)  # not its category
    published = desk.post(f"/provider/{provider}/products", data=service)
    assert published.status_code == 302
    catalogue = desk.get("/api/v1/catalogue?category=accounting_tax").get_json()["items"]
    assert {"小微企业季度纳税申报": 120_000}.items() <= {
        p["name"]: p["price_fen"] for p in catalogue
    }.items()
    desk.post(f"/provider/{provider}/products/{product}/withdraw", data={"csrf_token": token})
    names = [
        p["name"] for p in desk.get("/api/v1/catalogue?category=accounting_tax").get_json()["items"]
    ]
    assert names == ["小微企业季度纳税申报"]  # the annual filing is withdrawn
