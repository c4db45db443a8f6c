"""Redeeming vouchers (兑付): a provider's redemption, the SME's answer, the center's review.

Submitting is one transaction that locks the voucher's row first, so two providers (or one
retried submission) redeeming the same voucher take turns, and the second sees what the first
spent: value is never spent twice. It then checks the provider, the voucher's standing in the
ledger, that the SME and the provider are not related parties (`services.parties`) and the
service, computes the subsidy (`domain.redemptions.subsidy_fen`) and posts the
`redeem` entry from the voucher to the provider's `pending` account. Every later step locks the
redemption's row, checks the step is allowed (`domain.redemptions.next_status`), moves the value as
the step says and records an event; nothing is deleted.

Who may take which step (the provider submits, the SME confirms or disputes, center staff
review) is the access policy's concern, not this module's.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import (
    Select,
    bindparam,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from voucher_app.domain import accounts
from voucher_app.domain.accounts import AccountKind
from voucher_app.domain.actors import Actor
from voucher_app.domain.calendar import local_date
from voucher_app.domain.entries import EntryKind, Posting
from voucher_app.domain.errors import (
    CategoryNotAllowed,
    ConcurrentRequest,
    InvalidInput,
    InvoiceReused,
    SignalsUnexplained,
    VoucherInUse,
    VoucherNotActive,
    WrongPasscode,
)
from voucher_app.domain.evidence import EvidenceKind, ref_name
from voucher_app.domain.money import format_yuan, require_fen
from voucher_app.domain.reasons import require_reason
from voucher_app.domain.redemptions import HOLDING, USED, Step, next_status, subsidy_fen
from voucher_app.domain.signals import Signal, Thresholds, invoice_series
from voucher_app.domain.voucher_code import normalise_human_code
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.database import table_of
from voucher_app.persistence.models import (
    Center,
    Product,
    Programme,
    Provider,
    Redemption,
    RedemptionEvent,
    Sme,
    Voucher,
    VoucherPasscode,
)
from voucher_app.persistence.prepared import Prepared
from voucher_app.persistence.repositories import PROVIDERS, REDEMPTIONS, unknown_voucher
from voucher_app.persistence.transient import labelled, loaded
from voucher_app.persistence.uow import read_only, transaction
from voucher_app.services import budgets, notice, notifications, parties, signals, spend_facts
from voucher_app.services import evidence as evidence_files
from voucher_app.services.evidence import NO_EVIDENCE, Evidence
from voucher_app.services.providers import active_product, require_approved
from voucher_app.services.vouchers import current_status, live_balance
from voucher_app.signing.jws import verify_voucher

PASSCODE_DIGITS = 6
#: The statuses a step scores for fraud signals: entering the review queue, and approval.
SCORED = frozenset({"confirmed", "approved"})
#: An approval's event detail holding the signals it answered and why (reviewers only).
REVIEW = "review"
PASSCODE_LIFETIME = timedelta(minutes=15)
MAX_INVOICE_NUMBER = 64
MAX_DESCRIPTION = 500


@dataclass(frozen=True, slots=True)
class Service:
    """What was delivered and invoiced: a catalogue product, or a described service in a
    category. Also what a correction of a disputed or rejected redemption sends again."""

    invoice_number: str
    invoiced_fen: int
    delivered_on: date
    product_id: uuid.UUID | None = None
    category: str | None = None
    description: str = ""


@dataclass(frozen=True, slots=True)
class VoucherProof:
    """How the provider shows the voucher: its token (the QR code), or its human code with
    the one-time passcode the SME reads out."""

    token: str | None = None
    human_code: str | None = None
    passcode: str | None = None


@dataclass(frozen=True, slots=True)
class RedemptionView:
    id: uuid.UUID
    voucher_id: uuid.UUID
    voucher_code: str
    provider_id: uuid.UUID
    product_id: uuid.UUID | None
    category: str
    description: str
    invoice_number: str
    invoiced_fen: int
    subsidy_fen: int
    delivered_on: date
    status: str
    status_reason: str | None
    submitted_at: datetime
    confirm_by: datetime
    #: The last day of its public notice (公示), where its programme has one: set at approval.
    notice_ends_on: date | None = None
    #: The fraud signals of its last scoring (`Signal.document`): at confirmation, at approval.
    signals: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class _Context:
    """What every step of a redemption needs besides its row: read once per transaction."""

    voucher: Voucher
    programme: Programme
    provider_id: uuid.UUID  # the provider's public id, as accounts and refs name it


def _context(uow: UnitOfWork, redemption: Redemption) -> _Context:
    row = _CONTEXT.run(
        uow.session.connection(),
        {"voucher_id": redemption.voucher_id, "provider_id": redemption.provider_id},
    ).mapping()
    assert row is not None  # a redemption's voucher and provider are there: foreign keys
    return _context_of(row)


def _context_of(row: Mapping[str, Any]) -> _Context:
    return _Context(loaded(Voucher, row), loaded(Programme, row), row["provider_public_id"])


# The hot path's reads and writes are Core statements built once and run at the driver on the
# session's connection (`persistence.prepared`), and the rows they read become transient model
# objects: no ORM loading, no identity map, no unit-of-work flush. What a step changes it
# writes itself (`_SET_STATUS`, `_CLOSE_VOUCHER`); resubmitting, a rare path, keeps the ORM.


_redemptions, _vouchers, _programmes = table_of(Redemption), table_of(Voucher), table_of(Programme)
_providers, _smes = table_of(Provider), table_of(Sme)


def _with_context(query: Select[Any]) -> Select[Any]:
    """`query` joined to the voucher, its programme and the provider's public id."""
    return query.add_columns(
        *labelled(Voucher),
        *labelled(Programme),
        _providers.c.public_id.label("provider_public_id"),
    ).join_from(_vouchers, _programmes, _programmes.c.id == _vouchers.c.programme_id)


