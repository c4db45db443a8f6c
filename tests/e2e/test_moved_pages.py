"""Pages renamed with the words (docs/glossary.md: a provider's request to be paid is a
*redemption*, not a claim) keep their old paths for one release: each answers 308 to the new
path, and a form posted there still does its work, with its method and body kept."""

from __future__ import annotations

import uuid

from flask import Flask
from flask.testing import FlaskCliRunner

from tests.e2e.accounts import PASSWORD, account
from tests.e2e.demo_data import load_demo, new_voucher, submitted_redemption
from tests.e2e.pages import csrf_token, sign_in
from voucher_app.domain.actors import Role
from voucher_app.services import redemptions
from voucher_app.wiring import current

#: Each renamed page path: (old, new), with {id} for the redemption's id.
RENAMED = [
    ("/sme/claims/{id}/confirm", "/sme/redemptions/{id}/confirm"),
    ("/sme/claims/{id}/dispute", "/sme/redemptions/{id}/dispute"),
    ("/sme/claims/{id}/rating", "/sme/redemptions/{id}/rating"),
    ("/center/claims/{id}/approve", "/center/redemptions/{id}/approve"),
    ("/center/claims/{id}/reject", "/center/redemptions/{id}/reject"),
]


def test_every_old_path_answers_308_with_the_new_path(app: Flask) -> None:
    old_rules = sorted(r.rule for r in app.url_map.iter_rules() if "/claims/" in r.rule)
    assert old_rules == sorted(
        old.replace("{id}", "<uuid:redemption_id>") for old, _ in RENAMED
    )  # and no other path still says "claims"
    client = app.test_client()
    token = csrf_token(client, "/catalogue")
    some = uuid.uuid4()
    for old, new in RENAMED:
        moved = client.post(old.format(id=some), data={"csrf_token": token, "reason": "x"})
        assert (moved.status_code, moved.location) == (308, new.format(id=some)), old
    kept = client.post(f"/sme/claims/{some}/confirm?back=1", data={"csrf_token": token})
    assert kept.location == f"/sme/redemptions/{some}/confirm?back=1"  # the query string too


def test_a_form_posted_to_an_old_path_still_does_its_work(
    app: Flask, runner: FlaskCliRunner
) -> None:
    voucher = new_voucher(app, load_demo(app, runner))
    redemption = submitted_redemption(app, voucher, "OLD-1", 100_000)
    clerk = app.test_client()
    sign_in(clerk, account(app, Role.SME, sme=voucher.sme_uscc).username, PASSWORD)
    token = csrf_token(clerk, f"/sme/{voucher.sme_uscc}")

    form = {"csrf_token": token}
    moved = clerk.post(f"/sme/claims/{redemption.id}/confirm", data=form)
    assert (moved.status_code, moved.location) == (308, f"/sme/redemptions/{redemption.id}/confirm")
    # What a browser does with a 308: the same method and body, to the new path. (Werkzeug's test
    # client cannot replay a body the first request consumed, so the test sends it again.)
    answered = clerk.post(moved.location, data=form)
    assert (answered.status_code, answered.location) == (302, f"/sme/{voucher.sme_uscc}")
    with app.app_context():
        assert redemptions.get_redemption(current().uow(), redemption.id).status == "confirmed"
