"""The witness's own database, on both backends: racing requests from one head cannot roll the
log back (c2sp.org/tlog-witness: the check and the store are one atomic step), a larger tree is
never cosigned at an earlier time than a smaller one, and a replayed conflict is kept once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.harness import Databases
from tests.unit.test_witness_protocol import LOGS, ROOTS, note, request
from voucher_app.persistence.database import Database
from voucher_app.witness import state
from voucher_app.witness.protocol import Refused, parse_request, request_body

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


@pytest.fixture
def witness_db(databases: Databases) -> Iterator[Database]:
    url = databases.empty()
    state.migrate(url)
    database = Database(url, pool_size=12)
    yield database
    database.dispose()


def test_of_requests_racing_from_one_head_exactly_one_is_cosigned(witness_db: Database) -> None:
    state.add_checkpoint(witness_db, parse_request(request(0, 10)), LOGS, T0)
    sizes = list(range(20, 40, 2))  # ten requests, each from the held 10 to another size
    barrier = threading.Barrier(len(sizes))
    outcomes: dict[int, int] = {}

    def send(size: int) -> None:
        body = parse_request(request(10, size))
        barrier.wait()
        try:
            state.add_checkpoint(witness_db, body, LOGS, T0)
            outcomes[size] = 200
        except Refused as refused:
            outcomes[size] = refused.status

    threads = [threading.Thread(target=send, args=(size,)) for size in sizes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    cosigned = [size for size, status in outcomes.items() if status == 200]
    assert len(cosigned) == 1, outcomes
    assert sorted(outcomes.values()) == [200] + [409] * (len(sizes) - 1)
    held = state.held_head(witness_db, "gd-sme-vouchers.example/ledger")
    assert held is not None and (held.size, held.root) == (cosigned[0], ROOTS[cosigned[0]])


def test_a_larger_tree_is_never_cosigned_at_an_earlier_time(witness_db: Database) -> None:
    _, first = state.add_checkpoint(witness_db, parse_request(request(0, 10)), LOGS, T0)
    earlier = T0 - timedelta(hours=1)  # the witness's clock went back
    _, second = state.add_checkpoint(witness_db, parse_request(request(10, 20)), LOGS, earlier)
    _, again = state.add_checkpoint(witness_db, parse_request(request(20, 20)), LOGS, earlier)
    assert first == second == again == T0
    later = T0 + timedelta(minutes=5)
    assert state.add_checkpoint(witness_db, parse_request(request(20, 30)), LOGS, later)[1] == later


def test_a_conflict_replayed_is_kept_once_with_the_logs_signatures_only(
    witness_db: Database,
) -> None:
    state.add_checkpoint(witness_db, parse_request(request(0, 30)), LOGS, T0)
    forged = note(30, roots={30: bytes([8]) * 32})
    padded = forged + "— someone.example/else AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n"
    for body in (forged, padded, forged):
        with pytest.raises(Refused) as refused:
            state.add_checkpoint(witness_db, parse_request(request_body(30, [], body)), LOGS, T0)
        assert refused.value.status == 409
    [kept] = state.kept(witness_db)
    assert (kept.kind, kept.offered_note, kept.held_note) == ("fork", forged, note(30))
