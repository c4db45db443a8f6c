"""Steps several browser tests take, and the list of pages a signed-in person can open."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping

from flask import Flask
from playwright.sync_api import Page
from werkzeug.routing import Rule
from werkzeug.routing.converters import AnyConverter

from tests.e2e.accounts import PASSWORD


def sign_in(page: Page, live_url: str, username: str, password: str = PASSWORD) -> None:
    """Sign in through the (Chinese) sign-in page."""
    page.goto(f"{live_url}/sign-in")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def page_rules(app: Flask) -> list[Rule]:
    """The rules of the site's pages that answer GET: those whose view lives in `web`
    (the API, health checks and static files are not pages)."""
    return [
        rule
        for rule in app.url_map.iter_rules()
        if "GET" in (rule.methods or ())
        and app.view_functions[rule.endpoint].__module__.startswith("voucher_app.web.")
    ]


def page_paths(rules: list[Rule], values: Mapping[str, str | uuid.UUID]) -> Iterator[str]:
    """Each rule's path with its parameters filled from `values` (one path per item of an
    `any(...)` parameter); a rule with a parameter `values` lacks is left out."""
    for rule in rules:
        choices: list[dict[str, str | uuid.UUID]] = [{}]
        for name in rule.arguments:
            converter = rule._converters.get(name)
            if isinstance(converter, AnyConverter):
                options: list[str | uuid.UUID] = sorted(converter.items)
            elif name in values:
                options = [values[name]]
            else:
                options = []
            choices = [{**chosen, name: option} for chosen in choices for option in options]
        for chosen in choices:
            built = rule.build(chosen, append_unknown=False)
            if built is not None:
                yield built[1]
