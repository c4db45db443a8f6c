"""Every failure a user can cause or meet, each with a stable machine code.

Entry points turn these into responses (RFC 9457 problems in the API, messages on pages, exit
codes in the CLI); nothing below the entry points formats an error for a person. The `code` is
a contract: clients and tests match on it, so it never changes once released.

An error carries its code, its parameters (`details`: the values a client reads, e.g. `field`,
`reason`, `limit`, `provider`; they ride in the API's problem document) and an English
`message` for the API's `detail`, logs and the CLI. Where one code covers several refusals,
`rule` says which; `extra` holds what a person's sentence names beyond the details (a
provider's name, a programme's dates). The sentence itself, in Chinese or English, is the
pages' business: `web.messages` looks it up in the gettext catalogues by code (and rule) and
fills in the parameters, so that every word a person reads lives in the catalogues.

Every exception class the application defines hangs from this one tree; the few that belong
to a module of their own are defined there (named in brackets) under a family defined here.

    VoucherError
    ├── InvalidInput                  the request itself is wrong (HTTP 400/422)
    │   ├── InvalidAmount             not a positive whole number of fen within range
    │   ├── InvalidAccount            an account name that does not follow DESIGN §4
    │   ├── InvalidEntry              postings that break double entry or the kind's flow
    │   ├── InvalidProgrammeTerms     programme settings that contradict each other
    │   ├── InvalidCenterData         a center hierarchy file that does not hold together
    │   ├── InvalidEvaluationScheme   a center evaluation file that does not hold together
    │   ├── InvalidWitnessPolicy      a witnesses file that does not hold together
    │   ├── InvalidLogRange           a tree size, index or range outside the log
    │   ├── InvalidSizeFigure         employees, revenue or assets not a non-negative integer
    │   ├── InvalidIndustry           not one of the size standard's sixteen industries
    │   ├── InvalidUSCC               not a unified social credit code (reason: which check)
    │   ├── InvalidVoucherCode        not a voucher's human code (reason: which check)
    │   ├── InvalidVoucherToken       a voucher token that does not verify (reason: TokenRefusal)
    │   ├── WrongPasscode             the SME's one-time code is wrong, used or out of date
    │   ├── InvalidStatement          a bank statement or payment file that does not parse (where)
    │   ├── InvalidMapping            a statement column mapping that leaves a field undecidable
    │   ├── InvalidTable              a CSV or XLSX upload that cannot be read (where)
    │   │   └── TooManyRows           more rows than the limit, found before reading the rest
    │   ├── InvalidBankDetails        an account, account name, bank, CNAPS code or BIC a bank
    │   │                             would refuse (field; provider when found at export)
    │   ├── WeakPassword              shorter than the policy, common, or the user name itself
    │   ├── InvalidRating             a score outside 1 to 5, or a comment too long
    │   └── InvalidEvidence           a redemption's evidence file that is not kept
    │       ├── EvidenceEmpty         a file with nothing in it
    │       ├── EvidenceTooLarge      larger than the limit (limit: bytes)
    │       └── EvidenceTypeRefused   not a PDF, JPEG or PNG by its content
    ├── NotFound                      a named thing does not exist (HTTP 404)
    │   ├── UnknownCenter
    │   ├── UnknownProgramme
    │   ├── UnknownEntry
    │   ├── NoCheckpoint
    │   ├── NoLedgerKey               no verifier key to publish yet
    │   ├── UnknownTile               not a tile path of the log, or past its tree size
    │   ├── UnknownSme
    │   ├── UnknownVoucher
    │   ├── UnknownProvider
    │   ├── UnknownProduct
    │   ├── UnknownRedemption
    │   ├── UnknownUser
    │   ├── UnknownToken
    │   ├── UnknownTask
    │   ├── UnknownComplaint
    │   ├── UnknownEvidence           no such file among a redemption's evidence
    │   └── UnknownBatch              a settlement batch
    ├── Conflict                      the request is valid but the state forbids it (HTTP 409)
    │   ├── InsufficientFunds         an account would drop below what it may hold
    │   ├── FundingExceedsBudget      funding past the programme's total budget
    │   ├── NotAChildCenter           allocation to a center that is not a direct child
    │   ├── CenterOutsideProgramme    a center outside the programme owner's subtree
    │   ├── OutsideCenter             a statement paying another center's batch
    │   ├── ForeignAccount            a statement of an account no center registered
    │   ├── AccountRegistered         a bank account is registered by another center
    │   ├── AlreadyReversed           an entry can be reversed once
    │   ├── CannotReverseReversal     a reversal is corrected by a new entry, not reversed
    │   ├── IdempotencyKeyReused      the same key with a different request
    │   ├── IdempotencyKeyAnswered    a request with the same key committed first: replay it
    │   ├── DatabaseNotEmpty          demo data only goes into an empty database
    │   ├── LogBehindPublished        the log lacks or contradicts the checkpoint it last published
    │   ├── ConcurrentRequest         lost a race that a retry resolves (services retry it)
    │   ├── ProviderNotApproved       a provider acting before approval or while suspended
    │   ├── ProviderExists            one registration per unified social credit code
    │   ├── UserExists                one account per user name
    │   ├── SmeExists                 registered already: only the SME or its center updates it
    │   ├── InvalidTransition         a status change its current status does not allow
    │   ├── NotRateable               only an approved or paid redemption is rated, once
    │   ├── NotOnNotice               an objection to a claim whose public notice is not running
    │   ├── SignalsUnexplained        approving past fraud signals without a reason (signals)
    │   ├── ClaimRefused              why an SME cannot have a voucher
    │   │   ├── ProgrammeClosed       outside the programme's period
    │   │   ├── NotAnSme              large by the 2011 size standard
    │   │   ├── NotEligibleSize       a size class the programme does not accept
    │   │   ├── NotEligibleIndustry
    │   │   ├── NotEligibleCenter     home center outside the programme's centers
    │   │   ├── CapReached            the SME's cap for the programme is used up
    │   │   └── BudgetExhausted       the home center has no budget left for a voucher
    │   └── RedemptionRefused         why a provider cannot redeem a voucher
    │       ├── VoucherNotActive      expired, revoked or used up
    │       ├── CategoryNotAllowed    a service the voucher or the provider does not cover
    │       ├── VoucherInUse          no partial spending: one open redemption per voucher
    │       ├── InvoiceReused         an invoice number is claimed once per provider
    │       ├── NothingToPay          the subsidy rounds down to nothing
    │       └── RelatedParty          the SME and the provider are related (shares: what)
    ├── NotAuthenticated              no valid credentials (HTTP 401)
    │   ├── InvalidCredentials        a wrong name or password; a bad, expired or revoked token
    │   ├── AccountLocked             too many failed logins: wait until the lock ends
    │   └── AccountInactive           pending approval, or disabled
    ├── PermissionDenied              authenticated, but this role or center may not (HTTP 403)
    │   ├── DutiesNotSeparated        paying money one approved, or approving a batch one built
    │   └── SecondApprovalNeeded      a batch over the limit waits for a second finance officer
    ├── KeyringError                  signing keys missing, unreadable or wrongly protected
    ├── ConfigurationError            [wiring] the application refuses to start with this
    │                                 configuration; the message names the variable to set
    ├── NotPreparable                 [persistence.prepared] a statement the hot paths cannot
    │                                 run at the driver, or a value missing: a fault in our code
    ├── LedgerFault                   the ledger's data, proofs or signed notes do not hold up:
    │   │                             an auditor reports it, a server logs it with its trace
    │   ├── MalformedEntry            [ledger.document] a published entry not in its canonical form
    │   ├── ReplayError               [ledger.replay] an entry breaking a ledger rule at its place
    │   ├── ProofError                [ledger.merkle] a Merkle proof, or what it is checked
    │   │                             against, that does not verify
    │   ├── TileError                 [ledger.tiles] a tile or entry bundle whose bytes are not
    │   │                             what its path says it holds
    │   ├── NoteError                 [signing.note] a note, checkpoint or verifier key that is
    │   │                             malformed or does not verify
    │   └── InconsistentLog           [ledger.checkpoints] the stored tree no longer extends the
    │                                 last signed checkpoint: stop and investigate
    ├── SourceError                   [cli.audit] voucher-audit cannot read its source at all (as
    │                                 opposed to reading it and finding it wrong)
    ├── Refused                       [witness.protocol] a witness does not cosign: its HTTP
    │                                 status and why (a log's client reads it, not a person)
    └── WitnessConfigError            [witness.app] the witness's settings file cannot be used

An error outside the five families that name an HTTP status (invalid input, not found,
conflict, not authenticated, permission denied) is a fault on our side, or in the data: HTTP
500 should it ever reach a request.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, ClassVar


class VoucherError(Exception):
    """Base of every error this application raises on purpose."""

    code: ClassVar[str] = "voucher_error"

    def __init__(
        self,
        message: str,
        *,
        rule: str | None = None,
        extra: Mapping[str, Any] | None = None,
        **details: Any,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.rule = rule  # which of the code's refusals, where the code has several
        self.extra = dict(extra or {})  # what a person's sentence names beyond the details
        self.details = details

    @property
    def params(self) -> dict[str, Any]:
        """Everything a sentence about this error may name: its extra values and its details."""
        return {**self.extra, **self.details}


class InvalidInput(VoucherError):
    code = "invalid_input"


class InvalidAmount(InvalidInput):
    code = "invalid_amount"


class InvalidAccount(InvalidInput):
    code = "invalid_account"


class InvalidEntry(InvalidInput):
    code = "invalid_entry"


class InvalidProgrammeTerms(InvalidInput):
    code = "invalid_programme_terms"


class InvalidCenterData(InvalidInput):
    code = "invalid_center_data"


class InvalidEvaluationScheme(InvalidInput):
    """The province's evaluation file (`domain.evaluation.read_schemes`) does not hold
    together."""

    code = "invalid_evaluation_scheme"


class InvalidWitnessPolicy(InvalidInput):
    code = "invalid_witness_policy"


class InvalidLogRange(InvalidInput):
    code = "invalid_log_range"


class InvalidSizeFigure(InvalidInput):
    """An employee count, revenue or total assets that is not a non-negative whole number."""

    code = "invalid_size_figure"


class InvalidIndustry(InvalidInput):
    """An industry code that is not one of the standard's sixteen."""

    code = "invalid_industry"


