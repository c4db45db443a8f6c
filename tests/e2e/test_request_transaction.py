"""One transaction per request: a state-changing API request under an Idempotency-Key signs its
caller in, finds the key unanswered, asks the access policy, does its work and stores its answer
in one database transaction (DESIGN §4 item 5), and a request killed before that commits leaves
none of the key, the work or the answer behind."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import event, func, select

from tests.e2e.accounts import bearer
from tests.e2e.demo_data import load_demo
from voucher_app.domain.actors import Role
from voucher_app.persistence.models import IdempotentRequest, Voucher
from voucher_app.services import demo, idempotency
from voucher_app.wiring import Wiring

SME = demo.SMES[0].uscc  # small; holds 2 of the 4 vouchers its cap allows
OTHER_SME = demo.SMES[2].uscc


@contextmanager
def transactions(app: Flask) -> Iterator[Counter[str]]:
    """Count the database's BEGINs, COMMITs and ROLLBACKs while the block runs. Sequencing after
    commit (a transaction of the sequencer's, after the request's has committed) is left out."""
    wiring: Wiring = app.extensions["voucher_app"]
    wiring.sequence_after_commit = False
    counted: Counter[str] = Counter()
    listeners = {
        name: (lambda *_args, name=name: counted.update([name]))
        for name in ("begin", "commit", "rollback")
    }
    for name, listener in listeners.items():
        event.listen(wiring.database.engine, name, listener)
    try:
        yield counted
    finally:
        for name, listener in listeners.items():
            event.remove(wiring.database.engine, name, listener)


def stored(app: Flask) -> tuple[int, int]:
    """How many vouchers there are, and how many Idempotency-Keys are kept."""
    wiring: Wiring = app.extensions["voucher_app"]
    with wiring.database.engine.connect() as connection:
        issued = connection.execute(select(func.count()).select_from(Voucher)).scalar_one()
        keys = connection.execute(select(func.count()).select_from(IdempotentRequest)).scalar_one()
    return int(issued), int(keys)


def test_a_claim_under_a_key_runs_in_one_transaction(app: Flask, runner: FlaskCliRunner) -> None:
    programme = load_demo(app, runner)
    client = app.test_client()
    clerk = bearer(app, Role.SME, sme=SME)
    url, body = f"/api/v1/smes/{SME}/vouchers", {"programme_id": str(programme)}
    keyed = {**clerk, "Idempotency-Key": "claim-1"}
    with transactions(app) as counted:
        assert client.post(url, json=body, headers=keyed).status_code == 201
    assert counted == Counter(begin=1, commit=1)  # sign-in, key, access, claim, answer
    with transactions(app) as counted:
        again = client.post(url, json=body, headers=keyed)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert counted == Counter(begin=1, rollback=1)  # a replay reads, and writes nothing


def test_another_use_case_under_a_key_runs_in_one_transaction_too(app: Flask) -> None:
    client = app.test_client()
    headers = {**bearer(app, Role.ADMIN), "Idempotency-Key": "token-1"}
    with transactions(app) as counted:
        made = client.post("/api/v1/auth/tokens", json={"name": "ops"}, headers=headers)
    assert made.status_code == 201
    assert counted == Counter(begin=1, commit=1)


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("other SME", 403),  # refused by the policy: the refusal is logged, and the answer kept
        ("no token", 401),
    ],
)
def test_a_refused_request_under_a_key_runs_in_one_transaction(
    app: Flask, runner: FlaskCliRunner, who: str, expected: int
) -> None:
    programme = load_demo(app, runner)
    client = app.test_client()
    caller = bearer(app, Role.SME, sme=OTHER_SME) if who == "other SME" else {}
    headers = {**caller, "Idempotency-Key": f"refused-{uuid.uuid4().hex}"}
    with transactions(app) as counted:
        answer = client.post(
            f"/api/v1/smes/{SME}/vouchers", json={"programme_id": str(programme)}, headers=headers
        )
    assert answer.status_code == expected
    assert counted["begin"] == 1 and counted["commit"] <= 1


def test_a_request_killed_before_its_commit_leaves_no_key_no_work_and_no_answer(
    app: Flask, runner: FlaskCliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    programme = load_demo(app, runner)
    client = app.test_client()
    keyed = {**bearer(app, Role.SME, sme=SME), "Idempotency-Key": "killed-1"}
    url, body = f"/api/v1/smes/{SME}/vouchers", {"programme_id": str(programme)}
    before = stored(app)

    def killed(*_args: object, **_kwargs: object) -> None:
        raise SystemExit("the worker was killed")  # what gunicorn's timeout raises in a worker

    with monkeypatch.context() as patch:
        patch.setattr(idempotency, "record", killed)  # the work is done, the answer not stored
        with pytest.raises(SystemExit):
            client.post(url, json=body, headers=keyed)
    assert stored(app) == before
    retried = client.post(url, json=body, headers=keyed)  # the retry runs it, once
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried.headers
    vouchers, keys = before
    assert stored(app) == (vouchers + 1, keys + 1)
