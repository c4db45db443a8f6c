"""The unit of work: one database transaction per use case, and the retry of lost races.

Services are written as functions of a `UnitOfWork` decorated with `@transaction`: the body runs
inside one transaction that commits when it returns and rolls back when it raises. Queries use
`@read_only` instead: one consistent snapshot, never a write lock, nothing committed. A body that
loses a race the database detects (a deadlock, a serialization failure, SQLite's busy lock) or
meets a pooled connection the server has dropped runs again from the start, a few times — but
never once it has asked the database to commit, because a lost reply to COMMIT does not mean
nothing was committed. So callers see the result or a domain error, and a database error only
when a commit's outcome is unknown.

The unit of work does not know the ledger: it is handed a journal factory (the wiring passes
`ledger.journal.Journal`) and builds one journal per transaction with the session and clock; all
it asks of that journal is whether entries were posted, to sequence the log after the commit.
It is generic in the journal's type and the published-checkpoint file's, so that services see
the ledger's own types (`ledger.unit_of_work.UnitOfWork`). Services find the rows they work on
through the repositories it offers (`uow.vouchers.by_public_id(id, lock=True)`, …), bound to the
session of the transaction in progress.
"""

from __future__ import annotations

import functools
import random
import sqlite3
import time
from collections.abc import Callable
from typing import Any, Concatenate, Generic, ParamSpec, Protocol, TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from voucher_app.clock import Clock
from voucher_app.domain.errors import ConcurrentRequest
from voucher_app.persistence.database import Database
from voucher_app.persistence.repositories import Repositories


class JournalWriter(Protocol):
    """What a unit of work asks of the journal it builds for a transaction."""

    #: Entries were posted: the unit of work sequences the log after committing them.
    posted: bool


J = TypeVar("J", bound=JournalWriter)  # the journal
F = TypeVar("F")  # the published-checkpoint file
U = TypeVar("U", bound="UnitOfWork[Any, Any]")
P = ParamSpec("P")
T = TypeVar("T")

ATTEMPTS = 5
_RETRYABLE_SQLSTATES = {"40001", "40P01"}  # serialization_failure, deadlock_detected


class UnitOfWork(Repositories, Generic[J, F]):
    """Holds the session of the transaction in progress and the services' collaborators, and
    offers the repositories over that session (`uow.vouchers`, …: `persistence.repositories`)."""

    def __init__(
        self,
        database: Database,
        clock: Clock,
        *,
        journal: Callable[[Session, Clock], J],
        after_ledger_commit: Callable[[], None] | None = None,
        published: F | None = None,
    ) -> None:
        self.database = database
        self.clock = clock
        self._new_journal = journal
        #: Where the log's latest signed checkpoint is kept outside the database (DESIGN §4):
        #: signing and sequencing check the log against it. None: no file (tests, tools).
        self.published = published
        self._after_ledger_commit = after_ledger_commit
        self._session: Session | None = None
        self._journal: J | None = None
        self._read_only = False

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("the unit of work is not open: use it inside a @transaction")
        return self._session

    @property
    def journal(self) -> J:
        """The journal writer for this transaction."""
        if self._journal is None:
            self._journal = self._new_journal(self.session, self.clock)
        return self._journal

    def __enter__(self) -> UnitOfWork[J, F]:
        if self._session is not None:
            raise RuntimeError("a unit of work does not nest")
        self._session = self.database.session(read_only=self._read_only)
        self._journal = None
        return self

    def reading(self) -> UnitOfWork[J, F]:
        """Open the next transaction as a read-only snapshot (used by `@read_only`)."""
        self._read_only = True
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self._session is not None
        try:
            self._session.rollback()
        finally:
            self._session.close()
            self._session = None
            self._journal = None
            self._read_only = False

    def commit(self) -> None:
        self.session.commit()
        posted = self._journal is not None and self._journal.posted
        self._journal = None
        if posted and self._after_ledger_commit is not None:
            self._after_ledger_commit()

    def may_run_again(self) -> bool:
        """Whether a transaction that lost a race may run again from its start."""
        return True


