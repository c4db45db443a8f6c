"""A redemption's own page, walked through its life in Chromium by the people it concerns: the
provider submits it at the desk with its invoice as a PDF, the SME confirms it from its page,
the center's reviewer approves it from there, finance batches it and the bank's statement pays
it — and after each step the SME, the provider and the reviewer each read the same timeline.
Another redemption is disputed by the SME and rejected by the reviewer, each with a reason
everyone reads. An unrelated SME, an unrelated provider and another city's staff are refused
the page and the evidence file (403)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import select

from tests.browser.steps import sign_in
from tests.e2e.accounts import account
from tests.e2e.demo_data import load_demo, new_voucher, submitted_redemption, tax_adviser
from tests.integration.test_settlement import FUNDING, camt053, entry
from voucher_app.domain.actors import Actor, Role
from voucher_app.domain.calendar import local_date
from voucher_app.persistence.models import Provider
from voucher_app.services import demo, reconciliation, redemption_lists, redemptions, settlement
from voucher_app.services.vouchers import VoucherView
from voucher_app.wiring import current

FINANCE = Actor("finance-officer", Role.CENTER_FINANCE)
ADMIN = Actor("admin", Role.CENTER_ADMIN)
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


class People:
    """One signed-in browser context per person, each on a phone-sized screen in Chinese."""

    def __init__(self, browser: Browser, live_url: str) -> None:
        self.browser, self.live_url = browser, live_url
        self.contexts: list[BrowserContext] = []

    def signed_in(self, username: str) -> Page:
        context = self.browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
        context.set_default_timeout(10_000)
        self.contexts.append(context)
        page = context.new_page()
        sign_in(page, self.live_url, username)
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def people(browser: Browser, live_url: str) -> Iterator[People]:
    opened = People(browser, live_url)
    yield opened
    opened.close()


def timeline(page: Page, url: str) -> list[str]:
    """The steps the redemption's page lists, oldest first, as the viewer sees them."""
    page.goto(url)
    expect(page.locator("#timeline")).to_be_visible()
    steps: list[str] = page.locator("#timeline .moment").evaluate_all(
        "items => items.map(item => item.dataset.what)"
    )
    return steps


def other_provider(app: Flask, than: uuid.UUID) -> uuid.UUID:
    with app.app_context(), current().database.engine.connect() as connection:
        found: uuid.UUID = connection.execute(
            select(Provider.public_id).where(Provider.public_id != than).limit(1)
        ).scalar_one()
    return found


