"""A background task whose worker is killed mid-run ends `failed` within a minute, and the
person who started it can start it again.

Center staff start "verify now" through the page, as in a browser; the verification is held
in the middle of its work (the journal locked against reading), then every gunicorn worker is
`kill -9`ed and the lock let go. The job runner beside the server (`flask jobs run`, with the
settings as shipped) finds the silent task and fails it; the staff member's page says so and
offers to start it again, which runs it to the end.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask

from config import Config
from tests import factories
from tests.e2e.accounts import PASSWORD, account
from tests.e2e.pages import visible_text
from tests.faults.deployment import job_runner, served, table_locked, waiting_for
from voucher_app.domain.actors import Role
from voucher_app.services import tasks
from voucher_app.signing.keyring import Keyring
from voucher_app.wiring import current

pytestmark = pytest.mark.postgres_only

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
TASK = re.compile(r"/tasks/([0-9a-f-]{36})")


class Browser:
    """A person at the pages: a cookie jar, and forms sent with their CSRF token."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, path: str) -> tuple[str, str]:
        """The page's HTML, and where the redirects ended."""
        with self.opener.open(self.base + path, timeout=20) as reply:
            return reply.read().decode(), reply.geturl()

    def submit(self, form_page: str, action: str, fields: dict[str, str]) -> str:
        """Send the form of `form_page` to `action`; answer where it led."""
        page, _ = self.get(form_page)
        found = TOKEN.search(page)
        assert found is not None, f"no form on {form_page}"
        data = urllib.parse.urlencode({**fields, "csrf_token": found.group(1)}).encode()
        with self.opener.open(self.base + action, data, timeout=20) as reply:
            reply.read()
            return str(reply.geturl())


def test_a_task_whose_worker_is_killed_fails_within_a_minute_and_starts_again(
    app: Flask, database_url: str, keyring: Keyring, tmp_path: Path
) -> None:
    with app.app_context():
        factories.guangdong(current().uow())
    staff = account(app, Role.CENTER_STAFF, center="440300").username
    with served(database_url, keyring.directory, tmp_path) as server, job_runner(server):
        person = Browser(server.base)
        person.submit("/sign-in", "/sign-in", {"username": staff, "password": PASSWORD})
        with table_locked(database_url, "journal_entries", "ACCESS EXCLUSIVE"):
            landed = person.submit("/ledger", "/ledger/verify", {})
            found = TASK.search(landed)
            assert found is not None, landed
            task_id = uuid.UUID(found.group(1))
            waiting_for(database_url, "journal_entries", 1)  # the task is mid-run
            for pid in server.workers():
                os.kill(pid, signal.SIGKILL)
            killed = time.monotonic()
        with app.app_context():
            while tasks.get_task(current().uow(), task_id).status == "running":
                assert time.monotonic() - killed < 60, "the dead task still runs after a minute"
                time.sleep(0.5)
            ended = tasks.get_task(current().uow(), task_id)
        took = time.monotonic() - killed
        assert (ended.status, ended.error) == ("failed", "worker_died")
        # What the settings promise: a beat is missed for TASK_STALE_SECONDS, then found.
        assert took <= Config.TASK_STALE_SECONDS + Config.TASK_REAP_INTERVAL_SECONDS + 5

        page = visible_text(retry(lambda: person.get(f"/tasks/{task_id}")[0]))
        assert "处理此任务的服务器在完成前停止了" in page  # the page speaks Chinese by default
        again = person.submit(f"/tasks/{task_id}", f"/tasks/{task_id}/again", {})
        new = TASK.search(again)
        assert new is not None and uuid.UUID(new.group(1)) != task_id
        with app.app_context():
            deadline = time.monotonic() + 30
            while (view := tasks.get_task(current().uow(), uuid.UUID(new.group(1)))).status == (
                "running"
            ):
                assert time.monotonic() < deadline, "the started-again task never ended"
                time.sleep(0.2)
        assert view.status == "done" and view.result is not None and view.result["ok"], view
    print(f"the dead task was failed {took:.1f} s after its worker was killed")


def retry(read: Callable[[], str]) -> str:
    """The workers are restarting: a connection may be refused for a moment."""
    deadline = time.monotonic() + 30
    while True:
        try:
            return read()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
