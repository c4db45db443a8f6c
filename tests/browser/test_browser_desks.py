"""The provider at a service desk redeems a voucher by typing the code and the passcode the
SME reads out; the center's reviewer approves the redemption from the queue. Each asserts what the
page shows, and what the ledger's services then say."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from flask import Flask
from flask.testing import FlaskCliRunner
from playwright.sync_api import Page, expect

from tests.browser.steps import sign_in
from tests.e2e.accounts import account
from tests.e2e.demo_data import load_demo, new_voucher, submitted_redemption, tax_adviser
from voucher_app.domain.actors import Actor, Role
from voucher_app.domain.calendar import local_date
from voucher_app.services import redemptions, vouchers
from voucher_app.services.vouchers import VoucherView
from voucher_app.signing.qr import qr_png
from voucher_app.wiring import current

CLERK = Actor("sme-clerk", Role.SME)


def fresh_voucher(app: Flask, runner: FlaskCliRunner) -> VoucherView:
    """A Nanshan firm's new voucher of the demo programme."""
    return new_voucher(app, load_demo(app, runner))


def test_a_provider_redeems_a_voucher_by_its_typed_code_and_passcode(
    app: Flask, runner: FlaskCliRunner, live_url: str, page: Page
) -> None:
    voucher = fresh_voucher(app, runner)
    provider, _product = tax_adviser(app)
    with app.app_context():
        passcode = redemptions.new_passcode(current().uow(), voucher.id).code
    desk = account(app, Role.PROVIDER, provider=provider)

    sign_in(page, live_url, desk.username)
    expect(page).to_have_url(f"{live_url}/provider/{provider}")
    page.get_by_label("券码").fill(voucher.human_code.lower())  # as typed, in lower case
    page.get_by_label("企业提供的核验码").fill(passcode)
    page.get_by_label("服务项目").select_option(label="小微企业年度汇算清缴代理 · ¥3,000.00")
    page.get_by_label("发票号码").fill("GZ-2026-1127")
    page.get_by_label("发票金额（元）").fill("3,000")
    today = local_date(datetime.now(UTC)).isoformat()
    page.get_by_label("服务完成日期").fill(today)
    page.get_by_role("button", name="提交兑付申请").click()

    expect(page.locator(".flash.success")).to_contain_text(voucher.human_code)
    row = page.locator("table.redemptions tbody tr").first
    expect(row.locator(".human-code")).to_have_text(voucher.human_code)
    expect(row.locator(".subsidy")).to_have_text("¥1,500.00")
    expect(row.locator(".status")).to_have_text("等待企业确认")
    with app.app_context():
        left = vouchers.get_voucher(current().uow(), voucher.id).remaining_fen
    assert left == voucher.face_value_fen - 150_000

    page.get_by_label("券码").fill(voucher.human_code)  # the passcode works once
    page.get_by_label("企业提供的核验码").fill(passcode)
    page.get_by_label("服务项目").select_option(label="小微企业年度汇算清缴代理 · ¥3,000.00")
    page.get_by_label("发票号码").fill("GZ-2026-1128")
    page.get_by_label("发票金额（元）").fill("100")
    page.get_by_label("服务完成日期").fill(today)
    page.get_by_role("button", name="提交兑付申请").click()
    expect(page.locator("#passcode-errors")).to_contain_text("核验码错误")
    expect(page.get_by_label("发票号码")).to_have_value("GZ-2026-1128")  # kept as typed


def test_a_reviewer_approves_a_confirmed_redemption_from_the_queue(
    app: Flask, runner: FlaskCliRunner, live_url: str, page: Page
) -> None:
    voucher = fresh_voucher(app, runner)
    redemption = submitted_redemption(app, voucher, "GZ-2026-2001", 200_000)
    with app.app_context():
        redemptions.confirm_redemption(current().uow(), redemption.id, CLERK)
    reviewer = account(app, Role.CENTER_STAFF, center="440300")

    sign_in(page, live_url, reviewer.username)
    expect(page).to_have_url(f"{live_url}/center/440300/review")
    row = page.locator(f"#redemption-{redemption.id}")
    expect(row.locator(".subsidy")).to_have_text("¥1,000.00")
    expect(row.locator(".status")).to_have_text("企业已确认，待审核")
    row.get_by_role("button", name="批准", exact=True).click()

    expect(page.locator(".flash.success")).to_contain_text(voucher.human_code)
    expect(page.locator(f"#redemption-{redemption.id}")).to_have_count(0)
    with app.app_context():
        assert redemptions.get_redemption(current().uow(), redemption.id).status == "approved"


def test_a_provider_redeems_a_voucher_by_its_qr_code(
    app: Flask, runner: FlaskCliRunner, live_url: str, page: Page, tmp_path: Path
) -> None:
    voucher = fresh_voucher(app, runner)
    provider, _product = tax_adviser(app)
    photo = tmp_path / "voucher.png"
    photo.write_bytes(qr_png(voucher.token))  # the QR code the SME's page shows
    desk = account(app, Role.PROVIDER, provider=provider)

    sign_in(page, live_url, desk.username)
    page.locator("#scan-photo").set_input_files(str(photo))  # what the phone's camera would see
    expect(page.locator("#scan-result")).to_have_text(
        f"已读取服务券 {voucher.human_code}：请在下方填写服务信息。"
    )
    page.get_by_label("服务项目").select_option(label="小微企业年度汇算清缴代理 · ¥3,000.00")
    page.get_by_label("发票号码").fill("GZ-2026-QR-1")
    page.get_by_label("发票金额（元）").fill("2000")
    page.get_by_label("服务完成日期").fill(local_date(datetime.now(UTC)).isoformat())
    page.get_by_role("button", name="提交兑付申请").click()

    expect(page.locator(".flash.success")).to_contain_text(voucher.human_code)
    row = page.locator("table.redemptions tbody tr").first
    expect(row.locator(".subsidy")).to_have_text("¥1,000.00")