class HeldUnitOfWork(UnitOfWork[J, F]):
    """A unit of work held open for a whole request: everything the request reads and writes
    joins one database transaction, which `finish` commits or rolls back when the request ends.
    So what a request did and the answer it stores (its Idempotency-Key's) commit together, or
    neither does; a request whose process dies leaves nothing behind.

    `begin` opens the transaction when the request starts, so that the reads around the work
    (who is asking, whether the key was answered, whether they may) join it rather than each
    taking a snapshot of its own: one BEGIN and one COMMIT per request. The transaction's first
    step (the key's reservation) is `open`'s; without `open`, or once the transaction was lost
    and begun anew, `on_open` runs before its first write. A read that raises a domain error (a
    refusal, a missing row) leaves the transaction as it was: it wrote nothing. A write that
    fails, or any body that meets a database error, rolls the whole transaction back: it may run
    again only if nothing had been written yet (the retry of a lost race redoes all of it);
    after earlier writes the request fails (`ConcurrentRequest`, for the client to retry).
    Without `begin`, reads before the first write take a snapshot of their own, as in a plain
    unit of work.
    """

    def __init__(
        self,
        database: Database,
        clock: Clock,
        *,
        journal: Callable[[Session, Clock], J],
        on_open: Callable[[UnitOfWork[J, F]], None],
        after_ledger_commit: Callable[[], None] | None = None,
        published: F | None = None,
    ) -> None:
        super().__init__(
            database,
            clock,
            journal=journal,
            after_ledger_commit=after_ledger_commit,
            published=published,
        )
        self._on_open = on_open
        self._held: Session | None = None
        self._held_journal: J | None = None
        self._opened = False  # `on_open` ran in the transaction held now
        self._writes = 0
        self._lost = False  # earlier writes were rolled back: the request cannot go on
        self.failed = False  # a body failed and the transaction was rolled back

    def begin(self) -> None:
        """Hold the request's transaction from now on: reads join it too."""
        if self._lost:
            raise ConcurrentRequest("the request's transaction was lost: send it again")
        if self._held is None:
            self._held = self.database.session()
            self._held_journal = self._new_journal(self._held, self.clock)

    def open(self, first: Callable[[UnitOfWork[J, F]], T]) -> T:
        """Hold the request's transaction and run `first` in it now, in place of `on_open`
        (which runs again if the transaction is lost and begun anew); answer what it answers.
        A lost race (a dropped connection, SQLite's busy lock) runs it again in a new
        transaction; what else it raises is raised here, with the transaction rolled back."""

        def once() -> T:
            self.begin()
            self._session, self._journal = self._held, self._held_journal
            try:
                return first(self)
            except BaseException:
                self._drop()
                raise
            finally:
                self._session, self._journal = None, None

        opened = _again_after_lost_races(self, once, committing=lambda: False)
        self._opened = True
        return opened

    def __enter__(self) -> UnitOfWork[J, F]:
        if self._held is None and self._read_only:
            return super().__enter__()  # a snapshot of its own, before any write
        self.begin()
        assert self._held is not None
        self._session, self._journal = self._held, self._held_journal
        if not self._opened and not self._read_only:
            try:
                self._on_open(self)
            except BaseException:
                self._drop()
                raise
            self._opened = True
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._held is None or self._session is not self._held:
            super().__exit__(*exc_info)
            return
        reading = self._read_only
        self._session, self._journal, self._read_only = None, None, False
        error = exc_info[1]
        if error is None or (reading and not isinstance(error, DBAPIError | sqlite3.Error)):
            return
        self._lost = self._writes > 0
        self.failed = True
        self._drop()

    def commit(self) -> None:
        """A write is done; it commits with the request (`finish`)."""
        self._writes += 1

    def may_run_again(self) -> bool:
        return not self._lost

    def finish(self, store: Callable[[UnitOfWork[J, F]], None] | None) -> None:
        """End the request: `store` (the answer) is written and committed with everything the
        request wrote; without it, all is rolled back. A request whose first write failed (and
        was rolled back) stores its answer in a new transaction; one that lost earlier writes
        stores nothing."""
        if store is None or (self._held is None and self._lost):
            self._drop()
            return
        try:
            self.__enter__()  # the reservation, if nothing was written yet
            store(self)
            assert self._held is not None
            self._held.commit()
            posted = self._held_journal is not None and self._held_journal.posted
        finally:
            self._drop()
        if posted and self._after_ledger_commit is not None:
            self._after_ledger_commit()

    def _drop(self) -> None:
        session = self._held or self._session
        self._held = self._session = None
        self._journal = self._held_journal = None
        self._opened = self._read_only = False
        if session is not None:
            try:
                session.rollback()
            finally:
                session.close()


def is_retryable(error: BaseException) -> bool:
    """Errors a rerun of the whole transaction resolves (never raised by a COMMIT: see `_wrap`)."""
    if isinstance(error, ConcurrentRequest):
        return True
    if isinstance(error, sqlite3.OperationalError):  # raised by our BEGIN IMMEDIATE, unwrapped
        return "database is locked" in str(error)
    if isinstance(error, DBAPIError):
        if error.connection_invalidated:
            return True
        sqlstate = getattr(error.orig, "sqlstate", None)
        if sqlstate in _RETRYABLE_SQLSTATES:
            return True
        return "database is locked" in str(error.orig)
    return False


def transaction(
    work: Callable[Concatenate[U, P], T],
) -> Callable[Concatenate[U, P], T]:
    """Run `work(uow, …)` as one transaction, retrying it when it loses a race."""
    return _wrap(work, snapshot=False)


def read_only(
    work: Callable[Concatenate[U, P], T],
) -> Callable[Concatenate[U, P], T]:
    """Run `work(uow, …)` in a read-only snapshot; nothing it does is committed."""
    return _wrap(work, snapshot=True)


def _wrap(
    work: Callable[Concatenate[U, P], T], *, snapshot: bool
) -> Callable[Concatenate[U, P], T]:
    def run(uow: U, /, *args: P.args, **kwargs: P.kwargs) -> T:
        committing = False

        def once() -> T:
            nonlocal committing
            committing = False
            with uow.reading() if snapshot else uow:
                result = work(uow, *args, **kwargs)
                if not snapshot:
                    # Past this point the database may have committed even if we hear an
                    # error (a connection lost during COMMIT): never run the work again.
                    committing = True
                    uow.commit()
                return result

        return _again_after_lost_races(uow, once, committing=lambda: committing)

    functools.update_wrapper(run, work)
    return run


def _again_after_lost_races(
    uow: UnitOfWork[Any, Any], once: Callable[[], T], *, committing: Callable[[], bool]
) -> T:
    """Run `once` again, a few times, when it loses a race (`is_retryable`) — unless the error
    came while committing, or the unit of work cannot run again."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return once()
        except Exception as error:
            if committing() or not is_retryable(error):
                raise
            if not uow.may_run_again():
                raise ConcurrentRequest("lost a race: send the request again") from error
            if attempt == ATTEMPTS:
                raise ConcurrentRequest("too many concurrent requests; try again") from error
        time.sleep(random.uniform(0, 0.005 * 2**attempt))  # noqa: S311 - jitter, not security
    raise AssertionError("unreachable")