_CONTEXT = Prepared(
    _with_context(select())
    .join(_providers, _providers.c.id == bindparam("provider_id"))
    .where(_vouchers.c.id == bindparam("voucher_id"))
)
#: A step's one read: the redemption, locked (only it), with everything `_Context` holds.
_STEP = Prepared(
    _with_context(select(*labelled(Redemption)))
    .join(_redemptions, _redemptions.c.voucher_id == _vouchers.c.id)
    .join(_providers, _providers.c.id == _redemptions.c.provider_id)
    .where(_redemptions.c.public_id == bindparam("public_id"))
    .with_for_update(of=_redemptions)
)
#: A submission's read of the voucher shown, locked (only it), its programme and SME's code.
_SHOWN_VOUCHER = Prepared(
    select(*labelled(Voucher), *labelled(Programme), _smes.c.uscc.label("sme_uscc"))
    .join(_programmes, _programmes.c.id == _vouchers.c.programme_id)
    .join(_smes, _smes.c.id == _vouchers.c.sme_id)
    .where(_vouchers.c.human_code == bindparam("code"))
    .with_for_update(of=_vouchers)
)
_PROVIDER = Prepared(
    select(*labelled(Provider)).where(_providers.c.public_id == bindparam("public_id"))
)
_INSERT_REDEMPTION = Prepared(insert(_redemptions).returning(_redemptions.c.id))
_INSERT_EVENT = Prepared(insert(table_of(RedemptionEvent)))
_SET_STATUS = Prepared(
    update(_redemptions)
    .where(_redemptions.c.id == bindparam("row_id"))
    .values(
        status=bindparam("status"),
        status_reason=bindparam("reason"),
        notice_ends_on=bindparam("notice_ends_on"),
    )
)
_CLOSE_VOUCHER = Prepared(
    update(_vouchers)
    .where(_vouchers.c.id == bindparam("row_id"))
    .values(status=bindparam("status"), closed_at=bindparam("closed_at"))
)
_OPEN_REDEMPTION = Prepared(
    select(_redemptions.c.public_id).where(
        _redemptions.c.voucher_id == bindparam("voucher_id"),
        # Not `in_`: its list is expanded when run, and this statement's text is fixed.
        or_(*(_redemptions.c.status == status for status in sorted(USED))),
        _redemptions.c.id != bindparam("own"),
    )
)
_INVOICE_USED = Prepared(
    select(_redemptions.c.public_id).where(
        _redemptions.c.provider_id == bindparam("provider_id"),
        _redemptions.c.invoice_number == bindparam("invoice"),
        _redemptions.c.id != bindparam("own"),
    )
)
_SME_USCC = Prepared(select(_smes.c.uscc).where(_smes.c.id == bindparam("sme_id")))
_products = table_of(Product)
_PRODUCT_ID = Prepared(select(_products.c.public_id).where(_products.c.id == bindparam("id")))


