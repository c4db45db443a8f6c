"""Long operations on the pages: the request only starts them; the task's page follows the
progress and then shows the result — to the user who started it, and nobody else."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask.testing import FlaskCliRunner

from tests import factories
from tests.e2e.accounts import PASSWORD, account
from tests.e2e.demo_data import load_demo
from tests.e2e.pages import csrf_token, finished, sign_in, visible_text
from tests.e2e.uploads import Field, send_form
from voucher_app.domain.actors import Role
from voucher_app.services import demo, tasks, vouchers
from voucher_app.wiring import current


def test_a_bulk_list_runs_in_the_background_dry_then_for_real(
    app: Flask, runner: FlaskCliRunner
) -> None:
    programme = load_demo(app, runner)
    with app.app_context():
        nanshan = factories.sme(current().uow(), 7).uscc
    staff = app.test_client()
    sign_in(staff, account(app, Role.CENTER_STAFF, center="440300").username, PASSWORD)
    listing = f"uscc\n{nanshan}\n{demo.SMES[1].uscc}\n".encode()  # the second is in Guangzhou
    form: dict[str, Field] = {
        "csrf_token": csrf_token(staff, "/center/440300/issuance"),
        "programme": str(programme),
        "dry_run": "yes",
        "list": (listing, "list.csv"),
    }
    started = send_form(staff, "/center/440300/issuance", form, {})
    assert started.status_code == 302 and started.location.startswith("/tasks/")
    page = finished(staff, started.location)
    assert "试运行：将发放 1 张" in page and "不在本中心辖区" in page
    with app.app_context():
        assert vouchers.list_vouchers(current().uow(), sme_uscc=nanshan) == []

    other = app.test_client()
    sign_in(other, account(app, Role.CENTER_STAFF, center="440300").username, PASSWORD)
    assert other.get(started.location).status_code == 404  # not theirs

    real = send_form(staff, "/center/440300/issuance", {**form, "dry_run": "no"}, {})
    assert "已发放 1 张" in finished(staff, real.location)
    with app.app_context():
        assert len(vouchers.list_vouchers(current().uow(), sme_uscc=nanshan)) == 1


def test_a_task_whose_process_died_is_told_and_its_owner_starts_it_again(
    app: Flask, runner: FlaskCliRunner
) -> None:
    programme = load_demo(app, runner)
    clerk = account(app, Role.CENTER_STAFF, center="440300").username
    with app.app_context():
        parts = current()
        nanshan = factories.sme(parts.uow(), 7).uscc
        params = {"code": "440300", "filename": "list.csv", "programme": str(programme)}
        upload = f"uscc\n{nanshan}\n".encode()
        died = tasks.start(
            parts.uow(),
            "issuance",
            clerk,
            runner="gone:1",
            params={**params, "dry_run": False},
            upload=upload,
        )
        assert tasks.fail_stale(parts.uow(), timedelta(0)) == [died]
    staff = app.test_client()
    sign_in(staff, clerk, PASSWORD)
    page = staff.get(f"/tasks/{died}").get_data(as_text=True)
    assert "处理此任务的服务器在完成前停止了" in visible_text(page)
    again = f"/tasks/{died}/again"
    assert f'action="{again}"' in page

    other = app.test_client()
    sign_in(other, account(app, Role.CENTER_STAFF, center="440300").username, PASSWORD)
    assert other.post(again, data={"csrf_token": csrf_token(other, "/")}).status_code == 404

    started = staff.post(again, data={"csrf_token": csrf_token(staff, f"/tasks/{died}")})
    assert started.status_code == 302 and started.location != f"/tasks/{died}"
    assert "已发放 1 张" in finished(staff, started.location)
    with app.app_context():
        assert len(vouchers.list_vouchers(current().uow(), sme_uscc=nanshan)) == 1
    # A task that ended well has nothing to start again.
    done = staff.post(f"{started.location}/again", data={"csrf_token": csrf_token(staff, "/")})
    assert done.status_code == 302 and done.location == started.location
