"""Claims and redemptions under Idempotency-Keys while the deployment breaks underneath them.

A real gunicorn (`gunicorn -c gunicorn.conf.py wsgi:app`, two sync workers) on PostgreSQL
serves a bounded burst: eight clients, each SME claiming a voucher and then a provider
redeeming it, every request under its own key, retried with that key whenever no answer came
(a reset connection, a server error, a lost race). As the burst passes set points, a worker is
`kill -9`ed, every database backend is `pg_terminate_backend`ed, the master is `kill -9`ed and
started again by the same command, and the backends are terminated once more.

Then: every write a client heard of exists once, and nothing else was written (each SME holds
one voucher, each voucher one redemption, the budget went down by exactly that); every key,
sent again, answers what its client heard, replayed; no key is left without its answer; the
ledger verifies, and an outsider's `voucher-audit` verifies what the service publishes.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from http.client import HTTPException
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, text

from tests import factories
from tests.e2e.accounts import bearer
from tests.e2e.test_gunicorn_flows import audit, sign_checkpoint, today
from tests.faults.deployment import served, table_locked, terminate_backends, waiting_for
from voucher_app.domain.actors import Role
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.models import IdempotentRequest
from voucher_app.persistence.uow import read_only
from voucher_app.services import ledger, programmes, vouchers
from voucher_app.signing.keyring import Keyring
from voucher_app.signing.note import Verifier
from voucher_app.wiring import current

pytestmark = pytest.mark.postgres_only  # gunicorn's workers share the database as deployed

SMES = 40
CLIENTS = 8
INVOICED = 300_000
SUBSIDY = INVOICED // 2  # the programme pays half
#: The burst's progress (operations answered, of twice SMES) at which each fault strikes.
FAULTS = {0.15: "kill_worker", 0.35: "terminate_backends", 0.55: "kill_master", 0.8: "terminate"}
TRANSIENT = {"concurrent_request", "outcome_unknown"}
KEYS = "idempotent_requests"


@dataclass
class Answer:
    status: int
    body: bytes
    replayed: bool

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Tally:
    """What the clients saw: attempts that got no answer or a passing one, and replays."""

    lost: int = 0  # no answer at all: a reset connection, a refused one, a timeout
    server_errors: int = 0  # 5xx: the request failed, or its commit's outcome is unknown
    transient: int = 0  # 409 concurrent_request: a lost race, to send again
    replayed_after_doubt: int = 0  # a retry answered from what an unheard attempt committed
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, name: str) -> None:
        with self.lock:
            setattr(self, name, getattr(self, name) + 1)


def send(base: str, path: str, body: dict[str, Any], headers: dict[str, str]) -> Answer:
    request = urllib.request.Request(
        base + path,
        json.dumps(body).encode(),
        {**headers, "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as reply:
            return Answer(reply.status, reply.read(), "Idempotent-Replayed" in reply.headers)
    except urllib.error.HTTPError as error:
        with error:
            replayed = "Idempotent-Replayed" in error.headers
            return Answer(error.code, error.read(), replayed)


def passed(answered: Counter[str], due: float) -> bool:
    return answered["ops"] >= due


def until_answered(
    base: str, path: str, body: dict[str, Any], headers: dict[str, str], tally: Tally
) -> Answer:
    """Send under one key until the service gives the request's outcome (what a careful client
    does when it hears nothing, or hears that it should try again)."""
    in_doubt = False
    pause = 0.05
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            answer = send(base, path, body, headers)
        except (OSError, HTTPException):
            tally.add("lost")
            in_doubt = True
            time.sleep(pause)
            pause = min(pause * 2, 0.5)  # the server may be restarting
            continue
        if answer.status >= 500:
            tally.add("server_errors")
            in_doubt = True
            time.sleep(pause)
            continue
        if answer.status == 409 and answer.json().get("code") in TRANSIENT:
            tally.add("transient")
            time.sleep(pause)
            continue
        if in_doubt and answer.replayed:
            tally.add("replayed_after_doubt")
        return answer
    raise AssertionError(f"{path} under {headers['Idempotency-Key']} was never answered")


@read_only
def unanswered_keys(uow: UnitOfWork) -> int:
    unanswered = select(func.count()).where(IdempotentRequest.status.is_(None))
    return int(uow.session.scalar(unanswered) or 0)


@read_only
def redemptions_of(uow: UnitOfWork, voucher_id: str) -> list[str]:
    rows = uow.session.execute(
        text(
            "SELECT r.public_id FROM redemptions r JOIN vouchers v ON v.id = r.voucher_id "
            "WHERE v.public_id = :voucher"
        ),
        {"voucher": uuid.UUID(voucher_id)},
    )
    return [str(row[0]) for row in rows]


def test_a_burst_under_kills_and_terminated_backends_writes_each_acknowledged_request_once(
    app: Flask,
    database_url: str,
    keyring: Keyring,
    verifiers: list[Verifier],
    tmp_path: Path,
) -> None:
    with app.app_context():
        parts = current()
        uow = parts.uow()
        factories.guangdong(uow)
        period = {"period_start": today() - timedelta(days=30)}
        programme = factories.voucher_programme(
            uow, vouchers=4 * SMES, **period, period_end=today() + timedelta(days=180)
        )
        smes = [factories.sme(uow, n).uscc for n in range(SMES)]
        provider = factories.provider(uow, 1)
        product = factories.product(uow, provider.id)
        budget_before = programmes.available_budget(uow, programme.id, "440305")
        ledger.sequence_log(uow)  # the set-up's entries too: commits sequence at a pace
        entries_before = ledger.verify_ledger(uow, parts.ledger_verifiers()).entries
    clerks = {uscc: bearer(app, Role.SME, sme=uscc) for uscc in smes}
    desk = bearer(app, Role.PROVIDER, provider=provider.id)
    tally = Tally()
    heard: dict[str, Answer] = {}  # key → the answer its client acted on
    sent: dict[str, tuple[str, dict[str, Any], dict[str, str]]] = {}
    answered = Counter[str]()
    progress = threading.Condition()

    def serve_sme(base: str, n: int, uscc: str) -> None:
        claim_key, redeem_key = f"claim-{n}", f"redeem-{n}"
        claim = (
            f"/api/v1/smes/{uscc}/vouchers",
            {"programme_id": str(programme.id)},
            {**clerks[uscc], "Idempotency-Key": claim_key},
        )
        sent[claim_key] = claim
        voucher = heard[claim_key] = until_answered(base, *claim, tally)
        with progress:
            answered["ops"] += 1
            progress.notify_all()
        assert voucher.status == 201, voucher.body
        redemption = (
            f"/api/v1/providers/{provider.id}/redemptions",
            {
                "token": voucher.json()["token"],
                "product_id": str(product.id),
                "invoice_number": f"FAULT-{n:04d}",
                "invoiced_fen": INVOICED,
                "delivered_on": today().isoformat(),
            },
            {**desk, "Idempotency-Key": redeem_key},
        )
        sent[redeem_key] = redemption
        heard[redeem_key] = until_answered(base, *redemption, tally)
        with progress:
            answered["ops"] += 1
            progress.notify_all()

    with served(database_url, keyring.directory, tmp_path) as server:

        def clients() -> None:
            queue = list(enumerate(smes))
            lock = threading.Lock()

            def client() -> None:
                while True:
                    with lock:
                        if not queue:
                            return
                        n, uscc = queue.pop(0)
                    serve_sme(server.base, n, uscc)

            threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()

        burst = threading.Thread(target=clients)
        burst.start()
        struck: list[str] = []
        for point, fault in FAULTS.items():
            with progress:
                reached = progress.wait_for(partial(passed, answered, point * 2 * SMES), 120)
            assert reached, f"the burst stalled before {fault}: {answered['ops']} answered"
            if fault == "kill_worker":
                server.kill_worker()
            elif fault == "kill_master":
                server.kill_master_and_restart()
            else:
                assert terminate_backends(database_url) > 0
            struck.append(fault)
        burst.join(timeout=180)
        assert not burst.is_alive()
        assert len(heard) == 2 * SMES, "a client failed: see its thread's exception above"

        # Every key, sent again, answers what its client heard: replayed, nothing new done.
        for key, request in sent.items():
            again = send(server.base, *request)
            assert again.replayed, (key, again.status, again.body)
            assert (again.status, again.body) == (heard[key].status, heard[key].body), key
        sign_checkpoint(app)
        result = audit(server.base, verifiers[0].vkey)
    assert result.returncode == 0, result.stdout + result.stderr
    assert struck == list(FAULTS.values())
    # The faults did land on requests in flight (else this test proves nothing).
    assert tally.lost + tally.server_errors > 0, tally

    with app.app_context():
        parts = current()
        uow = parts.uow()
        assert unanswered_keys(uow) == 0
        for n, uscc in enumerate(smes):
            claimed = heard[f"claim-{n}"].json()
            held = vouchers.list_vouchers(uow, sme_uscc=uscc)
            assert [str(v.id) for v in held] == [claimed["id"]], uscc  # one voucher, the heard one
            redeemed = heard[f"redeem-{n}"]
            assert redeemed.status == 201, redeemed.body
            assert redemptions_of(uow, claimed["id"]) == [redeemed.json()["id"]]
        spent = programmes.available_budget(uow, programme.id, "440305")
        assert budget_before - spent == SMES * factories.TERMS.voucher_face_value_fen
        report = ledger.verify_ledger(uow, parts.ledger_verifiers())
        assert report.ok, report.failure
        # claims (one "issue" each) and redemptions (one "redeem" each), nothing more
        assert report.entries == entries_before + 2 * SMES
    print(f"faults: {struck}; clients saw {tally}")  # the figures of the run


def test_a_request_its_client_gave_up_on_answers_its_retry_or_runs_once(
    app: Flask, database_url: str, keyring: Keyring, tmp_path: Path
) -> None:
    with app.app_context():
        uow = current().uow()
        factories.guangdong(uow)
        period = {"period_start": today() - timedelta(days=30)}
        programme = factories.voucher_programme(
            uow, vouchers=8, **period, period_end=today() + timedelta(days=180)
        )
        heard_of, died_with = factories.sme(uow, 1).uscc, factories.sme(uow, 2).uscc
    body = {"programme_id": str(programme.id)}

    def claim(uscc: str, key: str, timeout: float) -> Answer:
        headers = {**bearer_of[uscc], "Idempotency-Key": key, "Content-Type": "application/json"}
        request = urllib.request.Request(
            f"{server.base}/api/v1/smes/{uscc}/vouchers",
            json.dumps(body).encode(),
            headers,
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as reply:
                return Answer(reply.status, reply.read(), "Idempotent-Replayed" in reply.headers)
        except urllib.error.HTTPError as error:
            with error:
                return Answer(error.code, error.read(), "Idempotent-Replayed" in error.headers)

    bearer_of = {uscc: bearer(app, Role.SME, sme=uscc) for uscc in (heard_of, died_with)}
    with served(database_url, keyring.directory, tmp_path) as server:
        # The client gives up, twice, while its request waits; the first commits meanwhile.
        with table_locked(database_url, KEYS, "EXCLUSIVE"):  # keys read, not taken
            for _ in range(2):
                with pytest.raises(TimeoutError):
                    claim(heard_of, "gave-up", timeout=1)
            waiting_for(database_url, KEYS, 2)
        answer = retry_until_answered(lambda: claim(heard_of, "gave-up", timeout=20))
        assert (answer.status, answer.replayed) == (201, True)

        # The worker dies while its request waits: nothing commits; the retry runs it once.
        with table_locked(database_url, KEYS, "EXCLUSIVE"):
            with pytest.raises(TimeoutError):
                claim(died_with, "died", timeout=1)
            waiting_for(database_url, KEYS, 1)
            for pid in server.workers():
                os.kill(pid, signal.SIGKILL)
        answer = retry_until_answered(lambda: claim(died_with, "died", timeout=20))
        assert (answer.status, answer.replayed) == (201, False)
        again = claim(died_with, "died", timeout=20)
        assert (again.status, again.replayed, again.body) == (201, True, answer.body)

    with app.app_context():
        uow = current().uow()
        for uscc in (heard_of, died_with):
            assert len(vouchers.list_vouchers(uow, sme_uscc=uscc)) == 1, uscc
        assert unanswered_keys(uow) == 0


def retry_until_answered(attempt: Callable[[], Answer]) -> Answer:
    """While workers restart, a connection may be refused or reset: try again."""
    deadline = time.monotonic() + 30
    while True:
        try:
            return attempt()
        except (OSError, HTTPException):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
