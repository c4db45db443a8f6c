"""Bulk issuance over HTTP: Shenzhen's staff upload a list, read the dry run, issue, and
upload it again; SMEs at home elsewhere are refused row by row, and the upload limits hold."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from werkzeug.test import TestResponse

from tests import factories
from tests.e2e.accounts import bearer
from tests.e2e.demo_data import load_demo
from tests.e2e.uploads import send_form
from voucher_app.domain.actors import Role
from voucher_app.services import demo
from voucher_app.wiring import current

TIANHE_SME = demo.SMES[1].uscc  # at home in Guangzhou's Tianhe district


def upload(
    client: FlaskClient, url: str, headers: dict[str, str], content: bytes, **form: str
) -> TestResponse:
    return send_form(client, url, {"center": "440300", **form, "file": (content, "l.csv")}, headers)


def test_a_center_issues_to_its_own_smes_after_a_dry_run(
    app: Flask, runner: FlaskCliRunner
) -> None:
    programme = load_demo(app, runner)
    with app.app_context():
        nanshan = factories.sme(current().uow(), 7).uscc
    staff = bearer(app, Role.CENTER_STAFF, center="440300")
    client = app.test_client()
    url = f"/api/v1/programmes/{programme}/issuance"
    listing = f"uscc,name\n{TIANHE_SME},禾田\n{nanshan},新企业\n".encode()
    vouchers = f"/api/v1/smes/{nanshan}/vouchers"

    preview = upload(client, url, staff, listing)
    assert preview.status_code == 200, preview.get_json()
    outcomes = [(row["line"], row["outcome"]) for row in preview.get_json()["rows"]]
    assert outcomes == [(2, "outside_center"), (3, "would_issue")]
    assert preview.get_json()["dry_run"] is True
    assert client.get(vouchers, headers=staff).get_json() == []

    issued = upload(client, url, staff, listing, dry_run="false")
    report = issued.get_json()
    assert (report["issued"], report["refused"], report["dry_run"]) == (1, 1, False)
    code = report["rows"][1]["voucher_code"]
    assert [v["human_code"] for v in client.get(vouchers, headers=staff).get_json()] == [code]
    again = upload(client, url, staff, listing, dry_run="false").get_json()
    assert (again["issued"], again["already_issued"]) == (0, 1)

    auditor = bearer(app, Role.AUDITOR, center="440000")
    assert upload(client, url, auditor, listing).status_code == 403  # auditors change nothing


def test_uploads_are_checked_and_may_be_larger_than_other_bodies(
    app: Flask, runner: FlaskCliRunner
) -> None:
    programme = load_demo(app, runner)
    staff = bearer(app, Role.CENTER_STAFF, center="440300")
    client = app.test_client()
    url = f"/api/v1/programmes/{programme}/issuance"

    as_text = send_form(client, url, {"center": "440300", "file": "uscc"}, staff)
    assert (as_text.status_code, as_text.get_json()["field"]) == (400, "file")
    empty = upload(client, url, staff, b"")
    assert (empty.status_code, empty.get_json()["field"]) == (400, "file")
    no_column = upload(client, url, staff, b"name\nx\n")
    assert (no_column.status_code, no_column.get_json()["code"]) == (400, "invalid_input")

    # A list with many notes: past the JSON limit, within the upload limit.
    lines = [demo.SMES[0].uscc] + ["," + "备注" * 30] * 30_000
    content = ("uscc,notes\n" + "\n".join(lines)).encode()
    assert len(content) > app.config["MAX_CONTENT_LENGTH"]
    roomy = upload(client, url, staff, content)
    assert roomy.status_code == 200, roomy.get_json()
    assert [row["line"] for row in roomy.get_json()["rows"]] == [2]
    notes = "x" * app.config["MAX_CONTENT_LENGTH"]
    json_too_big = client.post(
        f"/api/v1/programmes/{programme}/batches", json={"center": notes}, headers=staff
    )
    assert (json_too_big.status_code, json_too_big.mimetype) == (413, "application/problem+json")
    huge = b"uscc\n" + b"9" * app.config["MAX_UPLOAD_LENGTH"]
    too_big = upload(client, url, staff, huge)
    assert (too_big.status_code, too_big.mimetype) == (413, "application/problem+json")
