"""What every form on the pages shares: a choice that starts empty, fields that say in their own
words what is wrong with them, and the list of a refused form's problems for the summary at its
top (GOV.UK's error summary: `error_summary` in templates/web/forms.html).

A form that preselects the first industry, region or service gets registrations filed under
农、林、牧、渔业 and 广东省 by people who never looked; so a choice starts at "Choose…", and
choosing nothing is refused with that field's own sentence. WTForms' built-in messages ("This
field is required.", "Not a valid integer value.") say the same thing of every field: each field
here is given what to say (`required`, `WholeNumberField`, `DayField`, `Yuan`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask_babel import LazyString, lazy_gettext
from flask_wtf import FlaskForm
from wtforms import DateField, Field, Form, IntegerField, StringField
from wtforms.validators import InputRequired, StopValidation, ValidationError
from wtforms.widgets import CheckboxInput, RadioInput

from voucher_app.domain.errors import InvalidAmount
from voucher_app.domain.money import parse_yuan

#: The first option of every choice: nothing chosen yet.
CHOOSE = lazy_gettext("Choose…")


def choices(options: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """A select's options after an empty "Choose…" one, so nothing is chosen for the user."""
    return [("", str(CHOOSE)), *options]


def required(message: LazyString) -> InputRequired:
    """The field must be filled in (or chosen); `message` says which field and what to do."""
    return InputRequired(message=message)


class Yuan:
    """An amount in yuan as people write it ("3000", "3,000.50", "¥3,000"); `message` says
    what is wrong in the field's words."""

    def __init__(self, message: LazyString) -> None:
        self.message = message

    def __call__(self, form: Form, field: StringField) -> None:
        try:
            parse_yuan(field.data or "")
        except InvalidAmount:
            raise ValidationError(self.message) from None


class _SaysWhatIsWrong:
    """A field whose typed text may not parse (a number, a date): it says `wrong` then, once,
    instead of WTForms' generic sentence followed by its validators' own."""

    data: Any  # the parsed value, typed by the field class it is mixed into

    def __init__(self, *args: Any, wrong: LazyString, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.wrong = wrong

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist or not str(valuelist[0]).strip():
            self.data = None  # nothing typed: the field's `required` says so, not `wrong`
            return
        try:
            super().process_formdata(valuelist)  # type: ignore[misc]
        except ValueError:
            raise ValueError(str(self.wrong)) from None

    def pre_validate(self, form: Form) -> None:
        if getattr(self, "process_errors", None):
            raise StopValidation()
        super().pre_validate(form)  # type: ignore[misc]


class WholeNumberField(_SaysWhatIsWrong, IntegerField):  # type: ignore[misc]
    """A whole number (employees, days)."""


class DayField(_SaysWhatIsWrong, DateField):  # type: ignore[misc]
    """A date, as the browser's date picker sends it (year-month-day)."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing to fix: the element the summary's link goes to, and what is wrong."""

    target: str
    message: str


def problems(*forms: FlaskForm | None) -> list[Problem]:
    """Every error of the forms, field by field as each form declares them (declare them in the
    order the page shows them); the summary links each to its field (a group of checkboxes or
    radios: to its first box, as focus goes there). Hidden fields have nothing to link to and
    are left out."""
    found = []
    for form in forms:
        if form is None:
            continue
        for item in form:
            if item.type in ("HiddenField", "CSRFTokenField"):
                continue
            for message in item.errors:
                found.append(Problem(_target(item), str(message)))
    return found


def _target(item: Field) -> str:
    option = getattr(item, "option_widget", None)
    if isinstance(option, CheckboxInput | RadioInput):
        return f"{item.id}-0"
    return str(item.id)