def test_a_redemption_page_follows_it_from_submission_to_payment_for_everyone_concerned(
    app: Flask, runner: FlaskCliRunner, live_url: str, people: People, tmp_path: Path
) -> None:
    programme = load_demo(app, runner)
    voucher = new_voucher(app, programme)
    provider, _product = tax_adviser(app)
    with app.app_context():
        settlement.set_funding_account(current().uow(), programme, FUNDING, ADMIN)
        passcode = redemptions.new_passcode(current().uow(), voucher.id).code
    desk = people.signed_in(account(app, Role.PROVIDER, provider=provider).username)
    clerk = people.signed_in(account(app, Role.SME, sme=voucher.sme_uscc).username)
    reviewer = people.signed_in(account(app, Role.CENTER_STAFF, center="440300").username)
    everyone = (clerk, desk, reviewer)

    # Submitted at the desk, with the invoice as a PDF.
    invoice = tmp_path / "发票.pdf"
    invoice.write_bytes(PDF)
    desk.get_by_label("券码").fill(voucher.human_code)
    desk.get_by_label("企业提供的核验码").fill(passcode)
    desk.get_by_label("发票号码").fill("GZ-2026-PAGE-1")
    desk.get_by_label("服务项目").select_option(label="小微企业年度汇算清缴代理 · ¥3,000.00")
    desk.get_by_label("发票金额（元）").fill("3,000")
    desk.get_by_label("服务完成日期").fill(local_date(datetime.now(UTC)).isoformat())
    desk.locator("#invoice").set_input_files(str(invoice))
    desk.get_by_role("button", name="提交兑付申请").click()
    expect(desk.locator(".flash.success")).to_contain_text(voucher.human_code)
    row = desk.locator("table.redemptions tbody tr").first
    with app.app_context():
        (mine,) = [
            r
            for r in redemption_lists.of_provider(current().uow(), provider)
            if r.invoice_number == "GZ-2026-PAGE-1"
        ]
        parties = redemption_lists.parties_of(current().uow(), [mine.id])[mine.id]
    expect(row.locator(".sme")).to_have_text(parties.sme_name)
    expect(row.locator(".provider")).to_have_text(parties.provider_name)
    row.locator("a.redemption-link").click()
    url = f"{live_url}/redemptions/{mine.id}"
    expect(desk).to_have_url(url)
    expect(desk.locator("#sme")).to_contain_text(parties.sme_uscc)
    expect(desk.locator("#invoice")).to_have_text("GZ-2026-PAGE-1 · ¥3,000.00")
    evidence_link = desk.locator(".evidence a")
    expect(evidence_link).to_contain_text("发票.pdf")
    digest = hashlib.sha256(PDF).hexdigest()
    evidence_url = f"{url}/evidence/{digest}"
    assert evidence_link.get_attribute("href") == f"/redemptions/{mine.id}/evidence/{digest}"
    for viewer in everyone:
        assert timeline(viewer, url) == ["submitted"]
        served = viewer.request.get(evidence_url)
        assert served.status == 200
        assert served.headers["content-type"] == "application/pdf"
        assert served.headers["content-disposition"].startswith("attachment;")
        assert hashlib.sha256(served.body()).hexdigest() == digest
    expect(desk.locator(".steps")).to_have_count(0)  # nothing for the provider to do now

    # Confirmed by the SME: from the card on its page, which names the provider, to the page.
    clerk.goto(f"{live_url}/sme/{voucher.sme_uscc}")
    card = clerk.locator(f"#redemption-{mine.id}")
    expect(card.locator(".provider")).to_contain_text(parties.provider_name)
    reminder = clerk.locator(f".reminders a[href='/redemptions/{mine.id}']")
    expect(reminder).to_have_count(1)
    card.get_by_role("link").click()
    expect(clerk).to_have_url(url)
    clerk.get_by_role("button", name="确认：服务已完成").click()
    expect(clerk.locator(".flash.success")).to_contain_text(voucher.human_code)
    expect(clerk).to_have_url(url)  # back on the redemption's page
    for viewer in everyone:
        assert timeline(viewer, url) == ["submitted", "confirmed"]
    clerk.goto(f"{live_url}/sme/{voucher.sme_uscc}")
    expect(clerk.locator(f".reminders a[href='/redemptions/{mine.id}']")).to_have_count(0)

    # Approved by the reviewer: the queue names both parties and links to the page.
    reviewer.goto(f"{live_url}/center/440300/review")
    queued = reviewer.locator(f"#redemption-{mine.id}")
    expect(queued.locator(".sme")).to_have_text(parties.sme_name)
    expect(queued.locator(".provider")).to_have_text(parties.provider_name)
    queued.locator("a.redemption-link").click()
    expect(reviewer).to_have_url(url)
    reviewer.locator(".steps").get_by_role("button", name="批准", exact=True).click()
    expect(reviewer.locator(".flash.success")).to_contain_text(voucher.human_code)
    for viewer in everyone:
        assert timeline(viewer, url) == ["submitted", "confirmed", "approved"]
        expect(viewer.locator(".steps")).to_have_count(0)

    # Batched and sent to the bank by finance, then paid on the bank's statement.
    with app.app_context():
        uow = current().uow()
        batch = settlement.build_batch(uow, programme, "440300", FINANCE)
        (item,) = [i for i in batch.items if mine.id in i.redemptions]
        settlement.export_batch(uow, batch.id, FINANCE)
    for viewer in everyone:
        assert timeline(viewer, url) == [
            "submitted",
            "confirmed",
            "approved",
            "batched",
            "exported",
        ]
    expect(reviewer.locator("#timeline .batched")).to_contain_text(batch.reference)
    paid = camt053("PAGE-PAID", [entry(item.reference, f"{item.amount_fen / 100:.2f}")])
    with app.app_context():
        reconciliation.import_statement(
            current().uow(), filename="paid.xml", content=paid, actor=FINANCE, center_code="440300"
        )
    for viewer in everyone:
        assert timeline(viewer, url) == [
            "submitted", "confirmed", "approved", "batched", "exported", "paid",
        ]  # fmt: skip
        expect(viewer.locator("#status")).to_have_text("已支付")

    # Nobody else reads it, or its evidence.
    strangers = (
        account(app, Role.SME, sme=demo.SMES[2].uscc),
        account(app, Role.PROVIDER, provider=other_provider(app, than=provider)),
        account(app, Role.CENTER_STAFF, center="440100"),
    )
    for stranger in strangers:
        page = people.signed_in(stranger.username)
        assert page.request.get(url).status == 403, stranger.role
        assert page.request.get(evidence_url).status == 403, stranger.role


def test_a_disputed_then_rejected_redemption_shows_both_reasons_to_everyone_concerned(
    app: Flask, runner: FlaskCliRunner, live_url: str, people: People
) -> None:
    voucher: VoucherView = new_voucher(app, load_demo(app, runner))
    redemption = submitted_redemption(app, voucher, "GZ-2026-PAGE-2", 200_000)
    provider, _product = tax_adviser(app)
    url = f"{live_url}/redemptions/{redemption.id}"
    clerk = people.signed_in(account(app, Role.SME, sme=voucher.sme_uscc).username)
    desk = people.signed_in(account(app, Role.PROVIDER, provider=provider).username)
    reviewer = people.signed_in(account(app, Role.CENTER_STAFF, center="440300").username)
    everyone = (clerk, desk, reviewer)

    clerk.goto(url)
    clerk.get_by_label("有什么问题？").fill("服务只完成了一半")
    clerk.get_by_role("button", name="提出异议").click()
    expect(clerk.locator(".flash.success")).to_be_visible()
    for viewer in everyone:
        assert timeline(viewer, url) == ["submitted", "disputed"]
        expect(viewer.locator("#timeline .disputed .reason")).to_contain_text("服务只完成了一半")

    reviewer.goto(url)
    reviewer.get_by_label("驳回理由").fill("发票与服务内容不符")
    reviewer.get_by_role("button", name="驳回").click()
    expect(reviewer.locator(".flash.success")).to_contain_text(voucher.human_code)
    for viewer in everyone:
        assert timeline(viewer, url) == ["submitted", "disputed", "rejected"]
        expect(viewer.locator("#timeline .rejected .reason")).to_contain_text("发票与服务内容不符")
    # Only the provider may correct it now; the SME and the reviewer have nothing to do.
    desk.goto(url)
    expect(desk.locator("#resubmit-form")).to_be_visible()
    for viewer in (clerk, reviewer):
        viewer.goto(url)
        expect(viewer.locator(".steps")).to_have_count(0)
