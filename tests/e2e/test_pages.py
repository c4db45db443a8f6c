"""The public pages and signing in, as a visitor's browser sees them (server-rendered HTML):
Chinese by default, English on request; the catalogue filtered by category and center with
prices as ¥1,234.50; the ledger's checkpoint; sign-in errors next to the field, the name kept,
and no form accepted without its CSRF token."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from tests import factories
from tests.e2e.accounts import PASSWORD, account, bearer
from tests.e2e.demo_data import demo_names, load_demo, tax_adviser
from tests.e2e.pages import csrf_token, finished, sign_in, visible_text
from tests.unit.test_translations import catalogue
from voucher_app.api import LIMITED
from voucher_app.domain.actors import Role
from voucher_app.http import hardening
from voucher_app.http.policy import ACCESS_ATTRIBUTE
from voucher_app.services import demo, providers, users
from voucher_app.web import PAGE_LIMITS
from voucher_app.wiring import current

API = ("/api/", "/.well-known/", "/healthz", "/readyz", "/metrics", "/static/")
CHINESE = {"Accept-Language": "zh-CN,zh;q=0.9"}
ENGLISH = {"Accept-Language": "en-GB,en;q=0.8"}


def test_every_page_declares_who_may_see_it(app: Flask) -> None:
    pages = [rule for rule in app.url_map.iter_rules() if not rule.rule.startswith(API)]
    assert {rule.rule for rule in pages} >= {"/", "/catalogue", "/ledger", "/sign-in"}
    for rule in pages:
        view = app.view_functions[rule.endpoint]
        assert getattr(view, ACCESS_ATTRIBUTE, None) is not None, rule.rule


def test_pages_speak_chinese_by_default_and_english_on_request(client: FlaskClient) -> None:
    chinese = visible_text(client.get("/").get_data(as_text=True))
    assert "小微企业服务券" in chinese and "服务目录" in chinese
    english = visible_text(client.get("/", headers=ENGLISH).get_data(as_text=True))
    assert "Service vouchers for small and micro enterprises" in english
    assert "服务目录" not in english

    token = csrf_token(client, "/catalogue")
    switched = client.post(
        "/language", data={"language": "en", "next": "/catalogue", "csrf_token": token}
    )
    assert (switched.status_code, switched.location) == (302, "/catalogue")
    after = client.get("/catalogue", headers=CHINESE).get_data(as_text=True)
    assert "Service catalogue" in after  # the choice outranks the browser's language
    assert '<html lang="en">' in after


def test_the_catalogue_filters_and_shows_prices_in_yuan(app: Flask, runner: FlaskCliRunner) -> None:
    load_demo(app, runner)
    with app.app_context():
        everything = providers.catalogue(current().uow())
        tax = [p for p in everything if p.category == "accounting_tax"]
    client = app.test_client()
    page = client.get("/catalogue?category=accounting_tax", headers=CHINESE).get_data(as_text=True)
    shown = visible_text(page)
    assert tax and all(product.name in shown for product in tax)
    assert all(p.name not in shown for p in everything if p.category != "accounting_tax")
    assert "¥3,000.00" in shown  # the demo's tax filing service
    assert "财税服务" in shown  # the category's Chinese name in the filter
    nowhere = client.get("/catalogue?category=accounting_tax&center=440300").get_data(as_text=True)
    assert "没有符合筛选条件的服务产品" in visible_text(nowhere)  # the tax adviser is in Guangzhou
    odd = client.get("/catalogue?category=astrology&center=x")
    assert odd.status_code == 200 and all(p.name in odd.get_data(as_text=True) for p in everything)


def test_the_ledger_page_shows_the_latest_checkpoint(app: Flask, runner: FlaskCliRunner) -> None:
    load_demo(app, runner)
    assert runner.invoke(args=["ledger", "checkpoint"]).exit_code == 0
    page = app.test_client().get("/ledger", headers=ENGLISH).get_data(as_text=True)
    text = visible_text(page)
    assert "Latest checkpoint" in text and "voucher-audit http://localhost" in text
    size = app.test_client().get("/api/v1/ledger/checkpoint").get_data(as_text=True).split("\n")[1]
    assert f'<dd class="tree-size">{size}</dd>' in page


def test_signing_in_keeps_the_name_shows_the_error_by_the_field_and_needs_the_token(
    app: Flask,
) -> None:
    with app.app_context():
        factories.guangdong(current().uow())
    bearer(app, Role.CENTER_STAFF, center="440300")  # makes the account; its name is below
    with app.app_context():
        name = users.list_users(current().uow())[0].username
    client = app.test_client()
    token = csrf_token(client, "/sign-in")
    wrong = client.post(
        "/sign-in", data={"username": name, "password": "not it", "csrf_token": token},
        headers=ENGLISH,
    )  # fmt: skip
    page = wrong.get_data(as_text=True)
    assert wrong.status_code == 200
    assert f'value="{name}"' in page  # what the user typed stays
    assert 'aria-describedby="password-errors"' in page
    assert '<ul class="errors" id="password-errors">' in page
    assert "Wrong user name or password." in page

    forged = client.post("/sign-in", data={"username": name, "password": PASSWORD})
    assert forged.status_code == 400  # no CSRF token: refused before the password is tried
    token = csrf_token(client, "/sign-in")
    signed_in = client.post(
        "/sign-in?next=/catalogue",
        data={"username": name, "password": PASSWORD, "csrf_token": token},
    )
    assert (signed_in.status_code, signed_in.location) == (302, "/catalogue")
    assert name in client.get("/").get_data(as_text=True)
    elsewhere = client.post(
        "/sign-in?next=//evil.example",
        data={"username": name, "password": PASSWORD, "csrf_token": csrf_token(client, "/sign-in")},
    )
    assert elsewhere.location == "/center/"  # never sent off-site: to the account's home


def test_every_page_renders_in_both_languages_without_untranslated_strings(
    app: Flask, runner: FlaskCliRunner
) -> None:
    """Walks the catalogue over every page, as the people who see each: no English message
    shows on a Chinese page, and no Chinese one on an English page (a string printed without
    `_()` shows up as one or the other). The demo's names are data, not messages: they are
    taken out of the text first."""
    programme = load_demo(app, runner)
    assert runner.invoke(args=["ledger", "checkpoint"]).exit_code == 0
    provider, _ = tax_adviser(app)
    messages = [m for m in catalogue("zh_CN") if m.id and isinstance(m.id, str)]
    english = {str(m.id) for m in messages if "%(" not in str(m.id) and len(str(m.id)) > 3}
    chinese = {
        str(m.string) for m in messages if "%(" not in str(m.string) and len(str(m.string)) > 1
    }
    pages: dict[str, tuple[FlaskClient, list[str]]] = {
        "public": (app.test_client(), ["/", "/catalogue", "/ledger", "/sign-in", "/register",
                                       "/providers/apply", "/catalogue?category=legal"]),
        "sme": (_signed_in(app, Role.SME, sme=demo.SMES[2].uscc), [f"/sme/{demo.SMES[2].uscc}"]),
        "provider": (_signed_in(app, Role.PROVIDER, provider=provider), [f"/provider/{provider}"]),
        "admin": (_signed_in(app, Role.CENTER_ADMIN, center="440000"), [
            f"/center/programmes/{programme}/funding-account",
        ]),
        "staff": (_signed_in(app, Role.CENTER_STAFF, center="440000"), [
            "/center/440000/review", "/center/440000/approvals", "/center/440000/budget",
            "/center/440000/programmes", "/center/440000/issuance", "/finance/440000",
            "/dashboard/440000", "/dashboard/440300",
        ]),
    }  # fmt: skip
    staff = pages["staff"][0]
    verify = staff.post("/ledger/verify", data={"csrf_token": csrf_token(staff, "/ledger")})
    finished(staff, verify.location)
    pages["staff"][1].append(verify.location)
    data = demo_names(app)
    for client, urls in pages.values():
        for url in urls:
            in_chinese = _scrub(client.get(url, headers=CHINESE).get_data(as_text=True), data)
            in_english = _scrub(client.get(url, headers=ENGLISH).get_data(as_text=True), data)
            assert [text for text in english if text in in_chinese] == [], url
            assert [text for text in chinese if text in in_english] == [], url
            assert "SME service vouchers" in in_english and "中小企业服务券" in in_chinese


def _signed_in(app: Flask, role: Role, **binding: Any) -> FlaskClient:
    client = app.test_client()
    sign_in(client, account(app, role, **binding).username, PASSWORD)
    return client


def _scrub(html: str, names: list[str]) -> str:
    text = visible_text(html)
    for name in names:
        text = text.replace(name, " ")
    return text


def test_signing_in_on_the_page_is_rate_limited_like_the_api(app: Flask) -> None:
    client = app.test_client()
    token = csrf_token(client, "/sign-in")
    attempt = {"username": "nobody", "password": "wrong", "csrf_token": token}
    answers = [client.post("/sign-in", data=attempt).status_code for _ in range(11)]
    assert answers[:10] == [200] * 10 and answers[10] == 429
    refused = client.post("/sign-in", data=attempt)
    assert "尝试次数过多" in visible_text(refused.get_data(as_text=True))


def test_every_rate_limit_is_a_use_case_that_a_route_or_a_page_takes(app: Flask) -> None:
    """Limits are keyed by use case, and the API and the pages say which of their routes take
    which: no limit is left that nothing takes, and every route named is one the app has."""
    assert set(LIMITED.values()) | set(PAGE_LIMITS.values()) == set(hardening.LIMITS)
    assert set(LIMITED) | set(PAGE_LIMITS) <= set(app.view_functions)
