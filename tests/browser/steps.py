"""Steps several browser tests take."""

from __future__ import annotations

from playwright.sync_api import Page

from tests.e2e.accounts import PASSWORD


def sign_in(page: Page, live_url: str, username: str) -> None:
    """Sign in through the (Chinese) sign-in page."""
    page.goto(f"{live_url}/sign-in")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
