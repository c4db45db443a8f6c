"""The site on a phone: every page each demo account can open fits a 360 px screen in both
languages, tables turn into labelled cards, the menu folds away, and the SME's passcode counts
down its validity."""

from __future__ import annotations

import re
import time

from flask import Flask
from flask.testing import FlaskCliRunner
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.steps import sign_in
from tests.browser.walk import PHONE, walk_demo
from tests.e2e.demo_data import load_demo
from voucher_app.services import demo

#: What overflows the viewport, in CSS pixels (0 when the page fits).
OVERFLOW = "document.documentElement.scrollWidth - window.innerWidth"
#: The innermost elements that reach past the screen's right edge, to name in a failure.
CULPRITS = """() => {
    const past = (e) => e.getBoundingClientRect().right > window.innerWidth + 0.5;
    const name = (e) => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "")
        + (typeof e.className === "string" && e.className ? "." + e.className.split(" ")[0] : "");
    return [...document.body.querySelectorAll("*")]
        .filter((e) => past(e) && ![...e.children].some(past)).slice(0, 3).map(name);
}"""


def overflow(page: Page) -> list[str]:
    """How far the page reaches past the screen's right edge, and what sticks out."""
    past = page.evaluate(OVERFLOW)
    if past <= 0:
        return []
    return [f"{past}px too wide ({', '.join(page.evaluate(CULPRITS))})"]


def test_no_page_any_demo_account_opens_scrolls_sideways_at_360_px(
    app: Flask, runner: FlaskCliRunner, live_url: str, browser: Browser
) -> None:
    started = time.monotonic()
    walk = walk_demo(app, runner, live_url, browser, overflow)
    opened, failures = walk.opened, walk.problems
    print(f"walked {walk.pages} pages in {time.monotonic() - started:.1f}s")

    assert not failures, "pages wider than a 360 px phone:\n" + "\n".join(failures)
    # The walk reached each role's own pages, not only the public ones.
    sme = demo.DEMO_ACCOUNTS[0].sme
    assert f"/sme/{sme}" in opened["sme.yunfan"]
    assert any(path.startswith("/provider/") for path in opened["desk.tianhe"])
    assert {"/center/440300/review", "/center/440300/approvals"} <= opened["reviewer.shenzhen"]
    assert any(path.startswith("/tasks/") for path in opened["reviewer.shenzhen"])
    assert "/center/440300/budget" in opened["admin.shenzhen"]
    assert "/finance/440000" in opened["finance.guangdong"]
    assert "/dashboard/440000" in opened["auditor.guangdong"]


def phone_page(browser: Browser, live_url: str, username: str) -> tuple[BrowserContext, Page]:
    """A demo account signed in on a 360 px phone, in Chinese."""
    context = browser.new_context(locale="zh-CN", viewport=PHONE)
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in(page, live_url, username, demo.DEMO_PASSWORD)
    page.wait_for_load_state("load")
    return context, page


def test_a_table_on_a_phone_is_cards_whose_every_cell_shows_its_columns_label(
    app: Flask, runner: FlaskCliRunner, live_url: str, browser: Browser
) -> None:
    load_demo(app, runner)
    assert runner.invoke(args=["demo", "accounts"]).exit_code == 0
    context, page = phone_page(browser, live_url, "auditor.guangdong")
    expect(page).to_have_url(f"{live_url}/dashboard/440000")
    table = page.locator("#children-heading ~ table.cells")
    headers = table.locator("thead th").all_inner_texts()
    assert headers[:2] == ["服务中心", "预算"] and len(headers) == 9
    shown = table.evaluate(
        """(table) => [...table.tBodies[0].rows].map((row) => [...row.cells].map((cell) => {
            const box = cell.getBoundingClientRect();
            return {
                label: getComputedStyle(cell, "::before").content,
                onScreen: box.left >= 0 && box.right <= window.innerWidth && box.width > 0,
            };
        }))"""
    )
    assert len(shown) == 21  # the province's cities, one card each
    for cells in shown:
        assert [cell["label"] for cell in cells] == [f'"{header}"' for header in headers]
        assert all(cell["onScreen"] for cell in cells)
    # The header row is there for screen readers only; each row is a card of its own.
    assert table.locator("thead").evaluate("(head) => head.getBoundingClientRect().width") <= 1
    assert table.locator("tbody tr").first.evaluate("(row) => getComputedStyle(row).display") == (
        "block"
    )
    context.close()


