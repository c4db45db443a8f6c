"""Sequencing after commit at a pace: a process sequences after a commit at most once per
SEQUENCE_AFTER_COMMIT_EVERY_SECONDS; the entries of the commits in between wait in the queue
for its next sequencing (or the job), which takes them all, and none is lost."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from tests.e2e.accounts import bearer
from tests.e2e.demo_data import load_demo
from tests.harness import ORIGIN
from voucher_app import create_app
from voucher_app.domain.actors import Role
from voucher_app.ledger.tables import LogLeaf, LogQueue
from voucher_app.pace import Pace
from voucher_app.services import demo, ledger
from voucher_app.signing.keyring import Keyring
from voucher_app.wiring import Wiring, unit_of_work

SMES = [demo.SMES[0].uscc, demo.SMES[2].uscc]  # each may claim one voucher more


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def paced(database_url: str, keyring: Keyring, tmp_path: Path) -> Iterator[Flask]:
    app = create_app(
        "testing",
        {
            "DATABASE_URL": database_url,
            "KEYS_DIR": str(keyring.directory),
            "LEDGER_ORIGIN": ORIGIN,
            "CHECKPOINT_FILE": str(tmp_path / "checkpoint"),
        },
    )
    yield app
    app.extensions["voucher_app"].database.dispose()


def counts(wiring: Wiring) -> tuple[int, int]:
    """Entries waiting to be sequenced, and leaves in the log."""
    with wiring.database.engine.connect() as connection:
        queued = connection.execute(select(func.count()).select_from(LogQueue)).scalar_one()
        leaves = connection.execute(select(func.count()).select_from(LogLeaf)).scalar_one()
    return int(queued), int(leaves)


def test_commits_within_the_pace_wait_for_the_next_sequencing(paced: Flask) -> None:
    programme = load_demo(paced, paced.test_cli_runner())
    wiring: Wiring = paced.extensions["voucher_app"]
    clock = Clock()
    wiring.sequence_pace = Pace(10.0, clock)
    client = paced.test_client()

    keys = iter(range(100))

    def claim(uscc: str) -> None:
        answer = client.post(
            f"/api/v1/smes/{uscc}/vouchers",
            json={"programme_id": str(programme)},
            headers={**bearer(paced, Role.SME, sme=uscc), "Idempotency-Key": f"k{next(keys)}"},
        )
        assert answer.status_code == 201, answer.get_json()

    queued, before = counts(wiring)
    assert queued == 0
    claim(SMES[0])  # the pace's first yes: sequenced at once
    assert counts(wiring) == (0, before + 1)
    claim(SMES[1])  # within the interval: its entry waits
    assert counts(wiring) == (1, before + 1)
    clock.now += 10.0
    claim(SMES[0])  # the next yes: its sequencing takes the waiting entry too
    assert counts(wiring) == (0, before + 3)


def test_the_sequencer_job_takes_what_waits(paced: Flask) -> None:
    programme = load_demo(paced, paced.test_cli_runner())
    wiring: Wiring = paced.extensions["voucher_app"]
    wiring.sequence_pace = Pace(3600.0)
    assert wiring.sequence_pace.due()  # as if a commit had just sequenced: this hour's yes
    client = paced.test_client()
    _, before = counts(wiring)
    for uscc in SMES:  # both wait
        answer = client.post(
            f"/api/v1/smes/{uscc}/vouchers",
            json={"programme_id": str(programme)},
            headers=bearer(paced, Role.SME, sme=uscc),
        )
        assert answer.status_code == 201, answer.get_json()
    assert counts(wiring) == (2, before)
    ledger.sequence_log(unit_of_work(wiring.database, wiring.clock))  # what the job runs
    assert counts(wiring) == (0, before + 2)


def test_without_a_pace_every_commit_is_sequenced(paced: Flask) -> None:
    programme = load_demo(paced, paced.test_cli_runner())
    wiring: Wiring = paced.extensions["voucher_app"]
    wiring.sequence_pace = Pace(0)
    client = paced.test_client()
    _, before = counts(wiring)
    for uscc in SMES:
        answer = client.post(
            f"/api/v1/smes/{uscc}/vouchers",
            json={"programme_id": str(programme)},
            headers=bearer(paced, Role.SME, sme=uscc),
        )
        assert answer.status_code == 201, answer.get_json()
        assert counts(wiring)[0] == 0
    assert counts(wiring) == (0, before + 2)
