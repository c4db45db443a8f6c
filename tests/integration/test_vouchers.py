"""Claiming vouchers: eligibility, caps and budgets, each refusal with its code and nothing
posted; verification against the ledger; revocation and expiry returning the unspent value."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import event

from tests import factories
from tests.integration.ledger_state import snapshot
from tests.words import said
from voucher_app.clock import FrozenClock
from voucher_app.domain.errors import (
    ClaimRefused,
    InvalidInput,
    InvalidTransition,
)
from voucher_app.domain.sme import SizeClass
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.database import Database
from voucher_app.services import programmes, vouchers
from voucher_app.services.programmes import ProgrammeView
from voucher_app.services.vouchers import VoucherSigner

ADMIN = factories.ADMIN
FACE = factories.TERMS.voucher_face_value_fen  # 5,000 yuan


@pytest.fixture
def programme(uow: UnitOfWork) -> ProgrammeView:
    factories.guangdong(uow)
    return factories.voucher_programme(uow, vouchers=3)


def claim(
    uow: UnitOfWork,
    programme: ProgrammeView,
    signer: VoucherSigner,
    uscc: str,
) -> vouchers.VoucherView:
    return vouchers.claim_voucher(
        uow,
        programme_id=programme.id,
        sme_uscc=uscc,
        actor=ADMIN,
        signer=signer,
    )


def test_a_claim_issues_a_signed_voucher_funded_from_the_home_centers_budget(
    uow: UnitOfWork,
    programme: ProgrammeView,
    voucher_signer: VoucherSigner,
    voucher_keys: dict[str, Ed25519PublicKey],
) -> None:
    sme = factories.sme(uow, 1)
    issued = claim(uow, programme, voucher_signer, sme.uscc)
    assert (issued.status, issued.remaining_fen, issued.center) == ("active", FACE, "440305")
    assert issued.expires_at - issued.issued_at == timedelta(days=90)
    assert programmes.available_budget(uow, programme.id, "440305") == 2 * FACE
    check = vouchers.verify_token(uow, issued.token, voucher_keys)
    assert check.valid and check.voucher is not None and check.voucher.id == issued.id
    assert vouchers.find_by_code(uow, issued.human_code.lower()).id == issued.id


def refusal(uow: UnitOfWork, programme: ProgrammeView, signer: VoucherSigner, uscc: str) -> str:
    before = snapshot(uow)
    count = len(vouchers.list_vouchers(uow))
    with pytest.raises(ClaimRefused) as raised:
        claim(uow, programme, signer, uscc)
    assert snapshot(uow) == before  # nothing posted
    assert len(vouchers.list_vouchers(uow)) == count  # no voucher
    assert said(raised.value) != raised.value.message  # every refusal speaks Chinese too
    return raised.value.code


def test_the_budget_and_the_cap_are_each_refused_with_their_code(
    uow: UnitOfWork, programme: ProgrammeView, voucher_signer: VoucherSigner
) -> None:
    greedy = factories.sme(uow, 1)
    others = [factories.sme(uow, n) for n in (2, 3)]
    claim(uow, programme, voucher_signer, greedy.uscc)
    claim(uow, programme, voucher_signer, greedy.uscc)
    assert factories.TERMS.sme_cap_fen == 4 * FACE
    claim(uow, programme, voucher_signer, others[0].uscc)
    assert refusal(uow, programme, voucher_signer, others[1].uscc) == "budget_exhausted"


def test_an_sme_cannot_claim_past_its_cap(uow: UnitOfWork, voucher_signer: VoucherSigner) -> None:
    factories.guangdong(uow)
    roomy = factories.voucher_programme(uow, vouchers=10, sme_cap_fen=2 * FACE)
    sme = factories.sme(uow, 1)
    claim(uow, roomy, voucher_signer, sme.uscc)
    claim(uow, roomy, voucher_signer, sme.uscc)
    assert refusal(uow, roomy, voucher_signer, sme.uscc) == "cap_reached"


SMES: dict[str, dict[str, Any]] = {
    "not_an_sme": {"employees": 500, "revenue_fen": 20_000 * 1_000_000},
    "not_eligible_size": {"employees": 150, "revenue_fen": 2_000 * 1_000_000},  # medium
}


@pytest.mark.parametrize("code", list(SMES))
def test_ineligible_smes_are_refused_with_their_code(
    uow: UnitOfWork, programme: ProgrammeView, voucher_signer: VoucherSigner, code: str
) -> None:
    sme = factories.sme(uow, 7, **SMES[code])
    assert refusal(uow, programme, voucher_signer, sme.uscc) == code


def test_a_city_programme_refuses_smes_of_other_cities(
    uow: UnitOfWork, voucher_signer: VoucherSigner
) -> None:
    factories.guangdong(uow)
    shenzhen = factories.programme(uow, owner_center="440300", fund_fen=10 * FACE)
    guangzhou_sme = factories.sme(uow, 1, home_center="440106", region="440106")
    assert refusal(uow, shenzhen, voucher_signer, guangzhou_sme.uscc) == "not_eligible_center"


def test_the_programme_closes_outside_its_period(
    uow: UnitOfWork, voucher_signer: VoucherSigner
) -> None:
    factories.guangdong(uow)
    last_year = factories.voucher_programme(
        uow, vouchers=1, period_start=date(2025, 1, 1), period_end=date(2025, 12, 31)
    )
    sme = factories.sme(uow, 1)
    assert refusal(uow, last_year, voucher_signer, sme.uscc) == "programme_closed"


def test_a_programme_for_some_industries_refuses_others(
    uow: UnitOfWork, voucher_signer: VoucherSigner
) -> None:
    factories.guangdong(uow)
    retail_only = factories.voucher_programme(uow, vouchers=1, accepted_industries=("retail",))
    sme = factories.sme(uow, 1)
    assert sme.size is SizeClass.MICRO
    assert refusal(uow, retail_only, voucher_signer, sme.uscc) == "not_eligible_industry"


def test_revocation_returns_exactly_the_unspent_value_and_frees_the_cap(
    uow: UnitOfWork, voucher_signer: VoucherSigner
) -> None:
    factories.guangdong(uow)
    roomy = factories.voucher_programme(uow, vouchers=6)  # the cap (four), not the budget, binds
    sme = factories.sme(uow, 1)
    issued = claim(uow, roomy, voucher_signer, sme.uscc)
    with pytest.raises(InvalidInput, match="reason"):
        vouchers.revoke_voucher(uow, issued.id, " ", ADMIN)
    revoked = vouchers.revoke_voucher(uow, issued.id, "issued to the wrong SME", ADMIN)
    assert (revoked.status, revoked.remaining_fen) == ("revoked", 0)
    assert revoked.status_reason == "issued to the wrong SME"
    assert programmes.available_budget(uow, roomy.id, "440305") == 6 * FACE
    with pytest.raises(InvalidTransition):
        vouchers.revoke_voucher(uow, issued.id, "again", ADMIN)
    for _ in range(4):  # the whole cap again: the revoked voucher no longer counts
        claim(uow, roomy, voucher_signer, sme.uscc)
    with pytest.raises(ClaimRefused) as refused:
        claim(uow, roomy, voucher_signer, sme.uscc)
    assert refused.value.code == "cap_reached"


def test_a_voucher_past_its_date_is_expired_not_revoked(
    uow: UnitOfWork, clock: FrozenClock, programme: ProgrammeView, voucher_signer: VoucherSigner
) -> None:
    issued = claim(uow, programme, voucher_signer, factories.sme(uow, 1).uscc)
    clock.advance(timedelta(days=90, seconds=1))
    before = snapshot(uow)
    with pytest.raises(InvalidTransition, match="is expired"):
        vouchers.revoke_voucher(uow, issued.id, "too late", ADMIN)
    assert snapshot(uow) == before
    assert vouchers.expire_due(uow, ADMIN) == 1


def test_expiry_returns_the_unspent_value_once(
    uow: UnitOfWork,
    clock: FrozenClock,
    programme: ProgrammeView,
    voucher_signer: VoucherSigner,
    voucher_keys: dict[str, Ed25519PublicKey],
) -> None:
    sme = factories.sme(uow, 1)
    issued = claim(uow, programme, voucher_signer, sme.uscc)
    assert vouchers.expire_due(uow, ADMIN) == 0
    clock.advance(timedelta(days=90, seconds=1))
    assert vouchers.expire_due(uow, ADMIN) == 1
    after = snapshot(uow)
    assert vouchers.expire_due(uow, ADMIN) == 0  # a second run changes nothing
    assert snapshot(uow) == after
    assert programmes.available_budget(uow, programme.id, "440305") == 3 * FACE
    expired = vouchers.get_voucher(uow, issued.id)
    assert (expired.status, expired.remaining_fen) == ("expired", 0)
    check = vouchers.verify_token(uow, issued.token, voucher_keys)
    assert (check.valid, check.reason) == (False, "expired")
    assert check.voucher is not None and check.voucher.status == "expired"


@pytest.mark.parametrize(
    ("mangle", "reason"),
    [
        (lambda t: t[:-10], "malformed"),
        (lambda t: t.rsplit(".", 1)[0] + ".", "malformed"),
        (lambda t: t[:-4] + ("AAAA" if not t.endswith("AAAA") else "BBBB"), "bad_signature"),
    ],
    ids=["truncated", "no signature", "tampered signature"],
)
def test_a_damaged_token_is_reported_with_its_reason(
    uow: UnitOfWork,
    programme: ProgrammeView,
    voucher_signer: VoucherSigner,
    voucher_keys: dict[str, Ed25519PublicKey],
    mangle: Any,
    reason: str,
) -> None:
    issued = claim(uow, programme, voucher_signer, factories.sme(uow, 1).uscc)
    check = vouchers.verify_token(uow, mangle(issued.token), voucher_keys)
    assert (check.valid, check.reason, check.voucher) == (False, reason, None)


def test_sme_test_data_is_what_the_cases_say(uow: UnitOfWork) -> None:
    factories.guangdong(uow)
    sizes = {
        code: factories.sme(uow, n, **changes).size
        for n, (code, changes) in enumerate(SMES.items())
    }
    assert sizes["not_an_sme"] is SizeClass.LARGE
    assert sizes["not_eligible_size"] is SizeClass.MEDIUM
    assert dataclasses.asdict(factories.sme(uow, 99))["size"] is SizeClass.MICRO


def test_the_voucher_list_shows_what_each_voucher_shows_in_a_fixed_number_of_queries(
    uow: UnitOfWork, database: Database, programme: ProgrammeView, voucher_signer: VoucherSigner
) -> None:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    def queries_to_list() -> int:
        statements.clear()
        event.listen(database.engine, "before_cursor_execute", count)
        try:
            listed = vouchers.list_vouchers(uow)
        finally:
            event.remove(database.engine, "before_cursor_execute", count)
        assert listed == [vouchers.get_voucher(uow, v.id) for v in listed]
        return len(statements)

    first = claim(uow, programme, voucher_signer, factories.sme(uow, 1).uscc)
    one = queries_to_list()
    claim(uow, programme, voucher_signer, factories.sme(uow, 2).uscc)
    claim(uow, programme, voucher_signer, factories.sme(uow, 3).uscc)
    vouchers.revoke_voucher(uow, first.id, "wrong SME", ADMIN)
    assert [v.status for v in vouchers.list_vouchers(uow)] == ["revoked", "active", "active"]
    assert queries_to_list() == one
