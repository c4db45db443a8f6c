"""A city's administrators create a programme on its page and fund it; its staff only read;
terms that contradict each other are refused by their fields, nothing stored."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskCliRunner

from tests.e2e.accounts import PASSWORD, account
from tests.e2e.demo_data import load_demo
from tests.e2e.pages import csrf_token, sign_in, visible_text
from voucher_app.domain.actors import Role
from voucher_app.services import programmes
from voucher_app.wiring import current


def test_a_city_creates_and_funds_its_programme(app: Flask, runner: FlaskCliRunner) -> None:
    load_demo(app, runner)
    admin = app.test_client()
    sign_in(admin, account(app, Role.CENTER_ADMIN, center="440300").username, PASSWORD)
    url = "/center/440300/programmes"
    terms = {
        "csrf_token": csrf_token(admin, url),
        "name": "2026年深圳市软件企业服务券",
        "period_start": "2026-01-01",
        "period_end": "2026-12-31",
        "total_budget": "1,000,000",
        "subsidy_percent": "50",
        "face_value": "5000",
        "sme_cap": "10000",
        "validity_days": "90",
        "confirmation_days": "7",
        "notice_working_days": "5",
        "partial_spending": "y",
        "related_parties_allowed": "y",
        "service_categories": ["legal", "accounting_tax"],
        "accepted_sizes": ["small", "micro"],
    }
    refused = admin.post(url, data={**terms, "sme_cap": "100"})  # less than one voucher
    assert 'class="flash error"' in refused.get_data(as_text=True)
    with app.app_context():
        assert [p.owner_center for p in programmes.list_programmes(current().uow())] == ["440000"]
    created = admin.post(url, data=terms)
    assert created.status_code == 302
    with app.app_context():
        (mine,) = [
            p for p in programmes.list_programmes(current().uow()) if p.owner_center == "440300"
        ]
    assert (
        mine.sme_cap_fen,
        mine.subsidy_rate_bp,
        mine.partial_spending,
        mine.related_parties_allowed,
        mine.notice_working_days,
    ) == (1_000_000, 5000, True, True, 5)
    admin.post(
        f"/center/programmes/{mine.id}/funding",
        data={"csrf_token": terms["csrf_token"], "amount": "200,000"},
    )
    page = visible_text(admin.get(url).get_data(as_text=True))
    assert "已拨付 ¥200,000.00，总预算 ¥1,000,000.00" in page

    staff = app.test_client()
    sign_in(staff, account(app, Role.CENTER_STAFF, center="440300").username, PASSWORD)
    assert staff.get(url).status_code == 200
    token = csrf_token(staff, url)
    assert staff.post(url, data={**terms, "csrf_token": token}).status_code == 403
    funding = {"csrf_token": token, "amount": "1"}
    assert staff.post(f"/center/programmes/{mine.id}/funding", data=funding).status_code == 403
