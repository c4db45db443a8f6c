"""The SME's pages, for a clerk on a phone: its vouchers with their QR codes, human codes and
what is left on each; the programmes it can claim from, and why not the others; claiming one;
the one-time passcode it reads out to a provider who redeems by human code; and a voucher on a
card to print."""

from __future__ import annotations

import uuid

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from markupsafe import Markup
from werkzeug.wrappers import Response

from voucher_app.domain.errors import ClaimRefused, PermissionDenied
from voucher_app.domain.policy import Action
from voucher_app.domain.sme import parse_uscc
from voucher_app.http.auth import signed_in
from voucher_app.http.policy import scope_by
from voucher_app.services import (
    access,
    notifications,
    offers,
    programmes,
    redemption_lists,
    redemptions,
    smes,
    tracking,
    vouchers,
    witnessing,
)
from voucher_app.signing.qr import qr_svg
from voucher_app.web.guard import on_this_site, page
from voucher_app.web.i18n import with_code
from voucher_app.web.messages import attempt, explain
from voucher_app.web.moved import moved
from voucher_app.wiring import current

blp = Blueprint("sme", __name__, url_prefix="/sme")
SME = scope_by(access.sme_scope, "uscc")
VOUCHER = scope_by(access.voucher_scope, "voucher_id")
REDEMPTION = scope_by(access.redemption_scope, "redemption_id")


@blp.get("/")
@page(Action.READ_OWN_ACCOUNT)
def mine() -> Response:
    """An SME's account lands on its own vouchers (other accounts have none)."""
    sme_id = signed_in().sme_id
    if sme_id is None:
        raise PermissionDenied("only an SME's account has vouchers")
    return redirect(url_for(".vouchers_page", uscc=smes.code_of(current().uow(), sme_id)))


@blp.get("/<string:uscc>")
@page(Action.READ_CONCERNED, scope=SME)
def vouchers_page(uscc: str) -> str | Response:
    canonical = parse_uscc(uscc)
    if canonical != uscc:  # typed in lower case, or with spaces: one page per SME
        return redirect(url_for(".vouchers_page", uscc=canonical))
    return _vouchers(uscc)


def _vouchers(uscc: str, passcode: tuple[uuid.UUID, redemptions.Passcode] | None = None) -> str:
    parts = current()
    uow = parts.uow()
    held = vouchers.list_vouchers(uow, sme_uscc=uscc)
    waiting = redemption_lists.waiting_for_sme(uow, uscc)
    return render_template(
        "web/sme/vouchers.html",
        sme=smes.get_sme(uow, uscc),
        vouchers=held,
        qr={voucher.id: Markup(qr_svg(voucher.token)) for voucher in held},  # noqa: S704 - segno's own SVG
        offers=offers.offers_for(uow, uscc),
        waiting=waiting,
        parties=redemption_lists.parties_of(uow, [redemption.id for redemption in waiting]),
        to_rate=redemption_lists.to_rate_for_sme(uow, uscc),
        reminders=notifications.reminders_for(uow, f"sme:{uscc}"),
        standing=witnessing.standing(uow, parts.witnesses),
        explain=explain,
        passcode=passcode,
        # What is left of the passcode's validity by the server's clock: the page's countdown
        # starts from it, whatever the phone's own clock says.
        passcode_seconds=(
            max(0, int((passcode[1].expires_at - parts.clock.now()).total_seconds()))
            if passcode
            else None
        ),
    )


@blp.post("/<string:uscc>/claim/<uuid:programme_id>")
@page(Action.ACT_AS_SME, scope=SME)
def claim(uscc: str, programme_id: uuid.UUID) -> Response:
    parts = current()
    try:
        voucher = vouchers.claim_voucher(
            parts.uow(),
            programme_id=programme_id,
            sme_uscc=uscc,
            actor=signed_in().actor,
            signer=parts.voucher_signer(),
        )
    except ClaimRefused as refused:
        flash(explain(refused), "error")
        return redirect(url_for(".vouchers_page", uscc=uscc))
    flash(with_code(gettext("Voucher %(code)s is yours."), voucher.human_code), "success")
    return redirect(url_for(".vouchers_page", uscc=uscc, _anchor=f"v-{voucher.id}"))


