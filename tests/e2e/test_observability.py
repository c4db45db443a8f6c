"""Observability: Prometheus metrics at /metrics (counted per request, read from the database,
added up across gunicorn's workers), request ids in answers, problems and log lines, and
/readyz turning 503 when the ledger falls behind."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.accounts import bearer
from tests.e2e.demo_data import load_demo
from tests.e2e.test_serve import _free_port
from tests.harness import ORIGIN, Databases
from voucher_app import create_app, jobs, metrics
from voucher_app.app import _JsonFormatter, _PlainFormatter
from voucher_app.domain.actors import Role
from voucher_app.ledger.merkle import ProofError
from voucher_app.services import demo
from voucher_app.signing.keyring import Keyring
from voucher_app.wiring import Wiring

ROOT = Path(__file__).resolve().parents[2]
READ = frozenset({"read"})
SME = demo.SMES[0].uscc  # small; holds 2 of the 4 vouchers its cap allows
OTHER_SME = demo.SMES[2].uscc  # micro; holds 1
MEDIUM_SME = demo.SMES[3].uscc  # 420 staff: the demo programme takes small and micro firms
CLAIM_ROUTE = "/api/v1/smes/<string:uscc>/vouchers"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def scrape(client: FlaskClient, headers: dict[str, str]) -> Samples:
    answer = client.get("/metrics", headers=headers)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.mimetype == "text/plain"
    return parse(answer.get_data(as_text=True))


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def claim(client: FlaskClient, headers: dict[str, str], uscc: str, programme: object) -> int:
    answer = client.post(
        f"/api/v1/smes/{uscc}/vouchers", json={"programme_id": str(programme)}, headers=headers
    )
    return answer.status_code


def settings(
    database_url: str, keyring: Keyring, folder: Path, **more: object
) -> dict[str, object]:
    """The test app's settings, with a published-checkpoint file of its own."""
    return {
        "DATABASE_URL": database_url,
        "KEYS_DIR": str(keyring.directory),
        "LEDGER_ORIGIN": ORIGIN,
        "CHECKPOINT_FILE": str(folder / "checkpoint"),
        **more,
    }


# --- counted per request ------------------------------------------------------------------------