class InvalidUSCC(InvalidInput):
    """Not a unified social credit code; `details["reason"]` says why (see `USCC_REASONS`)."""

    code = "invalid_uscc"


class InvalidVoucherCode(InvalidInput):
    """Not a voucher's human code; `details["reason"]` says why (see `VOUCHER_CODE_REASONS`)."""

    code = "invalid_voucher_code"


class TokenRefusal(StrEnum):
    """Why a voucher token was refused: the stable `InvalidVoucherToken.details["reason"]`."""

    MALFORMED = "malformed"
    UNSUPPORTED_ALGORITHM = "unsupported_algorithm"
    UNKNOWN_KEY = "unknown_key"
    BAD_SIGNATURE = "bad_signature"
    MISSING_CLAIMS = "missing_claims"
    EXPIRED = "expired"


class InvalidVoucherToken(InvalidInput):
    """A voucher token that does not verify; `details["reason"]` is a `TokenRefusal` value."""

    code = "invalid_voucher_token"

    @property
    def reason(self) -> TokenRefusal:
        return TokenRefusal(self.details["reason"])


class WrongPasscode(InvalidInput):
    code = "wrong_passcode"


class InvalidStatement(InvalidInput):
    """A bank statement or payment file that does not parse; `details["where"]` names the
    line or element."""

    code = "invalid_statement"


