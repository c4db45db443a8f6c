"""An SME clerk on a phone signs in, sees the programme it can claim from, claims a voucher,
and finds it on its page with the QR code, the human code and the whole value left."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskCliRunner
from playwright.sync_api import Page, expect

from tests import factories
from tests.browser.steps import sign_in
from tests.e2e.accounts import account
from tests.e2e.demo_data import load_demo
from voucher_app.domain.actors import Role
from voucher_app.services import vouchers
from voucher_app.wiring import current


def test_an_sme_claims_a_voucher_and_sees_it_with_its_codes(
    app: Flask, runner: FlaskCliRunner, live_url: str, page: Page
) -> None:
    programme = load_demo(app, runner)
    with app.app_context():
        uscc = factories.sme(current().uow(), 7).uscc  # a micro firm in Nanshan, no voucher yet
    clerk = account(app, Role.SME, sme=uscc)

    sign_in(page, live_url, clerk.username)
    expect(page).to_have_url(f"{live_url}/sme/{uscc}")
    expect(page.locator(".notice")).to_have_text("还没有服务券：请在下方申领。")
    offer = page.locator("li.offer").first
    expect(offer.locator("h3")).to_have_text(re.compile("服务券"))
    offer.get_by_role("button", name="申领服务券").click()

    with app.app_context():
        (held,) = vouchers.list_vouchers(current().uow(), sme_uscc=uscc)
    assert held.programme_id == programme
    expect(page.locator(".flash.success")).to_contain_text(held.human_code)
    card = page.locator(f"#v-{held.id}")
    expect(card.locator(".human-code")).to_have_text(held.human_code)
    face = f"¥{held.face_value_fen // 100:,}.00"
    expect(card.locator(".remaining")).to_have_text(f"{face} / {face}")
    expect(card.locator(".status")).to_have_text("有效")
    expect(card.locator(".qr svg")).to_be_visible()

    card.get_by_role("button", name="生成核验码").click()
    expect(page.locator(".passcode")).to_contain_text(re.compile(r"\d{6}"))
