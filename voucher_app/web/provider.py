"""The provider's service desk: redeem a voucher by the code and passcode the SME reads out
(or its QR code), with the invoice and contract as evidence files, and the desk's redemptions
with where each stands and what it will be paid; and correcting a disputed or rejected
redemption from its page."""

from __future__ import annotations

import re
import uuid
from typing import TypeVar

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.wrappers import Response
from wtforms import (
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import Length, NumberRange, Optional

from voucher_app.domain.categories import CATEGORIES
from voucher_app.domain.errors import PermissionDenied, VoucherError
from voucher_app.domain.money import format_yuan, parse_yuan
from voucher_app.domain.policy import Action
from voucher_app.http.auth import signed_in
from voucher_app.http.inputs import MAX_TOKEN
from voucher_app.http.policy import scope_by
from voucher_app.http.uploads import read_evidence, takes_file
from voucher_app.services import access, providers, redemption_lists, redemptions
from voucher_app.services.providers import ProductTerms
from voucher_app.services.redemptions import Service, VoucherProof
from voucher_app.web.forms import DayField, WholeNumberField, Yuan, choices, required
from voucher_app.web.guard import page
from voucher_app.web.i18n import current_language, with_code
from voucher_app.web.messages import attempt, place
from voucher_app.wiring import current

blp = Blueprint("provider", __name__, url_prefix="/provider")
PROVIDER = scope_by(access.provider_scope, "provider_id")
TIME_LIMIT_WRONG = lazy_gettext("Write the time limit as a whole number of days, 1 to 3660.")
REDEMPTION = scope_by(access.redemption_scope, "redemption_id")
#: What an evidence field accepts, for the browser's file picker (the server reads the bytes).
EVIDENCE_TYPES = "application/pdf,image/jpeg,image/png"


class VoucherProofForm(FlaskForm):  # type: ignore[misc]
    """The voucher is shown by its scanned QR code (`token`) or by its code and passcode.
    Declared before `ServiceForm`, so a redemption's form asks for the voucher first."""

    token = HiddenField(validators=[Optional(), Length(max=MAX_TOKEN)])
    human_code = StringField(lazy_gettext("Voucher code"), validators=[Length(max=20)])
    passcode = StringField(lazy_gettext("Passcode from the SME"))

    def validate_human_code(self, field: StringField) -> None:
        if not self.token.data and not field.data:
            raise ValidationError(lazy_gettext("Scan the QR code, or type the voucher code."))

    def validate_passcode(self, field: StringField) -> None:
        if self.token.data:
            return
        if not field.data:
            raise ValidationError(lazy_gettext("With a typed code, the SME's passcode too."))
        if not re.fullmatch(r"\d{6}", field.data):
            raise ValidationError(lazy_gettext("Six digits."))


class ServiceForm(FlaskForm):  # type: ignore[misc]
    """What was delivered and invoiced, with the invoice and contract as files: what a
    redemption submits, and a correction submits again."""

    product_id = SelectField(
        lazy_gettext("Service"),
        validators=[required(lazy_gettext("Choose the service that was delivered."))],
    )
    invoice_number = StringField(
        lazy_gettext("Invoice number"),
        validators=[required(lazy_gettext("Enter the invoice number.")), Length(max=64)],
    )
    invoiced = StringField(
        lazy_gettext("Invoiced amount (yuan)"),
        validators=[
            required(lazy_gettext("Enter the invoiced amount.")),
            Length(max=20),
            Yuan(lazy_gettext("Write the invoiced amount in yuan, such as 3000 or 3,000.50.")),
        ],
    )
    delivered_on = DayField(
        lazy_gettext("Delivered on"),
        wrong=lazy_gettext("Write the delivery date as year-month-day, such as 2026-03-01."),
        validators=[required(lazy_gettext("Enter the date the service was delivered."))],
    )
    invoice = FileField(
        lazy_gettext("Invoice (PDF or photo, optional)"), render_kw={"accept": EVIDENCE_TYPES}
    )
    contract = FileField(
        lazy_gettext("Contract (PDF or photo, optional)"), render_kw={"accept": EVIDENCE_TYPES}
    )

    def service(self) -> Service:
        """The service the form describes, once `validate` has checked its fields."""
        delivered_on = self.delivered_on.data
        assert delivered_on is not None  # required by the form
        return Service(
            invoice_number=self.invoice_number.data or "",
            invoiced_fen=parse_yuan(self.invoiced.data or ""),  # checked by the form (`Yuan`)
            delivered_on=delivered_on,
            product_id=uuid.UUID(self.product_id.data),
        )


F = TypeVar("F", bound=ServiceForm)


class RedeemForm(VoucherProofForm, ServiceForm):
    """A redemption: the voucher shown, and the service delivered under it."""


class ProductForm(FlaskForm):  # type: ignore[misc]
    """A service in the catalogue: what it is, what it costs, the standard and the time limit."""

    name = StringField(
        lazy_gettext("Service name"),
        validators=[required(lazy_gettext("Enter the service's name.")), Length(max=200)],
    )
    category = SelectField(
        lazy_gettext("Category"),
        validators=[required(lazy_gettext("Choose the service's category."))],
    )
    price = StringField(
        lazy_gettext("Price (yuan)"),
        validators=[
            required(lazy_gettext("Enter the price.")),
            Length(max=20),
            Yuan(lazy_gettext("Write the price in yuan, such as 3000 or 3,000.50.")),
        ],
    )
    standard = TextAreaField(
        lazy_gettext("Standard"),
        validators=[required(lazy_gettext("Describe the service's standard.")), Length(max=2000)],
    )
    time_limit_days = WholeNumberField(
        lazy_gettext("Time limit (days)"),
        wrong=TIME_LIMIT_WRONG,
        validators=[
            required(lazy_gettext("Enter the time limit in days.")),
            NumberRange(1, 3660, message=TIME_LIMIT_WRONG),
        ],
    )
    fee_rules = TextAreaField(
        lazy_gettext("Fees"),
        validators=[required(lazy_gettext("Describe the fees.")), Length(max=2000)],
    )


@blp.get("/")
@page(Action.READ_OWN_ACCOUNT)
def mine() -> Response:
    """A provider's account lands on its desk (other accounts have none)."""
    provider_row = signed_in().provider_id
    if provider_row is None:
        raise PermissionDenied("only a provider's account has a service desk")
    public_id = providers.public_id_of(current().uow(), provider_row)
    return redirect(url_for(".desk", provider_id=public_id))


@blp.get("/<uuid:provider_id>")
@page(Action.READ_CONCERNED, scope=PROVIDER)
def desk(provider_id: uuid.UUID) -> str:
    return _desk(provider_id, _form(provider_id))


@blp.post("/<uuid:provider_id>/redeem")
@page(Action.ACT_AS_PROVIDER, scope=PROVIDER)
@takes_file
def redeem(provider_id: uuid.UUID) -> str | Response:
    form = _form(provider_id)
    if not form.validate_on_submit():
        return _desk(provider_id, form)
    service = form.service()
    parts = current()
    try:
        redemption = redemptions.submit_redemption(
            parts.uow(),
            provider_id=provider_id,
            proof=VoucherProof(
                token=form.token.data or None,
                human_code=form.human_code.data or None,
                passcode=form.passcode.data or None,
            ),
            service=service,
            actor=signed_in().actor,
            public_keys=parts.voucher_keys(),
            evidence=read_evidence(request.files, parts.max_evidence_bytes),
            client_address=request.remote_addr,
        )
    except VoucherError as refused:
        place(form, refused)
        return _desk(provider_id, form)
    flash(
        with_code(
            gettext(
                "Redemption of voucher %(code)s submitted: %(subsidy)s, once the SME confirms."
            ),
            redemption.voucher_code,
            subsidy=format_yuan(redemption.subsidy_fen),
        ),
        "success",
    )
    return redirect(url_for(".desk", provider_id=provider_id))


def _form(provider_id: uuid.UUID) -> RedeemForm:
    return with_products(RedeemForm(), provider_id)


def with_products(form: F, provider_id: uuid.UUID) -> F:
    """The form, offering the provider's services in the catalogue."""
    products = providers.products_of(current().uow(), provider_id)
    form.product_id.choices = choices(
        (str(p.id), f"{p.name} · {format_yuan(p.price_fen)}") for p in products
    )
    return form


@blp.post("/redemptions/<uuid:redemption_id>/resubmit")
@page(Action.ACT_AS_PROVIDER, scope=REDEMPTION)
@takes_file
def resubmit(redemption_id: uuid.UUID) -> Response:
    """Correct a disputed or rejected redemption and submit it again (from its page)."""
    parts = current()
    uow = parts.uow()
    provider_id = redemptions.get_redemption(uow, redemption_id).provider_id
    form = with_products(ServiceForm(), provider_id)
    service = form.service() if form.validate_on_submit() else None
    if service is None:
        for field_errors in form.errors.values():
            for error in field_errors:
                flash(str(error), "error")
    else:
        attempt(
            lambda: redemptions.resubmit_redemption(
                uow,
                redemption_id,
                service,
                signed_in().actor,
                read_evidence(request.files, parts.max_evidence_bytes),
            ),
            lambda redemption: gettext(
                "Redemption of voucher %(code)s submitted again.", code=redemption.voucher_code
            ),
        )
    return redirect(url_for("redemption_pages.redemption_page", redemption_id=redemption_id))


def _desk(provider_id: uuid.UUID, form: RedeemForm, product_form: ProductForm | None = None) -> str:
    uow = current().uow()
    provider = providers.get_provider(uow, provider_id)
    own = redemption_lists.of_provider(uow, provider_id)
    return render_template(
        "web/provider/desk.html",
        provider=provider,
        form=form,
        redemptions=own,
        parties=redemption_lists.parties_of(uow, [redemption.id for redemption in own]),
        products=providers.products_of(uow, provider_id),
        product_form=product_form or _product_form(provider.service_categories),
    )


def _product_form(categories: tuple[str, ...]) -> ProductForm:
    form = ProductForm(prefix="product")
    chinese = current_language() == "zh_CN"
    form.category.choices = choices(
        (c.code, c.name_zh if chinese else c.name_en) for c in CATEGORIES if c.code in categories
    )
    return form


@blp.post("/<uuid:provider_id>/products")
@page(Action.ACT_AS_PROVIDER, scope=PROVIDER)
def publish(provider_id: uuid.UUID) -> str | Response:
    """Publish a service in the catalogue (new terms for an old one: publish, then withdraw
    the old; redemptions made under it keep its terms)."""
    uow = current().uow()
    form = _product_form(providers.get_provider(uow, provider_id).service_categories)
    if not form.validate_on_submit():
        return _desk(provider_id, _form(provider_id), form)
    terms = ProductTerms(
        name=form.name.data or "",
        category=form.category.data,
        price_fen=parse_yuan(form.price.data or ""),  # checked by the form (`Yuan`)
        standard=form.standard.data or "",
        time_limit_days=form.time_limit_days.data or 0,
        fee_rules=form.fee_rules.data or "",
    )
    try:
        product = providers.add_product(uow, provider_id, terms, signed_in().actor)
    except VoucherError as refused:
        place(form, refused)
        return _desk(provider_id, _form(provider_id), form)
    flash(gettext("%(name)s is in the catalogue.", name=product.name), "success")
    return redirect(url_for(".desk", provider_id=provider_id))


@blp.post("/<uuid:provider_id>/products/<uuid:product_id>/withdraw")
@page(Action.ACT_AS_PROVIDER, scope=PROVIDER)
def withdraw(provider_id: uuid.UUID, product_id: uuid.UUID) -> Response:
    """Take a service out of the catalogue; redemptions made under it keep its terms."""
    actor = signed_in().actor
    attempt(
        lambda: providers.withdraw_product(current().uow(), provider_id, product_id, actor),
        lambda _: gettext("Withdrawn from the catalogue."),
    )
    return redirect(url_for(".desk", provider_id=provider_id))
