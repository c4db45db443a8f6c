"""Fraud signals as reviewers and providers meet them over HTTP, with the signals on (as in
production): the review queue (API and page) puts a claim with warning signs first and explains
each; approving it without a reason is refused with `signals_unexplained` and changes nothing,
with one it is approved and the reason is in the history reviewers read; the provider reads
neither the signals nor the reason."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from flask import Flask

from tests import factories
from tests.e2e.accounts import PASSWORD, account, bearer
from tests.e2e.pages import sign_in, visible_text
from tests.harness import START
from voucher_app import create_app
from voucher_app.clock import FrozenClock
from voucher_app.domain.actors import Actor, Role
from voucher_app.services import redemptions, vouchers
from voucher_app.services.redemptions import Service, VoucherProof
from voucher_app.signing.keyring import Keyring
from voucher_app.wiring import ConfigurationError, current


@pytest.fixture
def app_config() -> dict[str, object]:
    """Signals on, as in production, with round invoices from ¥500."""
    return {"SIGNALS_ENABLED": True, "SIGNAL_THRESHOLDS": {"round_unit_fen": 50_000}}


def claims(app: Flask) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    """Two confirmed claims in Nanshan, the later one round (¥2,500): the provider's id, the
    quiet claim's and the round one's."""
    clock = FrozenClock(START)
    app.extensions["voucher_app"].clock = clock
    with app.app_context():
        parts = current()
        uow = parts.uow()
        factories.guangdong(uow)
        programme = factories.voucher_programme(uow, vouchers=2)
        tokens = [
            vouchers.claim_voucher(
                uow,
                programme_id=programme.id,
                sme_uscc=factories.sme(uow, n).uscc,
                actor=factories.ADMIN,
                signer=parts.voucher_signer(),
            ).token
            for n in (1, 2)
        ]
        provider = factories.provider(uow, 1)
        clock.advance(timedelta(days=45))
        found = []
        for token, invoiced in zip(tokens, (300_100, 250_000), strict=True):
            claim = redemptions.submit_redemption(
                uow,
                provider_id=provider.id,
                proof=VoucherProof(token=token),
                service=Service(
                    uuid.uuid4().hex[:12],
                    invoiced,
                    START.date(),
                    category="accounting_tax",
                    description="代理记账",
                ),
                actor=Actor("desk", Role.PROVIDER),
                public_keys=parts.voucher_keys(),
            )
            redemptions.confirm_redemption(
                uow, claim.id, Actor("clerk", Role.SME), parts.signal_thresholds
            )
            found.append(claim.id)
            clock.advance(timedelta(minutes=1))
    return provider.id, found[0], found[1]


def test_the_queue_puts_warning_signs_first_and_approval_past_them_needs_a_reason(
    app: Flask,
) -> None:
    provider, quiet, rounded = claims(app)
    client = app.test_client()
    reviewer = bearer(app, Role.CENTER_STAFF, center="440300")
    queue = client.get("/api/v1/review?center=440300", headers=reviewer).get_json()
    assert [item["id"] for item in queue] == [str(rounded), str(quiet)]
    assert queue[0]["signals"] == [
        {"code": "round_amount", "figures": {"invoiced_fen": 250_000, "unit_fen": 50_000}}
    ]
    assert queue[1]["signals"] == []

    desk = bearer(app, Role.PROVIDER, provider=provider)
    assert client.get("/api/v1/review?center=440300", headers=desk).status_code == 403
    assert "signals" not in client.get(f"/api/v1/redemptions/{rounded}", headers=desk).get_json()

    refused = client.post(f"/api/v1/redemptions/{rounded}/approve", headers=reviewer)
    assert (refused.status_code, refused.get_json()["code"]) == (409, "signals_unexplained")
    assert refused.get_json()["signals"] == ["round_amount"]
    why = "整数报价为合同约定"
    approved = client.post(
        f"/api/v1/redemptions/{rounded}/approve", headers=reviewer, json={"reason": why}
    )
    assert approved.status_code == 200 and approved.get_json()["status_reason"] is None
    history = client.get(f"/api/v1/redemptions/{rounded}/history", headers=reviewer).get_json()
    assert history[-1]["details"]["review"]["reason"] == why
    theirs = client.get(f"/api/v1/redemptions/{rounded}/history", headers=desk)
    assert theirs.status_code == 200 and why not in theirs.get_data(as_text=True)
    assert "round_amount" not in theirs.get_data(as_text=True)
    plain = client.post(f"/api/v1/redemptions/{quiet}/approve", headers=reviewer)
    assert plain.status_code == 200


def test_the_review_page_explains_each_sign_and_asks_why_before_approving(app: Flask) -> None:
    _, quiet, rounded = claims(app)
    staff = account(app, Role.CENTER_STAFF, center="440300")
    client = app.test_client()
    sign_in(client, staff.username, PASSWORD)
    for language, said, asked in (
        ("en", "The invoice (¥2,500.00) is a round multiple of ¥500.00.", "Why approve despite"),
        ("zh-CN", "发票金额（¥2,500.00）恰为 ¥500.00 的整数倍。", "存在风险提示仍予批准的理由"),
    ):
        page = client.get("/center/440300/review", headers={"Accept-Language": language})
        html = page.get_data(as_text=True)
        assert said in visible_text(html) and asked in visible_text(html)
        assert html.index(str(rounded)) < html.index(str(quiet))  # warning signs first
        assert (
            f'id="approve-reason-{rounded}"' in html and f'id="approve-reason-{quiet}"' not in html
        )


@pytest.mark.parametrize("thresholds", [{"provider_daily": 3}, {"round_unit_fen": 0}])
def test_a_wrong_threshold_stops_the_application_starting(
    database_url: str, keyring: Keyring, thresholds: dict[str, int]
) -> None:
    with pytest.raises(ConfigurationError, match="VOUCHER_SIGNAL_THRESHOLDS"):
        create_app(
            "testing",
            {
                "DATABASE_URL": database_url,
                "KEYS_DIR": str(keyring.directory),
                "SIGNAL_THRESHOLDS": thresholds,
            },
        )
