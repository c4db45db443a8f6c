"""The evaluation page through the test client, on the demo data: what it shows is the
service's evaluation as the API rounds it, each indicator named in the reader's language, the
centers below ranked and linked; a wrong year is said next to its field; the page is for the
center's staff and those above, as the dashboard is."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from tests.e2e.accounts import PASSWORD, account
from tests.e2e.demo_data import load_demo
from tests.e2e.pages import sign_in, visible_text
from voucher_app.domain.actors import Role
from voucher_app.domain.evaluation import MEASURES, shown
from voucher_app.services import evaluation
from voucher_app.web.evaluation import INDICATORS
from voucher_app.wiring import current

YEAR = 2026


@pytest.fixture
def auditor(auditor_page: FlaskClient) -> FlaskClient:
    """A province auditor, reading in English (Chinese is the default; one test reads it)."""
    auditor_page.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return auditor_page


def _cell(html: str, attribute: str, label: str) -> str:
    """The text of the cell labelled `label` in the row carrying `attribute`."""
    row = re.search(rf"<tr role=\"row\" {attribute}>(.*?)</tr>", html, re.S)
    assert row is not None, attribute
    cell = re.search(rf'data-label="{re.escape(label)}"[^>]*>(.*?)</t[hd]>', row.group(1), re.S)
    assert cell is not None, (attribute, label)
    return visible_text(cell.group(1))


def test_the_page_shows_the_services_evaluation(app: Flask, auditor: FlaskClient) -> None:
    answer = auditor.get(f"/evaluation/440000?year={YEAR}")
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    with app.app_context():
        wiring = current()
        report = evaluation.center_evaluation(
            wiring.uow(), "440000", YEAR, wiring.evaluation_schemes[YEAR]
        )
    province = report.center.evaluation
    assert province.total is not None  # the demo's year is enough to grade the province
    total = re.search(r"<li data-total>.*?<strong>(.*?)</strong>", html, re.S)
    assert total is not None and total.group(1) == str(shown(province.total))
    assert f"<li data-grade><span>Grade</span><strong>{province.grade}</strong>" in html
    for line in province.lines:
        name = str(INDICATORS[line.indicator.code][0])
        attribute = f'data-indicator="{line.indicator.code}"'
        assert _cell(html, attribute, "Indicator").startswith(name)
        expected = "—" if line.points is None else str(shown(line.points))
        assert _cell(html, attribute, "Points") == expected
    for child in report.children:
        attribute = f'data-center="{child.center}"'
        assert f'href="/evaluation/{child.center}?year={YEAR}"' in html
        assert _cell(html, attribute, "Place") == (str(child.rank) if child.rank else "—")
    assert (
        f'href="/api/v1/reports/evaluation/file?format=xlsx&amp;center=440000&amp;year={YEAR}"'
        in html
    )
    download = auditor.get(f"/api/v1/reports/evaluation/file?format=csv&center=440000&year={YEAR}")
    assert download.status_code == 200


def test_every_indicator_the_service_measures_has_a_name_in_both_languages(
    app: Flask, auditor: FlaskClient
) -> None:
    assert set(INDICATORS) == set(MEASURES)
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        names = {code: str(name) for code, (name, _) in INDICATORS.items()}
    assert all(re.search("[\u4e00-\u9fff]", name) for name in names.values()), names
    auditor.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    chinese = auditor.get(f"/evaluation/440000?year={YEAR}").get_data(as_text=True)
    for code, name in names.items():
        assert _cell(chinese, f'data-indicator="{code}"', "评价指标").startswith(name)


def test_a_center_without_enough_activity_says_it_is_not_graded(auditor: FlaskClient) -> None:
    """The demo did nothing in Chaozhou: no indicator applies."""
    chaozhou = auditor.get(f"/evaluation/445100?year={YEAR}").get_data(as_text=True)
    assert 'id="not-graded"' in chaozhou
    assert "Not graded: the indicators that apply carry 0 of the 100 points" in visible_text(
        chaozhou
    )
    assert "<li data-grade><span>Grade</span><strong>—</strong>" in chaozhou
    graded = auditor.get(f"/evaluation/440000?year={YEAR}").get_data(as_text=True)
    assert 'id="not-graded"' not in graded


def test_the_year_is_chosen_in_the_link_and_a_wrong_one_is_refused_next_to_it(
    auditor: FlaskClient,
) -> None:
    plain = auditor.get("/evaluation/440000")  # this year
    assert plain.status_code == 200
    assert f'<option selected value="{YEAR}">' in plain.get_data(as_text=True)
    for query, says in (
        ("year=2025", "The province has set no evaluation scheme for 2025."),
        ("year=abc", "Choose a year from the list."),
    ):
        refused = auditor.get(f"/evaluation/440000?{query}")
        text = refused.get_data(as_text=True)
        assert refused.status_code == 400, query
        assert 'id="year-errors"' in text and says in text, query
        assert 'id="evaluation-total"' not in text
    assert auditor.get(f"/evaluation/449999?year={YEAR}").status_code == 404


def test_the_page_is_for_the_center_and_those_above(app: Flask, runner: FlaskCliRunner) -> None:
    load_demo(app, runner)
    url = f"/evaluation/440300?year={YEAR}"
    anonymous = app.test_client().get(url)
    assert anonymous.status_code == 302 and anonymous.location.startswith("/sign-in")
    for role, center, status in (
        (Role.CENTER_STAFF, "440300", 200),
        (Role.CENTER_FINANCE, "440300", 200),
        (Role.AUDITOR, "440000", 200),
        (Role.CENTER_STAFF, "440100", 403),  # a sibling city
        (Role.AUDITOR, "440305", 403),  # a district does not see its city
    ):
        client = app.test_client()
        sign_in(client, account(app, role, center=center).username, PASSWORD)
        assert client.get(url).status_code == status, (role, center)
    staff = app.test_client()
    sign_in(staff, account(app, Role.CENTER_STAFF, center="440305").username, PASSWORD)
    landing = staff.get("/evaluation/")
    assert landing.status_code == 302 and landing.location.endswith("/evaluation/440305")
    assert 'href="/evaluation/"' in staff.get("/evaluation/440305").get_data(as_text=True)
