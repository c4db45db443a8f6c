"""The Idempotency-Key store: a key is taken once per owner; the same request gets its stored
answer, another request under the key is refused, a failed one frees it; racing twins never
both run."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest

from tests.harness import START
from voucher_app.clock import FrozenClock
from voucher_app.domain.errors import ConcurrentRequest, IdempotencyKeyReused, InvalidInput
from voucher_app.persistence.database import Database
from voucher_app.persistence.uow import UnitOfWork
from voucher_app.services import idempotency
from voucher_app.services.idempotency import StoredAnswer

DIGEST, OTHER = b"a" * 32, b"b" * 32
ANSWER = StoredAnswer(201, "application/json", b'{"id": 1}')


def test_a_key_runs_once_then_answers_from_the_store(uow: UnitOfWork) -> None:
    assert idempotency.begin(uow, "clerk", "k-1", DIGEST) is None
    with pytest.raises(ConcurrentRequest):  # the first attempt has not finished
        idempotency.begin(uow, "clerk", "k-1", DIGEST)
    idempotency.finish(uow, "clerk", "k-1", ANSWER)
    assert idempotency.begin(uow, "clerk", "k-1", DIGEST) == ANSWER
    with pytest.raises(IdempotencyKeyReused):
        idempotency.begin(uow, "clerk", "k-1", OTHER)
    assert idempotency.begin(uow, "someone-else", "k-1", OTHER) is None  # keys are per owner


def test_a_failed_request_frees_its_key(uow: UnitOfWork) -> None:
    assert idempotency.begin(uow, "clerk", "k-2", DIGEST) is None
    idempotency.abandon(uow, "clerk", "k-2")
    assert idempotency.begin(uow, "clerk", "k-2", OTHER) is None


@pytest.mark.parametrize("key", ["", "k" * 201])
def test_an_empty_or_overlong_key_is_refused(uow: UnitOfWork, key: str) -> None:
    with pytest.raises(InvalidInput):
        idempotency.begin(uow, "clerk", key, DIGEST)


def test_twenty_racing_twins_let_exactly_one_run(database: Database) -> None:
    barrier = Barrier(20)

    def attempt() -> str:
        uow = UnitOfWork(database, FrozenClock(START))
        barrier.wait()
        try:
            return "ran" if idempotency.begin(uow, "desk", "race", DIGEST) is None else "stored"
        except ConcurrentRequest:
            return "running"

    with ThreadPoolExecutor(20) as pool:
        outcomes = Counter(pool.map(lambda _: attempt(), range(20)))
    assert outcomes["ran"] == 1
    assert outcomes["ran"] + outcomes["running"] == 20
