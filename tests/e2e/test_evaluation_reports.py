"""The center evaluation over HTTP, on the demo data: the JSON is the service's report, the CSV
and the XLSX a spreadsheet opens carry the same scores, a deployment's own scheme file changes
them, and a wrong request or a broken file is refused with its code."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from openpyxl import load_workbook

from tests.e2e.accounts import bearer
from voucher_app import create_app
from voucher_app.app import ConfigurationError
from voucher_app.domain.actors import Role
from voucher_app.domain.evaluation import shown
from voucher_app.services import evaluation
from voucher_app.wiring import current

YEAR = 2026
FILE = "/api/v1/reports/evaluation/file"


def _two(value: object) -> str | None:
    return None if value is None else str(value)


def test_the_json_is_the_services_evaluation(
    app: Flask, client: FlaskClient, auditor: dict[str, str]
) -> None:
    answer = client.get(f"/api/v1/reports/evaluation?center=440000&year={YEAR}", headers=auditor)
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    with app.app_context():
        wiring = current()
        report = evaluation.center_evaluation(
            wiring.uow(), "440000", YEAR, wiring.evaluation_schemes[YEAR]
        )
    assert body["year"] == YEAR
    first = body["scheme"]["indicators"][0]
    assert (first["code"], first["weight"], first["worst"], first["best"]) == (
        "redemption_rate",
        20,
        "0.00",
        "0.80",
    )
    assert [g["name"] for g in body["scheme"]["grades"]] == ["优秀", "良好", "合格", "不合格"]
    assert len(body["subtree"]) == len(report.subtree) > 40  # every center of the province
    for shown_score, score in zip(body["subtree"], report.subtree, strict=True):
        assert shown_score["center"] == score.center
        assert shown_score["rank"] == score.rank
        assert shown_score["total"] == _two(shown(score.evaluation.total))
        assert shown_score["grade"] == score.evaluation.grade
        assert shown_score["figures"]["vouchers_issued"] == score.evaluation.figures.vouchers_issued
        assert [line["points"] for line in shown_score["indicators"]] == [
            _two(shown(line.points)) for line in score.evaluation.lines
        ]
    province = body["center"]
    assert province["center"] == "440000" and province["depth"] == 0
    assert province["figures"]["vouchers_issued"] > 0  # the demo issued vouchers this year
    assert [child["center"] for child in body["children"]] == [
        score.center for score in report.children
    ]


def test_the_csv_and_the_xlsx_carry_the_same_rows(
    client: FlaskClient, auditor: dict[str, str]
) -> None:
    body = client.get(
        f"/api/v1/reports/evaluation?center=440300&year={YEAR}", headers=auditor
    ).get_json()
    answer = client.get(f"{FILE}?center=440300&year={YEAR}&format=csv", headers=auditor)
    assert answer.status_code == 200
    assert answer.headers["Content-Disposition"] == (
        f'attachment; filename="evaluation-440300-{YEAR}.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(answer.data.decode("utf-8-sig"))))
    assert [row["center"] for row in rows] == [score["center"] for score in body["subtree"]]
    for row, score in zip(rows, body["subtree"], strict=True):
        assert row["total"] == (score["total"] or "")
        assert row["grade"] == (score["grade"] or "")
        assert row["rank"] == ("" if score["rank"] is None else str(score["rank"]))
        for line in score["indicators"]:
            assert row[f"{line['code']}_points"] == (line["points"] or "")
        assert int(row["redemptions"]) == score["figures"]["redemptions"]
    workbook = client.get(f"{FILE}?center=440300&year={YEAR}&format=xlsx", headers=auditor)
    assert workbook.status_code == 200
    book = load_workbook(io.BytesIO(workbook.data), read_only=True)
    assert book.sheetnames == ["考核 Evaluation", "指标 Scheme", "等级 Grades", "说明 About"]
    sheet = list(book["考核 Evaluation"].iter_rows(values_only=True))
    header = list(sheet[0])
    assert header[:8] == ["year", "center", "name", "parent", "depth", "rank", "total", "grade"]
    assert [row[1] for row in sheet[1:]] == [row["center"] for row in rows]
    for cells, row in zip(sheet[1:], rows, strict=True):
        total = cells[header.index("total")]
        assert (total is None and row["total"] == "") or f"{total:.2f}" == row["total"]
        assert cells[header.index("redemptions")] == int(row["redemptions"])
    scheme = list(book["指标 Scheme"].iter_rows(values_only=True))
    assert [row[:2] for row in scheme[1:]] == [
        (line["code"], line["weight"]) for line in body["scheme"]["indicators"]
    ]


def test_wrong_requests_are_refused_with_their_codes(
    app: Flask, client: FlaskClient, auditor: dict[str, str]
) -> None:
    missing = client.get("/api/v1/reports/evaluation?center=440000&year=2025", headers=auditor)
    assert missing.status_code == 400
    assert missing.get_json()["code"] == "invalid_input"
    assert missing.get_json()["field"] == "year"
    assert missing.get_json()["year"] == 2025
    for query in ("center=440000", "center=440000&year=abc", "year=2026"):
        assert client.get(f"/api/v1/reports/evaluation?{query}", headers=auditor).status_code == 422
    wrong_format = client.get(f"{FILE}?center=440000&year={YEAR}&format=pdf", headers=auditor)
    assert wrong_format.status_code == 422
    unknown = client.get(f"/api/v1/reports/evaluation?center=449999&year={YEAR}", headers=auditor)
    assert unknown.status_code == 404 and unknown.get_json()["code"] == "unknown_center"
    district = bearer(app, Role.CENTER_STAFF, center="440305")
    above = client.get(f"/api/v1/reports/evaluation?center=440300&year={YEAR}", headers=district)
    assert above.status_code == 403
    own = client.get(f"/api/v1/reports/evaluation?center=440305&year={YEAR}", headers=district)
    assert own.status_code == 200 and len(own.get_json()["subtree"]) == 1


SCHEME = """
[2026]
min_weight = 10
[[2026.indicator]]
code = "redemption_rate"
weight = 100
worst = 0
best = 1
[[2026.grade]]
name = "pass"
from = 0
"""


def test_a_deployment_sets_its_own_scheme(
    database_url: str, app: Flask, tmp_path: Path, demo: None
) -> None:
    scheme = tmp_path / "evaluation.toml"
    scheme.write_text(SCHEME, encoding="utf-8")
    config = {**app.config, "EVALUATION_FILE": str(scheme)}
    own = create_app("testing", config)
    try:
        auditor = bearer(own, Role.AUDITOR, center="440000")
        body = own.test_client().get(
            f"/api/v1/reports/evaluation?center=440000&year={YEAR}", headers=auditor
        )
        assert [i["code"] for i in body.get_json()["scheme"]["indicators"]] == ["redemption_rate"]
        province = body.get_json()["center"]
        figures = province["figures"]
        rate = figures["vouchers_redeemed"] / figures["vouchers_issued"]
        assert province["total"] == f"{rate * 100:.2f}" and province["grade"] == "pass"
    finally:
        own.extensions["voucher_app"].database.dispose()
    scheme.write_text(SCHEME.replace("weight = 100", "weight = 90"), encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"VOUCHER_EVALUATION_FILE.*add up to 100"):
        create_app("testing", config)
    with pytest.raises(ConfigurationError, match="VOUCHER_EVALUATION_FILE"):
        create_app("testing", {**config, "EVALUATION_FILE": str(tmp_path / "absent.toml")})


def test_the_evaluation_command_prints_and_writes_the_same_scores(
    runner: FlaskCliRunner, client: FlaskClient, auditor: dict[str, str], tmp_path: Path
) -> None:
    body = client.get(
        f"/api/v1/reports/evaluation?center=440300&year={YEAR}", headers=auditor
    ).get_json()
    printed = runner.invoke(args=["reports", "evaluation", "--center", "440300", "--year", "2026"])
    assert printed.exit_code == 0, printed.output
    lines = printed.output.splitlines()
    assert len(lines) == 1 + len(body["subtree"])  # the header, then a row per center
    for line, score in zip(lines[1:], body["subtree"], strict=True):
        cells = line.split()
        assert cells[0] == score["center"]
        assert (score["total"] or "-") in cells
    out = tmp_path / "shenzhen.xlsx"
    wrote = runner.invoke(
        args=["reports", "evaluation", "--center", "440300", "--year", "2026", "--out", str(out)]
    )
    assert wrote.exit_code == 0 and out.exists()
    sheet = load_workbook(io.BytesIO(out.read_bytes()), read_only=True)["考核 Evaluation"]
    assert [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)] == [
        score["center"] for score in body["subtree"]
    ]
    missing = runner.invoke(args=["reports", "evaluation", "--center", "440300", "--year", "2025"])
    assert missing.exit_code == 1 and "evaluation scheme for 2025" in missing.output
    wrong = runner.invoke(
        args=["reports", "evaluation", "--center", "440300", "--year", "2026", "--out", "x.pdf"]
    )
    assert wrong.exit_code != 0 and ".csv or .xlsx" in wrong.output