# --- one-time passcodes -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Passcode:
    """A one-time passcode as issued: the code (shown once, only its hash is kept) and when it
    stops working, so the page can count down to it."""

    code: str
    expires_at: datetime


@transaction
def new_passcode(uow: UnitOfWork, voucher_id: uuid.UUID) -> Passcode:
    """A fresh one-time code for the SME to read out; valid for `PASSCODE_LIFETIME`, once."""
    voucher = uow.vouchers.by_public_id(voucher_id)
    code = f"{secrets.randbelow(10**PASSCODE_DIGITS):0{PASSCODE_DIGITS}d}"
    now = uow.clock.now()
    uow.session.add(
        VoucherPasscode(
            voucher_id=voucher.id,
            code_hash=_passcode_hash(voucher, code),
            created_at=now,
            expires_at=now + PASSCODE_LIFETIME,
        )
    )
    return Passcode(code, now + PASSCODE_LIFETIME)


def _passcode_hash(voucher: Voucher, code: str) -> bytes:
    # Salted with the voucher: a stolen table does not give codes away for every voucher at once.
    return hashlib.sha256(f"{voucher.public_id}:{code.strip()}".encode()).digest()


def _use_passcode(uow: UnitOfWork, voucher: Voucher, code: str) -> None:
    now = uow.clock.now()
    used = uow.session.scalar(
        update(VoucherPasscode)
        .where(
            VoucherPasscode.voucher_id == voucher.id,
            VoucherPasscode.code_hash == _passcode_hash(voucher, code),
            VoucherPasscode.used_at.is_(None),
            VoucherPasscode.expires_at > now,
        )
        .values(used_at=now)
        .returning(VoucherPasscode.id)
        .execution_options(synchronize_session=False)
    )
    if used is None:
        raise WrongPasscode(
            "the passcode is wrong, used already or out of date; ask the SME for a new one",
            field="passcode",
        )


# --- submitting -------------------------------------------------------------------------------


@transaction
def submit_redemption(
    uow: UnitOfWork,
    *,
    provider_id: uuid.UUID,
    proof: VoucherProof,
    service: Service,
    actor: Actor,
    public_keys: dict[str, Ed25519PublicKey],
    evidence: Evidence = NO_EVIDENCE,
    client_address: str | None = None,
) -> RedemptionView:
    """Redeem a voucher: ask for the subsidy of a delivered service (see the module docstring),
    with its evidence files (`services.evidence`): their digests go into the submission's event
    and the `redeem` entry's refs. `client_address`: the network address the request came from,
    which a fraud signal compares across providers (`domain.signals`)."""
    connection = uow.session.connection()
    found = _PROVIDER.run(connection, {"public_id": provider_id}).mapping()
    if found is None:
        raise PROVIDERS.missing(provider_id)
    provider = loaded(Provider, found)
    require_approved(provider)
    voucher, programme, uscc = _proven_voucher(uow, proof, public_keys)
    redemption = Redemption(
        public_id=uuid.uuid4(),
        voucher_id=voucher.id,
        provider_id=provider.id,
        submitted_at=uow.clock.now(),
        submitted_from=client_address,
        held=False,
        signal_count=0,
    )
    _price(uow, redemption, voucher, provider, service, programme=programme)
    context = _Context(voucher, programme, provider_id)
    row = {column.key: getattr(redemption, column.key) for column in _redemptions.c}
    del row["id"]
    try:
        redemption.id = _INSERT_REDEMPTION.run(connection, row).scalar_one()
    except IntegrityError as exc:  # a twin with the same invoice got there first
        raise ConcurrentRequest("a concurrent request submitted this redemption") from exc
    _submitted(uow, redemption, context, actor, evidence, step=None)
    _ask_sme(uow, redemption, voucher, uscc=uscc)
    return redemption_view(uow, redemption, context)


