"""Funding, allocation down the hierarchy, claw-back and reversal, the journal's own entry keys,
and every refusal.

Each refusal must carry its stable code and leave the ledger exactly as it was.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from tests import factories
from tests.integration.ledger_state import snapshot
from voucher_app.domain import accounts
from voucher_app.domain.entries import EntryKind, Posting
from voucher_app.domain.errors import (
    AlreadyReversed,
    CannotReverseReversal,
    CenterOutsideProgramme,
    FundingExceedsBudget,
    IdempotencyKeyReused,
    InsufficientFunds,
    InvalidAmount,
    InvalidProgrammeTerms,
    NotAChildCenter,
    UnknownCenter,
    UnknownEntry,
    UnknownProgramme,
    VoucherError,
)
from voucher_app.domain.programmes import BudgetMove
from voucher_app.ledger.journal import PostedEntry
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.uow import transaction
from voucher_app.services import ledger, programmes
from voucher_app.services.programmes import ProgrammeView

ADMIN = factories.ADMIN


@pytest.fixture
def programme(uow: UnitOfWork) -> ProgrammeView:
    factories.guangdong(uow)
    return factories.programme(uow, fund_fen=10_000_000)


def available(uow: UnitOfWork, programme: ProgrammeView, center: str) -> int:
    return programmes.available_budget(uow, programme.id, center)


def by_center(postings: Sequence[Posting]) -> dict[str, int]:
    """What an entry moves on each center's budget, its shards summed."""
    moved: dict[str, int] = {}
    for name, amount in postings:
        account = accounts.parse_account(name)
        if account.kind is accounts.AccountKind.AVAILABLE:
            moved[account.owner] = moved.get(account.owner, 0) + amount
    return moved


def test_funding_lands_in_the_owner_centers_budget(
    uow: UnitOfWork, programme: ProgrammeView
) -> None:
    view = programmes.get_programme(uow, programme.id)
    assert view.funded_fen == 10_000_000
    assert available(uow, programme, "440000") == 10_000_000


def test_allocation_moves_budget_down_one_level_at_a_time(
    uow: UnitOfWork, programme: ProgrammeView
) -> None:
    entry = programmes.allocate(
        uow,
        programme.id,
        BudgetMove(from_center="440000", to_center="440300", amount_fen=4_000_000),
        actor=ADMIN,
    )
    programmes.allocate(
        uow,
        programme.id,
        BudgetMove(from_center="440300", to_center="440305", amount_fen=1_500_000),
        actor=ADMIN,
    )
    assert entry.kind is EntryKind.ALLOCATE
    assert by_center(entry.postings) == {"440000": -4_000_000, "440300": 4_000_000}
    assert available(uow, programme, "440000") == 6_000_000
    assert available(uow, programme, "440300") == 2_500_000
    assert available(uow, programme, "440305") == 1_500_000


def test_claw_back_returns_unspent_budget_to_the_parent(
    uow: UnitOfWork, programme: ProgrammeView
) -> None:
    programmes.allocate(
        uow,
        programme.id,
        BudgetMove(from_center="440000", to_center="440100", amount_fen=3_000_000),
        actor=ADMIN,
    )
    programmes.claw_back(
        uow,
        programme.id,
        BudgetMove(from_center="440100", to_center="440000", amount_fen=1_000_000),
        actor=ADMIN,
    )
    assert available(uow, programme, "440100") == 2_000_000
    assert available(uow, programme, "440000") == 8_000_000


def test_reversal_posts_the_exact_negation_and_names_the_original(
    uow: UnitOfWork, programme: ProgrammeView
) -> None:
    original = programmes.allocate(
        uow,
        programme.id,
        BudgetMove(from_center="440000", to_center="440100", amount_fen=3_000_000),
        actor=ADMIN,
    )
    reversal = ledger.reverse_entry(uow, original.id, ADMIN)
    assert reversal.kind is EntryKind.REVERSE
    assert reversal.reverses == original.id
    assert sorted((p.account, -p.amount_fen) for p in reversal.postings) == sorted(
        (p.account, p.amount_fen) for p in original.postings
    )
    assert available(uow, programme, "440100") == 0
    assert available(uow, programme, "440000") == 10_000_000


@transaction
def keyed_allocation(
    uow: UnitOfWork, programme: ProgrammeView, target: str, amount: int, key: str
) -> PostedEntry:
    """An `allocate` entry from the province's budget posted under a journal key, as the ledger
    keys the entries it posts once whoever tries (a voucher's `expire:` and `revoke:`)."""
    pid = str(programme.id)
    return uow.journal.post(
        EntryKind.ALLOCATE,
        [
            Posting(accounts.available("440000", pid).name, -amount),
            Posting(accounts.available(target, pid).name, amount),
        ],
        {"programme": pid},
        ADMIN,
        key,
    )


def test_a_journal_post_retried_under_its_key_returns_the_first_entry(
    uow: UnitOfWork, programme: ProgrammeView
) -> None:
    first = keyed_allocation(uow, programme, "440100", 700, "k-1")
    before = snapshot(uow)
    again = keyed_allocation(uow, programme, "440100", 700, "k-1")
    assert again.id == first.id and again.replayed and not first.replayed
    assert snapshot(uow) == before


Refusal = Callable[[UnitOfWork, ProgrammeView], Any]


def allocate(source: str, target: str, amount: Any) -> Refusal:
    return lambda u, p: programmes.allocate(
        u, p.id, BudgetMove(from_center=source, to_center=target, amount_fen=amount), actor=ADMIN
    )


def claw_back(child: str, parent: str, amount: int) -> Refusal:
    return lambda u, p: programmes.claw_back(
        u, p.id, BudgetMove(from_center=child, to_center=parent, amount_fen=amount), actor=ADMIN
    )


