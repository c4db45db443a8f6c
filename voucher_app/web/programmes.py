"""A center's programmes: the ones it owns with what they hold, a new programme on the terms the
policy sets (its administrators), funding one and the account it pays providers from (the
owner's administrators, as in the API) — before the budget page passes the money down and
finance exports payments from that account."""

from __future__ import annotations

import uuid

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext
from flask_babel.speaklater import LazyString
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import InputRequired, Length, NumberRange
from wtforms.widgets import CheckboxInput, ListWidget

from voucher_app.domain.bank import MAX_NAME, BankDetails
from voucher_app.domain.categories import CATEGORIES
from voucher_app.domain.errors import InvalidAmount, VoucherError
from voucher_app.domain.money import format_yuan, parse_yuan
from voucher_app.domain.policy import Action
from voucher_app.domain.programmes import MAX_CONFIRMATION_DAYS, ProgrammeTerms
from voucher_app.domain.sme import SizeClass
from voucher_app.domain.workdays import MAX_NOTICE_WORKING_DAYS
from voucher_app.http.auth import signed_in
from voucher_app.http.policy import center_in, scope_by
from voucher_app.services import access, programmes, settlement
from voucher_app.web.guard import page
from voucher_app.web.i18n import current_language
from voucher_app.web.messages import attempt, explain, place
from voucher_app.web.registration import (
    ENTER_ACCOUNT_NAME,
    ENTER_ACCOUNT_NUMBER,
    ENTER_BANK,
    ENTER_CNAPS,
    SIZE_NAMES,
)
from voucher_app.wiring import current

blp = Blueprint("center_programmes", __name__, url_prefix="/center")
CENTER = center_in("code")
PROGRAMME = scope_by(access.programme_scope, "programme_id")
AMOUNTS = ("total_budget", "sme_cap", "face_value")


def _checkboxes(label: LazyString) -> SelectMultipleField:
    return SelectMultipleField(
        label,
        validators=[InputRequired()],
        option_widget=CheckboxInput(),
        widget=ListWidget(prefix_label=False),
    )


class ProgrammeForm(FlaskForm):  # type: ignore[misc]
    name = StringField(
        lazy_gettext("Programme name"), validators=[InputRequired(), Length(max=200)]
    )
    period_start = DateField(lazy_gettext("Claims open on"), validators=[InputRequired()])
    period_end = DateField(lazy_gettext("Claims close on"), validators=[InputRequired()])
    total_budget = StringField(lazy_gettext("Total budget (yuan)"), validators=[InputRequired()])
    subsidy_percent = IntegerField(
        lazy_gettext("The voucher pays (percent of each service)"),
        validators=[InputRequired(), NumberRange(1, 100)],
    )
    face_value = StringField(
        lazy_gettext("Face value of a voucher (yuan)"), validators=[InputRequired()]
    )
    sme_cap = StringField(lazy_gettext("Cap per enterprise (yuan)"), validators=[InputRequired()])
    validity_days = IntegerField(
        lazy_gettext("A voucher is valid for (days)"),
        validators=[InputRequired(), NumberRange(1, 1098)],
    )
    confirmation_days = IntegerField(
        lazy_gettext("Days an enterprise has to confirm a redemption"),
        default=7,
        validators=[InputRequired(), NumberRange(1, MAX_CONFIRMATION_DAYS)],
    )
    notice_working_days = IntegerField(
        lazy_gettext("Public notice before payment, in working days (0: none)"),
        default=0,
        validators=[InputRequired(), NumberRange(0, MAX_NOTICE_WORKING_DAYS)],
    )
    partial_spending = BooleanField(lazy_gettext("A voucher may be spent in several redemptions"))
    related_parties_allowed = BooleanField(
        lazy_gettext("It pays for services between related parties")
    )
    service_categories = _checkboxes(lazy_gettext("Service categories it pays for"))
    accepted_sizes = _checkboxes(lazy_gettext("Sizes it accepts"))


@blp.get("/<string:code>/programmes")
@page(Action.READ_CENTER, scope=CENTER)
def programmes_page(code: str) -> str:
    return _page(code, _form())