def _proven_voucher(
    uow: UnitOfWork, proof: VoucherProof, public_keys: dict[str, Ed25519PublicKey]
) -> tuple[Voucher, Programme, str]:
    """The voucher the provider has shown, its row locked until the transaction ends, with its
    programme and its SME's code."""
    if proof.token:
        payload = verify_voucher(proof.token.strip(), public_keys, uow.clock.now())
        shown = _shown_voucher(uow, payload.human_code)
        if shown is None:
            raise unknown_voucher(payload.human_code)
        return shown
    if not (proof.human_code and proof.passcode):
        raise InvalidInput(
            "show the voucher: its token, or its code with the SME's passcode", field="voucher"
        )
    code = normalise_human_code(proof.human_code)
    shown = _shown_voucher(uow, code)
    if shown is None:
        raise InvalidInput(
            f"no voucher has the code {code}",
            rule="unknown_human_code",
            extra={"human_code": code},
            field="human_code",
        )
    _use_passcode(uow, shown[0], proof.passcode)
    return shown


def _shown_voucher(uow: UnitOfWork, code: str) -> tuple[Voucher, Programme, str] | None:
    row = _SHOWN_VOUCHER.run(uow.session.connection(), {"code": code}).mapping()
    if row is None:
        return None
    return loaded(Voucher, row), loaded(Programme, row), row["sme_uscc"]


def _price(
    uow: UnitOfWork,
    redemption: Redemption,
    voucher: Voucher,
    provider: Provider,
    service: Service,
    *,
    programme: Programme,
) -> None:
    """Check the service against the voucher, the provider and the programme, and fill in the
    redemption's figures: the submission's and a resubmission's common half."""
    connection = uow.session.connection()
    now = uow.clock.now()
    remaining = live_balance(uow, voucher)
    rival = redemption.id or 0  # a resubmission is not its own rival
    status = current_status(voucher, remaining, now)
    if status != "active":
        raise VoucherNotActive(
            f"voucher {voucher.human_code} is {status}",
            status=status,
        )
    parties.require_unrelated(
        uow, sme_id=voucher.sme_id, provider_id=provider.id, programme=programme
    )
    if not programme.partial_spending:
        open_redemption = _OPEN_REDEMPTION.run(
            connection, {"voucher_id": voucher.id, "own": rival}
        ).scalar()
        if open_redemption is not None:
            raise VoucherInUse(
                f"voucher {voucher.human_code} pays for one service only, and redemption "
                f"{open_redemption} has used it",
            )
    category, description, product = _service(uow, provider, service)
    if category not in voucher.service_categories or category not in provider.service_categories:
        raise CategoryNotAllowed(
            f"{category} is not among the services this voucher and this provider cover",
            category=category,
        )
    invoice = service.invoice_number.strip()
    if not 0 < len(invoice) <= MAX_INVOICE_NUMBER:
        raise InvalidInput(
            f"an invoice number has 1 to {MAX_INVOICE_NUMBER} characters", field="invoice_number"
        )
    reused = _INVOICE_USED.run(
        connection, {"provider_id": provider.id, "invoice": invoice, "own": rival}
    ).scalar()
    if reused is not None:
        raise InvoiceReused(
            f"invoice {invoice} is in a redemption already ({reused})",
            invoice_number=invoice,
        )
    invoiced = require_fen(service.invoiced_fen, field="invoiced_fen")
    if not local_date(voucher.issued_at) <= service.delivered_on <= local_date(now):
        raise InvalidInput(
            "the service was delivered between the voucher's issue and today",
            rule="delivered_outside_validity",
            extra={
                "issued_on": local_date(voucher.issued_at).isoformat(),
                "today": local_date(now).isoformat(),
            },
            field="delivered_on",
        )
    redemption.product_id = product.id if product else None
    redemption.category = category
    redemption.description = description
    redemption.invoice_number = invoice
    redemption.invoiced_fen = invoiced
    redemption.subsidy_fen = subsidy_fen(invoiced, voucher.subsidy_rate_bp, remaining)
    redemption.delivered_on = service.delivered_on
    redemption.status = "submitted"
    redemption.status_reason = None
    redemption.confirm_by = now + timedelta(days=programme.confirmation_days)
    redemption.submitted_on = local_date(now)
    redemption.invoice_series = invoice_series(invoice)


