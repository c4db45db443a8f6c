"""Reconciliation over HTTP: Shenzhen's finance staff export a batch, upload the bank's
statement that proves it paid, and read the report; another city's staff cannot import a
statement paying Shenzhen's batch, and a bank's CSV export is read through a saved mapping (and
refused whole when it is another account's)."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from tests.e2e.accounts import bearer
from tests.e2e.demo_data import load_demo
from tests.e2e.uploads import Field, send_form
from tests.integration.test_settlement import FUNDING, camt053, entry
from voucher_app.domain.actors import Actor, Role
from voucher_app.persistence.models import BankStatement
from voucher_app.services import demo, settlement
from voucher_app.wiring import current


def statements(app: Flask) -> int:
    with app.app_context(), current().database.engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(BankStatement)).scalar_one()


def test_finance_reconciles_its_batch_from_the_banks_statement(
    app: Flask, runner: FlaskCliRunner
) -> None:
    programme = load_demo(app, runner)
    with app.app_context():
        finance = Actor("finance", Role.CENTER_FINANCE)
        settlement.set_funding_account(
            current().uow(), programme, FUNDING, Actor("admin", Role.ADMIN)
        )
        batch = settlement.build_batch(current().uow(), programme, "440300", finance)
        settlement.export_batch(current().uow(), batch.id, finance)
    shenzhen = bearer(app, Role.CENTER_FINANCE, center="440300")
    guangzhou = bearer(app, Role.CENTER_FINANCE, center="440100")
    client = app.test_client()
    reference = batch.items[0].reference
    bank = camt053("HTTP-1", [entry(reference, "1500.00"), entry(None, "8.00", bank_ref="FEE")])
    form: dict[str, Field] = {"center": "440100", "file": (bank, "march.xml")}

    elsewhere = send_form(client, "/api/v1/statements", form, guangzhou)
    assert (elsewhere.status_code, elsewhere.get_json()["code"]) == (409, "outside_center")
    assert statements(app) == 0
    as_other = send_form(client, "/api/v1/statements", {**form, "center": "440300"}, guangzhou)
    assert as_other.status_code == 403

    imported = send_form(client, "/api/v1/statements", {**form, "center": "440300"}, shenzhen)
    assert imported.status_code == 201, imported.get_json()
    result = imported.get_json()
    assert (result["lines"], result["outcomes"], result["replayed"]) == (
        2, {"paid": 1, "unmatched": 1}, False,
    )  # fmt: skip
    again = send_form(client, "/api/v1/statements", {**form, "center": "440300"}, shenzhen)
    assert (again.get_json()["replayed"], statements(app)) == (True, 1)

    report = client.get("/api/v1/statements/reconciliation?center=440300", headers=shenzhen)
    assert [(i["reference"], i["state"], i["paid_fen"]) for i in report.get_json()["items"]] == [
        (reference, "paid", 150_000)
    ]
    assert [line["amount_fen"] for line in report.get_json()["unmatched"]] == [800]
    paid = client.get(f"/api/v1/batches/{batch.id}", headers=shenzhen).get_json()["status"]
    assert paid == "paid"
    theirs = client.get("/api/v1/statements/reconciliation?center=440100", headers=guangzhou)
    assert theirs.get_json() == {"center": "440100", "items": [], "unmatched": []}


def test_a_banks_csv_export_is_read_through_the_saved_mapping(
    app: Flask, runner: FlaskCliRunner
) -> None:
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    shenzhen = bearer(app, Role.CENTER_FINANCE, center="440300")
    client = app.test_client()
    mapping = {
        "center": "440300",
        "name": "招商银行导出",
        "end_to_end_id": "业务参考号",
        "amount": "金额",
        "booked_on": "交易日",
        "direction": "借贷",
    }
    saved = client.put("/api/v1/statements/mappings", json=mapping, headers=shenzhen)
    assert saved.get_json() == {"center": "440300", "name": "招商银行导出"}
    unknown = client.put(
        "/api/v1/statements/mappings", json={**mapping, "color": "red"}, headers=shenzhen
    )
    assert unknown.status_code == 422
    by_sign = client.put(
        "/api/v1/statements/mappings", json={**mapping, "direction": None}, headers=shenzhen
    )  # the sign of a number would decide the direction: refused, naming the field
    assert (by_sign.status_code, by_sign.get_json()["code"]) == (400, "invalid_mapping")
    assert by_sign.get_json()["field"] == "mapping.direction"
    table = "交易日,借贷,金额,业务参考号\n2026-03-03,借,12.00,\n".encode()
    form: dict[str, Field] = {
        "center": "440300",
        "mapping": "招商银行导出",
        "account": demo.FUNDING_ACCOUNT.account_number,  # the file does not say
        "file": (table, "march.csv"),
    }
    foreign = send_form(
        client, "/api/v1/statements", {**form, "account": "6222020000001234567"}, shenzhen
    )
    assert (foreign.status_code, foreign.get_json()["code"]) == (409, "foreign_account")
    assert statements(app) == 0  # another account's statement is refused whole
    imported = send_form(client, "/api/v1/statements", form, shenzhen)
    assert imported.status_code == 201, imported.get_json()
    assert imported.get_json()["outcomes"] == {"unmatched": 1}
    other = {**form, "mapping": "无", "file": (table + b"2026-03-04,\xe5\x80\x9f,1.00,\n", "a.csv")}
    unmapped = send_form(client, "/api/v1/statements", other, shenzhen)
    assert (unmapped.status_code, unmapped.get_json()["field"]) == (400, "mapping")
