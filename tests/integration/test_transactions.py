"""The unit of work's promises: races are rerun, a commit is never run twice, readers don't lock."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from tests import factories
from voucher_app.clock import FrozenClock
from voucher_app.domain.programmes import BudgetMove
from voucher_app.ledger.journal import Journal
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.database import Database
from voucher_app.services import centers, programmes
from voucher_app.wiring import unit_of_work

ADMIN = factories.ADMIN


class CommitReplyLost(UnitOfWork):
    """Commits, then reports the connection lost, as when the server's reply never arrives."""

    def commit(self) -> None:
        super().commit()
        raise OperationalError(
            "COMMIT",
            {},
            ConnectionError("server closed the connection"),
            connection_invalidated=True,
        )


def test_a_commit_whose_reply_is_lost_is_not_run_again(
    database: Database, clock: FrozenClock
) -> None:
    uow = unit_of_work(database, clock)
    factories.guangdong(uow)
    programme = factories.programme(uow, fund_fen=10_000)
    lossy = CommitReplyLost(database, clock, journal=Journal)  # built as the wiring builds one
    with pytest.raises(OperationalError):
        programmes.allocate(
            lossy,
            programme.id,
            BudgetMove(from_center="440000", to_center="440100", amount_fen=700),
            actor=ADMIN,
        )
    assert programmes.available_budget(uow, programme.id, "440100") == 700  # once, not twice


@pytest.fixture
def sqlite_path(database_url: str) -> str:
    return make_url(database_url).database or ""


@pytest.fixture
def writer_holding_the_lock(sqlite_path: str) -> Iterator[threading.Event]:
    """Another process's writer holds SQLite's write lock until the event is set."""
    release = threading.Event()
    locked = threading.Event()

    def hold() -> None:
        connection = sqlite3.connect(sqlite_path, isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        locked.set()
        release.wait(5)
        connection.execute("ROLLBACK")
        connection.close()

    thread = threading.Thread(target=hold)
    thread.start()
    locked.wait(5)
    yield release
    release.set()
    thread.join()


@pytest.mark.sqlite_only
def test_a_transaction_that_meets_a_busy_sqlite_database_is_run_again(
    database_url: str, uow: UnitOfWork, writer_holding_the_lock: threading.Event
) -> None:
    impatient = Database(database_url, busy_timeout=0.05)  # gives up on the lock quickly
    try:
        threading.Timer(0.2, writer_holding_the_lock.set).start()
        factories.guangdong(unit_of_work(impatient, uow.clock))  # first attempts meet the lock
    finally:
        impatient.dispose()
    assert len(centers.list_subtree(uow, "440000")) == 47


@pytest.mark.sqlite_only
def test_health_answers_while_a_writer_holds_sqlite(
    client: FlaskClient, writer_holding_the_lock: threading.Event
) -> None:
    started = time.perf_counter()
    response = client.get("/healthz")
    assert response.status_code == 200
    assert time.perf_counter() - started < 2  # did not wait for the writer