def _service(
    uow: UnitOfWork, provider: Provider, service: Service
) -> tuple[str, str, Product | None]:
    """The category and description of what was delivered, and the product if it is one."""
    description = service.description.strip()
    if len(description) > MAX_DESCRIPTION:
        raise InvalidInput(
            f"a description has at most {MAX_DESCRIPTION} characters", field="description"
        )
    if service.product_id is not None:
        product = active_product(uow, provider, service.product_id)
        return product.category, description or product.name, product
    if not service.category or not description:
        raise InvalidInput(
            "name a catalogue product, or the service's category and a description",
            field="product_id",
        )
    return service.category, description, None


# --- the steps after submitting ---------------------------------------------------------------


@transaction
def confirm_redemption(
    uow: UnitOfWork,
    redemption_id: uuid.UUID,
    actor: Actor,
    limits: Thresholds | None = None,
) -> RedemptionView:
    """The SME confirms the service was delivered as claimed; the claim is scored for fraud
    signals (`services.signals`, unless `limits` is None) as it enters the review queue."""
    return _step(uow, redemption_id, Step.CONFIRM, actor, reason=None, limits=limits)


@transaction
def dispute_redemption(
    uow: UnitOfWork, redemption_id: uuid.UUID, reason: str, actor: Actor
) -> RedemptionView:
    """The SME disputes the redemption; its value goes back to the voucher until it is
    corrected."""
    return _step(uow, redemption_id, Step.DISPUTE, actor, reason=require_reason(reason))


@transaction
def approve_redemption(
    uow: UnitOfWork,
    redemption_id: uuid.UUID,
    actor: Actor,
    *,
    reason: str | None = None,
    limits: Thresholds | None = None,
) -> RedemptionView:
    """Center staff approve: the subsidy becomes payable to the provider. The claim is scored
    again on fresh facts (unless `limits` is None); approving past a fraud signal needs `reason`
    (`signals_unexplained`), which the approval's event keeps with the signals."""
    said = None if reason is None or not reason.strip() else require_reason(reason)
    return _step(uow, redemption_id, Step.APPROVE, actor, reason=said, limits=limits)


@transaction
def reject_redemption(
    uow: UnitOfWork, redemption_id: uuid.UUID, reason: str, actor: Actor
) -> RedemptionView:
    """Center staff reject with a reason: the value is back on the voucher."""
    return _step(uow, redemption_id, Step.REJECT, actor, reason=require_reason(reason))


@transaction
def resubmit_redemption(
    uow: UnitOfWork,
    redemption_id: uuid.UUID,
    service: Service,
    actor: Actor,
    evidence: Evidence = NO_EVIDENCE,
) -> RedemptionView:
    """The provider corrects a disputed or rejected redemption and submits it again, with new
    evidence files if it has any."""
    redemption = uow.redemptions.by_public_id(redemption_id, lock=True)
    voucher = uow.session.scalar(
        select(Voucher).where(Voucher.id == redemption.voucher_id).with_for_update()
    )
    assert voucher is not None  # a foreign key
    now = uow.clock.now()
    next_status(Step.RESUBMIT, redemption.status, confirm_by=redemption.confirm_by, now=now)
    provider = uow.session.get_one(Provider, redemption.provider_id)
    require_approved(provider)
    programme = uow.session.get_one(Programme, voucher.programme_id)
    _price(uow, redemption, voucher, provider, service, programme=programme)
    context = _Context(voucher, programme, provider.public_id)
    redemption.submitted_at = now
    uow.session.flush()
    _submitted(uow, redemption, context, actor, evidence, step=Step.RESUBMIT)
    _ask_sme(uow, redemption, voucher)
    return redemption_view(uow, redemption, context)


