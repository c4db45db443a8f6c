"""`Journal.post_many`, the journal's bulk writer: the same books as posting the entries one at
a time, in a handful of statements, and all or nothing."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tests import factories
from tests.integration.ledger_state import snapshot
from voucher_app.domain import accounts
from voucher_app.domain.entries import EntryKind, Posting
from voucher_app.domain.errors import InsufficientFunds, InvalidEntry
from voucher_app.ledger.checkpoints import CheckpointSigner
from voucher_app.ledger.journal import NewEntry, PostedEntry
from voucher_app.ledger.tables import JournalEntry, JournalPosting, LedgerAccount
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.uow import read_only, transaction
from voucher_app.services import ledger
from voucher_app.signing.note import Verifier

ADMIN = factories.ADMIN
FUNDS = 1_000_000


@transaction
def post_many(uow: UnitOfWork, entries: Sequence[NewEntry]) -> list[PostedEntry]:
    return uow.journal.post_many(EntryKind.ISSUE, entries, ADMIN)


@transaction
def post_each(uow: UnitOfWork, entries: Sequence[NewEntry]) -> list[PostedEntry]:
    return [uow.journal.post(EntryKind.ISSUE, e.postings, e.refs, ADMIN) for e in entries]


def issues(
    programme: uuid.UUID, wallets: Sequence[str], plan: Sequence[tuple[int, int]]
) -> list[NewEntry]:
    """An `issue` entry from the province's budget to wallet `w` for each (w, amount)."""
    budget = accounts.available("440000", str(programme)).name
    return [
        NewEntry(
            [Posting(budget, -amount), Posting(accounts.voucher(wallets[w]).name, amount)],
            {"programme": str(programme), "voucher": wallets[w]},
        )
        for w, amount in plan
    ]


@read_only
def books(uow: UnitOfWork, programme: uuid.UUID, wallets: Sequence[str]) -> list[object]:
    """The programme's postings per entry (in order) and the balances of its accounts, with the
    wallets named by their position (the budget: -1), so two programmes' books compare."""
    session = uow.session
    position = {accounts.voucher(w).name: n for n, w in enumerate(wallets)}
    budget = accounts.available("440000", str(programme)).name
    rows = session.execute(
        select(JournalEntry.id, LedgerAccount.name, JournalPosting.amount_fen)
        .join(JournalPosting, JournalPosting.entry_id == JournalEntry.id)
        .join(LedgerAccount, LedgerAccount.id == JournalPosting.account_id)
        .where(LedgerAccount.name.in_([budget, *position]))
        .order_by(JournalEntry.id, LedgerAccount.name)
    )
    postings = [(position.get(name, -1), amount) for _, name, amount in rows]
    balances = session.execute(
        select(LedgerAccount.name, LedgerAccount.balance_fen).where(
            LedgerAccount.name.in_([budget, *position])
        )
    )
    return [postings, sorted((position.get(n, -1), b) for n, b in balances)]


def funded(uow: UnitOfWork) -> uuid.UUID:
    return factories.programme(uow, fund_fen=FUNDS, name=f"P {uuid.uuid4()}").id


@pytest.fixture
def programme(uow: UnitOfWork) -> uuid.UUID:
    factories.guangdong(uow)
    return funded(uow)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    plan=st.lists(
        st.tuples(st.integers(0, 5), st.integers(1, FUNDS // 40)), min_size=1, max_size=30
    ),
    opened=st.sets(st.integers(0, 5), max_size=3),
)
def test_a_set_posts_the_books_that_one_entry_at_a_time_posts(
    uow: UnitOfWork, programme: uuid.UUID, plan: list[tuple[int, int]], opened: set[int]
) -> None:
    # Two fresh programmes, six wallets each; some wallets already hold money beforehand.
    sets, singles = funded(uow), funded(uow)
    wallets = {p: [str(uuid.uuid4()) for _ in range(6)] for p in (sets, singles)}
    for p in (sets, singles):
        post_each(uow, issues(p, wallets[p], [(w, 1) for w in sorted(opened)]))
    posted = post_many(uow, issues(sets, wallets[sets], plan))
    post_each(uow, issues(singles, wallets[singles], plan))
    assert [len(entry.postings) for entry in posted] == [2] * len(plan)
    assert books(uow, sets, wallets[sets]) == books(uow, singles, wallets[singles])


def test_a_set_an_account_cannot_cover_posts_nothing(uow: UnitOfWork, programme: uuid.UUID) -> None:
    wallets = [str(uuid.uuid4()) for _ in range(3)]
    before = snapshot(uow)
    plan = [(0, FUNDS // 2), (1, FUNDS // 2), (2, 1)]  # one fen more than the budget holds
    with pytest.raises(InsufficientFunds) as refused:
        post_many(uow, issues(programme, wallets, plan))
    assert refused.value.details["account"] == accounts.available("440000", str(programme)).name
    assert snapshot(uow) == before


def test_a_set_one_of_whose_accounts_cannot_cover_names_it_and_posts_nothing(
    uow: UnitOfWork, programme: uuid.UUID
) -> None:
    """Many accounts are charged in one round trip; when one falls short, all are undone and
    the one that could not cover it is named."""
    other = funded(uow)
    wallets = [str(uuid.uuid4()) for _ in range(2)]
    before = snapshot(uow)
    entries = [
        *issues(programme, wallets, [(0, FUNDS // 2)]),  # covered
        *issues(other, wallets, [(1, FUNDS), (0, 1)]),  # one fen more than it holds
    ]
    with pytest.raises(InsufficientFunds) as refused:
        post_many(uow, entries)
    assert refused.value.details["account"] == accounts.available("440000", str(other)).name
    assert snapshot(uow) == before


def test_a_set_with_one_malformed_entry_posts_nothing(
    uow: UnitOfWork, programme: uuid.UUID
) -> None:
    wallets = [str(uuid.uuid4()) for _ in range(2)]
    entries = issues(programme, wallets, [(0, 100), (1, 100)])
    entries[1] = NewEntry([entries[1].postings[0], Posting(entries[1].postings[1][0], 99)], {})
    before = snapshot(uow)
    with pytest.raises(InvalidEntry):
        post_many(uow, entries)
    assert snapshot(uow) == before


def test_entries_posted_as_a_set_join_the_log_and_verify(
    uow: UnitOfWork,
    programme: uuid.UUID,
    signer: CheckpointSigner,
    verifiers: list[Verifier],
) -> None:
    wallets = [str(uuid.uuid4()) for _ in range(50)]
    posted = post_many(uow, issues(programme, wallets, [(n, 100 + n) for n in range(50)]))
    assert len({entry.id for entry in posted}) == 50
    assert ledger.sequence_log(uow) >= 50
    ledger.sign_checkpoint(uow, signer)
    report = ledger.verify_ledger(uow, verifiers)
    assert report.ok, report.failure
