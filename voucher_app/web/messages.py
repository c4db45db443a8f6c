"""What a page says when a service refuses: the sentence for the error's stable code, in the
visitor's language.

The domain and the services raise codes with parameters (`domain.errors`); every word a person
reads is here, as a gettext message, and in the catalogues (`voucher_app/translations`).
`sentence` finds the message for a code — and for the rule or the one detail that tells the
code's refusals apart, where it has several — and fills in the error's parameters; amounts
(`…_fen`) read as yuan. An error's own English message is for logs and API clients: a page
shows it only when the catalogue has no sentence for the code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from flask import flash
from flask_babel import LazyString, lazy_gettext
from flask_wtf import FlaskForm
from wtforms import Field

from voucher_app.domain.errors import VoucherError
from voucher_app.domain.money import format_yuan

T = TypeVar("T")

#: Why a typed credit code is not one (`InvalidUSCC`'s reasons); the registration page's script
#: shows the same words as the code is typed.
USCC_REASONS = {
    "wrong_length": lazy_gettext("A unified social credit code has 18 characters."),
    "invalid_character": lazy_gettext(
        "A unified social credit code has only digits and capital letters (never I, O, S, V or Z)."
    ),
    "bad_check_character": lazy_gettext(
        "The last character does not match the others: is one of them mistyped?"
    ),
}
#: Which form field a refusal is about, when the service does not name one.
FIELD_OF_CODE = {"invalid_uscc": "uscc", "sme_exists": "uscc"}
#: The form's name of a field the services name by its place in an API body.
FORM_FIELD = {
    "legal_representative.name": "legal_rep_name",
    "legal_representative.id_number": "legal_rep_id_number",
}
#: The detail that tells a code's refusals apart, for codes raised without a `rule`.
TOLD_BY = {"invalid_uscc": "reason", "not_eligible_size": "size"}

#: The sentence for each refusal a person meets: by code, or by code and rule (or the detail
#: `TOLD_BY` names) where one code covers several refusals; a rule without a sentence of its
#: own is said by its code's. Placeholders are the error's parameters (`VoucherError.params`).
SENTENCES: dict[tuple[str, str | None], LazyString] = {
    **{("invalid_uscc", reason): said for reason, said in USCC_REASONS.items()},
    # accounts
    ("sme_exists", None): lazy_gettext(
        "This enterprise is registered already: sign in, or ask its service center."
    ),
    ("user_exists", None): lazy_gettext("This user name is taken: choose another."),
    ("weak_password", None): lazy_gettext(
        "Choose a password of at least 12 characters that is not common and not your user name."
    ),
    ("invalid_credentials", None): lazy_gettext("Wrong user name or password."),
    ("account_locked", None): lazy_gettext(
        "Too many failed sign-ins: this account is locked for 15 minutes."
    ),
    ("account_inactive", None): lazy_gettext(
        "This account is waiting for approval, or is disabled."
    ),
    ("unknown_sme", None): lazy_gettext("This enterprise is not registered."),
    # decisions
    ("invalid_input", "reason_missing"): lazy_gettext("Say why: this decision needs a reason."),
    ("invalid_input", "reason_too_long"): lazy_gettext(
        "A reason has at most %(limit)s characters."
    ),
    # claims (an SME obtaining a voucher)
    ("programme_closed", None): lazy_gettext(
        "This programme takes claims from %(period_start)s to %(period_end)s."
    ),
    ("not_an_sme", None): lazy_gettext(
        "By the 2011 size standard this enterprise is large: it is not a small, medium-sized "
        "or micro enterprise."
    ),
    ("not_eligible_size", "medium"): lazy_gettext(
        "This programme is not for medium-sized enterprises."
    ),
    ("not_eligible_size", "small"): lazy_gettext("This programme is not for small enterprises."),
    ("not_eligible_size", "micro"): lazy_gettext("This programme is not for micro enterprises."),
    ("not_eligible_size", "large"): lazy_gettext("This programme is not for large enterprises."),
    ("not_eligible_industry", None): lazy_gettext(
        "This programme does not cover the enterprise's industry."
    ),
    ("not_eligible_center", None): lazy_gettext(
        "The enterprise's service center (%(center)s) is outside this programme."
    ),
    ("cap_reached", None): lazy_gettext(
        "This enterprise has claimed %(claimed_fen)s in this programme (its cap is "
        "%(cap_fen)s): what is left is not enough for a voucher."
    ),
    ("budget_exhausted", None): lazy_gettext(
        "The service center (%(center)s) has %(available_fen)s left for this programme: not "
        "enough for a voucher."
    ),
    ("invalid_transition", "revoke_only_active"): lazy_gettext(
        "Only an active voucher can be revoked."
    ),
    # providers
    ("provider_exists", None): lazy_gettext("This provider is registered already."),
    ("provider_not_approved", None): lazy_gettext("The provider is not approved, or is suspended."),
    ("invalid_transition", "provider_decision"): lazy_gettext(
        "The provider's status does not allow this decision."
    ),
    # redemptions (a provider's request to be paid)
    ("wrong_passcode", None): lazy_gettext(
        "The passcode is wrong, used already or out of date: ask the enterprise for a new one."
    ),
    ("invalid_input", "unknown_human_code"): lazy_gettext(
        "No voucher has the code %(human_code)s."
    ),
    ("voucher_not_active", None): lazy_gettext(
        "This voucher has expired, been revoked or been used up."
    ),
    ("voucher_in_use", None): lazy_gettext(
        "This voucher pays for one service only, and it has been used."
    ),
    ("category_not_allowed", None): lazy_gettext(
        "This service is not among those the voucher and the provider cover."
    ),
    ("invoice_reused", None): lazy_gettext("This invoice number is in a redemption already."),
    ("nothing_to_pay", None): lazy_gettext(
        "At the subsidy rate, the voucher pays nothing towards this invoice."
    ),
    ("related_party", None): lazy_gettext(
        "The enterprise and the provider are related parties (one company, one legal "
        "representative, address, phone or bank account, or a declared relation), and this "
        "programme does not pay for services between related parties."
    ),
    ("invalid_input", "bad_id_number"): lazy_gettext(
        "Check the ID number: a resident ID has 18 characters and its last one must match the "
        "others; other documents' numbers have 5 to 30 letters and digits."
    ),
    ("invalid_input", "self_relation"): lazy_gettext(
        "A related party is another enterprise: enter its credit code, not your own."
    ),
    ("evidence_empty", None): lazy_gettext("The attached file is empty."),
    ("evidence_too_large", None): lazy_gettext(
        "An attached file may hold at most %(megabytes)s MB."
    ),
    ("evidence_type_refused", None): lazy_gettext(
        "Attach a PDF, JPEG or PNG file: this file is none of them."
    ),
    ("invalid_evidence", None): lazy_gettext("Attach one invoice and one contract at most."),
    ("invalid_transition", "redemption_step"): lazy_gettext(
        "This redemption's status does not allow this step."
    ),
    ("invalid_transition", "confirmation_window_open"): lazy_gettext(
        "The enterprise's time to confirm has not ended yet."
    ),
    ("invalid_input", "delivered_outside_validity"): lazy_gettext(
        "The service must have been delivered between %(issued_on)s, when the voucher was "
        "issued, and today (%(today)s)."
    ),
    # amounts
    ("invalid_amount", "not_yuan"): lazy_gettext(
        "Write an amount in yuan, such as 1200 or 1,200.50."
    ),
    ("invalid_amount", "not_positive"): lazy_gettext("Enter an amount greater than zero."),
    ("invalid_amount", "not_whole_fen"): lazy_gettext(
        "Write an amount in yuan, such as 1200 or 1,200.50."
    ),
    ("invalid_amount", "too_large"): lazy_gettext("This amount is too large."),
    ("invalid_amount", None): lazy_gettext("Enter an amount in yuan greater than zero."),
    # budgets and the ledger
    ("insufficient_funds", None): lazy_gettext(
        "There is not enough money left for this: %(balance_fen)s is available."
    ),
    ("not_a_child_center", None): lazy_gettext(
        "Budget moves only between a center and its direct children."
    ),
    ("center_outside_programme", None): lazy_gettext(
        "This center is outside the programme's centers."
    ),
    ("funding_exceeds_budget", None): lazy_gettext(
        "This would fund the programme beyond its total budget."
    ),
    ("already_reversed", None): lazy_gettext("This entry has been reversed already."),
    ("cannot_reverse_reversal", None): lazy_gettext("A reversal cannot itself be reversed."),
    ("invalid_programme_terms", None): lazy_gettext(
        "The programme's terms do not hold together: check the amounts, dates and categories."
    ),
    # payments and statements
    ("duties_not_separated", None): lazy_gettext(
        "Another finance officer must do this: whoever prepared a batch, or approved what it "
        "pays, may not approve it."
    ),
    ("second_approval_needed", None): lazy_gettext(
        "A batch this large needs a second finance officer's approval first."
    ),
    ("foreign_account", None): lazy_gettext(
        "This statement is of an account no service center has registered."
    ),
    ("account_registered", None): lazy_gettext("This account is registered already."),
    ("invalid_mapping", None): lazy_gettext(
        "The column mapping does not fit this file: check its columns and direction."
    ),
    ("invalid_statement", None): lazy_gettext(
        "This statement cannot be read at %(where)s: check that it is the bank's own file."
    ),
    ("invalid_table", None): lazy_gettext(
        "This file cannot be read as a table at %(where)s: upload the CSV or XLSX file itself."
    ),
    ("outside_center", None): lazy_gettext("This is outside your service center."),
    # people and providers
    ("invalid_industry", None): lazy_gettext("Choose an industry from the list."),
    ("invalid_size_figure", None): lazy_gettext(
        "Employees, revenue and assets are whole numbers, zero or more."
    ),
    ("invalid_rating", None): lazy_gettext("A rating is 1 to 5 stars."),
    ("not_rateable", None): lazy_gettext("Only a paid redemption of your own can be rated."),
    ("signals_unexplained", None): lazy_gettext(
        "This claim shows warning signs: approve it on its own, saying why."
    ),
    # the fraud signals beside a claim in the review queue (`domain.signals`)
    ("signal", "near_remaining"): lazy_gettext(
        "The subsidy (%(subsidy_fen)s) takes all or nearly all the voucher had left "
        "(%(remaining_fen)s)."
    ),
    ("signal", "round_amount"): lazy_gettext(
        "The invoice (%(invoiced_fen)s) is a round multiple of %(unit_fen)s."
    ),
    ("signal", "provider_daily_claims"): lazy_gettext(
        "The provider submitted %(claims)s claims on %(day)s (more than %(limit)s)."
    ),
    ("signal", "provider_district_share"): lazy_gettext(
        "The provider holds %(share_pct)s per cent of the district's claimed subsidy (more "
        "than %(limit_pct)s per cent, over %(district_claims)s claims)."
    ),
    ("signal", "new_sme"): lazy_gettext(
        "The enterprise registered %(days)s days before claiming (fewer than %(limit)s)."
    ),
    ("signal", "size_changed"): lazy_gettext(
        "The enterprise changed its size figures %(days)s days before claiming (fewer than "
        "%(limit)s)."
    ),
    ("signal", "shared_contact_phone"): lazy_gettext(
        "%(smes)s enterprises share this enterprise's phone number."
    ),
    ("signal", "shared_contact_address"): lazy_gettext(
        "%(smes)s enterprises share this enterprise's registered address."
    ),
    ("signal", "shared_contact_account"): lazy_gettext(
        "%(smes)s enterprises share this enterprise's bank account."
    ),
    ("signal", "one_address_many_providers"): lazy_gettext(
        "Claims for %(providers)s providers came from this claim's network address within "
        "%(days)s days."
    ),
    ("signal", "invoice_series_shared"): lazy_gettext(
        "Invoices of this series are claimed by %(providers)s different providers."
    ),
    ("signal", "provider_complaint_rate"): lazy_gettext(
        "The provider drew %(grievances)s disputes and complaints over %(claims)s claims; all "
        "providers average %(average_per_mille)s in a thousand."
    ),
    ("not_on_notice", None): lazy_gettext(
        "This claim is no longer on public notice: objections are taken until its notice ends."
    ),
    ("invalid_voucher_code", None): lazy_gettext(
        "This is not a voucher code: it has 11 letters and digits, like 3G92-30VQ-VSQ."
    ),
    ("unknown_voucher", None): lazy_gettext("No such voucher."),
    ("unknown_provider", None): lazy_gettext("No such provider."),
    ("unknown_product", None): lazy_gettext("No such service."),
    ("unknown_center", None): lazy_gettext("No such service center."),
    ("unknown_evidence", None): lazy_gettext("No such file."),
    ("invalid_center_data", None): lazy_gettext("The service centers' data is not valid."),
    ("invalid_transition", None): lazy_gettext(
        "This is not possible in the current state: reload the page and try again."
    ),
    ("concurrent_request", None): lazy_gettext(
        "Someone else changed this at the same moment: reload the page and try again."
    ),
    # whatever else a form gets wrong, said beside its field
    ("invalid_input", None): lazy_gettext("This is not valid: check it and try again."),
    # filters of the dashboard and the catalogue
    ("invalid_input", "month"): lazy_gettext("Write a month as 2026-01."),
    ("invalid_input", "day"): lazy_gettext("Write a day as 2026-03-02."),
    ("invalid_input", "evaluation_year_missing"): lazy_gettext(
        "The province has set no evaluation scheme for %(year)s."
    ),
    ("invalid_input", "complaint_text"): lazy_gettext(
        "Say what is wrong, in 1 to %(limit)s characters."
    ),
    ("invalid_input", "price_range"): lazy_gettext(
        "The lowest price is above the highest: swap them, or leave one empty."
    ),
    # bank details
    ("invalid_bank_details", None): lazy_gettext("The bank details are not valid: check them."),
    ("invalid_bank_details", "bank_name_missing"): lazy_gettext("Fill in the bank's name."),
    ("invalid_bank_details", "account_name_missing"): lazy_gettext("Fill in the account name."),
    ("invalid_bank_details", "bank_name_too_long"): lazy_gettext(
        "The bank's name has at most %(limit)s characters."
    ),
    ("invalid_bank_details", "account_name_too_long"): lazy_gettext(
        "The account name has at most %(limit)s characters."
    ),
    ("invalid_bank_details", "bank_name_unwritable"): lazy_gettext(
        "The bank's name cannot hold control characters or line breaks."
    ),
    ("invalid_bank_details", "account_name_unwritable"): lazy_gettext(
        "The account name cannot hold control characters or line breaks."
    ),
    ("invalid_bank_details", "account_number_format"): lazy_gettext(
        "An account number has %(least)s to %(most)s digits."
    ),
    ("invalid_bank_details", "cnaps_missing"): lazy_gettext(
        "Fill in the CNAPS code of the account's branch."
    ),
    ("invalid_bank_details", "cnaps_format"): lazy_gettext("A CNAPS code has %(digits)s digits."),
    ("invalid_input", "funding_account_missing"): lazy_gettext(
        "The programme %(programme_name)s has no funding account yet (the account its payments "
        "are made from), so no payment file can be made. The administrators of the center that "
        "owns the programme set it on the programme's funding account page."
    ),
    ("invalid_bank_details", "bic_format"): lazy_gettext(
        "A SWIFT code has 8 or 11 letters and digits."
    ),
}
#: Bank details a payment export found wrong: the provider's, and what is wrong with them.
PROVIDER_BANK_DETAILS = lazy_gettext("Provider %(provider_name)s (%(provider)s): %(refusal)s")


def sentence(code: str, params: Mapping[str, Any], rule: str | None = None) -> str | None:
    """The sentence for a refusal in the page's language, its parameters filled in; None when
    the catalogue has none for it (or it names a parameter the error does not carry)."""
    told = rule if rule is not None or code not in TOLD_BY else params.get(TOLD_BY[code])
    message = SENTENCES.get((code, None if told is None else str(told))) or SENTENCES.get(
        (code, None)
    )
    if message is None:
        return None
    values = {
        name: format_yuan(value) if name.endswith("_fen") and isinstance(value, int) else value
        for name, value in params.items()
    }
    try:
        said = str(message) % values
    except (KeyError, TypeError, ValueError):
        return None
    if code == "invalid_bank_details" and "provider_name" in values:
        return str(PROVIDER_BANK_DETAILS) % {**values, "refusal": said}
    return said


def explain_signal(found: Mapping[str, Any]) -> str:
    """What the review queue says of a fraud signal kept on a claim (`Signal.document`)."""
    code, figures = str(found["code"]), found.get("figures") or {}
    rule = f"{code}_{figures['what']}" if code == "shared_contact" else code
    return sentence("signal", figures, rule) or code


def explain(error: VoucherError) -> str:
    """What a page says about `error`: its sentence, or its own English message."""
    return sentence(error.code, error.params, error.rule) or error.message


def explain_failure(code: str, result: Mapping[str, Any] | None) -> str:
    """What a task's page says about the refusal that ended it, from what the task kept of it
    (`background`): the code, and the message, rule and parameters in `result`."""
    result = result or {}
    said = sentence(code, result.get("params") or {}, result.get("rule"))
    return said or str(result.get("message") or "")


def place(form: FlaskForm, error: VoucherError) -> None:
    """Put the refusal next to the form field it names, or above the page when it names none."""
    name = error.details.get("field") or FIELD_OF_CODE.get(error.code)
    name = FORM_FIELD.get(str(name), name)
    field = getattr(form, str(name), None)
    if isinstance(field, Field):
        field.errors = [*field.errors, explain(error)]
    else:
        flash(explain(error), "error")


def attempt(step: Callable[[], T], success: Callable[[T], str]) -> T | None:
    """Take a service step a form asked for, and say above the page what it did — or why it
    was refused (then None)."""
    try:
        done = step()
    except VoucherError as refused:
        flash(explain(refused), "error")
        return None
    flash(success(done), "success")
    return done