@blp.get("/vouchers/<uuid:voucher_id>/print")
@page(Action.READ_CONCERNED, scope=VOUCHER)
def printable_voucher(voucher_id: uuid.UUID) -> str:
    """The voucher on an A6 card to print: its QR code, code, value, expiry and programme."""
    uow = current().uow()
    voucher = vouchers.get_voucher(uow, voucher_id)
    return render_template(
        "web/sme/print.html",
        voucher=voucher,
        programme=programmes.get_programme(uow, voucher.programme_id),
        qr=Markup(qr_svg(voucher.token)),  # noqa: S704 - segno's own SVG
    )


@blp.post("/vouchers/<uuid:voucher_id>/passcode")
@page(Action.ACT_AS_SME, scope=VOUCHER)
def passcode(voucher_id: uuid.UUID) -> str:
    """A new one-time passcode, shown once on the page (never in a URL or a cookie)."""
    uow = current().uow()
    issued = redemptions.new_passcode(uow, voucher_id)
    return _vouchers(vouchers.get_voucher(uow, voucher_id).sme_uscc, passcode=(voucher_id, issued))


@blp.post("/redemptions/<uuid:redemption_id>/confirm")
@page(Action.ACT_AS_SME, scope=REDEMPTION)
def confirm(redemption_id: uuid.UUID) -> Response:
    """The service was delivered as the provider says."""
    return _answer(redemption_id, dispute=False)


@blp.post("/redemptions/<uuid:redemption_id>/dispute")
@page(Action.ACT_AS_SME, scope=REDEMPTION)
def dispute(redemption_id: uuid.UUID) -> Response:
    """It was not (the reason goes to the provider and the center)."""
    return _answer(redemption_id, dispute=True)


def _answer(redemption_id: uuid.UUID, *, dispute: bool) -> Response:
    uow, actor = current().uow(), signed_in().actor
    if dispute:
        reason = request.form.get("reason", "")
        attempt(
            lambda: redemptions.dispute_redemption(uow, redemption_id, reason, actor),
            lambda redemption: with_code(
                gettext("You disputed the redemption of %(code)s."), redemption.voucher_code
            ),
        )
    else:
        attempt(
            lambda: redemptions.confirm_redemption(
                uow, redemption_id, actor, current().signal_thresholds
            ),
            lambda redemption: with_code(
                gettext("You confirmed the redemption of %(code)s."), redemption.voucher_code
            ),
        )
    return _back_to_page_of(redemption_id)


@blp.post("/redemptions/<uuid:redemption_id>/rating")
@page(Action.ACT_AS_SME, scope=REDEMPTION)
def rate(redemption_id: uuid.UUID) -> Response:
    """Score a service the center approved, 1 to 5, once; the catalogue shows the average."""
    uow, actor = current().uow(), signed_in().actor
    try:
        score = int(request.form.get("score", ""))
    except ValueError:
        flash(gettext("Choose a score from 1 to 5."), "error")
    else:
        comment = request.form.get("comment")
        attempt(
            lambda: tracking.rate_service(uow, redemption_id, score, comment, actor),
            lambda _: gettext("Thank you: your rating is in the catalogue."),
        )
    return _back_to_page_of(redemption_id)


def _back_to_page_of(redemption_id: uuid.UUID) -> Response:
    """To the page the form came from (the redemption's own), else the page of the SME whose
    voucher the redemption is on."""
    back = request.form.get("back", "")
    if back:
        return redirect(on_this_site(back, url_for(".mine")))
    uow = current().uow()
    voucher_id = redemptions.get_redemption(uow, redemption_id).voucher_id
    return redirect(url_for(".vouchers_page", uscc=vouchers.get_voucher(uow, voucher_id).sme_uscc))


# Renamed: "claim" is an SME obtaining a voucher (docs/glossary.md). The old paths answer 308
# for one release.
moved(blp, "/claims/<uuid:redemption_id>/confirm", confirm)
moved(blp, "/claims/<uuid:redemption_id>/dispute", dispute)
moved(blp, "/claims/<uuid:redemption_id>/rating", rate)
