"""Browser tests: Debian's Chromium driven by Playwright against the app served on localhost.

The app (on SQLite and on PostgreSQL, as every integration test) is served by a werkzeug
server on a thread of the test process; Chromium starts headless from `VOUCHER_TEST_CHROMIUM`
(default /usr/bin/chromium), never a browser Playwright would download. Without it the tests
are skipped — unless `VOUCHER_REQUIRE_BROWSER` is set, as `.ci/run` sets it, when they fail.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, Playwright, sync_playwright
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("VOUCHER_TEST_CHROMIUM", "/usr/bin/chromium")
#: Quiet, offline Chromium: this machine's network is closed, and nothing may be fetched.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    """Playwright, once Debian's Chromium is known to be there: tests that need a browser
    started with flags of their own (a fake camera, say) launch it from here."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("VOUCHER_REQUIRE_BROWSER"):
            pytest.fail(f"no Chromium at {CHROMIUM} (apt install chromium)", pytrace=False)
        pytest.skip(f"browser tests need Chromium at {CHROMIUM}")
    with sync_playwright() as started:
        yield started


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    launched = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
    yield launched
    launched.close()


@pytest.fixture
def live_url(app: Flask) -> Iterator[str]:
    """The app served on a free localhost port for the test's duration."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser profile (no cookies) in Chinese, on a phone-sized screen."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    context.set_default_timeout(10_000)
    opened = context.new_page()
    yield opened
    context.close()
