"""The errors' contract (`voucher_app.domain.errors`): each error's stable code, the family it
belongs to and so the HTTP status its problem answer has, and what an error carries.

The table is written out by hand from the hierarchy in the module's docstring and the statuses
its families imply (invalid input 400, not signed in 401, not allowed 403, not found 404,
conflict 409), not read from the classes: a code is a contract clients match on, so renaming
one, or moving an error to another family, has to fail here.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from collections.abc import Iterator

import click
import pytest

import voucher_app
from tests.words import said
from voucher_app.cli.common import domain_errors
from voucher_app.domain import errors
from voucher_app.domain.errors import InvalidVoucherToken, TokenRefusal, VoucherError
from voucher_app.http.errors import status_of
from voucher_app.ledger.merkle import ProofError

BAD_REQUEST, UNAUTHORIZED, FORBIDDEN, NOT_FOUND, CONFLICT, SERVER = 400, 401, 403, 404, 409, 500

#: (class, code, parent, HTTP status), in the docstring's order.
CONTRACT: list[tuple[str, str, str, int]] = [
    ("VoucherError", "voucher_error", "Exception", SERVER),
    ("InvalidInput", "invalid_input", "VoucherError", BAD_REQUEST),
    ("InvalidAmount", "invalid_amount", "InvalidInput", BAD_REQUEST),
    ("InvalidAccount", "invalid_account", "InvalidInput", BAD_REQUEST),
    ("InvalidEntry", "invalid_entry", "InvalidInput", BAD_REQUEST),
    ("InvalidProgrammeTerms", "invalid_programme_terms", "InvalidInput", BAD_REQUEST),
    ("InvalidCenterData", "invalid_center_data", "InvalidInput", BAD_REQUEST),
    ("InvalidEvaluationScheme", "invalid_evaluation_scheme", "InvalidInput", BAD_REQUEST),
    ("InvalidWitnessPolicy", "invalid_witness_policy", "InvalidInput", BAD_REQUEST),
    ("InvalidLogRange", "invalid_log_range", "InvalidInput", BAD_REQUEST),
    ("InvalidSizeFigure", "invalid_size_figure", "InvalidInput", BAD_REQUEST),
    ("InvalidIndustry", "invalid_industry", "InvalidInput", BAD_REQUEST),
    ("InvalidUSCC", "invalid_uscc", "InvalidInput", BAD_REQUEST),
    ("InvalidVoucherCode", "invalid_voucher_code", "InvalidInput", BAD_REQUEST),
    ("InvalidVoucherToken", "invalid_voucher_token", "InvalidInput", BAD_REQUEST),
    ("WrongPasscode", "wrong_passcode", "InvalidInput", BAD_REQUEST),
    ("InvalidStatement", "invalid_statement", "InvalidInput", BAD_REQUEST),
    ("InvalidMapping", "invalid_mapping", "InvalidInput", BAD_REQUEST),
    ("InvalidTable", "invalid_table", "InvalidInput", BAD_REQUEST),
    ("TooManyRows", "too_many_rows", "InvalidTable", BAD_REQUEST),
    ("InvalidBankDetails", "invalid_bank_details", "InvalidInput", BAD_REQUEST),
    ("WeakPassword", "weak_password", "InvalidInput", BAD_REQUEST),
    ("InvalidRating", "invalid_rating", "InvalidInput", BAD_REQUEST),
    ("InvalidEvidence", "invalid_evidence", "InvalidInput", BAD_REQUEST),
    ("EvidenceEmpty", "evidence_empty", "InvalidEvidence", BAD_REQUEST),
    ("EvidenceTooLarge", "evidence_too_large", "InvalidEvidence", BAD_REQUEST),
    ("EvidenceTypeRefused", "evidence_type_refused", "InvalidEvidence", BAD_REQUEST),
    ("NotFound", "not_found", "VoucherError", NOT_FOUND),
    ("UnknownCenter", "unknown_center", "NotFound", NOT_FOUND),
    ("UnknownProgramme", "unknown_programme", "NotFound", NOT_FOUND),
    ("UnknownEntry", "unknown_entry", "NotFound", NOT_FOUND),
    ("NoCheckpoint", "no_checkpoint", "NotFound", NOT_FOUND),
    ("NoLedgerKey", "no_ledger_key", "NotFound", NOT_FOUND),
    ("UnknownTile", "unknown_tile", "NotFound", NOT_FOUND),
    ("UnknownSme", "unknown_sme", "NotFound", NOT_FOUND),
    ("UnknownVoucher", "unknown_voucher", "NotFound", NOT_FOUND),
    ("UnknownProvider", "unknown_provider", "NotFound", NOT_FOUND),
    ("UnknownProduct", "unknown_product", "NotFound", NOT_FOUND),
    ("UnknownRedemption", "unknown_redemption", "NotFound", NOT_FOUND),
    ("UnknownUser", "unknown_user", "NotFound", NOT_FOUND),
    ("UnknownToken", "unknown_token", "NotFound", NOT_FOUND),
    ("UnknownTask", "unknown_task", "NotFound", NOT_FOUND),
    ("UnknownComplaint", "unknown_complaint", "NotFound", NOT_FOUND),
    ("UnknownEvidence", "unknown_evidence", "NotFound", NOT_FOUND),
    ("UnknownBatch", "unknown_batch", "NotFound", NOT_FOUND),
    ("Conflict", "conflict", "VoucherError", CONFLICT),
    ("InsufficientFunds", "insufficient_funds", "Conflict", CONFLICT),
    ("FundingExceedsBudget", "funding_exceeds_budget", "Conflict", CONFLICT),
    ("NotAChildCenter", "not_a_child_center", "Conflict", CONFLICT),
    ("CenterOutsideProgramme", "center_outside_programme", "Conflict", CONFLICT),
    ("OutsideCenter", "outside_center", "Conflict", CONFLICT),
    ("ForeignAccount", "foreign_account", "Conflict", CONFLICT),
    ("AccountRegistered", "account_registered", "Conflict", CONFLICT),
    ("AlreadyReversed", "already_reversed", "Conflict", CONFLICT),
    ("CannotReverseReversal", "cannot_reverse_reversal", "Conflict", CONFLICT),
    ("IdempotencyKeyReused", "idempotency_key_reused", "Conflict", CONFLICT),
    ("IdempotencyKeyAnswered", "idempotency_key_answered", "Conflict", CONFLICT),
    ("DatabaseNotEmpty", "database_not_empty", "Conflict", CONFLICT),
    ("LogBehindPublished", "log_behind_published", "Conflict", CONFLICT),
    ("ConcurrentRequest", "concurrent_request", "Conflict", CONFLICT),
    ("ProviderNotApproved", "provider_not_approved", "Conflict", CONFLICT),
    ("ProviderExists", "provider_exists", "Conflict", CONFLICT),
    ("UserExists", "user_exists", "Conflict", CONFLICT),
    ("SmeExists", "sme_exists", "Conflict", CONFLICT),
    ("InvalidTransition", "invalid_transition", "Conflict", CONFLICT),
    ("NotRateable", "not_rateable", "Conflict", CONFLICT),
    ("NotOnNotice", "not_on_notice", "Conflict", CONFLICT),
    ("SignalsUnexplained", "signals_unexplained", "Conflict", CONFLICT),
    ("ClaimRefused", "claim_refused", "Conflict", CONFLICT),
    ("ProgrammeClosed", "programme_closed", "ClaimRefused", CONFLICT),
    ("NotAnSme", "not_an_sme", "ClaimRefused", CONFLICT),
    ("NotEligibleSize", "not_eligible_size", "ClaimRefused", CONFLICT),
    ("NotEligibleIndustry", "not_eligible_industry", "ClaimRefused", CONFLICT),
    ("NotEligibleCenter", "not_eligible_center", "ClaimRefused", CONFLICT),
    ("CapReached", "cap_reached", "ClaimRefused", CONFLICT),
    ("BudgetExhausted", "budget_exhausted", "ClaimRefused", CONFLICT),
    ("RedemptionRefused", "redemption_refused", "Conflict", CONFLICT),
    ("VoucherNotActive", "voucher_not_active", "RedemptionRefused", CONFLICT),
    ("CategoryNotAllowed", "category_not_allowed", "RedemptionRefused", CONFLICT),
    ("VoucherInUse", "voucher_in_use", "RedemptionRefused", CONFLICT),
    ("InvoiceReused", "invoice_reused", "RedemptionRefused", CONFLICT),
    ("NothingToPay", "nothing_to_pay", "RedemptionRefused", CONFLICT),
    ("RelatedParty", "related_party", "RedemptionRefused", CONFLICT),
    ("NotAuthenticated", "not_authenticated", "VoucherError", UNAUTHORIZED),
    ("InvalidCredentials", "invalid_credentials", "NotAuthenticated", UNAUTHORIZED),
    ("AccountLocked", "account_locked", "NotAuthenticated", UNAUTHORIZED),
    ("AccountInactive", "account_inactive", "NotAuthenticated", UNAUTHORIZED),
    ("PermissionDenied", "permission_denied", "VoucherError", FORBIDDEN),
    ("DutiesNotSeparated", "duties_not_separated", "PermissionDenied", FORBIDDEN),
    ("SecondApprovalNeeded", "second_approval_needed", "PermissionDenied", FORBIDDEN),
    ("KeyringError", "keyring_error", "VoucherError", SERVER),
    ("LedgerFault", "ledger_fault", "VoucherError", SERVER),
]

#: The errors defined in a module of their own, under a family of the tree: (module, class,
#: code, parent, HTTP status), in the docstring's order.
ELSEWHERE: list[tuple[str, str, str, str, int]] = [
    ("wiring", "ConfigurationError", "configuration_error", "VoucherError", SERVER),
    ("persistence.prepared", "NotPreparable", "not_preparable", "VoucherError", SERVER),
    ("ledger.document", "MalformedEntry", "malformed_entry", "LedgerFault", SERVER),
    ("ledger.replay", "ReplayError", "replay_error", "LedgerFault", SERVER),
    ("ledger.merkle", "ProofError", "proof_error", "LedgerFault", SERVER),
    ("ledger.tiles", "TileError", "tile_error", "LedgerFault", SERVER),
    ("signing.note", "NoteError", "note_error", "LedgerFault", SERVER),
    ("ledger.checkpoints", "InconsistentLog", "inconsistent_log", "LedgerFault", SERVER),
    ("cli.audit", "SourceError", "source_error", "VoucherError", SERVER),
    ("witness.protocol", "Refused", "witness_refused", "VoucherError", SERVER),
    ("witness.app", "WitnessConfigError", "witness_config_error", "VoucherError", SERVER),
]


@pytest.mark.parametrize(("name", "code", "parent", "status"), CONTRACT, ids=str)
def test_each_error_has_its_stable_code_its_family_and_its_status(
    name: str, code: str, parent: str, status: int
) -> None:
    error_class = getattr(errors, name)
    assert error_class.code == code
    assert error_class.__bases__ == (getattr(errors, parent, Exception),)
    assert status_of(error_class("any message")) == status


def test_every_error_the_module_defines_is_in_the_contract_under_a_code_of_its_own() -> None:
    defined = {
        name
        for name, value in vars(errors).items()
        if inspect.isclass(value) and issubclass(value, VoucherError)
    }
    assert defined == {name for name, *_ in CONTRACT}
    codes = [code for _, code, *_ in CONTRACT] + [code for _, _, code, *_ in ELSEWHERE]
    assert len(set(codes)) == len(codes)


@pytest.mark.parametrize(("module", "name", "code", "parent", "status"), ELSEWHERE, ids=str)
def test_each_error_of_a_module_of_its_own_hangs_from_the_tree_with_its_code_and_status(
    module: str, name: str, code: str, parent: str, status: int
) -> None:
    error_class = getattr(importlib.import_module(f"voucher_app.{module}"), name)
    assert error_class.code == code
    assert error_class.__bases__ == (getattr(errors, parent),)
    assert status_of(error_class("any message")) == status


def test_every_exception_class_of_the_application_is_in_the_tree_its_docstring_draws() -> None:
    """Whatever module defines it: every exception class under `voucher_app` is a
    `VoucherError`, and the docstring draws each one (and nothing else), its module's own in
    brackets."""
    for found in pkgutil.walk_packages(voucher_app.__path__, "voucher_app."):
        importlib.import_module(found.name)

    def below(error_class: type[BaseException]) -> Iterator[type[BaseException]]:
        for subclass in error_class.__subclasses__():
            yield subclass
            yield from below(subclass)

    ours = {c for c in below(BaseException) if c.__module__.startswith("voucher_app.")}
    assert {c for c in ours if not issubclass(c, VoucherError)} == set()
    drawn = re.findall(r"[├└]── (\w+)(?: +\[([\w.]+)\])?", errors.__doc__ or "")
    where = {c: "" if c.__module__ == errors.__name__ else c.__module__ for c in ours}
    assert sorted([("VoucherError", ""), *drawn]) == sorted(
        (c.__name__, module.removeprefix("voucher_app.")) for c, module in where.items()
    )


def test_an_error_carries_its_english_message_and_its_details_and_the_page_says_it_in_chinese() -> (
    None
):
    error = errors.NotEligibleSize(
        "this programme is for micro and small firms", field="size_class", size="medium"
    )
    assert str(error) == error.message == "this programme is for micro and small firms"
    assert error.details == error.params == {"field": "size_class", "size": "medium"}
    assert said(error) == "该项目不面向中型企业"  # from the catalogue, by its code and size


def test_a_rule_tells_one_codes_refusals_apart_and_extra_values_stay_out_of_the_details() -> None:
    error = errors.InvalidInput(
        "a reason has at most 500 characters",
        rule="reason_too_long",
        extra={"limit": 500},
        field="reason",
    )
    assert (error.rule, error.extra, error.details) == (
        "reason_too_long",
        {"limit": 500},
        {"field": "reason"},
    )
    assert error.params == {"limit": 500, "field": "reason"}
    assert said(error) == "理由不超过 500 个字"


def test_an_error_without_details_has_no_rule_no_extra_and_no_details() -> None:
    error = errors.UnknownVoucher("no such voucher")
    assert str(error) == error.message == "no such voucher"
    assert (error.rule, error.extra, error.details) == (None, {}, {})
    assert said(error) == "没有这张服务券。"  # the code's sentence, in the page's language
    assert said(error, "en") == "No such voucher."
    fault = errors.InvalidEntry("an entry needs two postings")
    assert said(fault) == said(fault, "en") == fault.message  # no sentence: its message


def test_a_command_says_a_refusal_in_one_line_but_lets_a_ledger_fault_keep_its_trace() -> None:
    @domain_errors
    def refuses() -> None:
        raise errors.UnknownVoucher("no voucher V-1")

    @domain_errors
    def meets_a_fault() -> None:
        raise ProofError("consistency proof is too short")

    with pytest.raises(click.ClickException, match=r"^unknown_voucher: no voucher V-1$"):
        refuses()
    with pytest.raises(ProofError):
        meets_a_fault()


@pytest.mark.parametrize(
    ("reason", "refusal"),
    [
        ("malformed", TokenRefusal.MALFORMED),
        ("unsupported_algorithm", TokenRefusal.UNSUPPORTED_ALGORITHM),
        ("unknown_key", TokenRefusal.UNKNOWN_KEY),
        ("bad_signature", TokenRefusal.BAD_SIGNATURE),
        ("missing_claims", TokenRefusal.MISSING_CLAIMS),
        ("expired", TokenRefusal.EXPIRED),
    ],
)
def test_a_token_refusal_reads_its_stable_reason_back(reason: str, refusal: TokenRefusal) -> None:
    assert InvalidVoucherToken("refused", reason=reason).reason is refusal
    assert refusal.value == reason


def test_the_token_refusals_are_exactly_the_six_stable_reasons() -> None:
    assert {r.value for r in TokenRefusal} == {
        "malformed",
        "unsupported_algorithm",
        "unknown_key",
        "bad_signature",
        "missing_claims",
        "expired",
    }