class InvalidMapping(InvalidInput):
    """A statement column mapping that cannot tell a line's direction, amount, date or account;
    `details["field"]` names what is missing or contradicts."""

    code = "invalid_mapping"


class InvalidTable(InvalidInput):
    """A CSV or XLSX upload that cannot be read as a table; `details["where"]` names the file,
    line or part."""

    code = "invalid_table"


class TooManyRows(InvalidTable):
    """More rows than `details["limit"]`: refused as soon as the row past the limit is read."""

    code = "too_many_rows"


class InvalidBankDetails(InvalidInput):
    """Bank details a bank would refuse: `details["field"]` names which, and
    `details["provider"]` the provider's credit code when an export found them."""

    code = "invalid_bank_details"


class InvalidRating(InvalidInput):
    code = "invalid_rating"


class InvalidEvidence(InvalidInput):
    """A file a provider attaches to a redemption that is not kept; `details["field"]` names
    which attachment."""

    code = "invalid_evidence"


class EvidenceEmpty(InvalidEvidence):
    code = "evidence_empty"


class EvidenceTooLarge(InvalidEvidence):
    code = "evidence_too_large"


class EvidenceTypeRefused(InvalidEvidence):
    code = "evidence_type_refused"


class WeakPassword(InvalidInput):
    code = "weak_password"


class NotFound(VoucherError):
    code = "not_found"


class UnknownCenter(NotFound):
    code = "unknown_center"


class UnknownProgramme(NotFound):
    code = "unknown_programme"


class UnknownEntry(NotFound):
    code = "unknown_entry"


class NoCheckpoint(NotFound):
    code = "no_checkpoint"


class NoLedgerKey(NotFound):
    code = "no_ledger_key"


class UnknownTile(NotFound):
    code = "unknown_tile"


class UnknownSme(NotFound):
    code = "unknown_sme"


class UnknownVoucher(NotFound):
    code = "unknown_voucher"


class UnknownProvider(NotFound):
    code = "unknown_provider"


class UnknownProduct(NotFound):
    code = "unknown_product"


class UnknownRedemption(NotFound):
    code = "unknown_redemption"


class UnknownTask(NotFound):
    code = "unknown_task"


class UnknownEvidence(NotFound):
    code = "unknown_evidence"


class UnknownComplaint(NotFound):
    code = "unknown_complaint"