REFUSALS: dict[str, tuple[Refusal, type[VoucherError], str]] = {
    "unknown source center": (allocate("449999", "440100", 100), UnknownCenter, "unknown_center"),
    "unknown target center": (allocate("440000", "449999", 100), UnknownCenter, "unknown_center"),
    "unknown programme": (
        lambda u, p: programmes.allocate(
            u,
            uuid.uuid4(),
            BudgetMove(from_center="440000", to_center="440100", amount_fen=100),
            actor=ADMIN,
        ),
        UnknownProgramme,
        "unknown_programme",
    ),
    "zero amount": (allocate("440000", "440100", 0), InvalidAmount, "invalid_amount"),
    "negative amount": (allocate("440000", "440100", -5), InvalidAmount, "invalid_amount"),
    "float amount": (allocate("440000", "440100", 100.0), InvalidAmount, "invalid_amount"),
    "string amount": (allocate("440000", "440100", "100"), InvalidAmount, "invalid_amount"),
    "grandchild, not a child": (
        allocate("440000", "440106", 100),
        NotAChildCenter,
        "not_a_child_center",
    ),
    "sibling": (allocate("440100", "440300", 100), NotAChildCenter, "not_a_child_center"),
    "upwards through allocate": (
        allocate("440100", "440000", 100),
        NotAChildCenter,
        "not_a_child_center",
    ),
    "to itself": (allocate("440000", "440000", 100), NotAChildCenter, "not_a_child_center"),
    "more than available": (
        allocate("440000", "440100", 10_000_001),
        InsufficientFunds,
        "insufficient_funds",
    ),
    "claw back more than the child holds": (
        claw_back("440100", "440000", 1),
        InsufficientFunds,
        "insufficient_funds",
    ),
    "claw back from a non-child": (
        claw_back("440106", "440000", 1),
        NotAChildCenter,
        "not_a_child_center",
    ),
    "funding past the total budget": (
        lambda u, p: programmes.fund_programme(u, p.id, amount_fen=90_000_001, actor=ADMIN),
        FundingExceedsBudget,
        "funding_exceeds_budget",
    ),
    "reversal of an unknown entry": (
        lambda u, p: ledger.reverse_entry(u, uuid.uuid4(), ADMIN),
        UnknownEntry,
        "unknown_entry",
    ),
    "journal key reused for another entry": (
        lambda u, p: keyed_allocation(u, p, "440300", 100, "same-key"),
        IdempotencyKeyReused,
        "idempotency_key_reused",
    ),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_refusals_carry_their_code_and_post_nothing(
    uow: UnitOfWork, programme: ProgrammeView, case: str
) -> None:
    attempt, error, code = REFUSALS[case]
    if case.startswith("journal key"):
        keyed_allocation(uow, programme, "440100", 100, "same-key")
    before = snapshot(uow)
    with pytest.raises(error) as raised:
        attempt(uow, programme)
    assert raised.value.code == code
    assert snapshot(uow) == before


def test_an_entry_is_reversed_once_and_a_reversal_never(
    uow: UnitOfWork, programme: ProgrammeView
) -> None:
    original = programmes.allocate(
        uow,
        programme.id,
        BudgetMove(from_center="440000", to_center="440100", amount_fen=1_000),
        actor=ADMIN,
    )
    reversal = ledger.reverse_entry(uow, original.id, ADMIN)
    before = snapshot(uow)
    with pytest.raises(AlreadyReversed) as twice:
        ledger.reverse_entry(uow, original.id, ADMIN)
    with pytest.raises(CannotReverseReversal) as of_reversal:
        ledger.reverse_entry(uow, reversal.id, ADMIN)
    assert (twice.value.code, of_reversal.value.code) == (
        "already_reversed",
        "cannot_reverse_reversal",
    )
    assert snapshot(uow) == before


def test_a_reversal_that_would_overdraw_is_refused(
    uow: UnitOfWork, programme: ProgrammeView
) -> None:
    grant = programmes.allocate(
        uow,
        programme.id,
        BudgetMove(from_center="440000", to_center="440100", amount_fen=5_000),
        actor=ADMIN,
    )
    programmes.allocate(
        uow,
        programme.id,
        BudgetMove(from_center="440100", to_center="440106", amount_fen=4_000),
        actor=ADMIN,
    )
    before = snapshot(uow)
    with pytest.raises(InsufficientFunds):
        ledger.reverse_entry(uow, grant.id, ADMIN)
    assert snapshot(uow) == before


def test_allocation_outside_the_owners_subtree_is_refused(uow: UnitOfWork) -> None:
    factories.guangdong(uow)
    city_programme = factories.programme(uow, owner_center="440300", fund_fen=1_000_000)
    with pytest.raises(CenterOutsideProgramme) as raised:
        programmes.allocate(
            uow,
            city_programme.id,
            BudgetMove(from_center="440100", to_center="440106", amount_fen=100),
            actor=ADMIN,
        )
    assert raised.value.code == "center_outside_programme"


@pytest.mark.parametrize(
    "changes",
    [
        {"subsidy_rate_bp": 0},
        {"subsidy_rate_bp": 10_001},
        {"sme_cap_fen": 1},
        {"total_budget_fen": 1.5},
        {"service_categories": ("astrology",)},
        {"accepted_sizes": ()},
        {"voucher_validity_days": 0},
        {"name": "   "},
    ],
    ids=lambda c: next(iter(c)),
)
def test_incoherent_programme_terms_are_refused(changes: dict[str, Any]) -> None:
    with pytest.raises((InvalidProgrammeTerms, InvalidAmount)):
        dataclasses.replace(factories.TERMS, **changes)
