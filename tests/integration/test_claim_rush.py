"""Claim rushes: two hundred SMEs at once against budget for fifty, and one SME from twenty
threads against its cap. Nothing overspent, nothing over the cap, and the ledger verifies."""

from __future__ import annotations

import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest

from tests import factories
from voucher_app.domain.errors import ClaimRefused, VoucherError
from voucher_app.ledger.checkpoints import CheckpointSigner
from voucher_app.persistence.database import Database
from voucher_app.persistence.uow import UnitOfWork
from voucher_app.services import ledger, programmes, vouchers
from voucher_app.services.vouchers import VoucherSigner
from voucher_app.signing.note import Verifier

ADMIN = factories.ADMIN
FACE = factories.TERMS.voucher_face_value_fen


def rush(
    database: Database, uow: UnitOfWork, claims: list[tuple[uuid.UUID, str]], signer: VoucherSigner
) -> Counter[str]:
    """Fire every (programme id, USCC) claim at once, one thread each; count the outcomes."""
    barrier = Barrier(len(claims))

    def attempt(claim: tuple[uuid.UUID, str]) -> str:
        programme_id, uscc = claim
        own = UnitOfWork(database, uow.clock)
        barrier.wait()
        try:
            vouchers.claim_voucher(
                own, programme_id=programme_id, sme_uscc=uscc, actor=ADMIN, signer=signer
            )
        except ClaimRefused as refused:
            return refused.code
        except VoucherError as other:
            return f"unexpected {other.code}"
        return "issued"

    with ThreadPoolExecutor(len(claims)) as pool:
        return Counter(pool.map(attempt, claims))


@pytest.fixture
def rush_database(database_url: str) -> Database:
    # 200 threads share 60 connections (PostgreSQL here allows 100 in all): the claims still
    # overlap, and each waits for a connection like a request waits for a worker.
    return Database(database_url, pool_size=30)


def test_200_claimants_against_budget_for_50_get_exactly_50_vouchers(
    rush_database: Database,
    clock: object,
    voucher_signer: VoucherSigner,
    signer: CheckpointSigner,
    verifiers: list[Verifier],
) -> None:
    uow = UnitOfWork(rush_database, clock)  # type: ignore[arg-type]
    try:
        factories.guangdong(uow)
        programme = factories.voucher_programme(uow, vouchers=50)
        smes = [factories.sme(uow, n) for n in range(200)]
        outcomes = rush(rush_database, uow, [(programme.id, s.uscc) for s in smes], voucher_signer)
        assert outcomes == Counter({"issued": 50, "budget_exhausted": 150})
        assert programmes.available_budget(uow, programme.id, "440305") == 0
        assert len(vouchers.list_vouchers(uow)) == 50
        ledger.sequence_log(uow)
        ledger.sign_checkpoint(uow, signer)
        report = ledger.verify_ledger(uow, verifiers)
        assert report.ok, report.failure
    finally:
        rush_database.dispose()


def test_one_sme_claiming_from_20_threads_stays_within_its_cap(
    rush_database: Database, clock: object, voucher_signer: VoucherSigner
) -> None:
    uow = UnitOfWork(rush_database, clock)  # type: ignore[arg-type]
    try:
        factories.guangdong(uow)
        programme = factories.voucher_programme(uow, vouchers=50, sme_cap_fen=3 * FACE)
        sme = factories.sme(uow, 1)
        outcomes = rush(rush_database, uow, [(programme.id, sme.uscc)] * 20, voucher_signer)
        assert outcomes == Counter({"issued": 3, "cap_reached": 17})
        assert sum(v.face_value_fen for v in vouchers.list_vouchers(uow)) == 3 * FACE
    finally:
        rush_database.dispose()
