"""A visitor on a phone: the catalogue in Chinese, filtered to one category, then the switch
to English and back — asserting what the page shows each time."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskCliRunner
from playwright.sync_api import Page, expect

from tests.e2e.demo_data import load_demo


def test_the_catalogue_filters_and_the_language_switch_keeps_the_page(
    app: Flask, runner: FlaskCliRunner, live_url: str, page: Page
) -> None:
    load_demo(app, runner)
    page.goto(f"{live_url}/catalogue")
    expect(page.locator("h1")).to_have_text("服务产品目录")
    page.get_by_label("服务类别").select_option("accounting_tax")
    page.get_by_role("button", name="显示").click()
    products = page.locator("li.product")
    expect(products).to_have_count(1)
    expect(products.first.locator("h2")).to_have_text("小微企业年度汇算清缴代理")
    expect(products.first.locator(".price")).to_have_text("¥3,000.00")

    page.get_by_role("button", name="English").click()
    expect(page.locator("h1")).to_have_text("Service catalogue")
    expect(page).to_have_url(re.compile(r"/catalogue\?category=accounting_tax"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("li.product")).to_have_count(1)  # the same filter, now in English
    expect(page.get_by_label("Category")).to_have_value("accounting_tax")

    page.get_by_role("button", name="中文").click()
    expect(page.locator("h1")).to_have_text("服务产品目录")
