"""SMEs and providers register themselves. An SME gives its credit code (checked as it is
typed, and again with the other fields when the form is sent; its region suggests a home
center, never chosen for it), its figures for the size standard and its
clerk's account; a provider applies with its categories and the bank account it is paid to,
and its desk's account. The center approves."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    ValidationError,
)
from wtforms.validators import Email, EqualTo, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from voucher_app.domain.categories import CATEGORIES
from voucher_app.domain.errors import InvalidUSCC, VoucherError
from voucher_app.domain.money import parse_yuan
from voucher_app.domain.policy import Action
from voucher_app.domain.sme import INDUSTRY_NAMES, SizeClass, parse_uscc
from voucher_app.domain.users import MAX_PASSWORD
from voucher_app.services import centers, parties, registration
from voucher_app.services.parties import PartyDetails
from voucher_app.services.providers import ProviderApplication
from voucher_app.services.smes import SmeDeclaration
from voucher_app.web.forms import WholeNumberField, Yuan, choices, required
from voucher_app.web.guard import page
from voucher_app.web.i18n import current_language
from voucher_app.web.messages import USCC_REASONS, explain, place
from voucher_app.wiring import current

blp = Blueprint("registration", __name__)
SIZE_NAMES = {
    SizeClass.MEDIUM: lazy_gettext("medium"),
    SizeClass.SMALL: lazy_gettext("small"),
    SizeClass.MICRO: lazy_gettext("micro"),
    SizeClass.LARGE: lazy_gettext("large (not an SME)"),
}
EMPLOYEES_WRONG = lazy_gettext("Write the number of employees as a whole number, such as 25.")
CHOOSE_CENTER = required(lazy_gettext("Choose the service center."))
#: What the fields of a bank account say when left empty (a provider's and a funding account).
ENTER_BANK = required(lazy_gettext("Enter the bank branch that holds the account."))
ENTER_ACCOUNT_NAME = required(lazy_gettext("Enter the account name, as the bank has it."))
ENTER_ACCOUNT_NUMBER = required(lazy_gettext("Enter the account number."))
ENTER_CNAPS = required(lazy_gettext("Enter the CNAPS code of the account's branch."))


def _account_fields() -> tuple[StringField, PasswordField, PasswordField]:
    """The first account of the registering SME or provider: user name, password and the
    password again. Declared last in each form, as the page shows them last (a field's place
    among the form's fields is when it was made, and the error summary lists them in it)."""
    return (
        StringField(
            lazy_gettext("User name for the account"),
            validators=[
                required(lazy_gettext("Choose a user name for the account.")),
                Length(max=64),
            ],
        ),
        PasswordField(
            lazy_gettext("Password"),
            validators=[required(lazy_gettext("Choose a password.")), Length(max=MAX_PASSWORD)],
        ),
        PasswordField(
            lazy_gettext("Password again"),
            validators=[
                required(lazy_gettext("Type the password again.")),
                EqualTo("password", message=lazy_gettext("The two passwords differ.")),
            ],
        ),
    )


def _party_fields() -> tuple[StringField, StringField, StringField, SelectField]:
    """What SMEs and providers both give for related parties (`services.parties`): the legal
    representative (kept only as a digest) and one related party the applicant declares (more
    are declared through the API, or recorded by the center)."""
    return (
        StringField(
            lazy_gettext("Legal representative's name"),
            validators=[
                required(lazy_gettext("Enter the legal representative's name.")),
                Length(max=100),
            ],
        ),
        StringField(
            lazy_gettext("Legal representative's ID number"),
            validators=[
                required(lazy_gettext("Enter the legal representative's ID number.")),
                Length(max=60),
            ],
        ),
        StringField(
            lazy_gettext("Credit code of a related party (if any)"),
            validators=[Optional(), Length(max=40)],
        ),
        SelectField(lazy_gettext("How it is related")),  # its choices: `RELATIONS`
    )


#: The relations a registration form offers (`domain.parties.Relation`), set on each form
#: made (a select's choices given when the field is declared are deprecated).
RELATIONS = (
    ("shareholder", lazy_gettext("It is a shareholder")),
    ("common_control", lazy_gettext("The same person controls both")),
    ("family", lazy_gettext("Its owners are family of ours")),
    ("other", lazy_gettext("Otherwise related")),
)


def _party_details(form: SmeRegistrationForm | ProviderApplicationForm) -> PartyDetails:
    """The form's party fields as a registration takes them; a wrong ID number is refused here
    (`InvalidInput`, placed at its field like the service's refusals)."""
    related = form.related_uscc.data or ""
    declared = [(related, form.relation.data or "")] if related.strip() else []
    representative = (form.legal_rep_name.data or "", form.legal_rep_id_number.data or "")
    return parties.details(current().matching_key(), representative, declared)


def _valid_code(form: FlaskForm, field: StringField) -> None:
    """The code is checked as the service checks it (`domain.sme.parse_uscc`), so a wrong code
    is said at its field along with every other field's error."""
    try:
        parse_uscc(field.data or "")
    except InvalidUSCC as wrong:
        raise ValidationError(explain(wrong)) from None


def _code_field() -> StringField:
    return StringField(
        lazy_gettext("Unified social credit code"),
        validators=[
            required(lazy_gettext("Enter the unified social credit code.")),
            Length(max=40),
            _valid_code,
        ],
    )


class SmeRegistrationForm(FlaskForm):  # type: ignore[misc]
    uscc = _code_field()
    name = StringField(
        lazy_gettext("Enterprise name"),
        validators=[required(lazy_gettext("Enter the enterprise's name.")), Length(max=200)],
    )
    industry = SelectField(
        lazy_gettext("Industry"), validators=[required(lazy_gettext("Choose the industry."))]
    )
    employees = WholeNumberField(
        lazy_gettext("Employees"),
        wrong=EMPLOYEES_WRONG,
        validators=[
            required(lazy_gettext("Enter the number of employees.")),
            NumberRange(min=0, max=10**7, message=EMPLOYEES_WRONG),
        ],
    )
    revenue = StringField(
        lazy_gettext("Operating revenue last year (yuan)"),
        validators=[
            required(lazy_gettext("Enter last year's operating revenue.")),
            Length(max=24),
            Yuan(lazy_gettext("Write the operating revenue in yuan, such as 3000000.")),
        ],
    )
    assets = StringField(
        lazy_gettext("Total assets (yuan)"),
        validators=[
            required(lazy_gettext("Enter the total assets.")),
            Length(max=24),
            Yuan(lazy_gettext("Write the total assets in yuan, such as 5000000.")),
        ],
    )
    home_center = SelectField(lazy_gettext("Service center"), validators=[CHOOSE_CENTER])
    address = StringField(
        lazy_gettext("Registered address"),
        validators=[
            required(lazy_gettext("Enter the registered address, as on the licence.")),
            Length(max=300),
        ],
    )
    contact_phone = StringField(
        lazy_gettext("Contact phone"),
        validators=[required(lazy_gettext("Enter a contact phone number.")), Length(max=40)],
    )
    bank_account_number = StringField(
        lazy_gettext("Settlement account number (optional)"),
        validators=[Optional(), Length(max=64)],
    )
    legal_rep_name, legal_rep_id_number, related_uscc, relation = _party_fields()
    username, password, repeat = _account_fields()


class ProviderApplicationForm(FlaskForm):  # type: ignore[misc]
    uscc = _code_field()
    name = StringField(
        lazy_gettext("Provider name"),
        validators=[required(lazy_gettext("Enter the provider's name.")), Length(max=200)],
    )
    service_categories = SelectMultipleField(
        lazy_gettext("Service categories"),
        validators=[required(lazy_gettext("Choose at least one service category."))],
        option_widget=CheckboxInput(),
        widget=ListWidget(prefix_label=False),
    )
    contact_name = StringField(
        lazy_gettext("Contact person"),
        validators=[required(lazy_gettext("Enter the contact person's name.")), Length(max=100)],
    )
    contact_phone = StringField(
        lazy_gettext("Contact phone"),
        validators=[required(lazy_gettext("Enter a contact phone number.")), Length(max=40)],
    )
    contact_email = EmailField(
        lazy_gettext("Contact e-mail"),
        validators=[
            required(lazy_gettext("Enter a contact e-mail address.")),
            Email(message=lazy_gettext("Write the e-mail address like name@example.com.")),
            Length(max=200),
        ],
    )
    address = StringField(
        lazy_gettext("Address where you serve"),
        validators=[
            required(lazy_gettext("Enter the address where you serve your clients.")),
            Length(max=300),
        ],
    )
    bank_name = StringField(lazy_gettext("Bank branch"), validators=[ENTER_BANK, Length(max=200)])
    bank_account_name = StringField(
        lazy_gettext("Account name"), validators=[ENTER_ACCOUNT_NAME, Length(max=200)]
    )
    bank_account_number = StringField(
        lazy_gettext("Account number"), validators=[ENTER_ACCOUNT_NUMBER, Length(max=64)]
    )
    bank_cnaps = StringField(
        lazy_gettext("CNAPS bank code"), validators=[ENTER_CNAPS, Length(max=40)]
    )
    bank_bic = StringField(
        lazy_gettext("SWIFT/BIC (optional)"), validators=[Optional(), Length(min=8, max=11)]
    )
    center = SelectField(lazy_gettext("Service center"), validators=[CHOOSE_CENTER])
    legal_rep_name, legal_rep_id_number, related_uscc, relation = _party_fields()
    username, password, repeat = _account_fields()


@blp.route("/register", methods=["GET", "POST"])
@page(Action.READ_PUBLIC)
def register_sme() -> str:
    form = _form()
    if form.validate_on_submit():
        declaration = SmeDeclaration(
            uscc=form.uscc.data or "",
            name=form.name.data or "",
            industry=form.industry.data,
            employees=form.employees.data or 0,
            revenue_fen=parse_yuan(form.revenue.data or ""),  # checked by the form (`Yuan`)
            assets_fen=parse_yuan(form.assets.data or ""),
            home_center=form.home_center.data,
            address=form.address.data or "",
            contact_phone=form.contact_phone.data or "",
            bank_account_number=form.bank_account_number.data or None,
        )
        parts = current()
        try:
            sme, account = registration.register_sme_with_account(
                parts.uow(), declaration, form.username.data or "", form.password.data or "",
                parts.hasher, party=_party_details(form),
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
    form.industry.choices = choices(
        (industry.value, zh if chinese else en) for industry, (zh, en) in INDUSTRY_NAMES.items()
    )
    form.home_center.choices = _centers()
    form.relation.choices = choices((value, str(label)) for value, label in RELATIONS)
    return form


def _centers() -> list[tuple[str, str]]:
    """Guangdong's centers, named in the page's language, after an empty choice."""
    listed = centers.list_all(current().uow())
    chinese = current_language() == "zh_CN"
    return choices(
        (center.code, center.name_zh if chinese else center.name_en) for center in listed
    )


def _page(form: SmeRegistrationForm) -> str:
    _forget_id_number(form)
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
    form.relation.choices = choices((value, str(label)) for value, label in RELATIONS)
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
                parts.hasher, party=_party_details(form),
            )  # fmt: skip
        except VoucherError as refused:
            place(form, refused)
        else:
            return render_template("web/applied.html", provider=provider, account=account)
    _forget_id_number(form)
    return render_template("web/apply.html", form=form)


def _forget_id_number(form: SmeRegistrationForm | ProviderApplicationForm) -> None:
    """A page sent back keeps what was typed, but not the ID number: it would sit in the
    page's HTML (and the browser's cache) for anyone who comes after at a shared desk."""
    form.legal_rep_id_number.data = ""
    form.legal_rep_id_number.raw_data = []
