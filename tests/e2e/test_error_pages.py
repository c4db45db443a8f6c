"""Every failure of a page is a page: HTML (never the API's JSON, never text the browser shows
as source), with the failure's status, a sentence saying what happened and one saying what to
do next, in the page's language — Chinese for a Chinese page, English for an English one. The
same failures under /api/ stay RFC 9457 problem documents.

Each status is caused the way a visitor meets it: a form without its CSRF token (400), a page of
another role (403), an unknown address (404), a form's address opened directly (405), a body
past the limit (413), an eleventh sign-in within the minute (429) and a service that breaks
(500)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from werkzeug.test import TestResponse

from tests.e2e.accounts import bearer
from tests.e2e.demo_data import load_demo
from tests.e2e.pages import csrf_token, visible_text
from voucher_app.domain.actors import Role
from voucher_app.services import providers

CHINESE = {"Accept-Language": "zh-CN,zh;q=0.9"}
ENGLISH = {"Accept-Language": "en-GB,en;q=0.8"}
#: What each status's page says happened and what to do next, in Chinese and in English.
SAID = {
    400: (("表单已过期", "重新加载"), ("This form has expired", "Reload the page")),
    403: (("无权打开此页面", "管理员"), ("may not open this page", "administrator")),
    404: (("没有这个页面", "检查网址"), ("There is no such page", "Check the address")),
    405: (("不接受", "回到表单"), ("does not take what was sent", "Go back to the page")),
    413: (("文件太大", "1 MB"), ("The file is too large", "at most 1 MB")),
    429: (("尝试次数过多", "一分钟"), ("Too many attempts", "Wait a minute")),
    500: (("系统出错了", "编号"), ("Something went wrong on our side", "this reference")),
}
Cause = Callable[[FlaskClient, dict[str, str]], TestResponse]


def _without_token(client: FlaskClient, headers: dict[str, str]) -> TestResponse:
    return client.post("/language", data={"language": "en", "next": "/"}, headers=headers)


def _another_roles_page(client: FlaskClient, headers: dict[str, str]) -> TestResponse:
    return client.get("/center/440300/review", headers=headers)  # signed in as an auditor


def _unknown_address(client: FlaskClient, headers: dict[str, str]) -> TestResponse:
    return client.get("/no-such-page", headers=headers)


def _form_address_opened(client: FlaskClient, headers: dict[str, str]) -> TestResponse:
    return client.get("/sign-out", headers=headers)


def _too_large(client: FlaskClient, headers: dict[str, str]) -> TestResponse:
    body = "x" * (1024 * 1024 + 1)
    return client.post("/sign-in", data={"username": body, "password": "p"}, headers=headers)


def _eleventh_sign_in(client: FlaskClient, headers: dict[str, str]) -> TestResponse:
    """Sign-ins fail until the limit of ten a minute refuses one (the fixture's took one)."""
    attempt = {"username": "nobody", "password": "wrong", "csrf_token": csrf_token(client, "/")}
    answers = [client.post("/sign-in", data=attempt, headers=headers) for _ in range(10)]
    assert [answer.status_code for answer in answers[:9]] == [200] * 9
    return answers[-1]


def _broken_service(client: FlaskClient, headers: dict[str, str]) -> TestResponse:
    return client.get("/catalogue", headers=headers)  # the catalogue's service raises


CAUSES: dict[int, Cause] = {
    400: _without_token,
    403: _another_roles_page,
    404: _unknown_address,
    405: _form_address_opened,
    413: _too_large,
    429: _eleventh_sign_in,
    500: _broken_service,
}


def _breaks(*_args: object, **_kwargs: object) -> None:
    raise RuntimeError("the database went away")


@pytest.mark.parametrize("status", sorted(CAUSES))
@pytest.mark.parametrize("language", ["zh", "en"])
def test_each_failure_of_a_page_is_a_page_in_its_language(
    auditor_page: FlaskClient, monkeypatch: pytest.MonkeyPatch, status: int, language: str
) -> None:
    monkeypatch.setattr(providers, "catalogue", _breaks)
    headers = CHINESE if language == "zh" else ENGLISH
    answer = CAUSES[status](auditor_page, headers)

    assert answer.status_code == status
    assert answer.mimetype == "text/html"
    html = answer.get_data(as_text=True)
    assert html.startswith("<!DOCTYPE html>")
    assert f'<html lang="{"zh-CN" if language == "zh" else "en"}">' in html
    text = visible_text(html)
    happened, next_step = SAID[status][0 if language == "zh" else 1]
    assert happened in text and next_step in text, text
    assert ("抱歉" in text) == (language == "zh")
    if status == 405:
        assert "POST" in answer.headers["Allow"]  # what the address does take
    assert "Traceback" not in text and "database went away" not in text


def test_the_page_of_a_failure_leads_somewhere(auditor_page: FlaskClient) -> None:
    """Back to the account's own start, and for a refusal a way to sign in as someone else;
    a visitor who is not signed in is sent to sign in instead of refused."""
    refused = auditor_page.get("/center/440300/budget/nope", headers=CHINESE)
    assert refused.status_code == 404 and 'href="/dashboard/"' in refused.get_data(as_text=True)
    refused = auditor_page.get("/center/440300/review", headers=CHINESE)
    assert 'href="/sign-in"' in refused.get_data(as_text=True)

    stranger = auditor_page.application.test_client().get("/center/440300/review")
    assert stranger.status_code == 302
    assert stranger.location.startswith("/sign-in?next=")


def test_a_thing_a_page_address_names_that_does_not_exist_is_a_404_page(
    auditor_page: FlaskClient,
) -> None:
    token = csrf_token(auditor_page, "/")
    answer = auditor_page.post(
        "/finance/batches/00000000-0000-0000-0000-000000000000/export/pain001",
        data={"csrf_token": token},
        headers=ENGLISH,
    )
    assert answer.status_code == 404 and answer.mimetype == "text/html"


API_CAUSES: dict[int, Callable[[FlaskClient, dict[str, str]], TestResponse]] = {
    400: lambda client, auth: client.post(
        "/api/v1/auth/login", data="{", content_type="application/json"
    ),
    403: lambda client, auth: client.get("/api/v1/users", headers=auth),
    404: lambda client, auth: client.get("/api/v1/no-such-thing"),
    405: lambda client, auth: client.delete("/api/v1/catalogue"),
    413: lambda client, auth: client.post(
        "/api/v1/auth/login", data="x" * (1024 * 1024 + 1), content_type="application/json"
    ),
    429: lambda client, auth: [
        client.post("/api/v1/auth/login", json={"username": "nobody", "password": "wrong"})
        for _ in range(11)
    ][-1],
    500: lambda client, auth: client.get("/api/v1/catalogue"),
}


@pytest.mark.parametrize("status", sorted(API_CAUSES))
def test_the_same_failures_under_the_api_stay_problem_documents(
    app: Flask, runner: FlaskCliRunner, monkeypatch: pytest.MonkeyPatch, status: int
) -> None:
    load_demo(app, runner)
    auth = bearer(app, Role.AUDITOR, center="440000")
    monkeypatch.setattr(providers, "catalogue", _breaks)
    answer = API_CAUSES[status](app.test_client(), {**auth, **CHINESE})
    assert answer.status_code == status
    assert answer.mimetype == "application/problem+json"
    problem = answer.get_json()
    assert problem["status"] == status and problem["code"]


def test_a_page_that_breaks_names_the_request_for_the_log_and_hides_the_rest(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(providers, "catalogue", _breaks)
    answer = client.get("/catalogue", headers={**ENGLISH, "X-Request-Id": "req-page-500"})
    assert answer.status_code == 500
    text = visible_text(answer.get_data(as_text=True))
    assert "this reference: req-page-500." in text
    assert "database went away" not in text
    logged = [record for record in caplog.records if record.name == "voucher_app.web.errors"]
    assert logged and logged[0].exc_info is not None  # the trace goes to the log
