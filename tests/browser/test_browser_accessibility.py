"""Every page passes axe-core (the accessibility engine, bundled by axe-playwright-python, so
nothing is fetched) with no serious or critical violation, in Chinese and in English, as each
demo account sees it on a phone: the rules of WCAG 2.1 A and AA that a machine can check
(names of controls and images, contrast, landmarks, the page's language, …)."""

from __future__ import annotations

import time

from axe_playwright_python.sync_playwright import Axe
from flask import Flask
from flask.testing import FlaskCliRunner
from playwright.sync_api import Browser, Page

from tests.browser.walk import walk_demo

#: axe-core's impacts that fail the walk; "minor" and "moderate" ones are reported, not failed.
FAILING = {"serious", "critical"}
AXE = Axe()


def violations(page: Page) -> list[str]:
    """The serious and critical axe-core violations on the page: rule, impact, where."""
    found = AXE.run(page).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {', '.join(str(n['target'][0]) for n in v['nodes'][:3])}"
        for v in found
        if v["impact"] in FAILING
    ]


def test_every_page_passes_axe_core_in_both_languages(
    app: Flask, runner: FlaskCliRunner, live_url: str, browser: Browser
) -> None:
    started = time.monotonic()
    walk = walk_demo(app, runner, live_url, browser, violations)
    print(f"axe-core on {walk.pages} pages in {time.monotonic() - started:.1f}s")
    assert walk.pages > 50  # the walk reached the signed-in pages, not only the public ones
    assert not walk.problems, "axe-core violations:\n" + "\n".join(walk.problems)