def _submitted(
    uow: UnitOfWork,
    redemption: Redemption,
    context: _Context,
    actor: Actor,
    evidence: Evidence,
    *,
    step: Step | None,
) -> None:
    """A submission's (or resubmission's) evidence kept, its `redeem` entry posted naming each
    file's digest, and its event recorded with the files."""
    files = evidence_files.keep(uow, evidence)
    digests = {ref_name(EvidenceKind(file["kind"])): file["sha256"] for file in files}
    _post(uow, EntryKind.REDEEM, redemption, context, actor, refs=digests)
    _record(uow, redemption, actor, reason=None, step=step, evidence=files)


def _step(
    uow: UnitOfWork,
    redemption_id: uuid.UUID,
    step: Step,
    actor: Actor,
    *,
    reason: str | None,
    limits: Thresholds | None = None,
) -> RedemptionView:
    row = _STEP.run(uow.session.connection(), {"public_id": redemption_id}).mapping()
    if row is None:
        raise REDEMPTIONS.missing(redemption_id)
    redemption, context = loaded(Redemption, row), _context_of(row)
    now = uow.clock.now()
    status = next_status(step, redemption.status, confirm_by=redemption.confirm_by, now=now)
    voucher = context.voucher
    if step in {Step.DISPUTE, Step.REJECT} and redemption.status in HOLDING:
        _post(uow, EntryKind.REJECT, redemption, context, actor)
        if voucher.status != "active" or voucher.expires_at <= now:
            # The voucher closed meanwhile: what comes back goes on to the issuing center.
            _release(uow, context, redemption.subsidy_fen, actor, redemption)
    found: tuple[Signal, ...] = ()
    if limits is not None and status in SCORED:
        found = signals.score(uow, [redemption.id], limits)[redemption.id]
        redemption.signals = [signal.document() for signal in found]
    if step is Step.APPROVE:
        if found and reason is None:
            codes = [signal.code.value for signal in found]
            raise SignalsUnexplained(
                f"approving past {', '.join(codes)} needs a reason", signals=codes
            )
        # A relation recorded after the submission stops the payment here.
        parties.require_unrelated(
            uow,
            sme_id=voucher.sme_id,
            provider_id=redemption.provider_id,
            programme=context.programme,
            approving=True,
        )
        today = local_date(now)
        redemption.notice_ends_on = notice.notice_ends_on(context.programme, today)
        publication = (
            {}
            if redemption.notice_ends_on is None
            else notice.publish(uow, redemption, voucher, today, redemption.notice_ends_on)
        )
        _post(uow, EntryKind.APPROVE, redemption, context, actor, refs=publication)
        if not context.programme.partial_spending:
            _release(uow, context, live_balance(uow, voucher), actor, redemption)
            voucher.status, voucher.closed_at = "exhausted", now
            _CLOSE_VOUCHER.run(
                uow.session.connection(),
                {"row_id": voucher.id, "status": "exhausted", "closed_at": now},
            )
    # An approval's reason answers the fraud signals: the center's own record, kept in the
    # event's `review`, never in what the SME and the provider read.
    shown_reason = None if step is Step.APPROVE else reason
    redemption.status = status
    redemption.status_reason = shown_reason
    _SET_STATUS.run(
        uow.session.connection(),
        {
            "row_id": redemption.id,
            "status": status,
            "reason": shown_reason,
            "notice_ends_on": redemption.notice_ends_on,  # set by an approval, else as it was
        },
    )
    review = None
    if step is Step.APPROVE and (found or reason):
        review = {"reason": reason, "signals": [signal.document() for signal in found]}
    _record(uow, redemption, actor, reason=shown_reason, review=review)
    return redemption_view(uow, redemption, context)