def test_the_menu_is_folded_on_a_phone_and_opens_from_the_keyboard(
    app: Flask, runner: FlaskCliRunner, live_url: str, browser: Browser
) -> None:
    load_demo(app, runner)
    assert runner.invoke(args=["demo", "accounts"]).exit_code == 0
    context, page = phone_page(browser, live_url, "reviewer.shenzhen")
    menu = page.locator("details.menu")
    toggle = menu.locator("summary")
    budget = page.get_by_role("link", name="预算")
    expect(toggle).to_be_visible()
    expect(toggle).to_have_text("☰ 菜单")
    expect(budget).to_be_hidden()
    header = page.locator("header.site").bounding_box()
    assert header is not None and header["height"] < 100  # one line, not four

    toggle.focus()
    page.keyboard.press("Enter")
    expect(menu).to_have_attribute("open", "")
    expect(budget).to_be_visible()
    budget.click()
    expect(page).to_have_url(f"{live_url}/center/440300/budget")

    page.set_viewport_size({"width": 1280, "height": 800})  # wide: the links, no button
    expect(toggle).to_be_hidden()
    expect(page.get_by_role("link", name="审核队列")).to_be_visible()
    context.close()


def test_the_passcode_counts_down_and_says_politely_when_it_has_expired(
    app: Flask, runner: FlaskCliRunner, live_url: str, browser: Browser
) -> None:
    load_demo(app, runner)
    assert runner.invoke(args=["demo", "accounts"]).exit_code == 0
    context, page = phone_page(browser, live_url, "sme.yunfan")
    page.clock.install()
    page.get_by_role("button", name="生成核验码").first.click()

    box = page.locator(".passcode")
    digits = box.locator(".passcode-digits [aria-hidden] > span")
    expect(digits).to_have_count(2)
    assert all(len(group) == 3 for group in digits.all_inner_texts())
    countdown = box.locator(".countdown")
    expect(countdown).to_have_text(re.compile(r"^还剩 1[45]:\d\d$"))
    start = int(countdown.get_attribute("data-seconds") or "0")
    assert 890 <= start <= 900

    page.clock.run_for(61_000)
    expect(countdown).to_have_attribute("data-seconds", str(start - 61))
    expect(box).not_to_have_class(re.compile("expired"))
    said = box.locator(".expired-said")
    expect(said).to_have_attribute("aria-live", "polite")
    expect(said).to_have_text("")

    page.clock.fast_forward("15:00")
    expect(box).to_have_class(re.compile(r"\bexpired\b"))
    expect(said).to_have_text("核验码已过期，请重新生成。")
    expect(countdown).to_be_hidden()
    context.close()


def test_without_javascript_the_passcode_shows_its_plain_expiry_time(
    app: Flask, runner: FlaskCliRunner, live_url: str, browser: Browser
) -> None:
    load_demo(app, runner)
    assert runner.invoke(args=["demo", "accounts"]).exit_code == 0
    context = browser.new_context(locale="zh-CN", viewport=PHONE, java_script_enabled=False)
    page = context.new_page()
    sign_in(page, live_url, "sme.yunfan", demo.DEMO_PASSWORD)
    page.get_by_role("button", name="生成核验码").first.click()
    validity = page.locator(".passcode .validity")
    expect(validity).to_contain_text(re.compile(r"有效期至 \d{4}-\d\d-\d\d \d\d:\d\d。"))
    expect(page.locator(".passcode .countdown")).to_be_hidden()
    context.close()
