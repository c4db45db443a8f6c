"""SMEs and providers register themselves. An SME gives its credit code (checked as it is
typed, with the home center its region suggests), its figures for the size standard and its
clerk's account; a provider applies with its categories and the bank account it is paid to,
and its desk's account. The center approves."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import Email, EqualTo, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from voucher_app.domain.categories import CATEGORIES
from voucher_app.domain.errors import VoucherError
from voucher_app.domain.policy import Action
from voucher_app.domain.sme import INDUSTRY_NAMES, SizeClass
from voucher_app.domain.users import MAX_PASSWORD
from voucher_app.services import centers, registration
from voucher_app.services.providers import ProviderApplication
from voucher_app.services.smes import SmeDeclaration
from voucher_app.web import errors
from voucher_app.web.filters import yuan_of
from voucher_app.web.guard import page
from voucher_app.web.i18n import current_language
from voucher_app.web.messages import USCC_REASONS, place
from voucher_app.wiring import current

blp = Blueprint("registration", __name__)
errors.as_pages(blp)
SIZE_NAMES = {
    SizeClass.MEDIUM: lazy_gettext("medium"),
    SizeClass.SMALL: lazy_gettext("small"),
    SizeClass.MICRO: lazy_gettext("micro"),
    SizeClass.LARGE: lazy_gettext("large (not an SME)"),
}


class AccountFields(FlaskForm):  # type: ignore[misc]
    """The first account of the registering SME or provider."""

    username = StringField(
        lazy_gettext("User name for the account"), validators=[InputRequired(), Length(max=64)]
    )
    password = PasswordField(
        lazy_gettext("Password"), validators=[InputRequired(), Length(max=MAX_PASSWORD)]
    )
    repeat = PasswordField(
        lazy_gettext("Password again"),
        validators=[
            InputRequired(),
            EqualTo("password", message=lazy_gettext("The two passwords differ.")),
        ],
    )


class SmeRegistrationForm(AccountFields):
    uscc = StringField(
        lazy_gettext("Unified social credit code"), validators=[InputRequired(), Length(max=40)]
    )
    name = StringField(
        lazy_gettext("Enterprise name"), validators=[InputRequired(), Length(max=200)]
    )
    industry = SelectField(lazy_gettext("Industry"), validators=[InputRequired()])
    employees = IntegerField(
        lazy_gettext("Employees"), validators=[InputRequired(), NumberRange(min=0, max=10**7)]
    )
    revenue = StringField(
        lazy_gettext("Operating revenue last year (yuan)"),
        validators=[InputRequired(), Length(max=24)],
    )
    assets = StringField(
        lazy_gettext("Total assets (yuan)"), validators=[InputRequired(), Length(max=24)]
    )
    home_center = SelectField(lazy_gettext("Service center"), validators=[InputRequired()])


class ProviderApplicationForm(AccountFields):
    uscc = StringField(
        lazy_gettext("Unified social credit code"), validators=[InputRequired(), Length(max=40)]
    )
    name = StringField(lazy_gettext("Provider name"), validators=[InputRequired(), Length(max=200)])
    service_categories = SelectMultipleField(
        lazy_gettext("Service categories"),
        validators=[InputRequired()],
        option_widget=CheckboxInput(),
        widget=ListWidget(prefix_label=False),
    )
    contact_name = StringField(
        lazy_gettext("Contact person"), validators=[InputRequired(), Length(max=100)]
    )
    contact_phone = StringField(
        lazy_gettext("Contact phone"), validators=[InputRequired(), Length(max=40)]
    )
    contact_email = EmailField(
        lazy_gettext("Contact e-mail"), validators=[InputRequired(), Email(), Length(max=200)]
    )
    address = StringField(
        lazy_gettext("Address where you serve"), validators=[InputRequired(), Length(max=300)]
    )
    bank_name = StringField(
        lazy_gettext("Bank branch"), validators=[InputRequired(), Length(max=200)]
    )
    bank_account_name = StringField(
        lazy_gettext("Account name"), validators=[InputRequired(), Length(max=200)]
    )
    bank_account_number = StringField(
        lazy_gettext("Account number"), validators=[InputRequired(), Length(max=64)]
    )
    bank_cnaps = StringField(
        lazy_gettext("CNAPS bank code"), validators=[InputRequired(), Length(max=40)]
    )
    bank_bic = StringField(
        lazy_gettext("SWIFT/BIC (optional)"), validators=[Optional(), Length(min=8, max=11)]
    )
    center = SelectField(lazy_gettext("Service center"), validators=[InputRequired()])


@blp.route("/register", methods=["GET", "POST"])
@page(Action.READ_PUBLIC)
def register_sme() -> str:
    form = _form()
    if form.validate_on_submit():
        figures = {name: yuan_of(getattr(form, name)) for name in ("revenue", "assets")}
        if None in figures.values():
            return _page(form)
        declaration = SmeDeclaration(
            uscc=form.uscc.data or "",
            name=form.name.data or "",
            industry=form.industry.data,
            employees=form.employees.data or 0,
            revenue_fen=figures["revenue"] or 0,
            assets_fen=figures["assets"] or 0,
            home_center=form.home_center.data,
        )
        parts = current()
        try:
            sme, account = registration.register_sme_with_account(
                parts.uow(), declaration, form.username.data or "", form.password.data or "",
                parts.hasher,
            )  # fmt: skip
        except VoucherError as refused:
            place(form, refused)
            return _page(form)
        sizes = {size.value: str(name) for size, name in SIZE_NAMES.items()}
        return render_template("web/registered.html", sme=sme, account=account, sizes=sizes)
    return _page(form)


def _form() -> SmeRegistrationForm:
    form = SmeRegistrationForm()
    chinese = current_language() == "zh_CN"
    form.industry.choices = [
        (industry.value, zh if chinese else en) for industry, (zh, en) in INDUSTRY_NAMES.items()
    ]
    form.home_center.choices = _centers()
    return form


def _centers() -> list[tuple[str, str]]:
    """Guangdong's centers, named in the page's language."""
    listed = centers.list_all(current().uow())
    chinese = current_language() == "zh_CN"
    return [(center.code, center.name_zh if chinese else center.name_en) for center in listed]


def _page(form: SmeRegistrationForm) -> str:
    reasons = {reason: str(message) for reason, message in USCC_REASONS.items()}
    return render_template("web/register.html", form=form, uscc_reasons=reasons)


@blp.route("/providers/apply", methods=["GET", "POST"])
@page(Action.READ_PUBLIC)
def apply_provider() -> str:
    form = ProviderApplicationForm()
    chinese = current_language() == "zh_CN"
    form.service_categories.choices = [
        (category.code, category.name_zh if chinese else category.name_en)
        for category in CATEGORIES
    ]
    form.center.choices = _centers()
    if form.validate_on_submit():
        application = ProviderApplication(
            uscc=form.uscc.data or "",
            name=form.name.data or "",
            service_categories=tuple(form.service_categories.data or ()),
            contact_name=form.contact_name.data or "",
            contact_phone=form.contact_phone.data or "",
            contact_email=form.contact_email.data or "",
            address=form.address.data or "",
            bank_name=form.bank_name.data or "",
            bank_account_name=form.bank_account_name.data or "",
            bank_account_number=form.bank_account_number.data or "",
            center=form.center.data,
            bank_bic=form.bank_bic.data or None,
            bank_cnaps=form.bank_cnaps.data or None,
        )
        parts = current()
        try:
            provider, account = registration.apply_provider_with_account(
                parts.uow(), application, form.username.data or "", form.password.data or "",
                parts.hasher,
            )  # fmt: skip
        except VoucherError as refused:
            place(form, refused)
        else:
            return render_template("web/applied.html", provider=provider, account=account)
    return render_template("web/apply.html", form=form)
