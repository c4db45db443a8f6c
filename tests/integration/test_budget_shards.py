"""A center's budget held in shards (DESIGN §4, `services.budgets`): funding spreads over them,
allocations draw the richest first, a claim whose shard is dry finds money in another or has it
gathered by a `rebalance` entry, and a center refuses only when all its shards together cannot
pay — one claim at a time, in a bulk run, and in a rush of threads — while the reports, the
dashboard's figure and the ledger's audit see one budget per center."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select

from tests import factories
from tests.integration import spend_replay
from tests.integration.test_claim_rush import assert_ledger_verifies, rush
from voucher_app.domain import accounts
from voucher_app.domain.errors import (
    BudgetExhausted,
    ClaimRefused,
    InsufficientFunds,
    InvalidProgrammeTerms,
)
from voucher_app.domain.programmes import BudgetMove
from voucher_app.ledger.checkpoints import CheckpointSigner
from voucher_app.ledger.tables import JournalEntry, LedgerAccount
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.database import Database
from voucher_app.persistence.uow import read_only, transaction
from voucher_app.services import programmes, reports, vouchers
from voucher_app.services.programmes import ProgrammeView
from voucher_app.services.vouchers import Issued, VoucherSigner
from voucher_app.signing.note import Verifier

ADMIN = factories.ADMIN
FACE = factories.TERMS.voucher_face_value_fen
NANSHAN = "440305"


def nanshan_with(uow: UnitOfWork, *, vouchers_each: int, trimmed: int) -> ProgrammeView:
    """A programme of four shards whose budget reaches Nanshan as `vouchers_each` vouchers in
    each shard, then `trimmed` half-vouchers clawed back (each from the richest shard), so that
    some of Nanshan's money lies in pieces no single shard can pay a voucher from."""
    view = factories.programme(uow, fund_fen=factories.TERMS.total_budget_fen, budget_shards=4)
    for parent, child in (("440000", "440300"), ("440300", NANSHAN)):
        move = BudgetMove(from_center=parent, to_center=child, amount_fen=4 * vouchers_each * FACE)
        programmes.allocate(uow, view.id, move, actor=ADMIN)
    for _ in range(trimmed):
        back = BudgetMove(from_center=NANSHAN, to_center="440300", amount_fen=FACE // 2)
        programmes.claw_back(uow, view.id, back, actor=ADMIN)
    return view


@read_only
def shard_balances(uow: UnitOfWork, view: ProgrammeView, center: str) -> list[int]:
    names = [accounts.available(center, str(view.id), shard).name for shard in range(4)]
    found = dict(
        uow.session.execute(
            select(LedgerAccount.name, LedgerAccount.balance_fen).where(
                LedgerAccount.name.in_(names)
            )
        ).all()
    )
    return [found.get(name, 0) for name in names]


@read_only
def rebalances(uow: UnitOfWork) -> int:
    return uow.session.scalar(select(func.count()).where(JournalEntry.kind == "rebalance")) or 0


def test_funding_and_allocation_spread_over_the_shards_in_whole_vouchers(
    uow: UnitOfWork,
) -> None:
    factories.guangdong(uow)
    view = nanshan_with(uow, vouchers_each=3, trimmed=0)
    assert view.budget_shards == 4
    assert shard_balances(uow, view, NANSHAN) == [3 * FACE] * 4
    assert programmes.available_budget(uow, view.id, NANSHAN) == 12 * FACE


def test_money_leaves_a_center_from_its_richest_shards(uow: UnitOfWork) -> None:
    factories.guangdong(uow)
    view = nanshan_with(uow, vouchers_each=1, trimmed=3)
    assert shard_balances(uow, view, NANSHAN) == [FACE // 2] * 3 + [FACE]
    with pytest.raises(InsufficientFunds, match="in all its shards") as refused:
        programmes.claw_back(
            uow,
            view.id,
            BudgetMove(from_center=NANSHAN, to_center="440300", amount_fen=3 * FACE),
            actor=ADMIN,
        )
    assert refused.value.details["balance_fen"] == 5 * FACE // 2  # the center's total
    assert shard_balances(uow, view, NANSHAN) == [FACE // 2] * 3 + [FACE]  # nothing moved


def test_claims_spend_a_fragmented_budget_to_the_last_voucher_it_can_pay(
    uow: UnitOfWork,
    voucher_signer: VoucherSigner,
    signer: CheckpointSigner,
    verifiers: list[Verifier],
) -> None:
    factories.guangdong(uow)
    view = nanshan_with(uow, vouchers_each=1, trimmed=2)  # halves in two shards: 3 vouchers
    outcomes: Counter[str] = Counter()
    for serial in range(6):
        sme = factories.sme(uow, serial)
        try:
            vouchers.claim_voucher(
                uow, programme_id=view.id, sme_uscc=sme.uscc, actor=ADMIN, signer=voucher_signer
            )
            outcomes["issued"] += 1
        except BudgetExhausted as refused:
            assert refused.details["available_fen"] == 0  # refused only with nothing left
            outcomes["budget_exhausted"] += 1
    assert outcomes == Counter({"issued": 3, "budget_exhausted": 3})
    assert rebalances(uow) == 1  # the two halves gathered into one shard
    assert shard_balances(uow, view, NANSHAN) == [0, 0, 0, 0]
    spend_replay.assert_matches_replay(uow, reports.spend_report(uow, NANSHAN))
    assert reports.spend_report(uow, NANSHAN).total.available_fen == 0
    assert_ledger_verifies(uow, signer, verifiers)


def test_a_bulk_run_gathers_what_its_claims_need_in_one_entry_per_center(
    uow: UnitOfWork, voucher_signer: VoucherSigner
) -> None:
    factories.guangdong(uow)
    view = nanshan_with(uow, vouchers_each=1, trimmed=4)  # four halves: 2 vouchers
    smes = [factories.sme(uow, serial) for serial in range(4)]
    claim_many = transaction(vouchers.claim_many_within)
    answers = claim_many(
        uow,
        programme_id=view.id,
        keys={sme.uscc: f"row-{n}" for n, sme in enumerate(smes)},
        actor=ADMIN,
        signer=voucher_signer,
    )
    outcome = Counter(
        "issued" if isinstance(answer, Issued) else answer.code
        for answer in answers.values()
        if isinstance(answer, Issued | ClaimRefused)
    )
    assert outcome == Counter({"issued": 2, "budget_exhausted": 2})
    assert rebalances(uow) == 1
    assert programmes.available_budget(uow, view.id, NANSHAN) == 0


def test_a_rush_on_a_fragmented_district_gets_exactly_its_budgets_worth(
    rush_database: Database,
    rush_uow: UnitOfWork,
    voucher_signer: VoucherSigner,
    signer: CheckpointSigner,
    verifiers: list[Verifier],
) -> None:
    uow = rush_uow
    # Four shards of 2.5 vouchers: 10 vouchers in all, two of which only a rebalance can pay.
    view = nanshan_with(uow, vouchers_each=3, trimmed=4)
    assert sum(shard_balances(uow, view, NANSHAN)) == 10 * FACE
    smes = [factories.sme(uow, serial) for serial in range(40)]
    outcomes = rush(rush_database, uow, [(view.id, sme.uscc) for sme in smes], voucher_signer)
    assert outcomes == Counter({"issued": 10, "budget_exhausted": 30})
    assert programmes.available_budget(uow, view.id, NANSHAN) == 0
    assert min(shard_balances(uow, view, NANSHAN)) == 0
    assert_ledger_verifies(uow, signer, verifiers)


def test_the_shard_count_is_the_programmes_choice_within_bounds(uow: UnitOfWork) -> None:
    factories.guangdong(uow)
    assert factories.programme(uow, budget_shards=7).budget_shards == 7
    assert factories.programme(uow).budget_shards == 16  # 200 vouchers: one per 8, at most 16
    with pytest.raises(InvalidProgrammeTerms):
        factories.programme(uow, budget_shards=65)
