"""A walk over every page each demo account can open, with a check run on each.

The phone test (nothing wider than the screen), the accessibility test (axe-core) and the
pseudo-locale test (nothing that skipped the catalogue) ask different questions of the same
pages; this walk finds the pages once for all of them: the site's GET page routes
(`steps.page_rules`) with their parameters filled from the demo data, for each demo account
signed in, in each language, each page opened once even where several paths lead to it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from flask import Flask
from flask.testing import FlaskCliRunner
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, expect

from tests.browser.steps import page_paths, page_rules, sign_in
from tests.e2e.demo_data import load_demo
from voucher_app.services import demo, providers
from voucher_app.wiring import current

PHONE: ViewportSize = {"width": 360, "height": 740}
#: What a check says of one page: its problems, each a line (none: the page passes).
Check = Callable[[Page], list[str]]


@dataclass
class Walk:
    """Which pages each account opened, and the problems the check found, one line each."""

    opened: dict[str, set[str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def pages(self) -> int:
        return sum(map(len, self.opened.values()))


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
    page.get_by_label("服务券项目").select_option(index=1)  # nothing is chosen for the clerk
    page.locator("#list").set_input_files(
        {"name": "list.csv", "mimeType": "text/csv", "buffer": listing}
    )
    page.locator("form.stack button[type=submit]").click()
    page.wait_for_url("**/tasks/*")
    task = page.url.rsplit("/", 1)[1]
    page.wait_for_selector("p.summary")  # finished: the rows' table is on the page
    return task


def export_a_batch(page: Page, live_url: str, code: str) -> None:
    """Batch the approved redemptions and download the batch's CSV: the reconciliation then
    has a payment to show."""
    page.goto(f"{live_url}/finance/{code}")
    batches = page.locator(f'form[action="/finance/{code}/batches"]')
    batches.locator("select").select_option(index=1)  # nothing is chosen for the officer
    batches.locator("button").click()
    page.wait_for_load_state("load")
    with page.expect_download():
        page.locator('form[action$="/export/csv"] button').first.click()
    page.goto(f"{live_url}/finance/{code}")
    expect(page.locator("table.report tbody tr")).not_to_have_count(0)


def check_pages(
    context: BrowserContext, page: Page, live_url: str, paths: Iterable[str], check: Check
) -> tuple[list[str], list[str]]:
    """The pages among `paths` this signed-in context can open (200, HTML), and the problems
    `check` finds on them, each line led by the page's path."""
    opened: list[str] = []
    problems: list[str] = []
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
        problems += [f"{landed}: {problem}" for problem in check(page)]
    return opened, problems


def walk_demo(
    app: Flask,
    runner: FlaskCliRunner,
    live_url: str,
    browser: Browser,
    check: Check,
    languages: Iterable[str] = ("zh_CN", "en"),
) -> Walk:
    """Load the demo, then sign in as each demo account and run `check` on every page it can
    open, in each of `languages`, at phone size. Staff start a bulk issuance first and the
    finance officer exports a batch, so their task and reconciliation pages have content."""
    load_demo(app, runner)
    assert runner.invoke(args=["demo", "accounts"]).exit_code == 0
    rules = page_rules(app)
    walk = Walk()
    for account in demo.DEMO_ACCOUNTS:
        context = browser.new_context(locale="zh-CN", viewport=PHONE)
        context.set_default_timeout(15_000)
        page = context.new_page()
        sign_in(page, live_url, account.username, demo.DEMO_PASSWORD)
        page.wait_for_load_state("load")
        values = demo_values(app, account)
        if account.role.value in ("center_staff", "center_admin"):
            values["task_id"] = start_dry_issuance(page, live_url, str(values["code"]))
        if account.role.value == "center_finance":
            export_a_batch(page, live_url, str(values["code"]))
        paths = sorted(set(page_paths(rules, values)))
        for language in languages:
            context.add_cookies([{"name": "lang", "value": language, "url": live_url}])
            seen, problems = check_pages(context, page, live_url, paths, check)
            walk.opened.setdefault(account.username, set()).update(seen)
            walk.problems += [f"{account.username} [{language}] {line}" for line in problems]
        context.close()
    return walk
