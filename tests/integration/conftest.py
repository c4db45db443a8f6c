"""Fixtures the integration tests of concurrent claims share (`test_claim_rush.py`,
`test_budget_shards.py`): a database with a pool that many threads wait on, and a unit of work on
it with the Guangdong centers imported."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests import factories
from voucher_app.clock import FrozenClock
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.database import Database
from voucher_app.wiring import unit_of_work


@pytest.fixture
def rush_database(database_url: str) -> Iterator[Database]:
    # 200 threads share 60 connections (PostgreSQL here allows 100 in all): the claims still
    # overlap, and each waits for a connection like a request waits for a worker.
    database = Database(database_url, pool_size=30)
    yield database
    database.dispose()


@pytest.fixture
def rush_uow(rush_database: Database, clock: FrozenClock) -> UnitOfWork:
    """A unit of work on the rush's database, with the Guangdong centers imported."""
    uow = unit_of_work(rush_database, clock)
    factories.guangdong(uow)
    return uow
