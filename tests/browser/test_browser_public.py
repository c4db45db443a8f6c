"""A visitor on a phone: the catalogue in Chinese, filtered to one category, then the switch
to English and back — asserting what the page shows each time; and a search by words, center
and price whose results show where each provider is and how to call it."""

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
    page.get_by_role("button", name="搜索").click()
    products = page.locator("li.product")
    expect(products).to_have_count(1)
    expect(products.first.locator("h2")).to_have_text("小微企业年度汇算清缴代理")
    expect(products.first.locator(".price")).to_have_text("¥3,000.00")

    page.get_by_role("button", name="English").click()
    expect(page.locator("h1")).to_have_text("Service catalogue")
    expect(page).to_have_url(re.compile(r"/catalogue\?.*category=accounting_tax"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("li.product")).to_have_count(1)  # the same filter, now in English
    expect(page.get_by_label("Category")).to_have_value("accounting_tax")

    page.get_by_role("button", name="中文").click()
    expect(page.locator("h1")).to_have_text("服务产品目录")


def test_an_sme_searches_the_catalogue_on_a_phone(
    app: Flask, runner: FlaskCliRunner, live_url: str, page: Page
) -> None:
    load_demo(app, runner)
    page.goto(f"{live_url}/catalogue")
    page.get_by_label("搜索").fill("知识产权")  # the provider's name: 深圳南山知识产权代理有限公司
    page.get_by_role("button", name="搜索").click()
    products = page.locator("li.product")
    expect(products).to_have_count(1)
    expect(products.first.locator("h2")).to_have_text("发明专利申请代理")
    expect(products.first.locator(".address")).to_have_text("深圳市南山区科技园南区 8 栋 3 楼")
    expect(products.first.locator(".phone a")).to_have_attribute("href", "tel:+862088880000")
    expect(products.first.locator(".provider-rating")).to_have_text("暂无评价")

    page.get_by_label("搜索").fill("")
    page.get_by_label("服务中心").select_option("440100")  # Guangzhou: Tianhe's adviser
    page.get_by_label("最低价（元）").fill("3000")
    page.get_by_label("最高价（元）").fill("7,999.99")
    page.get_by_role("button", name="搜索").click()
    expect(page).to_have_url(re.compile(r"center=440100&min_price=3000&max_price=7%2C999.99"))
    expect(products).to_have_count(1)  # ¥3,000 in (inclusive), ¥8,000 out
    expect(products.first.locator(".price")).to_have_text("¥3,000.00")

    page.get_by_label("最低价（元）").fill("abc")
    page.get_by_role("button", name="搜索").click()
    expect(page.locator("#min_price-errors")).to_contain_text("请填写以元为单位的金额")
    expect(page.get_by_label("最低价（元）")).to_have_value("abc")  # what was typed stays
    expect(products).to_have_count(0)
