"""An auditor asks the site to verify the ledger now: the task's page shows it working, then
the verdict with the number of entries the ledger holds."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskCliRunner
from playwright.sync_api import Page, expect

from tests.browser.steps import sign_in
from tests.e2e.accounts import account
from tests.e2e.demo_data import load_demo
from voucher_app.domain.actors import Role
from voucher_app.services import demo


def test_verify_now_shows_progress_then_the_verdict(
    app: Flask, runner: FlaskCliRunner, live_url: str, page: Page
) -> None:
    load_demo(app, runner)
    assert runner.invoke(args=["ledger", "checkpoint"]).exit_code == 0
    auditor = account(app, Role.AUDITOR, center="440000")
    sign_in(page, live_url, auditor.username)
    page.goto(f"{live_url}/ledger")
    page.get_by_role("button", name="立即验证").click()
    expect(page).to_have_url(re.compile(r"/tasks/[0-9a-f-]{36}$"))
    verdict = page.locator(".verdict")
    expect(verdict).to_contain_text(f"已验证：{demo.ENTRIES} 条记录")
