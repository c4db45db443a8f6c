"""The public notice (公示) as the public meets it: the page lists a day's approved claims with
the names masked, a visitor is asked to sign in before objecting, anyone signed in objects with
a reason (the claim is then shown held), the same list in JSON is what the installed
`voucher-audit` command, run as a separate process against the live service, checks against
the ledger; and wrong days and centers are refused with a stable code."""

from __future__ import annotations

import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask

from tests import factories
from tests.e2e.accounts import PASSWORD, account, bearer
from tests.e2e.pages import csrf_token, sign_in, visible_text
from tests.harness import START
from voucher_app.clock import FrozenClock
from voucher_app.domain.actors import Actor, Role
from voucher_app.domain.notice import HIDDEN
from voucher_app.services import ledger, redemptions, vouchers
from voucher_app.services.redemptions import Service, VoucherProof
from voucher_app.wiring import current

DAY = "2026-03-02"  # START, a Monday
LIST = f"/notice?center=440305&day={DAY}"
STAFF = Actor("reviewer", Role.CENTER_STAFF)
BLANK_REASON = "Say what is wrong, in 1 to 2000 characters."


@dataclass(frozen=True)
class Published:
    claim: uuid.UUID
    sme_name: str
    provider_name: str


@pytest.fixture
def published(app: Flask) -> Published:
    """A claim approved on START in a programme with a five-day notice."""
    app.extensions["voucher_app"].clock = FrozenClock(START)
    with app.app_context():
        parts = current()
        uow = parts.uow()
        factories.guangdong(uow)
        programme = factories.voucher_programme(uow, vouchers=2, notice_working_days=5)
        sme = factories.sme(uow, 1)
        provider = factories.provider(uow, 1)
        voucher = vouchers.claim_voucher(
            uow,
            programme_id=programme.id,
            sme_uscc=sme.uscc,
            actor=factories.ADMIN,
            signer=parts.voucher_signer(),
        )
        claim = redemptions.submit_redemption(
            uow,
            provider_id=provider.id,
            proof=VoucherProof(token=voucher.token),
            service=Service(
                "INV-NOTICE-1",
                400_000,
                START.date(),
                category="accounting_tax",
                description="年度汇算清缴",
            ),
            actor=Actor("desk", Role.PROVIDER),
            public_keys=parts.voucher_keys(),
        )
        redemptions.confirm_redemption(uow, claim.id, Actor("clerk", Role.SME))
        redemptions.approve_redemption(uow, claim.id, STAFF)
    return Published(claim.id, sme.name, provider.name)


def test_a_visitor_sees_the_claim_masked_and_is_asked_to_sign_in_to_object(
    app: Flask, published: Published
) -> None:
    page = app.test_client().get(LIST, headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 200
    text = visible_text(page.get_data(as_text=True))
    assert "测" + HIDDEN in text and published.sme_name not in text  # 测试企业 1, masked
    assert published.provider_name in text  # providers are public: the catalogue names them
    assert "¥2,000.00" in text and "财税服务" in text
    assert "公示中" in text
    assert "登录后可对此项目提出异议" in text
    assert 'name="reason"' not in page.get_data(as_text=True)


def test_anyone_signed_in_objects_with_a_reason_and_the_claim_is_shown_held(
    app: Flask, published: Published
) -> None:
    with app.app_context():
        neighbour = factories.sme(current().uow(), 2)  # no party to the claim
    someone = account(app, Role.SME, sme=neighbour.uscc)
    client = app.test_client()
    sign_in(client, someone.username, PASSWORD)
    token = csrf_token(client, LIST)
    answer = client.post(
        f"/notice/objections/{published.claim}",
        data={"csrf_token": token, "reason": "服务未实际提供", "back": LIST},
        headers={"Accept-Language": "en"},
    )
    assert (answer.status_code, answer.headers["Location"]) == (302, LIST)
    shown = visible_text(client.get(LIST, headers={"Accept-Language": "en"}).get_data(True))
    assert "Your objection is recorded" in shown
    assert "Objected to: held until the center has looked into it" in shown
    blank = client.post(
        f"/notice/objections/{published.claim}",
        data={"csrf_token": token, "reason": "  ", "back": LIST},
        headers={"Accept-Language": "en"},
    )
    assert blank.status_code == 302
    refused = visible_text(client.get(LIST, headers={"Accept-Language": "en"}).get_data(True))
    assert BLANK_REASON in refused


def test_the_api_lists_the_day_and_takes_objections_without_naming_the_parties(
    app: Flask, published: Published
) -> None:
    client = app.test_client()
    listed = client.get(f"/api/v1/notice/440305/{DAY}")
    assert listed.status_code == 200
    document = listed.get_json()
    assert [item["redemption"] for item in document["items"]] == [str(published.claim)]
    assert len(document["digest"]) == 64
    with app.app_context():
        competitor = factories.provider(current().uow(), 2)  # a rival firm's desk objects
    provider_desk = bearer(app, Role.PROVIDER, provider=competitor.id)
    objected = client.post(
        f"/api/v1/redemptions/{published.claim}/objections",
        json={"text": "价格明显高于备案价"},
        headers={**provider_desk, "Idempotency-Key": "objection-1"},
    )
    assert objected.status_code == 201, objected.get_json()
    assert set(objected.get_json()) == {"id", "redemption_id", "text", "status", "filed_at"}
    assert published.sme_name not in objected.get_data(as_text=True)
    assert (
        client.post(
            f"/api/v1/redemptions/{published.claim}/objections", json={"text": "anonymous"}
        ).status_code
        == 401
    )


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/api/v1/notice/440305/2026-13-01", 400, "invalid_input"),
        ("/api/v1/notice/440305/2026-3-2", 400, "invalid_input"),
        ("/api/v1/notice/440305/yesterday", 400, "invalid_input"),
        ("/api/v1/notice/999999/2026-03-02", 404, "unknown_center"),
    ],
)
def test_a_wrong_day_or_center_is_refused_with_its_code(
    app: Flask, path: str, status: int, code: str
) -> None:
    answer = app.test_client().get(path)
    assert (answer.status_code, answer.get_json()["code"]) == (status, code)


def test_the_page_says_a_wrong_day_or_center_next_to_its_field(app: Flask) -> None:
    client = app.test_client()
    for query, wrong in (("center=440305&day=2026-02-30", "day"), ("center=999999", "center")):
        page = client.get(f"/notice?{query}", headers={"Accept-Language": "en"})
        assert page.status_code == 400
        assert f'<ul class="errors" id="{wrong}-errors">' in page.get_data(as_text=True)


def test_the_installed_voucher_audit_checks_the_published_list_against_the_live_ledger(
    app: Flask, published: Published, live_server: str, tmp_path: Path
) -> None:
    with app.app_context():
        parts = current()
        ledger.sequence_log(parts.uow())
        ledger.sign_checkpoint(parts.uow(), parts.checkpoint_signer())
    audit = Path(sys.executable).with_name("voucher-audit")
    run = subprocess.run(
        [str(audit), live_server, "--notice", f"{live_server}/api/v1/notice/440305/{DAY}"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 notice list(s) agree with it" in run.stdout
