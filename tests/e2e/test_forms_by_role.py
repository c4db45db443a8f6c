"""A page shows a form only to those its route takes it from: the templates ask the routes' own
question (`web.guard.may`), and here the two are held to agree.

Each page that offers forms is read by an admin (who may do everything: every form the page can
show) and by each other role that may read it. A form the admin sees and a role does not is one
hidden from that role, and its route must refuse it (403); a form a role is shown, its route
must not refuse it for want of permission (it may still refuse what was, or was not, typed).
The pages: the budget, the programmes, settlement, the review queue, an SME's vouchers, a
provider's desk, the public ledger."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from tests.e2e.accounts import PASSWORD, account
from tests.e2e.demo_data import load_demo, new_voucher, submitted_redemption, tax_adviser
from tests.e2e.pages import csrf_token, sign_in
from tests.integration.test_settlement import FUNDING
from voucher_app.domain.actors import Actor, Role
from voucher_app.services import redemptions, settlement
from voucher_app.wiring import current

_POST_FORM = re.compile(r'<form method="post"[^>]*?action="([^"]+)"')
#: Forms every page has for everyone (the language, signing out): not the page's own.
EVERY_PAGE = ("/language", "/sign-out")
#: Starts a verification on the app's threads, limited to 3 a minute: only its refusals are sent.
NOT_SENT_WHEN_SHOWN = ("/ledger/verify",)
FINANCE = Actor("finance", Role.CENTER_FINANCE)
CLERK = Actor("sme-clerk", Role.SME)


def forms(client: FlaskClient, path: str) -> set[str] | None:
    """Where the page's own POST forms send (None when the page refuses the client)."""
    answer = client.get(path)
    if answer.status_code != 200:
        assert answer.status_code in (403, 302), (path, answer.status_code)
        return None
    found = set(_POST_FORM.findall(answer.get_data(as_text=True)))
    return {action for action in found if not action.startswith(EVERY_PAGE)}


@pytest.fixture
def world(app: Flask, runner: FlaskCliRunner) -> Iterator[dict[str, object]]:
    """The demo, a Shenzhen settlement batch, a redemption waiting for a Nanshan SME and one
    waiting for review; a client of each role, signed in."""
    programme = load_demo(app, runner)
    with app.app_context():
        uow = current().uow()
        settlement.set_funding_account(uow, programme, FUNDING, Actor("a", Role.CENTER_ADMIN))
        settlement.build_batch(uow, programme, "440300", FINANCE)
    voucher = new_voucher(app, programme)
    submitted_redemption(app, voucher, "W-1", 100_000)
    confirmed = submitted_redemption(app, voucher, "W-2", 100_000)
    with app.app_context():
        redemptions.confirm_redemption(current().uow(), confirmed.id, CLERK)
    provider, _product = tax_adviser(app)
    bound = {
        Role.ADMIN: {},
        Role.CENTER_ADMIN: {"center": "440300"},
        Role.CENTER_STAFF: {"center": "440300"},
        Role.CENTER_FINANCE: {"center": "440300"},
        Role.AUDITOR: {"center": "440000"},
        Role.SME: {"sme": voucher.sme_uscc},
        Role.PROVIDER: {"provider": provider},
    }
    clients = {}
    for role, where in bound.items():
        client = app.test_client()
        sign_in(client, account(app, role, **where).username, PASSWORD)  # type: ignore[arg-type]
        clients[role] = client
    yield {
        "clients": clients,
        "pages": [
            "/center/440300/budget",
            "/center/440300/programmes",
            "/finance/440300",
            "/center/440300/review",
            f"/sme/{voucher.sme_uscc}",
            f"/provider/{provider}",
            "/ledger",
        ],
    }


def test_a_form_hidden_from_a_role_is_refused_to_it_and_a_form_shown_is_not(
    world: dict[str, object],
) -> None:
    clients: dict[Role, FlaskClient] = world["clients"]  # type: ignore[assignment]
    pages: list[str] = world["pages"]  # type: ignore[assignment]
    shown: list[tuple[Role, str]] = []
    hidden_checked = 0
    for path in pages:
        everything = forms(clients[Role.ADMIN], path)
        assert everything, f"the admin sees no form on {path}"
        for role, client in clients.items():
            seen = forms(client, path)
            if seen is None:
                continue
            shown += [(role, action) for action in seen]
            token = csrf_token(client, path)
            for action in sorted(everything - seen):
                answer = client.post(action, data={"csrf_token": token})
                assert answer.status_code == 403, f"{role} is not shown {action} on {path}"
                hidden_checked += 1
    assert hidden_checked >= 20  # every role but the admin misses some form somewhere

    for role, action in shown:
        if action.startswith(NOT_SENT_WHEN_SHOWN):
            continue
        client = clients[role]
        answer = client.post(action, data={"csrf_token": csrf_token(client, "/")})
        assert answer.status_code != 403, f"{role} is shown {action} and refused"
        assert not (answer.location or "").startswith("/sign-in"), (role, action)


def test_the_budget_page_offers_the_transfer_to_center_admins_only(
    world: dict[str, object],
) -> None:
    clients: dict[Role, FlaskClient] = world["clients"]  # type: ignore[assignment]
    offered = {role: forms(client, "/center/440300/budget") for role, client in clients.items()}
    moving = {role for role, seen in offered.items() if seen and any("/budget/" in a for a in seen)}
    assert moving == {Role.ADMIN, Role.CENTER_ADMIN}
    assert offered[Role.CENTER_STAFF] == offered[Role.AUDITOR] == set()
