"""The dashboard through the test client: a center's figures for its own staff and auditors
above it, never for a sibling, an SME or someone not signed in; its exports are the API's."""

from __future__ import annotations

import uuid

from flask import Flask
from flask.testing import FlaskCliRunner

from tests.e2e.accounts import PASSWORD, account
from tests.e2e.demo_data import load_demo
from tests.e2e.pages import sign_in
from voucher_app.domain.actors import Role
from voucher_app.services import demo


def test_a_dashboard_is_for_its_center_and_those_above(app: Flask, runner: FlaskCliRunner) -> None:
    load_demo(app, runner)
    url = "/dashboard/440300"
    anonymous = app.test_client().get(url)
    assert anonymous.status_code == 302 and anonymous.location.startswith("/sign-in")
    for role, center, status in (
        (Role.CENTER_STAFF, "440300", 200),
        (Role.AUDITOR, "440000", 200),
        (Role.CENTER_STAFF, "440100", 403),
        (Role.AUDITOR, "440305", 403),  # a district does not see its city
        (Role.SME, None, 403),
    ):
        sme = demo.SMES[0].uscc if role is Role.SME else None
        client = app.test_client()
        sign_in(client, account(app, role, center=center, sme=sme).username, PASSWORD)
        assert client.get(url).status_code == status, (role, center)
        if status == 200:
            page = client.get(url).get_data(as_text=True)
            export = client.get("/api/v1/reports/spend/file?center=440300&format=csv")
            assert export.status_code == 200 and 'id="chart-children"' in page


def test_the_dashboard_is_chosen_by_a_get_form_and_refuses_a_bad_choice_next_to_it(
    app: Flask, runner: FlaskCliRunner
) -> None:
    """Programme and months are in the link (so it can be shared), the links below keep them,
    and a wrong month or programme is said next to its field — a 400, never a 500."""
    programme = load_demo(app, runner)
    client = app.test_client()
    sign_in(client, account(app, Role.AUDITOR, center="440000").username, PASSWORD)
    chosen = client.get(f"/dashboard/440000?programme={programme}&from=2020-01&to=2099-12")
    html = chosen.get_data(as_text=True)
    assert chosen.status_code == 200
    assert f'href="/dashboard/440300?programme={programme}&amp;from=2020-01&amp;to=2099-12"' in html
    assert f'<option selected value="{programme}">' in html
    district = client.get("/dashboard/440305").get_data(as_text=True)  # no center below it
    assert 'id="chart-children"' not in district and 'id="months-table"' in district
    nothing = client.get("/dashboard/440000?from=2099-01").get_data(as_text=True)
    assert 'data-share="committed_bp">—<' in nothing  # no budget in those months: no share
    for query, field in (
        ("from=2026-13", "from"),
        ("to=March", "to"),
        ("programme=not-a-programme", "programme"),
        (f"programme={uuid.uuid4()}", "programme"),
    ):
        refused = client.get(f"/dashboard/440000?{query}")
        text = refused.get_data(as_text=True)
        assert refused.status_code == 400, query
        assert f'id="{field}-errors"' in text, query
        assert 'id="chart-children"' not in text
