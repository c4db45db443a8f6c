"""The service deployed for fault tests: gunicorn started as the README says, on PostgreSQL,
killed and started again; the job runner beside it; and what an operator or a failing database
does to it — backends terminated, a table locked so requests wait where the test wants them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from http.client import HTTPException
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from tests.e2e.test_serve import _free_port
from tests.harness import ORIGIN

ROOT = Path(__file__).resolve().parents[2]


class Gunicorn:
    """The service as the README starts it, on a port of its own; killed and restarted."""

    def __init__(self, database_url: str, keys: Path, folder: Path) -> None:
        self.database_url = database_url
        self.folder = folder
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = folder / "gunicorn.log"
        self.env = {
            **os.environ,
            "VOUCHER_ENV": "development",
            "VOUCHER_DATABASE_URL": database_url,
            "VOUCHER_KEYS_DIR": str(keys),
            "VOUCHER_LEDGER_ORIGIN": ORIGIN,
            "VOUCHER_CHECKPOINT_FILE": str(folder / "published-checkpoint"),
            "VOUCHER_RATELIMIT_ENABLED": "false",  # every client comes from one address
            "VOUCHER_METRICS_DIR": str(folder / "metrics"),
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "GUNICORN_WORKERS": "2",
        }
        self.master: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as output:
            self.master = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
                cwd=ROOT,
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.master.poll() is None, self.log.read_text()
            try:
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=2) as reply:
                    if reply.status == 200:
                        return
            except (OSError, HTTPException):
                time.sleep(0.1)
        pytest.fail(f"gunicorn did not answer within 30 s:\n{self.log.read_text()}")

    def workers(self) -> list[int]:
        assert self.master is not None
        found = subprocess.run(
            ["pgrep", "-P", str(self.master.pid)], capture_output=True, text=True, check=False
        )
        return [int(pid) for pid in found.stdout.split()]

    def kill_worker(self) -> None:
        os.kill(self.workers()[0], signal.SIGKILL)

    def kill_master_and_restart(self) -> None:
        assert self.master is not None
        self.master.send_signal(signal.SIGKILL)
        self.master.wait()
        self.start()  # the same command, at once: the port is taken again as the orphans go

    def stop(self) -> None:
        if self.master is not None and self.master.poll() is None:
            orphans = self.workers()
            self.master.terminate()
            try:
                self.master.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.master.kill()
                self.master.wait()
            for pid in orphans:
                with suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


@contextmanager
def served(database_url: str, keys: Path, folder: Path) -> Iterator[Gunicorn]:
    server = Gunicorn(database_url, keys, folder)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def job_runner(server: Gunicorn) -> Iterator[subprocess.Popen[bytes]]:
    """`flask --app wsgi jobs run` beside the server, with its settings."""
    with (server.folder / "jobs.log").open("ab") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "run"],
            cwd=ROOT,
            env=server.env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def terminate_backends(database_url: str) -> int:
    """End every other connection to the service's database, as an operator's
    `pg_terminate_backend` or a failover would; answer how many."""
    url = make_url(database_url)
    admin = create_engine(url.set(database="postgres"), poolclass=NullPool)
    try:
        with admin.connect() as connection:
            ended = connection.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": url.database},
            ).scalar_one()
    finally:
        admin.dispose()
    return int(ended)


@contextmanager
def table_locked(database_url: str, table: str, mode: str) -> Iterator[None]:
    """Hold `LOCK TABLE table IN mode MODE` until the block ends: the requests that need the
    table in a conflicting mode wait in the middle of their transaction."""
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.connect() as connection, connection.begin():
            connection.execute(text(f"LOCK TABLE {table} IN {mode} MODE"))
            yield
    finally:
        engine.dispose()


def waiting_for(database_url: str, table: str, count: int) -> None:
    """Return once `count` backends wait for a lock, in a statement that names `table`."""
    engine = create_engine(database_url, poolclass=NullPool)
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event_type = 'Lock' AND query ILIKE :table"
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with engine.connect() as connection:
                if connection.execute(query, {"table": f"%{table}%"}).scalar_one() >= count:
                    return
            time.sleep(0.05)
    finally:
        engine.dispose()
    pytest.fail(f"{count} statements on {table} never waited for its lock")
