"""Helpers for page tests: a form's CSRF token, and a page's visible text."""

from __future__ import annotations

import re
import time
from html import unescape

from flask.testing import FlaskClient

_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_TAG = re.compile(r"<[^>]+>")


def csrf_token(client: FlaskClient, url: str) -> str:
    """The CSRF token of the (first) form on the page at `url`."""
    page = client.get(url).get_data(as_text=True)
    found = _TOKEN.search(page)
    assert found is not None, f"no form with a CSRF token on {url}"
    return found.group(1)


def visible_text(html: str) -> str:
    """What a reader sees: the page without its tags, scripts and styles."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(unescape(_TAG.sub(" ", body)).split())


def sign_in(client: FlaskClient, username: str, password: str) -> None:
    """Sign the client in through the sign-in page's form."""
    token = csrf_token(client, "/sign-in")
    answer = client.post(
        "/sign-in", data={"username": username, "password": password, "csrf_token": token}
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)


def finished(client: FlaskClient, task_url: str) -> str:
    """The visible text of a task's page once the task has ended (it runs on the app's
    background threads)."""
    for _ in range(200):
        status = client.get(f"{task_url}/progress").get_json()["status"]
        if status != "running":
            return visible_text(client.get(task_url).get_data(as_text=True))
        time.sleep(0.05)
    raise AssertionError(f"{task_url} is still running")