def _post(
    uow: UnitOfWork,
    kind: EntryKind,
    redemption: Redemption,
    context: _Context,
    actor: Actor,
    *,
    refs: dict[str, str] | None = None,
) -> None:
    """Move the redemption's subsidy as `kind` says: voucher → pending (redeem), pending → payable
    (approve), pending → voucher (reject). `refs`: the entry's refs besides the redemption's
    own: a submission's files, an approval's public notice."""
    voucher = context.voucher
    programme = str(context.programme.public_id)
    provider = str(context.provider_id)
    held = accounts.voucher(str(voucher.public_id)).name
    pending = accounts.provider(AccountKind.PENDING, provider, programme).name
    source, target = {
        EntryKind.REDEEM: (held, pending),
        EntryKind.APPROVE: (
            pending,
            accounts.provider(AccountKind.PAYABLE, provider, programme).name,
        ),
        EntryKind.REJECT: (pending, held),
    }[kind]
    amount = redemption.subsidy_fen
    posted = uow.journal.post(
        kind,
        [Posting(source, -amount), Posting(target, amount)],
        {
            "programme": programme,
            "voucher": str(voucher.public_id),
            "provider": provider,
            "redemption": str(redemption.public_id),
            **(refs or {}),
        },
        actor,
    )
    spend_facts.record(uow, posted, redemption_attribution(voucher, redemption))


def redemption_attribution(voucher: Voucher, redemption: Redemption) -> spend_facts.Attribution:
    """A redemption's money counts for the voucher's issuing center, provider and category."""
    return spend_facts.Attribution(
        voucher.programme_id, voucher.issuing_center_id, redemption.provider_id, redemption.category
    )


def _release(
    uow: UnitOfWork, context: _Context, amount: int, actor: Actor, redemption: Redemption
) -> None:
    """Return `amount` from the voucher to its issuing center's available budget."""
    if amount <= 0:
        return
    voucher = context.voucher
    programme = str(context.programme.public_id)
    center = uow.session.scalar(select(Center.code).where(Center.id == voucher.issuing_center_id))
    assert center is not None  # a foreign key
    posted = uow.journal.post(
        EntryKind.RELEASE,
        [
            Posting(accounts.voucher(str(voucher.public_id)).name, -amount),
            budgets.returned(center, context.programme, voucher.public_id, amount),
        ],
        {
            "programme": programme,
            "voucher": str(voucher.public_id),
            "redemption": str(redemption.public_id),
        },
        actor,
    )
    spend_facts.record(
        uow, posted, spend_facts.Attribution(voucher.programme_id, voucher.issuing_center_id)
    )


def _record(
    uow: UnitOfWork,
    redemption: Redemption,
    actor: Actor,
    *,
    reason: str | None,
    step: Step | None = None,
    evidence: list[dict[str, Any]] | None = None,
    review: dict[str, Any] | None = None,
) -> None:
    details: dict[str, Any] = {
        "invoice_number": redemption.invoice_number,
        "invoiced_fen": redemption.invoiced_fen,
        "subsidy_fen": redemption.subsidy_fen,
        "category": redemption.category,
        "delivered_on": redemption.delivered_on.isoformat(),
    }
    if step is not None:
        details["step"] = str(step)
    if evidence:
        details["evidence"] = evidence
    if review:
        details[REVIEW] = review
    _INSERT_EVENT.run(
        uow.session.connection(),
        {
            "redemption_id": redemption.id,
            "status": redemption.status,
            "reason": reason,
            "details": details,
            "actor_id": actor.id,
            "actor_role": actor.role.value,
            "recorded_at": uow.clock.now(),
        },
    )


