"""An SME clerk types the credit code on the registration page: the page says at once what is
wrong with it, in Chinese; the center list starts empty, and a valid code suggests the home
center its region names (and says so) while none is chosen."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskCliRunner
from playwright.sync_api import Page, expect

from tests import factories
from tests.e2e.demo_data import load_demo


def test_the_code_is_checked_as_it_is_typed(
    app: Flask, runner: FlaskCliRunner, live_url: str, page: Page
) -> None:
    load_demo(app, runner)
    code = factories.uscc(77, "440106")  # Tianhe, Guangzhou
    page.goto(f"{live_url}/register")
    field, said = page.get_by_label("统一社会信用代码"), page.locator("#uscc-check")
    center = page.get_by_label("服务中心")
    expect(center).to_have_value("")
    wrong = code[:-1] + ("0" if code[-1] != "0" else "1")
    field.fill(wrong)
    expect(said).to_have_text("校验码与前 17 位不符：是否有字符输错？")
    expect(field).to_have_attribute("aria-invalid", "true")
    field.fill(code.lower())
    expect(said).to_contain_text("代码有效。已根据代码中的行政区划推荐服务中心：")
    expect(center).to_have_value("440106")
    center.select_option("440300")  # chosen by the clerk: another valid code does not change it
    field.fill(factories.uscc(79, "440106"))
    expect(said).to_have_text("代码有效。")
    expect(center).to_have_value("440300")
    field.fill(factories.uscc(1, "440305").replace("1", "I", 1))
    expect(said).to_have_text("统一社会信用代码只含数字和大写字母（不含 I、O、S、V、Z）。")