class UnknownBatch(NotFound):
    code = "unknown_batch"


class UnknownUser(NotFound):
    code = "unknown_user"


class UnknownToken(NotFound):
    code = "unknown_token"


class Conflict(VoucherError):
    code = "conflict"


class InsufficientFunds(Conflict):
    code = "insufficient_funds"


class FundingExceedsBudget(Conflict):
    code = "funding_exceeds_budget"


class NotAChildCenter(Conflict):
    code = "not_a_child_center"


class CenterOutsideProgramme(Conflict):
    code = "center_outside_programme"


class OutsideCenter(Conflict):
    code = "outside_center"


class ForeignAccount(Conflict):
    """A statement of an account that is no programme's funding account and no account a
    center registered: it cannot move any center's books."""

    code = "foreign_account"


class AccountRegistered(Conflict):
    """A bank account is one center's: another center registered it already."""

    code = "account_registered"


class AlreadyReversed(Conflict):
    code = "already_reversed"


class CannotReverseReversal(Conflict):
    code = "cannot_reverse_reversal"


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"


class IdempotencyKeyAnswered(Conflict):
    """Another request with the same Idempotency-Key committed while this one waited for the
    key: the API answers with that request's stored answer."""

    code = "idempotency_key_answered"


class DatabaseNotEmpty(Conflict):
    code = "database_not_empty"


class LogBehindPublished(Conflict):
    """The Merkle log is smaller than the checkpoint last published (kept outside the database),
    or does not extend it: it signs nothing until its missing tail is restored."""

    code = "log_behind_published"


class ConcurrentRequest(Conflict):
    code = "concurrent_request"


class ProviderNotApproved(Conflict):
    code = "provider_not_approved"


class ProviderExists(Conflict):
    code = "provider_exists"


class UserExists(Conflict):
    code = "user_exists"


class SmeExists(Conflict):
    code = "sme_exists"


class InvalidTransition(Conflict):
    code = "invalid_transition"


class NotRateable(Conflict):
    code = "not_rateable"


class SignalsUnexplained(Conflict):
    """Fraud signals (`domain.signals`) never refuse a claim, but whoever approves past them
    says why: `details["signals"]` lists their codes."""

    code = "signals_unexplained"


class NotOnNotice(Conflict):
    """An objection is taken while the claim's public notice runs: from its approval to the
    notice's last day, and while no batch has taken it."""

    code = "not_on_notice"


class ClaimRefused(Conflict):
    code = "claim_refused"


class ProgrammeClosed(ClaimRefused):
    code = "programme_closed"


class NotAnSme(ClaimRefused):
    code = "not_an_sme"


class NotEligibleSize(ClaimRefused):
    code = "not_eligible_size"


class NotEligibleIndustry(ClaimRefused):
    code = "not_eligible_industry"


class NotEligibleCenter(ClaimRefused):
    code = "not_eligible_center"


class CapReached(ClaimRefused):
    code = "cap_reached"


class BudgetExhausted(ClaimRefused):
    code = "budget_exhausted"


class RedemptionRefused(Conflict):
    code = "redemption_refused"


class VoucherNotActive(RedemptionRefused):
    code = "voucher_not_active"


class CategoryNotAllowed(RedemptionRefused):
    code = "category_not_allowed"


class VoucherInUse(RedemptionRefused):
    code = "voucher_in_use"


class InvoiceReused(RedemptionRefused):
    code = "invoice_reused"


class NothingToPay(RedemptionRefused):
    code = "nothing_to_pay"


class RelatedParty(RedemptionRefused):
    """The SME and the provider are related (`domain.parties`): `details["shares"]` lists what
    they share, and the programme does not allow redemptions between related parties."""

    code = "related_party"


class NotAuthenticated(VoucherError):
    code = "not_authenticated"


class InvalidCredentials(NotAuthenticated):
    code = "invalid_credentials"


class AccountLocked(NotAuthenticated):
    code = "account_locked"


class AccountInactive(NotAuthenticated):
    code = "account_inactive"


class PermissionDenied(VoucherError):
    code = "permission_denied"


class DutiesNotSeparated(PermissionDenied):
    """不相容职务分离: whoever approved a redemption does not export the batch that pays it, and
    whoever built a batch does not give it its second approval."""

    code = "duties_not_separated"


class SecondApprovalNeeded(PermissionDenied):
    """A batch whose total is over the configured limit is exported only after a second finance
    officer approved it."""

    code = "second_approval_needed"


class KeyringError(VoucherError):
    code = "keyring_error"


class LedgerFault(VoucherError):
    """The ledger's data, proofs or signed notes do not hold up. Not a refusal to wait out or
    to explain to a person: the auditor reports it, and a server logs it with its trace."""

    code = "ledger_fault"
