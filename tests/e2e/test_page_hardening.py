"""What a review of the pages found, kept found: no redirect off the site after signing in,
verification only for center roles, files on the pages as large as on the API, a repeated
approval that does not fail the page, one page per SME, and a browser session that another
site cannot use against the API."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskCliRunner
from werkzeug.datastructures import MultiDict

from tests.e2e.accounts import PASSWORD, account
from tests.e2e.demo_data import load_demo, new_voucher, submitted_redemption
from tests.e2e.pages import csrf_token, finished, sign_in, visible_text
from tests.e2e.uploads import send_form
from voucher_app.domain.actors import Actor, Role
from voucher_app.domain.users import UserStatus
from voucher_app.services import demo, redemptions, users
from voucher_app.wiring import current


def test_signing_in_never_sends_anyone_off_the_site(app: Flask, runner: FlaskCliRunner) -> None:
    load_demo(app, runner)
    name = account(app, Role.AUDITOR, center="440000").username
    for target in ("/%09/evil.example", "//evil.example", "https://evil.example", "/\\evil"):
        client = app.test_client()
        token = csrf_token(client, "/sign-in")
        answer = client.post(
            f"/sign-in?next={target}",
            data={"username": name, "password": PASSWORD, "csrf_token": token},
        )
        assert answer.location == "/dashboard/", target


def test_only_center_roles_verify_the_ledger_from_the_page(
    app: Flask, runner: FlaskCliRunner
) -> None:
    load_demo(app, runner)
    clerk = app.test_client()
    sign_in(clerk, account(app, Role.SME, sme=demo.SMES[0].uscc).username, PASSWORD)
    token = csrf_token(clerk, "/ledger")
    assert clerk.post("/ledger/verify", data={"csrf_token": token}).status_code == 403
    assert "立即验证" not in clerk.get("/ledger").get_data(as_text=True)


def test_a_list_on_the_page_may_be_as_large_as_through_the_api(
    app: Flask, runner: FlaskCliRunner
) -> None:
    programme = load_demo(app, runner)
    staff = app.test_client()
    sign_in(staff, account(app, Role.CENTER_STAFF, center="440300").username, PASSWORD)
    form = {
        "csrf_token": csrf_token(staff, "/center/440300/issuance"),
        "programme": str(programme),
        "dry_run": "yes",
    }
    lines = [demo.SMES[0].uscc] + ["," + "备注" * 30] * 30_000  # past 1 MiB, within 16
    roomy = send_form(
        staff, "/center/440300/issuance",
        {**form, "list": (("uscc,notes\n" + "\n".join(lines)).encode(), "l.csv")}, {},
    )  # fmt: skip
    assert roomy.status_code == 302
    assert "试运行" in finished(staff, roomy.location)
    huge = b"uscc\n" + b"9" * app.config["MAX_UPLOAD_LENGTH"]
    too_big = send_form(staff, "/center/440300/issuance", {**form, "list": (huge, "l.csv")}, {})
    assert too_big.status_code == 413
    assert "文件太大" in visible_text(too_big.get_data(as_text=True))


def test_approving_the_same_redemption_twice_approves_it_once(
    app: Flask, runner: FlaskCliRunner
) -> None:
    voucher = new_voucher(app, load_demo(app, runner))
    redemption = submitted_redemption(app, voucher, "D-1", 100_000)
    with app.app_context():
        redemptions.confirm_redemption(current().uow(), redemption.id, Actor("clerk", Role.SME))
    staff = app.test_client()
    sign_in(staff, account(app, Role.CENTER_STAFF, center="440300").username, PASSWORD)
    token = csrf_token(staff, "/center/440300/review")
    twice = MultiDict(
        [
            ("csrf_token", token),
            ("redemption", str(redemption.id)),
            ("redemption", str(redemption.id)),
        ]
    )
    done = staff.post("/center/440300/review/approve", data=twice)
    assert "已批准 1 笔兑付申请" in visible_text(staff.get(done.location).get_data(as_text=True))


def test_an_sme_has_one_page_whatever_the_case_of_its_code(
    app: Flask, runner: FlaskCliRunner
) -> None:
    load_demo(app, runner)
    code = demo.SMES[0].uscc
    clerk = app.test_client()
    sign_in(clerk, account(app, Role.SME, sme=code).username, PASSWORD)
    assert clerk.get(f"/sme/{code.lower()}").location == f"/sme/{code}"
    title = re.search(r"<title>(.*?)</title>", clerk.get(f"/sme/{code}").get_data(as_text=True))
    assert title is not None and "<" not in title.group(1)


def test_a_browser_session_cannot_be_used_from_another_site(
    app: Flask, runner: FlaskCliRunner
) -> None:
    load_demo(app, runner)
    clerk = app.test_client()
    sign_in(clerk, account(app, Role.SME, sme=demo.SMES[0].uscc).username, PASSWORD)
    tokens = "/api/v1/auth/tokens"
    forged = clerk.post(tokens, json={"name": "x"}, headers={"Origin": "https://evil.example"})
    assert (forged.status_code, forged.get_json()["code"]) == (403, "permission_denied")
    ours = clerk.post(tokens, json={"name": "x"}, headers={"Origin": "http://localhost"})
    assert ours.status_code == 201


def test_the_approvals_page_does_not_undo_a_disabled_account(
    app: Flask, runner: FlaskCliRunner
) -> None:
    load_demo(app, runner)
    disabled = account(app, Role.SME, sme=demo.SMES[0].uscc)
    with app.app_context():
        users.set_status(
            current().uow(), disabled.user_id, UserStatus.DISABLED, Actor("admin", Role.ADMIN)
        )
    staff = app.test_client()
    sign_in(staff, account(app, Role.CENTER_STAFF, center="440300").username, PASSWORD)
    token = csrf_token(staff, "/center/440300/approvals")
    staff.post(f"/center/accounts/{disabled.user_id}/activate", data={"csrf_token": token})
    page = visible_text(staff.get("/center/440300/approvals").get_data(as_text=True))
    assert "该账户不在待审核状态" in page
    with app.app_context():
        assert users.get_user(current().uow(), disabled.user_id).status is UserStatus.DISABLED
