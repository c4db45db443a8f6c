"""Related parties over HTTP: an SME and a provider that register one legal representative (typed
differently) are refused a redemption with `related_party`; the center's staff record a relation
and see what was approved between the two; and the representative's name, ID number and digest
never show in any answer, log line, report file or ledger export of the whole flow."""

from __future__ import annotations

import base64
import io
import json
import logging
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from openpyxl import load_workbook
from sqlalchemy import select
from werkzeug.test import TestResponse

from tests import factories
from tests.e2e.accounts import bearer
from tests.e2e.demo_data import load_demo
from voucher_app.domain.actors import Role
from voucher_app.domain.calendar import local_date
from voucher_app.domain.parties import LegalRepresentative, legal_rep_digest
from voucher_app.persistence.models import Base
from voucher_app.wiring import current

NAME, ID_NUMBER = "陈小明", "44030519900101123X"
SME_CODE = factories.uscc(88, "440305")
PROVIDER_CODE = factories.uscc(89, "440300")


def test_one_representative_refuses_the_redemption_and_is_never_shown(
    app: Flask, runner: FlaskCliRunner, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    caplog.set_level(logging.DEBUG)
    programme = load_demo(app, runner)
    client = app.test_client()
    answers: list[bytes] = []

    def kept(response: TestResponse) -> TestResponse:
        answers.append(response.get_data())
        return response

    sme = client.post(
        "/api/v1/smes",
        headers={"Idempotency-Key": "register-xiaoming"},  # its body's digest is kept too
        json={
            "uscc": SME_CODE,
            "name": "深圳市南山区小明软件工作室",
            "industry": "software_it",
            "employees": 6,
            "revenue_fen": 20_000_000,
            "assets_fen": 5_000_000,
            "home_center": "440305",
            "address": "深圳市南山区粤海街道科技园1栋",
            "contact_phone": "13800138000",
            "bank_account_number": "6222020000000001",
            "legal_representative": {"name": NAME, "id_number": ID_NUMBER},
        },
    )
    assert kept(sme).status_code == 201, sme.get_json()
    assert sme.get_json()["legal_representative_on_record"] is True
    assert "legal_representative" not in sme.get_json()

    applied = client.post(
        "/api/v1/providers",
        json={
            "uscc": PROVIDER_CODE,
            "name": "深圳市小明法律咨询有限公司",
            "service_categories": ["legal"],
            "contact_name": "陈经理",
            "contact_phone": "+86 755 8000 0001",
            "contact_email": "xm-law@example.cn",
            "bank_name": "中国银行深圳分行",
            "bank_account_name": "深圳市小明法律咨询有限公司",
            "bank_account_number": "744000000000088",
            "bank_cnaps": "104584000003",
            "center": "440300",
            "legal_representative": {"name": "陈 小明", "id_number": ID_NUMBER.lower()},
        },
    )
    assert kept(applied).status_code == 201, applied.get_json()
    provider = applied.get_json()["id"]
    shenzhen = bearer(app, Role.CENTER_STAFF, center="440300")
    decision = client.post(
        f"/api/v1/providers/{provider}/decision", json={"decision": "approve"}, headers=shenzhen
    )
    assert kept(decision).get_json()["status"] == "approved"

    clerk = bearer(app, Role.SME, sme=SME_CODE)
    claimed = client.post(
        f"/api/v1/smes/{SME_CODE}/vouchers", json={"programme_id": str(programme)}, headers=clerk
    )
    assert kept(claimed).status_code == 201, claimed.get_json()
    desk = bearer(app, Role.PROVIDER, provider=uuid.UUID(provider))
    redeemed = client.post(
        f"/api/v1/providers/{provider}/redemptions",
        json={
            "token": claimed.get_json()["token"],
            "category": "legal",
            "description": "合同审查",
            "invoice_number": "XM-2026-001",
            "invoiced_fen": 200_000,
            "delivered_on": local_date(datetime.now(UTC)).isoformat(),
        },
        headers=desk,
    )
    assert kept(redeemed).status_code == 409, redeemed.get_json()
    problem = redeemed.get_json()
    assert problem["code"] == "related_party"
    assert problem["shares"] == ["legal_representative"]

    nanshan = bearer(app, Role.CENTER_STAFF, center="440305")
    relation = {"related_uscc": PROVIDER_CODE, "relation": "shareholder", "reason": "股东名册"}
    url = f"/api/v1/smes/{SME_CODE}/related-parties"
    assert kept(client.post(url, json=relation, headers=clerk)).status_code == 403
    recorded = client.post(url, json=relation, headers=nanshan)
    assert kept(recorded).status_code == 201, recorded.get_json()
    assert recorded.get_json()["to_review"] == []  # nothing was approved between them
    listed = client.get(url, headers=clerk)
    assert [(r["party"], r["related"], r["relation"]) for r in kept(listed).get_json()] == [
        (SME_CODE, PROVIDER_CODE, "shareholder")
    ]

    auditor = bearer(app, Role.AUDITOR, center="440000")
    for read, headers in [
        (f"/api/v1/smes/{SME_CODE}", clerk),
        (f"/api/v1/providers/{provider}", shenzhen),
        ("/api/v1/reports/spend/file?center=440000&format=csv", auditor),
        ("/api/v1/reports/spend/file?center=440000&format=xlsx", auditor),
        ("/api/openapi.json", {}),
    ]:
        answer = client.get(read, headers=headers)
        assert kept(answer).status_code == 200, read
    exported = runner.invoke(args=["ledger", "export", str(tmp_path / "export")])
    assert exported.exit_code == 0, exported.output

    with app.app_context():
        digest = legal_rep_digest(current().matching_key(), LegalRepresentative(NAME, ID_NUMBER))
    forms = [
        NAME.encode(),
        json.dumps(NAME).strip('"').encode(),  # as JSON answers write it: \\u9648…
        ID_NUMBER.encode(),
        ID_NUMBER.lower().encode(),
        digest,
        digest.hex().encode(),
        base64.b64encode(digest),
        base64.urlsafe_b64encode(digest).rstrip(b"="),
    ]
    logged = "\n".join(
        f"{record.getMessage()} {record.__dict__}" for record in caplog.records
    ).encode()
    files = [path.read_bytes() for path in (tmp_path / "export").rglob("*") if path.is_file()]
    files.append(_cells(answers[-2]))  # the XLSX report, its cells' text (the file is a zip)
    stored = _every_row(app)
    assert caplog.records and files and len(answers) == 13
    # The scan sees what the answers do carry: the address, in the same escaped form.
    assert json.dumps("深圳市南山区粤海街道科技园1栋").strip('"').encode() in answers[0]
    for text in [*answers, logged, *files]:
        for form in forms:
            assert form not in text
    # The database keeps the digest (the SME, its history, the provider), nothing else of them.
    assert ID_NUMBER not in stored and ID_NUMBER.lower() not in stored and NAME not in stored
    assert stored.count(digest.hex()) == 3


def _cells(workbook: bytes) -> bytes:
    book = load_workbook(io.BytesIO(workbook), read_only=True)
    return "\n".join(
        str(value) for sheet in book for row in sheet.iter_rows(values_only=True) for value in row
    ).encode()


def _every_row(app: Flask) -> str:
    """Every row of every table, as text (bytes as hex)."""
    with app.app_context(), current().database.engine.connect() as connection:
        return "\n".join(
            " ".join(value.hex() if isinstance(value, bytes) else str(value) for value in row)
            for table in Base.metadata.sorted_tables
            for row in connection.execute(select(table))
        )
