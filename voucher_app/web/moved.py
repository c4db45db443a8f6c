"""Pages that moved keep their old paths for one release: each old path answers
`308 Permanent Redirect` to the same view's new path, so a bookmark, or a form a browser
rendered before the upgrade, still lands. 308 (not 301 or 302) keeps the method and the body: a
form's POST arrives at the new path as a POST with its fields and CSRF token, and the view there
asks the access gate as always. The redirect itself shows nothing, so anyone may follow it.

Every renamed path is registered with `moved`, beside its view; docs/glossary.md lists them
(the claim → redemption renaming) and when they go.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask import Blueprint, redirect, request, url_for
from werkzeug.wrappers import Response

from voucher_app.domain.policy import Action
from voucher_app.web.guard import page


def moved(
    blueprint: Blueprint,
    old_rule: str,
    view: Callable[..., Any],
    methods: Iterable[str] = ("POST",),
) -> None:
    """Answer `old_rule` (with the same path values as `view`'s rule) with a 308 to `view`'s
    URL for those values, keeping the query string."""
    endpoint = f"{blueprint.name}.{view.__name__}"

    @page(Action.READ_PUBLIC)
    def to_new_path(**values: Any) -> Response:
        target = url_for(endpoint, **values)
        query = request.query_string.decode("latin-1")
        return redirect(f"{target}?{query}" if query else target, code=308)

    blueprint.add_url_rule(
        old_rule, endpoint=f"moved_{view.__name__}", view_func=to_new_path, methods=list(methods)
    )