def _ask_sme(
    uow: UnitOfWork,
    redemption: Redemption,
    voucher: Voucher,
    *,
    reminder: bool = False,
    uscc: str | None = None,
) -> bool:
    """Put a request to confirm or dispute (or a reminder of it) in the SME's outbox; say
    whether it is new (each submission is asked about, and reminded of, once). `uscc`: the
    SME's code, if the caller has read it."""
    if uscc is None:
        uscc = _SME_USCC.run(uow.session.connection(), {"sme_id": voucher.sme_id}).scalar()
    due = redemption.confirm_by
    kind, again, again_zh = ("remind", "Reminder: ", "提醒：") if reminder else ("confirm", "", "")
    return notifications.queue(
        uow,
        notifications.redemption_key(kind, redemption.public_id, redemption.submitted_at),
        notifications.Message(
            recipient=f"sme:{uscc}",
            subject=f"{again_zh}请确认服务券 {voucher.human_code} 的兑付申请 / "
            f"{again}confirm the redemption of voucher {voucher.human_code}",
            body=f"服务机构申请兑付 {format_yuan(redemption.subsidy_fen)}（发票 "
            f"{redemption.invoice_number}），请在 {due:%Y-%m-%d} 前确认或提出异议。 / "
            f"A provider asks to be paid {format_yuan(redemption.subsidy_fen)} (invoice "
            f"{redemption.invoice_number}); confirm or dispute before {due:%Y-%m-%d}.",
        ),
    )


@transaction
def queue_confirmation_reminders(uow: UnitOfWork, within: timedelta) -> int:
    """Remind the SME of each redemption it has not answered whose window closes within `within`,
    once per submission; return how many reminders are new."""
    now = uow.clock.now()
    due = uow.session.execute(
        select(Redemption, Voucher)
        .join(Voucher, Voucher.id == Redemption.voucher_id)
        .where(
            Redemption.status == "submitted",
            Redemption.confirm_by > now,
            Redemption.confirm_by <= now + within,
        )
    ).all()
    return sum(_ask_sme(uow, redemption, voucher, reminder=True) for redemption, voucher in due)


# --- reading ----------------------------------------------------------------------------------


def redemption_view(
    uow: UnitOfWork, redemption: Redemption, context: _Context | None = None
) -> RedemptionView:
    """The redemption as its readers see it, inside the caller's transaction (`context`: what the
    caller already read of it)."""
    if context is None:
        context = _context(uow, redemption)
    product = None
    if redemption.product_id is not None:
        product = _PRODUCT_ID.run(uow.session.connection(), {"id": redemption.product_id}).scalar()
    return RedemptionView(
        id=redemption.public_id,
        voucher_id=context.voucher.public_id,
        voucher_code=context.voucher.human_code,
        provider_id=context.provider_id,
        product_id=product,
        category=redemption.category,
        description=redemption.description,
        invoice_number=redemption.invoice_number,
        invoiced_fen=redemption.invoiced_fen,
        subsidy_fen=redemption.subsidy_fen,
        delivered_on=redemption.delivered_on,
        status=redemption.status,
        status_reason=redemption.status_reason,
        submitted_at=redemption.submitted_at,
        confirm_by=redemption.confirm_by,
        notice_ends_on=redemption.notice_ends_on,
        signals=tuple(redemption.signals or ()),
    )


@read_only
def get_redemption(uow: UnitOfWork, redemption_id: uuid.UUID) -> RedemptionView:
    return redemption_view(uow, uow.redemptions.by_public_id(redemption_id))


@read_only
def redemption_history(
    uow: UnitOfWork, redemption_id: uuid.UUID, *, reviewer: bool = False
) -> list[dict[str, Any]]:
    """Every step of the redemption, oldest first: status, reason, figures, actor and time; for
    a `reviewer` also the fraud signals an approval answered and its reason (`REVIEW`), which
    the SME and the provider never read (they would teach a fraudster the thresholds)."""
    redemption = uow.redemptions.by_public_id(redemption_id)
    events = uow.session.scalars(
        select(RedemptionEvent)
        .where(RedemptionEvent.redemption_id == redemption.id)
        .order_by(RedemptionEvent.id)
    )
    return [
        {
            "status": event.status,
            "reason": event.reason,
            "details": event.details
            if reviewer
            else {k: v for k, v in event.details.items() if k != REVIEW},
            "actor": event.actor_id,
            "role": event.actor_role,
            "at": event.recorded_at,
        }
        for event in events
    ]
