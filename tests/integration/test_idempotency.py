"""The Idempotency-Key store and the held transaction it commits with: the key, the work and
the answer commit together or not at all; a request that dies leaves no trace of its key; a
twin waits for the first and gets its answer; keys expire after their hours."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from threading import Barrier

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from voucher_app.clock import FrozenClock
from voucher_app.domain.errors import (
    ConcurrentRequest,
    IdempotencyKeyAnswered,
    IdempotencyKeyReused,
    InvalidInput,
)
from voucher_app.ledger.unit_of_work import HeldUnitOfWork, UnitOfWork
from voucher_app.persistence.database import Database
from voucher_app.persistence.models import IdempotentRequest, User
from voucher_app.persistence.uow import read_only, transaction
from voucher_app.services import idempotency
from voucher_app.services.idempotency import StoredAnswer
from voucher_app.wiring import held_unit_of_work, unit_of_work

DIGEST, OTHER = b"a" * 32, b"b" * 32
ANSWER = StoredAnswer(201, "application/json", b'{"id": 1}')
HOURS = 24


def held(database: Database, clock: FrozenClock, owner: str, key: str) -> HeldUnitOfWork:
    return held_unit_of_work(
        database,
        clock,
        on_open=lambda uow: idempotency.reserve(uow, owner, key, DIGEST, hours=HOURS),
    )


def twenty_twins(
    database: Database, clock: FrozenClock, key: str, twin: Callable[[HeldUnitOfWork, int], str]
) -> Counter[str]:
    """Twenty requests of one owner with one key, let go at once, each once it holds its unit
    of work: how many answered what (`twin`'s answers)."""
    barrier = Barrier(20)

    def attempt(n: int) -> str:
        request = held(database, clock, "desk", key)
        barrier.wait()
        return twin(request, n)

    with ThreadPoolExecutor(20) as pool:
        return Counter(pool.map(attempt, range(20)))


@transaction
def add_user(uow: UnitOfWork, name: str) -> None:
    uow.session.add(
        User(
            public_id=uuid.uuid4(),
            username=name,
            password_hash="x",
            role="admin",
            status="active",
            created_at=uow.clock.now(),
            created_by="tests",
        )
    )


@read_only
def count(uow: UnitOfWork, model: type[User] | type[IdempotentRequest]) -> int:
    return int(uow.session.scalar(select(func.count()).select_from(model)) or 0)


def test_the_work_and_the_answer_commit_together(database: Database, clock: FrozenClock) -> None:
    uow = unit_of_work(database, clock)
    request = held(database, clock, "clerk", "k-1")
    add_user(request, "first")
    add_user(request, "second")
    assert count(uow, User) == 0 and count(uow, IdempotentRequest) == 0  # nothing yet
    request.finish(lambda u: idempotency.record(u, "clerk", "k-1", ANSWER))
    assert count(uow, User) == 2
    assert idempotency.answer_for(uow, "clerk", "k-1", DIGEST, hours=HOURS) == ANSWER
    with pytest.raises(IdempotencyKeyReused):
        idempotency.answer_for(uow, "clerk", "k-1", OTHER, hours=HOURS)
    assert idempotency.answer_for(uow, "someone-else", "k-1", OTHER, hours=HOURS) is None


def test_a_request_that_ends_without_an_answer_leaves_no_trace(
    database: Database, clock: FrozenClock
) -> None:
    uow = unit_of_work(database, clock)
    request = held(database, clock, "clerk", "k-2")
    add_user(request, "lost")
    request.finish(None)  # a server error, or the process died before commit
    assert count(uow, User) == 0 and count(uow, IdempotentRequest) == 0
    assert idempotency.answer_for(uow, "clerk", "k-2", DIGEST, hours=HOURS) is None


def test_a_refusal_after_a_write_rolls_the_request_back_and_stores_nothing(
    database: Database, clock: FrozenClock
) -> None:
    @transaction
    def refuse(_: UnitOfWork) -> None:
        raise InvalidInput("no")

    uow = unit_of_work(database, clock)
    request = held(database, clock, "clerk", "k-3")
    add_user(request, "half")
    with pytest.raises(InvalidInput):
        refuse(request)
    with pytest.raises(ConcurrentRequest):  # its first write is gone: the request cannot go on
        add_user(request, "more")
    request.finish(lambda u: idempotency.record(u, "clerk", "k-3", ANSWER))
    assert count(uow, User) == 0 and count(uow, IdempotentRequest) == 0


def test_a_refusal_before_any_write_is_stored_as_the_answer(
    database: Database, clock: FrozenClock
) -> None:
    @transaction
    def refuse(_: UnitOfWork) -> None:
        raise InvalidInput("no")

    request = held(database, clock, "clerk", "k-4")
    with pytest.raises(InvalidInput):
        refuse(request)
    refused = StoredAnswer(400, "application/problem+json", b"{}")
    request.finish(lambda u: idempotency.record(u, "clerk", "k-4", refused))
    answer = idempotency.answer_for(unit_of_work(database, clock), "clerk", "k-4", DIGEST, hours=24)
    assert answer == refused


def test_keys_expire_after_their_hours(database: Database, clock: FrozenClock) -> None:
    uow = unit_of_work(database, clock)
    request = held(database, clock, "clerk", "old")
    request.finish(lambda u: idempotency.record(u, "clerk", "old", ANSWER))
    clock.advance(timedelta(hours=HOURS, seconds=1))
    assert idempotency.answer_for(uow, "clerk", "old", DIGEST, hours=HOURS) is None
    again = held(database, clock, "clerk", "old")  # an expired key may be used again
    add_user(again, "again")
    again.finish(lambda u: idempotency.record(u, "clerk", "old", ANSWER))
    assert count(uow, User) == 1
    clock.advance(timedelta(hours=HOURS, seconds=1))
    assert idempotency.purge(uow, HOURS) == 1
    assert count(uow, IdempotentRequest) == 0


@pytest.mark.parametrize("key", ["", "k" * 201])
def test_an_empty_or_overlong_key_is_refused(key: str) -> None:
    with pytest.raises(InvalidInput):
        idempotency.check_key(key)


def test_twenty_racing_twins_run_once_and_the_rest_get_its_answer(
    database: Database, clock: FrozenClock
) -> None:
    def twin(request: HeldUnitOfWork, n: int) -> str:
        try:
            add_user(request, f"twin-{n}")
        except IdempotencyKeyAnswered:
            request.finish(None)
            return "answered"
        request.finish(lambda u: idempotency.record(u, "desk", "race", ANSWER))
        return "ran"

    outcomes = twenty_twins(database, clock, "race", twin)
    assert outcomes == Counter({"ran": 1, "answered": 19})
    assert count(unit_of_work(database, clock), User) == 1


def test_taking_an_answered_key_gets_its_answer_in_the_same_transaction(
    database: Database, clock: FrozenClock
) -> None:
    uow = unit_of_work(database, clock)
    first = held(database, clock, "clerk", "k-5")
    add_user(first, "once")
    first.finish(lambda u: idempotency.record(u, "clerk", "k-5", ANSWER))
    retry = held(database, clock, "clerk", "k-5")
    assert retry.open(lambda u: idempotency.take(u, "clerk", "k-5", DIGEST, hours=HOURS)) == ANSWER
    retry.finish(None)
    other = held(database, clock, "clerk", "k-5")
    with pytest.raises(IdempotencyKeyReused):
        other.open(lambda u: idempotency.take(u, "clerk", "k-5", OTHER, hours=HOURS))
    other.finish(None)
    assert count(uow, User) == 1 and count(uow, IdempotentRequest) == 1
    assert idempotency.answer_for(uow, "clerk", "k-5", DIGEST, hours=HOURS) == ANSWER


def test_taking_an_expired_key_takes_it_over_and_forgets_its_answer(
    database: Database, clock: FrozenClock
) -> None:
    uow = unit_of_work(database, clock)
    request = held(database, clock, "clerk", "k-6")
    request.finish(lambda u: idempotency.record(u, "clerk", "k-6", ANSWER))
    clock.advance(timedelta(hours=HOURS, seconds=1))
    again = held(database, clock, "clerk", "k-6")
    assert again.open(lambda u: idempotency.take(u, "clerk", "k-6", OTHER, hours=HOURS)) is None
    newer = StoredAnswer(200, "application/json", b"{}")
    again.finish(lambda u: idempotency.record(u, "clerk", "k-6", newer))
    assert count(uow, IdempotentRequest) == 1
    assert idempotency.answer_for(uow, "clerk", "k-6", OTHER, hours=HOURS) == newer


def test_twins_taking_the_key_first_thing_run_once_and_the_rest_get_its_answer(
    database: Database, clock: FrozenClock
) -> None:
    """The API's order: the key is taken before the work (`HeldUnitOfWork.open`); a twin waits
    on it and reads the first one's answer in its own transaction."""

    def twin(request: HeldUnitOfWork, n: int) -> str:
        stored = request.open(lambda u: idempotency.take(u, "desk", "eager", DIGEST, hours=HOURS))
        if stored is not None:
            request.finish(None)
            return "answered" if stored == ANSWER else "wrong answer"
        add_user(request, f"twin-{n}")
        request.finish(lambda u: idempotency.record(u, "desk", "eager", ANSWER))
        return "ran"

    outcomes = twenty_twins(database, clock, "eager", twin)
    assert outcomes == Counter({"ran": 1, "answered": 19})
    assert count(unit_of_work(database, clock), User) == 1


def test_taking_the_key_runs_again_after_a_lost_race_and_not_after_a_refusal(
    database: Database, clock: FrozenClock
) -> None:
    attempts: list[str] = []

    def flaky(uow: UnitOfWork) -> StoredAnswer | None:
        attempts.append("take")
        if len(attempts) == 1:  # as a pooled connection the server dropped is met
            raise DBAPIError("BEGIN", {}, OSError("server closed"), connection_invalidated=True)
        return idempotency.take(uow, "clerk", "k-7", DIGEST, hours=HOURS)

    request = held(database, clock, "clerk", "k-7")
    assert request.open(flaky) is None
    assert attempts == ["take", "take"]
    request.finish(lambda u: idempotency.record(u, "clerk", "k-7", ANSWER))
    refused = held(database, clock, "clerk", "k-7")
    with pytest.raises(IdempotencyKeyReused):  # a refusal is not a race: raised at once
        refused.open(lambda u: idempotency.take(u, "clerk", "k-7", OTHER, hours=HOURS))
    refused.finish(None)


def test_a_key_is_taken_on_a_fresh_connection_when_the_server_dropped_the_pooled_one(
    database: Database, clock: FrozenClock, backend: str
) -> None:
    """pg_terminate_backend on every idle connection of the pool: the request's first
    statement, the key's, meets a dead connection and runs again on a new one."""
    if backend != "postgresql":
        pytest.skip("only a server can drop a connection")
    with database.engine.connect() as killer:  # checked out: the pool's one idle is the dead
        with database.engine.connect() as connection:
            pooled = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
        killer.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pooled})
        request = held(database, clock, "clerk", "k-8")
        taken = request.open(lambda u: idempotency.take(u, "clerk", "k-8", DIGEST, hours=HOURS))
        assert taken is None
        request.finish(lambda u: idempotency.record(u, "clerk", "k-8", ANSWER))
    answer = idempotency.answer_for(unit_of_work(database, clock), "clerk", "k-8", DIGEST, hours=24)
    assert answer == ANSWER
