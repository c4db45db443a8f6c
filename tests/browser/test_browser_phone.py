"""The site on a phone: every page each demo account can open fits a 360 px screen in both
languages, tables turn into labelled cards, the menu folds away, and the SME's passcode counts
down its validity."""

from __future__ import annotations

import time
import uuid

from flask import Flask
from flask.testing import FlaskCliRunner
from playwright.sync_api import Browser, BrowserContext, Page

from tests.browser.steps import page_paths, page_rules, sign_in
from tests.e2e.demo_data import load_demo
from voucher_app.services import demo, providers
from voucher_app.wiring import current

PHONE = {"width": 360, "height": 740}
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


def demo_values(app: Flask, account: demo.DemoAccount) -> dict[str, str | uuid.UUID]:
    """The path parameters a demo account's own pages take."""
    values: dict[str, str | uuid.UUID] = {"code": account.center or "440000"}
    if account.sme:
        values["uscc"] = account.sme
    if account.provider_uscc:
        with app.app_context():
            values["provider_id"] = providers.public_id_by_code(
                current().uow(), account.provider_uscc
            )
    return values


def start_dry_issuance(page: Page, live_url: str, code: str) -> str:
    """Start a dry-run bulk issuance from the center's page; answer the task's id."""
    page.goto(f"{live_url}/center/{code}/issuance")
    listing = f"uscc\n{demo.SMES[0].uscc}\n{demo.SMES[1].uscc}\n".encode()
    page.locator("#list").set_input_files(
        {"name": "list.csv", "mimeType": "text/csv", "buffer": listing}
    )
    page.locator("form.stack button[type=submit]").click()
    page.wait_for_url("**/tasks/*")
    task = page.url.rsplit("/", 1)[1]
    page.wait_for_selector("p.summary")  # finished: the rows' table is on the page
    return task


def overflowing_pages(
    context: BrowserContext, page: Page, live_url: str, paths: list[str]
) -> tuple[list[str], list[str]]:
    """The pages among `paths` that this signed-in context can open (200, HTML), and those
    of them wider than the screen, each with how much."""
    opened: list[str] = []
    wide: list[str] = []
    for path in paths:
        answer = context.request.get(f"{live_url}{path}")
        landed = answer.url.removeprefix(live_url)
        if answer.status != 200 or not answer.headers["content-type"].startswith("text/html"):
            continue  # not this role's page, or a download
        if landed in opened:
            continue  # a path that redirects to a page already seen
        page.goto(f"{live_url}{landed}")
        page.wait_for_load_state("load")
        opened.append(landed)
        overflow = page.evaluate(OVERFLOW)
        if overflow > 0:
            culprits = ", ".join(page.evaluate(CULPRITS))
            wide.append(f"{landed}: {overflow}px too wide ({culprits})")
    return opened, wide


def test_no_page_any_demo_account_opens_scrolls_sideways_at_360_px(
    app: Flask, runner: FlaskCliRunner, live_url: str, browser: Browser
) -> None:
    load_demo(app, runner)
    assert runner.invoke(args=["demo", "accounts"]).exit_code == 0
    rules = page_rules(app)
    failures: list[str] = []
    opened: dict[str, set[str]] = {}
    started = time.monotonic()
    for account in demo.DEMO_ACCOUNTS:
        context = browser.new_context(locale="zh-CN", viewport=PHONE)
        context.set_default_timeout(15_000)
        page = context.new_page()
        sign_in(page, live_url, account.username, demo.DEMO_PASSWORD)
        page.wait_for_load_state("load")
        values = demo_values(app, account)
        if account.role.value in ("center_staff", "center_admin"):
            values["task_id"] = start_dry_issuance(page, live_url, values["code"])  # type: ignore[arg-type]
        paths = sorted(set(page_paths(rules, values)))
        for language in ("zh_CN", "en"):
            context.add_cookies([{"name": "lang", "value": language, "url": live_url}])
            seen, wide = overflowing_pages(context, page, live_url, paths)
            opened.setdefault(account.username, set()).update(seen)
            failures += [f"{account.username} [{language}] {line}" for line in wide]
        context.close()
    elapsed = time.monotonic() - started
    print(f"walked {sum(map(len, opened.values()))} pages in {elapsed:.1f}s")

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
