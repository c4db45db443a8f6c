"""Several instances on one PostgreSQL, as deployed: what must hold across processes does.

Two gunicorn instances (two workers each) share one database and, for rate limits, one Redis.
The login limit (10 a minute per client address) holds across both with Redis, and leaks with
each process counting alone in memory — which is what shows that the shared store is what holds
it. The lockout is kept in the database: an unknown name and a real one are answered alike
before and after they lock, whichever instance answers. Two job runners on the same database
run each scheduled run once (the lease), and the ledger they sequence and sign verifies.

Redis: `VOUCHER_TEST_REDIS_URL` (redis://127.0.0.1:6379/0 by default); when it does not answer
these tests skip, unless `VOUCHER_REQUIRE_REDIS=1` (`.ci/run` sets it), when they fail.

`python -m tests.e2e.test_instances START_AT UNTIL` is the job runner the last test starts: the
scheduler of `flask jobs run`, printing a line for each run it makes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask

import config
from tests import factories
from tests.e2e.test_gunicorn_flows import Reply, wait_until_healthy
from tests.e2e.test_serve import _free_port
from tests.harness import ORIGIN
from voucher_app import create_app, jobs
from voucher_app.domain.actors import Actor, Role
from voucher_app.domain.programmes import BudgetMove
from voucher_app.domain.users import LOCK_AFTER_FAILURES
from voucher_app.http import hardening
from voucher_app.services import programmes, users
from voucher_app.services.users import NewUser
from voucher_app.signing.keyring import Keyring
from voucher_app.wiring import ConfigurationError, current, unit_of_work

ROOT = Path(__file__).resolve().parents[2]
REDIS_ENV = "VOUCHER_TEST_REDIS_URL"
REQUIRE_REDIS_ENV = "VOUCHER_REQUIRE_REDIS"
#: The login route's limit per client address and minute, as hardening sets it.
LOGIN_PER_MINUTE = 10
ATTEMPTS = 30
PASSWORD = "correct horse battery staple"

pytestmark = pytest.mark.postgres_only  # several instances share one PostgreSQL


@pytest.fixture
def redis_url() -> Iterator[str]:
    """The Redis the rate limits share; skipped when it does not answer, unless required."""
    url = os.environ.get(REDIS_ENV, "redis://127.0.0.1:6379/0")
    try:
        with redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2) as client:
            client.ping()
    except redis.RedisError as exc:
        if os.environ.get(REQUIRE_REDIS_ENV) == "1":
            pytest.fail(f"{REQUIRE_REDIS_ENV}=1 but Redis at {url} does not answer: {exc}")
        pytest.skip(f"several-instance rate limits need Redis at {url} ({REDIS_ENV})")
    yield url


def _forget_counters(url: str, prefix: str) -> None:
    """Delete the rate-limit counters one test made (they would expire within the hour)."""
    with redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2) as client:
        keys = list(client.scan_iter(match=f"*{prefix}*"))
        if keys:
            client.delete(*keys)


@contextmanager
def instances(
    database_url: str, keys: Path, folder: Path, env: dict[str, str], workers: int = 2
) -> Iterator[list[str]]:
    """Two gunicorn instances of `wsgi:app` on one database, each with `workers` workers and
    the `VOUCHER_*` settings in `env`; yields their base URLs. On the way out, stop them and
    demand clean logs."""
    with ExitStack() as stack:
        started = []
        for name in ("a", "b"):
            home = folder / name
            home.mkdir()
            log = home / "gunicorn.log"
            port = _free_port()
            process_env = {
                **os.environ,
                "VOUCHER_ENV": "development",
                "VOUCHER_DATABASE_URL": database_url,
                "VOUCHER_KEYS_DIR": str(keys),
                "VOUCHER_LEDGER_ORIGIN": ORIGIN,
                "XDG_RUNTIME_DIR": str(home),  # newer gunicorns' control socket, per instance
                **env,
            }
            command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}"]
            with log.open("wb") as output:
                process = subprocess.Popen(
                    [*command, "--workers", str(workers), "wsgi:app"],
                    cwd=ROOT,
                    env=process_env,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                )
            stack.callback(_stop, process, log, workers)
            started.append((f"http://127.0.0.1:{port}", process, log))
        for base, process, log in started:
            wait_until_healthy(base, process, log)
        yield [base for base, _process, _log in started]


def _stop(process: subprocess.Popen[bytes], log: Path, workers: int) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    text = log.read_text()
    assert text.count("Booting worker") == workers, text
    assert "Traceback" not in text, text


def log_in(base: str, username: str, password: str) -> tuple[Reply, float]:
    """POST the API's sign-in; the answer, and how long it took (seconds)."""
    body = json.dumps({"username": username, "password": password}).encode()
    request = urllib.request.Request(
        f"{base}/api/v1/auth/login", body, {"Content-Type": "application/json"}, method="POST"
    )
    began = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            reply = Reply(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        with error:
            reply = Reply(error.code, error.headers, error.read())
    return reply, time.perf_counter() - began


# --- the login limit --------------------------------------------------------------------------


@pytest.mark.parametrize("storage", ["redis", "memory"])
def test_the_login_limit_holds_across_instances_only_in_a_shared_store(
    request: pytest.FixtureRequest,
    database_url: str,
    keyring: Keyring,
    tmp_path: Path,
    storage: str,
) -> None:
    """30 rapid sign-ins from one address, spread over both instances: with Redis the limit
    lets 10 through; in memory each of the four processes counts alone, and at least 20 pass
    (each instance takes 15 and lets its first 10 through at least)."""
    assert hardening.LIMITS["sign_in"].startswith(f"{LOGIN_PER_MINUTE} per minute")
    prefix = f"t-{uuid.uuid4().hex}"  # this test's counters only, in a Redis others share
    url = request.getfixturevalue("redis_url") if storage == "redis" else "memory://"
    env = {"VOUCHER_RATELIMIT_STORAGE_URI": url, "VOUCHER_RATELIMIT_KEY_PREFIX": prefix}
    try:
        with instances(database_url, keyring.directory, tmp_path, env) as bases:

            def attempt(n: int) -> int:
                reply, _took = log_in(bases[n % 2], f"nobody-{n}", "not a password of anyone")
                return reply.status

            with ThreadPoolExecutor(max_workers=6) as pool:
                statuses = Counter(pool.map(attempt, range(ATTEMPTS)))
    finally:
        if storage == "redis":
            _forget_counters(url, prefix)
    assert set(statuses) <= {401, 429}, statuses
    passed = statuses[401]
    print(f"{storage}: {passed} of {ATTEMPTS} sign-ins passed the limit")
    if storage == "redis":
        assert passed == LOGIN_PER_MINUTE, statuses
    else:
        assert passed >= 2 * LOGIN_PER_MINUTE, statuses


def _limited_app(storage_uri: str) -> Flask:
    """A production app holding just the routes hardening limits, with this storage."""
    bare = Flask("limited")
    bare.config.update(PRODUCTION=True, RATELIMIT_STORAGE_URI=storage_uri)
    for endpoint in hardening.LIMITS:
        bare.add_url_rule(f"/{endpoint}", endpoint, lambda: "", methods=["POST"])
    hardening.init_app(bare)
    return bare


def test_a_production_server_counting_alone_says_so_naming_the_variable(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """memory:// in production is a WARNING at start, not a refusal (one process alone is a
    setup it serves right); a URI the limiter cannot use is refused, naming the variable."""
    with caplog.at_level("WARNING", logger=hardening.__name__):
        _limited_app("memory://")
    assert [r.getMessage() for r in caplog.records] == [hardening.COUNTING_ALONE]
    assert "VOUCHER_RATELIMIT_STORAGE_URI" in hardening.COUNTING_ALONE
    caplog.clear()
    with caplog.at_level("WARNING", logger=hardening.__name__):
        _limited_app("redis://127.0.0.1:6379/0")  # not connected to until a request counts
    assert caplog.records == []
    with pytest.raises(ConfigurationError) as refused:
        _limited_app("cache://:secret@127.0.0.1:6379")
    said = str(refused.value)
    assert said.startswith("VOUCHER_RATELIMIT_STORAGE_URI: ") and "'cache'" in said, said
    assert "secret" not in said


# --- the lockout ------------------------------------------------------------------------------


def test_a_lockout_answers_an_unknown_name_as_a_real_one_on_every_instance(
    app: Flask, database_url: str, keyring: Keyring, tmp_path: Path
) -> None:
    """Five failures lock a name, an account's or not; every answer, before the lock and
    after it, is the same for both (status, headers, body; the lock's end aside), on either
    instance, and as slow (a dummy hash for the unknown name)."""
    real, ghost = "lockout.real", "lockout.ghost"
    development = config.DevelopmentConfig  # the instances' hashing cost: a real comparison
    hasher = users.password_hasher(
        memory_kib=development.PASSWORD_MEMORY_KIB, time_cost=development.PASSWORD_TIME_COST
    )
    with app.app_context():
        users.create_user(
            current().uow(),
            NewUser(real, PASSWORD, Role.ADMIN),
            hasher,
            Actor("test-admin", Role.ADMIN),
        )
    # The lockout alone: no rate limit stops these before it does.
    env = {"VOUCHER_RATELIMIT_ENABLED": "false"}
    took: dict[str, list[float]] = {real: [], ghost: []}
    with instances(database_url, keyring.directory, tmp_path, env) as bases:
        for n in range(LOCK_AFTER_FAILURES):
            base = bases[n % 2]
            (wrong, took_real), (unknown, took_ghost) = (
                log_in(base, real, f"not the password {n}"),
                log_in(base, ghost, f"not the password {n}"),
            )
            took[real].append(took_real)
            print(
                f"sign-in: a wrong password {took_real:.3f} s, an unknown name {took_ghost:.3f} s"
            )
            took[ghost].append(took_ghost)
            assert wrong.status == unknown.status == 401
            assert wrong.json()["code"] == "invalid_credentials"
            assert _stripped(wrong) == _stripped(unknown)
            assert _answer_headers(wrong) == _answer_headers(unknown)
        for base in bases:  # locked on both instances, even with the right password
            (locked, _), (also_locked, _) = (
                log_in(base, real, PASSWORD),
                log_in(base, ghost, PASSWORD),
            )
            assert locked.status == also_locked.status == 401
            assert locked.json()["code"] == "account_locked"
            assert _stripped(locked) == _stripped(also_locked)
            assert _answer_headers(locked) == _answer_headers(also_locked)
    # Argon2id of the same cost either way: neither is much faster than the other.
    assert min(took[ghost]) > min(took[real]) / 3, took
    assert min(took[real]) > min(took[ghost]) / 3, took


def _answer_headers(reply: Reply) -> tuple[str | None, ...]:
    names = ("Content-Type", "Content-Length", "WWW-Authenticate", "Cache-Control")
    return tuple(reply.headers.get(name) for name in names)


def _stripped(reply: Reply) -> bytes:
    """The body, byte for byte, with what differs from one answer to the next taken out: its
    request's id, and the instant a lock ends."""
    document = reply.json()
    body = reply.body
    for member in ("request_id", "until"):
        if member in document:
            assert document[member], document
            body = body.replace(json.dumps(document[member]).encode(), b'""')
    return body


# --- job runners ------------------------------------------------------------------------------

#: Every job runs this often in the runners (seconds); its lease lasts 80% of it.
JOB_INTERVAL = 2
RUN_FOR = 7.0


def test_two_job_runners_run_each_scheduled_run_once_and_the_ledger_verifies(
    app: Flask, database_url: str, keyring: Keyring, tmp_path: Path
) -> None:
    """Both runners start their schedulers at the same instant, so every job fires in both at
    once, every interval: the lease lets one of them run it. Meanwhile budget moves (entries
    the sequencer and the checkpoint jobs must take in); afterwards `flask ledger verify`
    checks leaves, roots, signatures and balances."""
    with app.app_context():
        parts = current()
        uow = unit_of_work(parts.database, parts.clock)  # no after-commit sequencing: jobs do it
        factories.guangdong(uow)
        programme = factories.programme(uow, fund_fen=1_000_000)
    env = {
        **os.environ,
        "VOUCHER_ENV": "development",
        "VOUCHER_DATABASE_URL": database_url,
        "VOUCHER_KEYS_DIR": str(keyring.directory),
        "VOUCHER_LEDGER_ORIGIN": ORIGIN,
    }
    command = [sys.executable, "-m", "tests.e2e.test_instances", str(RUN_FOR)]
    runners = [
        subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    # Once both have built their app (however long a busy machine takes), one start for both.
    for runner in runners:
        assert runner.stdout is not None and runner.stdout.readline() == "ready\n"
    start_at = time.time() + 1
    for runner in runners:
        assert runner.stdin is not None
        runner.stdin.write(f"{start_at}\n")
        runner.stdin.flush()
    moved = 0
    with app.app_context():
        uow = unit_of_work(current().database, current().clock)
        # Until the runners' last tick but one: the last one sequences and signs them all.
        while time.time() < start_at + RUN_FOR - JOB_INTERVAL - 0.5:
            programmes.allocate(
                uow,
                programme.id,
                BudgetMove(from_center="440000", to_center="440100", amount_fen=10),
                actor=factories.ADMIN,
            )
            moved += 1
            time.sleep(0.5)
    outputs = [runner.communicate(timeout=60) for runner in runners]
    for runner, (_out, err) in zip(runners, outputs, strict=True):
        assert runner.returncode == 0, err
        assert "Traceback" not in err and "failed" not in err, err
    runs = Counter(
        (run["job"], round((run["at"] - start_at) / JOB_INTERVAL))
        for out, _err in outputs
        for run in map(json.loads, out.splitlines())
    )
    twice = {run: count for run, count in runs.items() if count != 1}
    assert twice == {}, runs  # no scheduled run happened in both runners
    ticks = Counter(job for job, _tick in runs)
    assert "ledger.sequence" in ticks and "ledger.checkpoint" in ticks, runs
    assert min(ticks.values()) >= 2, runs  # every job ran, again and again

    verify = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "ledger", "verify"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    entries = 1 + moved  # the funding, and each move of budget
    assert verify.stdout.startswith(f"OK: {entries} entries, "), verify.stdout
    assert f"(latest covers {entries})" in verify.stdout, verify.stdout  # all signed


def _run_jobs(run_for: float) -> None:
    """A job runner: `flask jobs run`'s scheduler, every job every JOB_INTERVAL seconds. Once
    its app is built it prints `ready` and reads the start time from standard input; it stops
    `run_for` seconds after it, and prints a JSON line for each run it makes (each run whose
    lease it took)."""
    app = create_app()
    for setting in list(app.config):
        if setting.endswith("_INTERVAL_SECONDS"):
            app.config[setting] = JOB_INTERVAL
    leased = jobs.leased

    said = threading.Lock()  # jobs run in a pool of threads: one whole line at a time

    def counted(of: Flask, name: str, seconds: int, job: Any, holder: str) -> Any:
        def run(parts: Any) -> None:
            with said:
                print(json.dumps({"job": name, "at": time.time()}), flush=True)
            job(parts)

        return leased(of, name, seconds, run, holder)

    jobs.leased = counted  # type: ignore[assignment]
    print("ready", flush=True)
    start_at = float(sys.stdin.readline())
    until = start_at + run_for
    time.sleep(max(0.0, start_at - time.time()))
    scheduler = jobs.build_scheduler(app, blocking=False)
    scheduler.start()
    time.sleep(max(0.0, until - time.time()))
    scheduler.shutdown(wait=True)


if __name__ == "__main__":
    _run_jobs(float(sys.argv[1]))
