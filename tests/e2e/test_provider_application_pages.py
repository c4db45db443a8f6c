"""A provider applies on the site with its desk's account: both or neither are recorded, and
errors sit by their fields."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from tests import factories
from tests.e2e.accounts import PASSWORD
from tests.e2e.demo_data import load_demo
from tests.e2e.pages import csrf_token, visible_text
from voucher_app.persistence.models import Provider, User
from voucher_app.wiring import current

CODE = factories.uscc(903, "440104")


def counts(app: Flask) -> tuple[int, int]:
    with app.app_context(), current().database.engine.connect() as connection:
        return (
            connection.execute(select(func.count()).select_from(Provider)).scalar_one(),
            connection.execute(select(func.count()).select_from(User)).scalar_one(),
        )


def test_a_provider_applies_with_its_desks_account(app: Flask, runner: FlaskCliRunner) -> None:
    load_demo(app, runner)
    client = app.test_client()
    form = {
        "uscc": CODE,
        "name": "广州越秀知识产权服务所",
        "service_categories": ["legal", "intellectual_property"],
        "contact_name": "周律师",
        "contact_phone": "+86 20 8333 0000",
        "contact_email": "ip@example.cn",
        "address": "广州市越秀区中山五路 1 号",
        "bank_name": "中国银行广州越秀支行",
        "bank_account_name": "广州越秀知识产权服务所",
        "bank_account_number": "744000000000009",
        "bank_cnaps": "102581000013",
        "center": "440104",
        "legal_rep_name": "周律师",
        "legal_rep_id_number": "K1234567",
        "relation": "shareholder",
        "username": "yuexiu.ip",
        "password": PASSWORD,
        "repeat": PASSWORD,
    }
    before = counts(app)
    for changes, field, message in (
        ({"contact_email": "not an address"}, "contact_email", ""),
        ({"service_categories": []}, "service_categories", ""),
        ({"uscc": CODE[:-1]}, "uscc", "18 位"),
        ({"address": ""}, "address", ""),
    ):
        token = csrf_token(client, "/providers/apply")
        page = client.post("/providers/apply", data={**form, **changes, "csrf_token": token})
        html = page.get_data(as_text=True)
        assert f'id="{field}-errors"' in html, field
        assert message in visible_text(html.split(f'id="{field}-errors"')[1].split("</ul>")[0])
        assert counts(app) == before
    token = csrf_token(client, "/providers/apply")
    done = client.post("/providers/apply", data={**form, "csrf_token": token})
    assert "广州越秀知识产权服务所" in visible_text(done.get_data(as_text=True))
    assert counts(app) == (before[0] + 1, before[1] + 1)
    with app.app_context(), current().database.engine.connect() as connection:
        address = connection.execute(select(Provider.address).where(Provider.uscc == CODE))
        assert address.scalar_one() == "广州市越秀区中山五路 1 号"
