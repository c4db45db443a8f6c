"""An SME registers on the site: the record and the pending account together or not at all;
errors next to the field they concern, in Chinese, with what was typed kept."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import func, select

from tests import factories
from tests.e2e.accounts import PASSWORD, account
from tests.e2e.demo_data import load_demo
from tests.e2e.pages import csrf_token, visible_text
from voucher_app.domain.actors import Role
from voucher_app.persistence.models import Sme, User
from voucher_app.services import smes
from voucher_app.wiring import current

CODE = factories.uscc(77, "440106")  # registered in Tianhe, Guangzhou


def form(client: FlaskClient, **changes: str) -> dict[str, str]:
    return {
        "csrf_token": csrf_token(client, "/register"),
        "uscc": CODE.lower(),
        "name": "广州市天河区星河设计工作室",
        "industry": "software_it",
        "employees": "6",
        "revenue": "800,000",
        "assets": "200000",
        "home_center": "440106",
        "address": "广州市天河区天河路 2 号",
        "contact_phone": "020 3800 0000",
        "legal_rep_name": "黄星河",
        "legal_rep_id_number": "44030519900101123X",
        "relation": "shareholder",
        "username": "xinghe.clerk",
        "password": PASSWORD,
        "repeat": PASSWORD,
        **changes,
    }


def counts(app: Flask) -> tuple[int, int]:
    with app.app_context(), current().database.engine.connect() as connection:
        return (
            connection.execute(select(func.count()).select_from(Sme)).scalar_one(),
            connection.execute(select(func.count()).select_from(User)).scalar_one(),
        )


def test_an_sme_registers_with_its_clerks_account(app: Flask, runner: FlaskCliRunner) -> None:
    load_demo(app, runner)
    client = app.test_client()
    page = visible_text(client.get("/register").get_data(as_text=True))
    assert "软件和信息技术服务业" in page and "天河区" in page
    done = client.post("/register", data=form(client))
    text = visible_text(done.get_data(as_text=True))
    assert done.status_code == 200 and "已登记为小型企业" not in text and "微型" in text
    with app.app_context():
        uow = current().uow()
        sme = smes.get_sme(uow, CODE)
        assert (sme.name, sme.home_center, sme.revenue_fen) == (
            "广州市天河区星河设计工作室", "440106", 80_000_000,
        )  # fmt: skip
        assert (sme.address, sme.contact_phone, sme.legal_representative_on_record) == (
            "广州市天河区天河路 2 号", "020 3800 0000", True,
        )  # fmt: skip
    with app.app_context(), current().database.engine.connect() as connection:
        status = connection.execute(
            select(User.status).where(User.username == "xinghe.clerk")
        ).scalar_one()
    assert status == "pending"
    checked = client.get(f"/api/v1/uscc/{CODE}").get_json()
    assert checked == {
        "code": CODE, "valid": True, "reason": None, "home_center": "440106", "registered": True,
    }  # fmt: skip


def test_refusals_sit_by_their_field_keep_the_typing_and_store_nothing(
    app: Flask, runner: FlaskCliRunner
) -> None:
    load_demo(app, runner)
    taken = account(app, Role.CENTER_STAFF, center="440106").username
    client = app.test_client()
    before = counts(app)
    cases = {
        "uscc": ({"uscc": CODE[:-1]}, "18 位"),
        "username": ({"username": taken}, "用户名已被使用"),
        "repeat": ({"repeat": PASSWORD + "!"}, "两次输入的密码不一致"),
        "revenue": ({"revenue": "一百万"}, ""),
        "password": ({"password": "short", "repeat": "short"}, "至少 12 个字符"),
        "legal_rep_id_number": ({"legal_rep_id_number": "440305199001011230"}, "身份证号码"),
        "related_uscc": ({"related_uscc": CODE}, "不是本企业"),
    }
    for name, (changes, message) in cases.items():
        answer = client.post("/register", data=form(client, **changes)).get_data(as_text=True)
        assert f'<ul class="errors" id="{name}-errors">' in answer, name
        errors = answer.split(f'id="{name}-errors">')[1].split("</ul>")[0]
        assert message in visible_text(errors), (name, visible_text(errors))
        assert 'value="广州市天河区星河设计工作室"' in answer  # the typing is kept
        assert "44030519900101123X" not in answer, name  # but never the ID number
        assert counts(app) == before, name  # the SME is not registered without its account
