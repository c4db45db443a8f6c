"""The SME's pages through the test client: who may see and act on them, a refused claim
explained in the clerk's language, and no claim without the form's CSRF token."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskCliRunner

from tests import factories
from tests.e2e.accounts import PASSWORD, account
from tests.e2e.demo_data import load_demo, new_voucher, submitted_redemption
from tests.e2e.pages import csrf_token, sign_in, visible_text
from voucher_app.domain.actors import Actor, Role
from voucher_app.services import demo, redemptions, vouchers
from voucher_app.wiring import current


def test_only_the_sme_and_its_centers_see_its_page_and_only_the_sme_claims(
    app: Flask, runner: FlaskCliRunner
) -> None:
    programme = load_demo(app, runner)
    with app.app_context():
        uscc = factories.sme(current().uow(), 7).uscc
    url, claim = f"/sme/{uscc}", f"/sme/{uscc}/claim/{programme}"

    anonymous = app.test_client().get(url)
    assert (anonymous.status_code, anonymous.location) == (302, f"/sign-in?next={url}?")
    other = app.test_client()
    sign_in(other, account(app, Role.SME, sme=demo.SMES[0].uscc).username, PASSWORD)
    assert other.get(url).status_code == 403
    assert "您的账户无权打开此页面" in visible_text(other.get(url).get_data(as_text=True))
    staff = app.test_client()
    sign_in(staff, account(app, Role.CENTER_STAFF, center="440300").username, PASSWORD)
    assert staff.get(url).status_code == 200
    token = csrf_token(staff, url)
    assert staff.post(claim, data={"csrf_token": token}).status_code == 403
    with app.app_context():
        assert vouchers.list_vouchers(current().uow(), sme_uscc=uscc) == []


def test_a_refused_claim_is_explained_and_a_forged_one_is_refused(
    app: Flask, runner: FlaskCliRunner
) -> None:
    programme = load_demo(app, runner)
    uscc = demo.SMES[3].uscc  # a medium-sized firm: the demo programme takes small and micro
    clerk = app.test_client()
    sign_in(clerk, account(app, Role.SME, sme=uscc).username, PASSWORD)
    claim = f"/sme/{uscc}/claim/{programme}"
    with app.app_context():
        before = len(vouchers.list_vouchers(current().uow(), sme_uscc=uscc))

    assert clerk.post(claim).status_code == 400  # no CSRF token
    refused = clerk.post(claim, data={"csrf_token": csrf_token(clerk, f"/sme/{uscc}")})
    assert (refused.status_code, refused.location) == (302, f"/sme/{uscc}")
    page = visible_text(clerk.get(f"/sme/{uscc}").get_data(as_text=True))
    assert "该项目不面向中型企业" in page  # the reason, in Chinese, where the clerk looks
    with app.app_context():
        assert len(vouchers.list_vouchers(current().uow(), sme_uscc=uscc)) == before


def test_the_sme_answers_a_redemption_of_its_voucher(app: Flask, runner: FlaskCliRunner) -> None:
    voucher = new_voucher(app, load_demo(app, runner))
    uscc = voucher.sme_uscc
    redemption = submitted_redemption(app, voucher, "A-1", 100_000)
    clerk = app.test_client()
    sign_in(clerk, account(app, Role.SME, sme=uscc).username, PASSWORD)
    page = clerk.get(f"/sme/{uscc}").get_data(as_text=True)
    assert f'id="redemption-{redemption.id}"' in page and "A-1" in visible_text(page)

    other = app.test_client()
    sign_in(other, account(app, Role.SME, sme=demo.SMES[0].uscc).username, PASSWORD)
    token = csrf_token(other, f"/sme/{demo.SMES[0].uscc}")
    assert (
        other.post(
            f"/sme/redemptions/{redemption.id}/confirm", data={"csrf_token": token}
        ).status_code
        == 403
    )

    token = csrf_token(clerk, f"/sme/{uscc}")
    clerk.post(
        f"/sme/redemptions/{redemption.id}/dispute", data={"csrf_token": token, "reason": " "}
    )
    assert "请说明理由" in visible_text(clerk.get(f"/sme/{uscc}").get_data(as_text=True))
    answered = clerk.post(f"/sme/redemptions/{redemption.id}/confirm", data={"csrf_token": token})
    assert answered.location == f"/sme/{uscc}"
    page = clerk.get(f"/sme/{uscc}").get_data(as_text=True)
    assert f'id="redemption-{redemption.id}"' not in page and "您已确认" in visible_text(page)
    with app.app_context():
        assert redemptions.get_redemption(current().uow(), redemption.id).status == "confirmed"


def test_the_sme_rates_an_approved_service_once(app: Flask, runner: FlaskCliRunner) -> None:
    voucher = new_voucher(app, load_demo(app, runner))
    redemption = submitted_redemption(app, voucher, "R-1", 100_000)
    with app.app_context():
        uow = current().uow()
        redemptions.confirm_redemption(uow, redemption.id, Actor("clerk", Role.SME))
        redemptions.approve_redemption(uow, redemption.id, Actor("reviewer", Role.CENTER_STAFF))
    clerk = app.test_client()
    sign_in(clerk, account(app, Role.SME, sme=voucher.sme_uscc).username, PASSWORD)
    url = f"/sme/{voucher.sme_uscc}"
    assert f'id="rate-{redemption.id}"' in clerk.get(url).get_data(as_text=True)
    token = csrf_token(clerk, url)
    clerk.post(f"/sme/redemptions/{redemption.id}/rating", data={"csrf_token": token})
    assert "请选择 1 到 5 分" in visible_text(clerk.get(url).get_data(as_text=True))
    rating = {"csrf_token": token, "score": "4", "comment": "准时"}
    clerk.post(f"/sme/redemptions/{redemption.id}/rating", data=rating)
    page = clerk.get(url).get_data(as_text=True)
    assert f'id="rate-{redemption.id}"' not in page  # rated once, asked no more
    catalogue = clerk.get("/api/v1/catalogue?category=accounting_tax").get_json()["items"]
    assert catalogue[0]["provider_rating"]["count"] == 2  # the demo's rating and this one


def test_the_sme_sees_its_reminders_in_its_language(app: Flask, runner: FlaskCliRunner) -> None:
    voucher = new_voucher(app, load_demo(app, runner))
    submitted_redemption(app, voucher, "M-1", 100_000)  # asks the SME to confirm
    clerk = app.test_client()
    sign_in(clerk, account(app, Role.SME, sme=voucher.sme_uscc).username, PASSWORD)
    url = f"/sme/{voucher.sme_uscc}"
    chinese = visible_text(clerk.get(url).get_data(as_text=True))
    assert f"请确认服务券 {voucher.human_code} 的兑付申请" in chinese
    english = visible_text(clerk.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True))
    assert voucher.human_code in english and "请确认服务券" not in english
