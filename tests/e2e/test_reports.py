"""Reports over HTTP (the dashboard's spend JSON, CSV and XLSX downloads, the KPIs, the public
catalogue with its ratings) and on the command line, on the demo data."""

from __future__ import annotations

import csv
import io
import uuid
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from openpyxl import load_workbook

from tests.integration import spend_replay
from voucher_app.services import providers, reports, tracking
from voucher_app.wiring import current


def test_the_json_report_is_the_services_report_and_the_ledgers(
    app: Flask, client: FlaskClient, demo: None, auditor: dict[str, str]
) -> None:
    answer = client.get("/api/v1/reports/spend?center=440100", headers=auditor)
    assert answer.status_code == 200
    body = answer.get_json()
    with app.app_context():
        uow = current().uow()
        report = reports.spend_report(uow, "440100")
        spend_replay.assert_matches_replay(uow, report)
    assert body["center"] == "440100" and body["center_name"] == report.center_name
    assert body["total"] == report.total.as_dict()
    assert body["total"]["allocated_fen"] == 300_000_000  # the demo gives Guangzhou ¥3,000,000
    assert {line["key"]: line["figures"] for line in body["children"]} == {
        line.key: line.figures.as_dict() for line in report.children
    }
    assert [line["key"] for line in body["by_month"]] == [line.key for line in report.by_month]


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("center=440100&from=2026-13", 422, "validation_failed"),
        ("center=440100&programme=not-a-uuid", 422, "validation_failed"),
        ("from=2026-01", 422, "validation_failed"),
        ("center=449999", 404, "unknown_center"),
    ],
)
def test_a_bad_report_request_gets_a_problem(
    client: FlaskClient, demo: None, auditor: dict[str, str], query: str, status: int, code: str
) -> None:
    answer = client.get(f"/api/v1/reports/spend?{query}", headers=auditor)
    assert answer.status_code == status
    assert answer.mimetype == "application/problem+json"
    problem = answer.get_json()
    assert problem["code"] == code
    if status == 422:
        assert problem["errors"]  # the failing fields


def test_the_report_downloads_as_csv_and_xlsx(
    client: FlaskClient, demo: None, auditor: dict[str, str]
) -> None:
    figures = client.get("/api/v1/reports/spend?center=440000", headers=auditor).get_json()
    as_csv = client.get("/api/v1/reports/spend/file?center=440000&format=csv", headers=auditor)
    assert as_csv.status_code == 200 and as_csv.mimetype == "text/csv"
    assert 'filename="spend-440000.csv"' in as_csv.headers["Content-Disposition"]
    assert as_csv.data.startswith("\ufeff".encode())  # spreadsheets in China read the names
    total = next(csv.DictReader(io.StringIO(as_csv.data.decode("utf-8-sig"))))
    assert total["section"] == "total"
    assert total["allocated_cny"] == f"{figures['total']['allocated_fen'] // 100}.00"
    as_xlsx = client.get("/api/v1/reports/spend/file?center=440000&format=xlsx", headers=auditor)
    assert as_xlsx.status_code == 200
    book = load_workbook(io.BytesIO(as_xlsx.data))
    assert book["下级中心 Centers"].max_row == 1 + len(figures["children"])
    refused = client.get("/api/v1/reports/spend/file?center=440000&format=pdf", headers=auditor)
    assert refused.status_code == 422


def test_the_command_prints_the_report_or_writes_a_file(
    runner: FlaskCliRunner, demo: None, tmp_path: Path
) -> None:
    printed = runner.invoke(args=["reports", "spend", "--center", "440300"])
    assert printed.exit_code == 0, printed.output
    total = next(line for line in printed.output.splitlines() if line.startswith("440300 total"))
    assert "¥3,000,000.00" in total  # Shenzhen's allocation
    assert "-- centers" in printed.output and "440305" in printed.output
    out = tmp_path / "shenzhen.xlsx"
    written = runner.invoke(args=["reports", "spend", "--center", "440300", "--out", str(out)])
    assert written.exit_code == 0, written.output
    assert load_workbook(out)["汇总 Summary"].max_row == 3
    wrong = runner.invoke(args=["reports", "spend", "--center", "440300", "--out", "x.pdf"])
    assert wrong.exit_code != 0 and ".csv or .xlsx" in wrong.output
    unknown = runner.invoke(args=["reports", "spend", "--center", "449999"])
    assert unknown.exit_code == 1 and "unknown_center" in unknown.output


def test_the_kpis_and_the_catalogue_answer_as_the_services_do(
    app: Flask, client: FlaskClient, demo: None, auditor: dict[str, str]
) -> None:
    answer = client.get("/api/v1/reports/kpis?center=440000", headers=auditor)
    assert answer.status_code == 200
    body = answer.get_json()
    with app.app_context():
        uow = current().uow()
        kpis = tracking.center_kpis(uow, "440000")
        listed = providers.catalogue(uow, category="accounting_tax")
    assert body["total"]["vouchers_issued"] == kpis.total.vouchers_issued > 0
    assert body["total"]["ratings"] == {"count": 1, "average": 5.0}  # the demo's one rating
    assert body["total"]["vouchers_redeemed"] == kpis.total.vouchers_redeemed == 1
    assert len(body["children"]) == 21
    assert (
        client.get("/api/v1/reports/kpis?center=440000&year=2020", headers=auditor).get_json()[
            "total"
        ]["vouchers_issued"]
        == 0
    )
    assert (
        client.get("/api/v1/reports/kpis?center=440000&year=abc", headers=auditor).status_code
        == 422
    )
    catalogue = client.get("/api/v1/catalogue?category=accounting_tax")
    assert catalogue.status_code == 200
    assert [p["id"] for p in catalogue.get_json()["items"]] == [str(p.id) for p in listed]
    ratings = [(p["name"], p["rating"]) for p in catalogue.get_json()["items"]]
    assert ratings == [
        (p.name, {"count": p.rating.count, "average": p.rating.average}) for p in listed
    ]
    assert ("小微企业年度汇算清缴代理", {"count": 1, "average": 5.0}) in ratings
    assert client.get("/api/v1/catalogue?category=astrology").status_code == 422


def test_the_kpi_and_complaint_commands(runner: FlaskCliRunner, demo: None) -> None:
    printed = runner.invoke(args=["reports", "kpis", "--center", "440000"])
    assert printed.exit_code == 0, printed.output
    assert printed.output.splitlines()[1].startswith("440000")
    assert len(printed.output.splitlines()) == 2 + 21  # the header, the province, each city
    none = runner.invoke(args=["reports", "complaints", "--center", "440000", "--open"])
    assert none.exit_code == 0 and none.output == ""
    unknown = runner.invoke(
        args=["reports", "resolve-complaint", str(uuid.uuid4()), "--resolution", "x"]
    )
    assert unknown.exit_code == 1 and "unknown_complaint" in unknown.output
