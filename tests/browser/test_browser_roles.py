"""What a role is shown in Chromium: the center budget page offers the transfer to the center's
admin and not to its reviewer (who would only be refused), and a refusal or an unknown address is
a page in the site's frame and language — not HTML source shown as text, not the API's JSON."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskCliRunner
from playwright.sync_api import Browser, Page, expect

from tests.browser.steps import sign_in
from tests.e2e.accounts import account
from tests.e2e.demo_data import load_demo
from voucher_app.domain.actors import Role


def test_the_budget_page_offers_the_transfer_to_the_admin_and_not_to_the_reviewer(
    app: Flask, runner: FlaskCliRunner, live_url: str, page: Page, browser: Browser
) -> None:
    load_demo(app, runner)
    reviewer = account(app, Role.CENTER_STAFF, center="440300")  # as reviewer.shenzhen
    admin = account(app, Role.CENTER_ADMIN, center="440300")  # as admin.shenzhen

    sign_in(page, live_url, reviewer.username)
    page.goto(f"{live_url}/center/440300/budget")
    expect(page.get_by_role("heading", level=1)).to_contain_text("逐级下达预算")
    expect(page.locator("section.programme").first).to_be_visible()
    expect(page.get_by_role("button", name="下达")).to_have_count(0)
    expect(page.get_by_role("button", name="收回未用预算")).to_have_count(0)
    expect(page.locator("form[action*='/budget/']")).to_have_count(0)

    context = browser.new_context(locale="zh-CN")
    other = context.new_page()
    sign_in(other, live_url, admin.username)
    other.goto(f"{live_url}/center/440300/budget")
    expect(other.get_by_role("button", name="下达").first).to_be_visible()
    expect(other.get_by_role("button", name="收回未用预算").first).to_be_visible()
    context.close()


def test_a_refusal_and_an_unknown_address_are_pages_in_the_browser(
    app: Flask, runner: FlaskCliRunner, live_url: str, page: Page
) -> None:
    load_demo(app, runner)
    reviewer = account(app, Role.CENTER_STAFF, center="440300")
    sign_in(page, live_url, reviewer.username)

    refused = page.goto(f"{live_url}/center/440000/budget")  # the province: above theirs
    assert refused is not None and refused.status == 403
    assert refused.headers["content-type"].startswith("text/html")
    expect(page.get_by_role("heading", level=1)).to_have_text("抱歉")
    expect(page.get_by_role("alert")).to_have_text("您的账户无权打开此页面。")
    expect(page.get_by_role("link", name="用其他账户登录")).to_be_visible()
    page.get_by_role("link", name="返回首页").click()
    expect(page).to_have_url(f"{live_url}/center/440300/review")

    missing = page.goto(f"{live_url}/no-such-page")
    assert missing is not None and missing.status == 404
    expect(page.get_by_role("alert")).to_have_text("没有这个页面。")
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("alert")).to_have_text("There is no such page.")