def test_a_claim_over_the_api_increments_the_claims_counter_once(
    app: Flask, runner: FlaskCliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(metrics, "STATE_SECONDS", 0.0)  # the entries gauge read at each scrape
    programme = load_demo(app, runner)
    client = app.test_client()
    admin = bearer(app, Role.ADMIN, scopes=READ)  # a read-only admin token may scrape
    clerk = bearer(app, Role.SME, sme=SME)
    before = scrape(client, admin)
    keyed = {**clerk, "Idempotency-Key": "claim-once"}
    assert claim(client, keyed, SME, programme) == 201
    replayed = client.post(
        f"/api/v1/smes/{SME}/vouchers", json={"programme_id": str(programme)}, headers=keyed
    )
    assert replayed.headers["Idempotent-Replayed"] == "true"  # answered again, not claimed
    after = scrape(client, admin)
    assert value(after, "voucher_claims_total") - value(before, "voucher_claims_total") == 1
    assert value(after, "voucher_redemptions_total") == 0
    assert value(after, "voucher_ledger_entries") - value(before, "voucher_ledger_entries") == 1


def test_a_refused_claim_increments_the_refusals_counter_with_its_code(
    app: Flask, runner: FlaskCliRunner
) -> None:
    programme = load_demo(app, runner)
    client = app.test_client()
    admin = bearer(app, Role.ADMIN)
    medium = bearer(app, Role.SME, sme=MEDIUM_SME)
    refused = client.post(
        f"/api/v1/smes/{MEDIUM_SME}/vouchers",
        json={"programme_id": str(programme)},
        headers=medium,
    )
    assert (refused.status_code, refused.get_json()["code"]) == (409, "not_eligible_size")
    other = bearer(app, Role.SME, sme=OTHER_SME)
    assert claim(client, other, SME, programme) == 403  # not its own SME: permission_denied
    samples = scrape(client, admin)
    refusals = "voucher_refusals_total"
    assert value(samples, refusals, operation="claim", code="not_eligible_size") == 1
    assert value(samples, refusals, operation="claim", code="permission_denied") == 1
    assert value(samples, "voucher_claims_total") == 0


def test_requests_are_counted_and_timed_by_route_and_status(
    app: Flask, runner: FlaskCliRunner
) -> None:
    programme = load_demo(app, runner)
    client = app.test_client()
    clerk = bearer(app, Role.SME, sme=SME)
    for _ in range(2):
        assert client.get("/healthz").status_code == 200
    assert client.get("/api/v1/no/such/8f3a2c").status_code == 404
    assert claim(client, clerk, SME, programme) == 201
    answer = client.get("/metrics", headers=bearer(app, Role.ADMIN))
    text = answer.get_data(as_text=True)
    samples = parse(text)
    health = {"method": "GET", "route": "/healthz", "status": "200"}
    assert value(samples, "voucher_http_requests_total", **health) == 2
    assert value(samples, "voucher_http_request_duration_seconds_count", **health) == 2
    claimed = {"method": "POST", "route": CLAIM_ROUTE, "status": "201"}
    assert value(samples, "voucher_http_requests_total", **claimed) == 1
    assert value(samples, "voucher_http_request_duration_seconds_bucket", le="+Inf", **claimed) == 1
    assert value(samples, "voucher_http_request_duration_seconds_sum", **claimed) > 0
    unmatched = {"method": "GET", "route": "<unmatched>", "status": "404"}
    assert value(samples, "voucher_http_requests_total", **unmatched) == 1
    assert "8f3a2c" not in text and SME not in text  # routes, never raw paths


def test_the_database_gauges_and_job_runs_are_in_the_scrape(
    app: Flask, runner: FlaskCliRunner
) -> None:
    load_demo(app, runner)

    def fails(parts: Wiring) -> None:
        raise RuntimeError("a job that fails")

    # Two runs through the scheduler's wrapper, by one holder of the lease: one ends, one fails.
    jobs.leased(app, "ledger.sequence", 60, jobs.sequence_and_sign, "host:1:a")()
    jobs.leased(app, "ledger.sequence", 60, fails, "host:1:a")()
    samples = scrape(app.test_client(), bearer(app, Role.ADMIN))
    assert value(samples, "voucher_database_up") == 1
    assert value(samples, "voucher_ledger_entries") > 0
    assert value(samples, "voucher_ledger_sequencer_lag") == 0  # sequenced after each commit
    assert value(samples, "voucher_ledger_checkpoint_age_seconds") >= 0
    assert value(samples, "voucher_tasks", status="running") == 0
    assert ("voucher_notifications_pending", frozenset()) in samples
    assert value(samples, "voucher_job_runs_total", job="ledger.sequence") == 2
    assert value(samples, "voucher_job_failures_total", job="ledger.sequence") == 1
    assert value(samples, "voucher_job_duration_seconds_count", job="ledger.sequence") == 2
    last = value(samples, "voucher_job_last_success_timestamp_seconds", job="ledger.sequence")
    assert abs(last - time.time()) < 60


def test_metrics_are_for_admins_and_can_be_turned_off(
    app: Flask, runner: FlaskCliRunner, database_url: str, keyring: Keyring, tmp_path: Path
) -> None:
    load_demo(app, runner)
    client = app.test_client()
    assert client.get("/metrics").status_code == 401
    staff = bearer(app, Role.CENTER_ADMIN, center="440000")  # even the province's admins: 403
    assert client.get("/metrics", headers=staff).status_code == 403
    off = create_app("testing", settings(database_url, keyring, tmp_path, METRICS_ENABLED=False))
    try:
        answer = off.test_client().get("/metrics", headers=bearer(off, Role.ADMIN))
        assert answer.status_code == 404
        assert metrics.EXTENSION not in off.extensions
        assert off.test_client().get("/readyz").status_code == 200  # readiness needs no metrics
    finally:
        off.extensions["voucher_app"].database.dispose()


# --- readiness ----------------------------------------------------------------------------------


def test_a_stopped_sequencer_raises_the_lag_gauge_and_readyz_turns_503(
    database_url: str, keyring: Keyring, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(metrics, "STATE_SECONDS", 0.0)  # every scrape reads the database
    app = create_app(
        "testing",
        settings(
            database_url,
            keyring,
            tmp_path,
            SEQUENCE_AFTER_COMMIT=False,  # the sequencer is stopped: nothing sequences commits
            READY_MAX_SEQUENCER_LAG=2,
        ),
    )
    try:
        runner = app.test_cli_runner()
        programme = load_demo(app, runner)  # sequences and signs its own entries
        client = app.test_client()
        admin = bearer(app, Role.ADMIN)
        ready = client.get("/readyz")
        assert ready.status_code == 200, ready.get_json()
        assert ready.get_json()["status"] == "ready"
        assert value(scrape(client, admin), "voucher_ledger_sequencer_lag") == 0

        sme, other = bearer(app, Role.SME, sme=SME), bearer(app, Role.SME, sme=OTHER_SME)
        assert [claim(client, sme, SME, programme) for _ in range(2)] == [201, 201]
        assert claim(client, other, OTHER_SME, programme) == 201
        samples = scrape(client, admin)
        assert value(samples, "voucher_ledger_sequencer_lag") == 3
        assert value(samples, "voucher_ledger_uncheckpointed_entries") == 3
        behind = client.get("/readyz")
        assert behind.status_code == 503
        body = behind.get_json()
        assert body["status"] == "not_ready"
        assert body["checks"]["sequencer_lag"] == {
            "ok": False,
            "detail": "entries wait to be sequenced",
            "value": 3,
            "limit": 2,
        }
        assert all(check["ok"] for name, check in body["checks"].items() if name != "sequencer_lag")

        assert runner.invoke(args=["ledger", "sequence"]).exit_code == 0
        assert value(scrape(client, admin), "voucher_ledger_sequencer_lag") == 0
        assert client.get("/readyz").status_code == 200
        # Entries now wait for a checkpoint: past its age limit, not ready until one is signed.
        app.config["READY_MAX_CHECKPOINT_AGE_SECONDS"] = 0
        stale = client.get("/readyz")
        assert stale.status_code == 503
        assert stale.get_json()["checks"]["checkpoint_age"]["ok"] is False
        assert runner.invoke(args=["ledger", "checkpoint"]).exit_code == 0
        signed = client.get("/readyz")
        assert signed.status_code == 200, signed.get_json()
        assert signed.get_json()["checks"]["checkpoint_age"]["value"] is None  # nothing waits
    finally:
        app.extensions["voucher_app"].database.dispose()


# --- request ids --------------------------------------------------------------------------------


def test_a_sent_request_id_comes_back_and_a_missing_one_is_made(client: FlaskClient) -> None:
    sent = client.get("/api/v1/auth/me", headers={"X-Request-Id": "edge-7f3a.1"})
    assert sent.status_code == 401
    assert sent.headers["X-Request-Id"] == "edge-7f3a.1"
    assert sent.get_json()["request_id"] == "edge-7f3a.1"  # in the problem document too
    made = client.get("/api/v1/auth/me")
    made_id = made.headers["X-Request-Id"]
    assert re.fullmatch(r"[0-9a-f]{32}", made_id)
    assert made.get_json()["request_id"] == made_id
    for insane in ("two words", "x" * 129, "tab\there", "café", ""):
        replaced = client.get("/healthz", headers={"X-Request-Id": insane})
        assert re.fullmatch(r"[0-9a-f]{32}", replaced.headers["X-Request-Id"]), insane
    assert client.get("/healthz").headers["X-Request-Id"] != made_id


def test_every_log_line_of_a_request_carries_its_id(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    noisy = logging.getLogger("voucher_app.tests.noisy")

    def fails() -> str:
        noisy.warning("about to fail")
        raise RuntimeError("boom")

    app.add_url_rule("/api/tests/fails", "tests_fails", fails)
    caplog.set_level(logging.INFO)
    answer = app.test_client().get("/api/tests/fails", headers={"X-Request-Id": "req-42"})
    assert answer.status_code == 500 and answer.get_json()["request_id"] == "req-42"
    records = list(caplog.records)
    names = {record.name for record in records}
    assert {"voucher_app.tests.noisy", "voucher_app.api.problems", "voucher_app.access"} <= names
    assert all(record.__dict__["request_id"] == "req-42" for record in records), [
        (record.name, record.__dict__.get("request_id")) for record in records
    ]
    for record in records:
        assert json.loads(_JsonFormatter().format(record))["request_id"] == "req-42"
        assert "[req-42]" in _PlainFormatter().format(record)
    access = next(record for record in records if record.name == "voucher_app.access")
    assert access.getMessage().startswith("GET /api/tests/fails 500 ")
    line = json.loads(_JsonFormatter().format(access))
    assert (line["method"], line["route"], line["status"]) == ("GET", "/api/tests/fails", 500)
    assert line["duration_ms"] >= 0
    caplog.clear()
    logging.getLogger("voucher_app.tests.noisy").warning("after the request")
    assert caplog.records[0].__dict__["request_id"] == "-"
    assert "request_id" not in json.loads(_JsonFormatter().format(caplog.records[0]))


def test_a_ledger_fault_in_a_request_is_answered_and_logged_like_any_failure(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    def faulty() -> str:
        raise ProofError("inclusion proof is too short")

    app.add_url_rule("/api/tests/faulty", "tests_faulty", faulty)
    caplog.set_level(logging.ERROR)
    answer = app.test_client().get("/api/tests/faulty")
    assert answer.status_code == 500 and answer.get_json()["code"] == "internal_error"
    assert "too short" not in answer.get_data(as_text=True)
    assert [r.exc_info is not None for r in caplog.records if r.name.endswith("problems")] == [True]


# --- gunicorn's workers, one view ---------------------------------------------------------------

CATALOGUE = {"method": "GET", "route": "/api/v1/catalogue", "status": "200"}


def per_worker(folder: Path, scratch: Path) -> dict[str, float]:
    """Each worker's count of catalogue reads, from its own counter file alone."""
    counts = {}
    for file in folder.glob("counter_*.db"):
        alone = scratch / file.stem
        alone.mkdir(exist_ok=True)
        shutil.copyfile(file, alone / file.name)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(alone))  # type: ignore[no-untyped-call]
        samples = {
            (sample.name, frozenset(sample.labels.items())): sample.value
            for family in registry.collect()
            for sample in family.samples
        }
        counts[file.stem] = value(samples, "voucher_http_requests_total", **CATALOGUE)
    return counts


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=10) as reply:
        return reply.status, reply.read().decode()


def test_two_gunicorn_workers_counts_add_up_in_one_scrape(
    databases: Databases, keyring: Keyring, tmp_path: Path
) -> None:
    url = databases.migrated()
    app = create_app("testing", settings(url, keyring, tmp_path))
    admin = bearer(app, Role.ADMIN, scopes=READ)
    app.extensions["voucher_app"].database.dispose()
    folder, scratch = tmp_path / "metrics", tmp_path / "scratch"
    scratch.mkdir()
    port, log = _free_port(), tmp_path / "gunicorn.log"
    env = {
        **os.environ,
        "VOUCHER_ENV": "development",
        "VOUCHER_DATABASE_URL": url,
        "VOUCHER_KEYS_DIR": str(keyring.directory),
        "VOUCHER_LEDGER_ORIGIN": ORIGIN,
        "VOUCHER_CHECKPOINT_FILE": str(tmp_path / "checkpoint"),
        "VOUCHER_METRICS_DIR": str(folder),  # as the unit sets it; gunicorn.conf.py uses it
        "XDG_RUNTIME_DIR": str(tmp_path),
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--workers", "2"]
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*command, "--bind", f"127.0.0.1:{port}", "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while log.read_text().count("Booting worker") < 2 or not _answers(base):
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        sent = 0
        # Fresh connections land on either worker: read until both have served some. Four at
        # once, so that one worker's being busy sends the next to the other (one request at a
        # time, the same worker may win every accept: all 400 once landed on one in CI).
        while sent < 400:
            with ThreadPoolExecutor(4) as pool:
                answers = list(pool.map(lambda _: fetch(f"{base}/api/v1/catalogue")[0], range(10)))
            assert answers == [200] * 10
            sent += 10
            counts = per_worker(folder, scratch)
            # The master made its metrics when it preloaded the app; it answers nothing.
            assert counts.pop(f"counter_{process.pid}", 0) == 0
            if sum(1 for count in counts.values() if count) == 2:
                break
        assert len(counts) == 2 and all(counts.values()), counts
        assert sum(counts.values()) == sent
        status, text = fetch(f"{base}/metrics", admin)  # answered by one worker
        assert status == 200
        assert value(parse(text), "voucher_http_requests_total", **CATALOGUE) == sent
    finally:
        process.terminate()
        process.wait(timeout=30)
    output_text = log.read_text()
    assert "Traceback" not in output_text, output_text


def _answers(base: str) -> bool:
    try:
        return fetch(f"{base}/healthz")[0] == 200
    except OSError:
        return False


def test_the_job_runner_serves_its_own_counters(app: Flask) -> None:
    """`flask jobs run --metrics-port PORT`: the runner answers no requests, so it serves its
    job counters itself (the database's gauges stay with `/metrics`)."""
    port = _free_port()
    metrics.serve(app, port)
    jobs.leased(app, "ledger.sequence", 60, jobs.sequence_and_sign, "host:1:a")()
    status, text = fetch(f"http://127.0.0.1:{port}/")
    assert status == 200
    samples = parse(text)
    assert value(samples, "voucher_job_runs_total", job="ledger.sequence") == 1
    assert "voucher_ledger_entries" not in text