@blp.post("/<string:code>/programmes")
@page(Action.ADMINISTER, scope=CENTER)
def create(code: str) -> str | Response:
    form = _form()
    if not form.validate_on_submit():
        return _page(code, form)
    amounts = {}
    for name in AMOUNTS:
        field = getattr(form, name)
        try:
            amounts[name] = parse_yuan(field.data or "")
        except InvalidAmount as wrong:
            field.errors = [explain(wrong)]
    start, end = form.period_start.data, form.period_end.data
    if len(amounts) < len(AMOUNTS) or start is None or end is None:
        return _page(code, form)
    try:
        terms = ProgrammeTerms(
            name=form.name.data or "",
            owner_center=code,
            period_start=start,
            period_end=end,
            total_budget_fen=amounts["total_budget"],
            subsidy_rate_bp=(form.subsidy_percent.data or 0) * 100,
            sme_cap_fen=amounts["sme_cap"],
            voucher_face_value_fen=amounts["face_value"],
            voucher_validity_days=form.validity_days.data or 0,
            partial_spending=bool(form.partial_spending.data),
            related_parties_allowed=bool(form.related_parties_allowed.data),
            service_categories=tuple(form.service_categories.data or ()),
            accepted_sizes=tuple(SizeClass(size) for size in form.accepted_sizes.data or ()),
            confirmation_days=form.confirmation_days.data or 0,
            notice_working_days=form.notice_working_days.data or 0,
        )
        created = programmes.create_programme(current().uow(), terms, signed_in().actor)
    except VoucherError as refused:
        place(form, refused)
        return _page(code, form)
    flash(
        gettext("%(name)s created: fund it, then pass its budget down.", name=created.name),
        "success",
    )
    return redirect(url_for(".programmes_page", code=code))


@blp.post("/programmes/<uuid:programme_id>/funding")
@page(Action.MOVE_BUDGET, scope=PROGRAMME)
def fund(programme_id: uuid.UUID) -> Response:
    uow, actor = current().uow(), signed_in().actor

    def step() -> int:
        amount = parse_yuan(request.form.get("amount", ""))
        programmes.fund_programme(uow, programme_id, amount_fen=amount, actor=actor)
        return amount

    attempt(step, lambda amount: gettext("%(amount)s funded.", amount=format_yuan(amount)))
    owner = programmes.get_programme(uow, programme_id).owner_center
    return redirect(url_for(".programmes_page", code=owner))


class FundingAccountForm(FlaskForm):  # type: ignore[misc]
    """The account payments are made from (the pain.001's debtor); named as `BankDetails`, so a
    refusal of the service lands at its field (`place`)."""

    account_name = StringField(
        lazy_gettext("Account name"), validators=[ENTER_ACCOUNT_NAME, Length(max=MAX_NAME)]
    )
    account_number = StringField(
        lazy_gettext("Account number"), validators=[ENTER_ACCOUNT_NUMBER, Length(max=64)]
    )
    bank_name = StringField(
        lazy_gettext("Bank branch"), validators=[ENTER_BANK, Length(max=MAX_NAME)]
    )
    cnaps = StringField(lazy_gettext("CNAPS bank code"), validators=[ENTER_CNAPS, Length(max=40)])


@blp.route("/programmes/<uuid:programme_id>/funding-account", methods=["GET", "POST"])
@page(Action.ADMINISTER, scope=PROGRAMME)
def funding_account(programme_id: uuid.UUID) -> str | Response:
    """The programme's funding account as recorded, and the form that sets it."""
    uow = current().uow()
    form = FundingAccountForm()
    if form.validate_on_submit():
        details = BankDetails(
            bank_name=form.bank_name.data or "",
            account_name=form.account_name.data or "",
            account_number=form.account_number.data or "",
            cnaps=form.cnaps.data or None,
        )
        try:
            settlement.set_funding_account(uow, programme_id, details, signed_in().actor)
        except VoucherError as refused:
            place(form, refused)
        else:
            flash(gettext("The funding account is recorded."), "success")
            return redirect(url_for(".funding_account", programme_id=programme_id))
    programme = programmes.get_programme(uow, programme_id)
    return render_template("web/center/funding_account.html", programme=programme, form=form)


def _form() -> ProgrammeForm:
    form = ProgrammeForm()
    chinese = current_language() == "zh_CN"
    form.service_categories.choices = [
        (c.code, c.name_zh if chinese else c.name_en) for c in CATEGORIES
    ]
    form.accepted_sizes.choices = [
        (size.value, str(SIZE_NAMES[size]))
        for size in (SizeClass.SMALL, SizeClass.MICRO, SizeClass.MEDIUM)
    ]
    return form


def _page(code: str, form: ProgrammeForm) -> str:
    owned = [p for p in programmes.list_programmes(current().uow()) if p.owner_center == code]
    return render_template("web/center/programmes.html", code=code, programmes=owned, form=form)
