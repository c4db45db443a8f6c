"""Claim rushes: two hundred SMEs at once against budget for fifty, one SME from twenty threads
against its cap, and claims racing revocations of the same SME's vouchers. Nothing overspent,
nothing over the cap, no deadlock, and the ledger verifies."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

from tests import factories
from voucher_app.domain.errors import ClaimRefused, VoucherError
from voucher_app.ledger.checkpoints import CheckpointSigner
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.database import Database
from voucher_app.services import bulk, ledger, programmes, vouchers
from voucher_app.services.vouchers import VoucherSigner
from voucher_app.signing.note import Verifier
from voucher_app.wiring import unit_of_work

ADMIN = factories.ADMIN
FACE = factories.TERMS.voucher_face_value_fen


Task = Callable[[UnitOfWork], object]


def at_once(database: Database, uow: UnitOfWork, tasks: list[Task]) -> Counter[str]:
    """Run every task at the same moment, one thread and unit of work each; count the outcomes
    ("done" or the refusal's code). Any other error fails the test."""
    barrier = Barrier(len(tasks))

    def attempt(task: Task) -> str:
        own = unit_of_work(database, uow.clock)
        barrier.wait()
        try:
            task(own)
        except ClaimRefused as refused:
            return refused.code
        except VoucherError as other:
            return f"unexpected {other.code}"
        return "done"

    with ThreadPoolExecutor(len(tasks)) as pool:
        return Counter(pool.map(attempt, tasks))


def claiming(programme_id: uuid.UUID, uscc: str, signer: VoucherSigner) -> Task:
    return lambda own: vouchers.claim_voucher(
        own, programme_id=programme_id, sme_uscc=uscc, actor=ADMIN, signer=signer
    )


def revoking(voucher_id: uuid.UUID) -> Task:
    return lambda own: vouchers.revoke_voucher(own, voucher_id, "race", ADMIN)


def assert_ledger_verifies(
    uow: UnitOfWork, signer: CheckpointSigner, verifiers: list[Verifier]
) -> None:
    """Sequence every entry, sign a checkpoint and check the whole ledger against it."""
    ledger.sequence_log(uow)
    ledger.sign_checkpoint(uow, signer)
    report = ledger.verify_ledger(uow, verifiers)
    assert report.ok, report.failure


def rush(
    database: Database, uow: UnitOfWork, claims: list[tuple[uuid.UUID, str]], signer: VoucherSigner
) -> Counter[str]:
    """Fire every (programme id, USCC) claim at once; count the outcomes."""
    tasks = [claiming(programme_id, uscc, signer) for programme_id, uscc in claims]
    outcomes = at_once(database, uow, tasks)
    outcomes["issued"] = outcomes.pop("done", 0)
    return +outcomes


def test_200_claimants_against_budget_for_50_get_exactly_50_vouchers(
    rush_database: Database,
    rush_uow: UnitOfWork,
    voucher_signer: VoucherSigner,
    signer: CheckpointSigner,
    verifiers: list[Verifier],
) -> None:
    uow = rush_uow
    programme = factories.voucher_programme(uow, vouchers=50)
    smes = [factories.sme(uow, n) for n in range(200)]
    outcomes = rush(rush_database, uow, [(programme.id, s.uscc) for s in smes], voucher_signer)
    assert outcomes == Counter({"issued": 50, "budget_exhausted": 150})
    assert programmes.available_budget(uow, programme.id, "440305") == 0
    assert len(vouchers.list_vouchers(uow)) == 50
    assert_ledger_verifies(uow, signer, verifiers)


def test_one_sme_claiming_from_20_threads_stays_within_its_cap(
    rush_database: Database, rush_uow: UnitOfWork, voucher_signer: VoucherSigner
) -> None:
    uow = rush_uow
    programme = factories.voucher_programme(uow, vouchers=50, sme_cap_fen=3 * FACE)
    sme = factories.sme(uow, 1)
    outcomes = rush(rush_database, uow, [(programme.id, sme.uscc)] * 20, voucher_signer)
    assert outcomes == Counter({"issued": 3, "cap_reached": 17})
    assert sum(v.face_value_fen for v in vouchers.list_vouchers(uow)) == 3 * FACE


def test_claims_racing_revocations_keep_the_cap_and_the_budget(
    rush_database: Database, rush_uow: UnitOfWork, voucher_signer: VoucherSigner
) -> None:
    uow = rush_uow
    programme = factories.voucher_programme(uow, vouchers=10, sme_cap_fen=3 * FACE)
    sme = factories.sme(uow, 1)
    held = [
        vouchers.claim_voucher(
            uow,
            programme_id=programme.id,
            sme_uscc=sme.uscc,
            actor=ADMIN,
            signer=voucher_signer,
        ).id
        for _ in range(3)
    ]
    revocations = [revoking(voucher_id) for voucher_id in held]
    claims = [claiming(programme.id, sme.uscc, voucher_signer)] * 12
    outcomes = at_once(rush_database, uow, revocations + claims)
    assert set(outcomes) <= {"done", "cap_reached"}, outcomes
    assert outcomes["done"] >= 3  # every revocation succeeds; claims fit where they freed
    live = [v for v in vouchers.list_vouchers(uow) if v.status != "revoked"]
    assert len(live) == outcomes["done"] - 3 <= 3
    assert {v.id for v in live}.isdisjoint(held)
    on_vouchers = sum(v.remaining_fen for v in live)
    budget = programmes.available_budget(uow, programme.id, "440305")
    assert budget + on_vouchers == 10 * FACE
    # The cap's counter agrees with the vouchers: exactly the room left can still be claimed.
    room = 3 - len(live)
    assert rush(rush_database, uow, [(programme.id, sme.uscc)] * 4, voucher_signer) == Counter(
        {"issued": room, "cap_reached": 4 - room}
    )


def bulk_issuing(
    programme_id: uuid.UUID, usccs: list[str], signer: VoucherSigner
) -> Callable[[UnitOfWork], bulk.BulkReport]:
    rows = [bulk.Row(line, uscc) for line, uscc in enumerate(usccs, start=2)]
    return lambda own: bulk.issue_from_list(
        own,
        programme_id=programme_id,
        rows=rows,
        actor=ADMIN,
        signer=signer,
        dry_run=False,
        batch="rush",
    )


def test_bulk_runs_racing_single_claims_share_the_budget_without_overspending(
    rush_database: Database,
    rush_uow: UnitOfWork,
    voucher_signer: VoucherSigner,
    signer: CheckpointSigner,
    verifiers: list[Verifier],
) -> None:
    uow = rush_uow
    programme = factories.voucher_programme(uow, vouchers=50, sme_cap_fen=FACE)
    usccs = [factories.sme(uow, n).uscc for n in range(80)]
    # Three runs of overlapping lists (the same batch name) and 40 claimants one by one,
    # all at once: 120 wishes, 80 SMEs, one voucher each at most, budget for 50.
    tasks: list[Task] = [
        bulk_issuing(programme.id, usccs[start : start + 40], voucher_signer)
        for start in (0, 20, 40)
    ]
    tasks += [claiming(programme.id, uscc, voucher_signer) for uscc in usccs[::2]]
    outcomes = at_once(rush_database, uow, tasks)
    assert set(outcomes) <= {"done", "cap_reached", "budget_exhausted"}, outcomes
    issued = vouchers.list_vouchers(uow)
    assert len(issued) == 50
    assert Counter(v.sme_uscc for v in issued).most_common(1)[0][1] == 1
    assert programmes.available_budget(uow, programme.id, "440305") == 0
    assert_ledger_verifies(uow, signer, verifiers)


def test_the_same_list_issued_twice_at_once_gives_each_sme_one_voucher(
    rush_database: Database, rush_uow: UnitOfWork, voucher_signer: VoucherSigner
) -> None:
    uow = rush_uow
    programme = factories.voucher_programme(uow, vouchers=100, sme_cap_fen=5 * FACE)
    usccs = [factories.sme(uow, n).uscc for n in range(30)]
    reports: list[bulk.BulkReport] = []
    run = bulk_issuing(programme.id, usccs, voucher_signer)
    outcomes = at_once(rush_database, uow, [lambda own: reports.append(run(own))] * 4)
    assert outcomes == Counter({"done": 4})
    # Each SME has one voucher although its cap allows five: the runs share one batch.
    assert Counter(v.sme_uscc for v in vouchers.list_vouchers(uow)) == Counter(usccs)
    assert sum(report.issued for report in reports) == 30
    for report in reports:
        assert report.issued + report.already_issued == 30
        assert report.refused == 0
