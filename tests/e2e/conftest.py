"""Fixtures the end-to-end tests of the demo data share: the demo loaded as `make run` loads it,
and a province auditor, who reads every center, as an API token and as a signed-in page
client."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from tests.e2e.accounts import PASSWORD, account, bearer
from tests.e2e.demo_data import load_demo
from tests.e2e.pages import sign_in
from voucher_app.domain.actors import Role


@pytest.fixture
def demo(runner: FlaskCliRunner) -> None:
    assert runner.invoke(args=["demo", "load"]).exit_code == 0


@pytest.fixture
def auditor(app: Flask, demo: None) -> dict[str, str]:
    """A province auditor's token: reads every center's reports."""
    return bearer(app, Role.AUDITOR, center="440000")


@pytest.fixture
def auditor_page(app: Flask, runner: FlaskCliRunner) -> FlaskClient:
    """A client signed in as an auditor of the province (who may read but not review), on the
    demo data."""
    load_demo(app, runner)
    client = app.test_client()
    sign_in(client, account(app, Role.AUDITOR, center="440000").username, PASSWORD)
    return client
