"""Claiming, verifying, revoking and expiring vouchers.

A claim is one transaction: the eligibility rules (`domain.eligibility`), then the SME's cap
(a conditional update on its allowance row), then the signed token, then the budget (the
journal's `issue` entry from the home center's available budget into the voucher's account) —
signing before the budget keeps the center's budget row locked for as short a time as possible.
Any refusal rolls all of it back, so concurrent claims can never overspend a center or an SME's
cap. `claim_many_within` runs the same steps for a whole list at once (bulk issuance).
Revocation and expiry return exactly the unspent value to the issuing center.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import ColumnElement, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.dml import ReturningUpdate

from voucher_app.domain import accounts
from voucher_app.domain.actors import Actor
from voucher_app.domain.calendar import local_date
from voucher_app.domain.eligibility import (
    Applicant,
    ProgrammeRules,
    budget_exhausted,
    cap_reached,
    check_eligibility,
)
from voucher_app.domain.entries import EntryKind, Posting
from voucher_app.domain.errors import (
    ClaimRefused,
    ConcurrentRequest,
    IdempotencyKeyReused,
    InvalidInput,
    InvalidTransition,
    InvalidVoucherToken,
    UnknownSme,
    UnknownVoucher,
)
from voucher_app.domain.reasons import require_reason
from voucher_app.domain.sme import SizeClass, parse_uscc
from voucher_app.domain.voucher_code import normalise_human_code, random_human_code
from voucher_app.ledger.journal import NewEntry, PostedEntry
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.database import (
    insert_ignoring_duplicates,
    insert_or_ignore,
    table_of,
)
from voucher_app.persistence.models import (
    Center,
    ClaimAllowance,
    Programme,
    Sme,
    Voucher,
)
from voucher_app.persistence.prepared import Prepared
from voucher_app.persistence.repositories import PROGRAMMES
from voucher_app.persistence.transient import labelled, loaded
from voucher_app.persistence.uow import read_only, transaction
from voucher_app.services import budgets, spend_facts
from voucher_app.services.centers import is_within, subtree_ids
from voucher_app.services.smes import size_of, unknown_sme
from voucher_app.signing.jws import VoucherPayload, is_current, sign_voucher, verify_voucher

MAX_CLAIMS_AT_ONCE = 1000


@dataclass(frozen=True)
class VoucherSigner:
    kid: str
    private_key: Ed25519PrivateKey


@dataclass(frozen=True, slots=True)
class VoucherView:
    id: uuid.UUID
    human_code: str
    token: str
    programme_id: uuid.UUID
    sme_uscc: str
    center: str
    face_value_fen: int
    remaining_fen: int
    subsidy_rate_bp: int
    service_categories: tuple[str, ...]
    issued_at: datetime
    expires_at: datetime
    status: str
    status_reason: str | None


@dataclass(frozen=True, slots=True)
class TokenCheck:
    """What `verify_token` found: the signature's verdict and, when known, the ledger's."""

    valid: bool
    reason: str | None  # a TokenRefusal value when not valid
    voucher: VoucherView | None


def _voucher_view(
    uow: UnitOfWork,
    voucher: Voucher,
    now: datetime,
    *,
    programme_id: uuid.UUID | None = None,
    sme_uscc: str | None = None,
    center: str | None = None,
    remaining: int | None = None,
) -> VoucherView:
    """The voucher as its readers see it; what the caller already holds (a join's columns, a
    new voucher's figures) is not read again."""
    session = uow.session
    if programme_id is None:
        programme_id = session.get_one(Programme, voucher.programme_id).public_id
    if sme_uscc is None:
        sme_uscc = session.get_one(Sme, voucher.sme_id).uscc
    if center is None:
        center = session.get_one(Center, voucher.issuing_center_id).code
    if remaining is None:
        remaining = live_balance(uow, voucher)
    return VoucherView(
        id=voucher.public_id,
        human_code=voucher.human_code,
        token=voucher.token,
        programme_id=programme_id,
        sme_uscc=sme_uscc,
        center=center,
        face_value_fen=voucher.face_value_fen,
        remaining_fen=remaining,
        subsidy_rate_bp=voucher.subsidy_rate_bp,
        service_categories=tuple(voucher.service_categories),
        issued_at=voucher.issued_at,
        expires_at=voucher.expires_at,
        status=current_status(voucher, remaining, now),
        status_reason=voucher.status_reason,
    )


def live_balance(uow: UnitOfWork, voucher: Voucher) -> int:
    """What is left on the voucher, as the ledger says."""
    return uow.journal.balance(accounts.voucher(str(voucher.public_id)))


def current_status(voucher: Voucher, remaining_fen: int, now: datetime) -> str:
    """Revoked and expired are recorded; an active voucher past `exp` or at zero says so too."""
    if voucher.status != "active":
        return voucher.status
    if voucher.expires_at <= now:
        return "expired"
    return "exhausted" if remaining_fen == 0 else "active"


# --- claiming ---------------------------------------------------------------------------------


@transaction
def claim_voucher(
    uow: UnitOfWork,
    *,
    programme_id: uuid.UUID,
    sme_uscc: str,
    actor: Actor,
    signer: VoucherSigner,
) -> VoucherView:
    """Issue the SME one voucher of the programme, or refuse with the reason (`ClaimRefused`).
    (Bulk issuance claims for a whole list at once: `claim_many_within`.)"""
    programme = _claimed_programme(uow, programme_id)
    code = parse_uscc(sme_uscc)
    found = _SME_WITH_HOME.run(uow.session.connection(), {"code": code}).mapping()
    if found is None:
        raise unknown_sme(code)
    sme, home = loaded(Sme, found), loaded(Center, found)
    return _issue(uow, programme, sme, home, actor=actor, signer=signer)


@dataclass(frozen=True, slots=True)
class Issued:
    """A voucher `claim_many_within` issued, or found issued under the same row key before."""

    human_code: str
    replayed: bool


def claim_many_within(
    uow: UnitOfWork,
    *,
    programme_id: uuid.UUID,
    keys: Mapping[str, str],
    actor: Actor,
    signer: VoucherSigner,
) -> dict[str, Issued | ClaimRefused | UnknownSme]:
    """`claim_voucher` for many SMEs at once, inside the caller's open transaction: `keys` maps
    each SME's (parsed) code to its row's key, which the voucher keeps (`Voucher.claim_key`), so
    a key that issued a voucher before gets that voucher back (`replayed`) and nothing twice —
    bulk issuance's reruns. Returns each SME's voucher or refusal; the refused take nothing.

    The steps and their order are the single claim's — the rules, the allowances, the budgets,
    the `issue` entries and the vouchers — but each is a few statements for the whole set: one
    conditional update for the allowances, a locked read of the centers' budget shards (and a
    `rebalance` entry per center if they need one, `budgets.take_many`), and multi-row inserts
    for the rest (`Journal.post_many`). Within a center's budget, the SMEs listed first are
    served first. At most `MAX_CLAIMS_AT_ONCE` SMEs: each step's IN list.
    """
    if len(keys) > MAX_CLAIMS_AT_ONCE:
        raise InvalidInput(f"at most {MAX_CLAIMS_AT_ONCE} claims at once")
    session = uow.session
    programme = _claimed_programme(uow, programme_id)
    now = uow.clock.now()
    answers: dict[str, Issued | ClaimRefused | UnknownSme] = {
        uscc: Issued(code, replayed=True)
        for uscc, code in _claimed_with_keys(uow, programme, keys).items()
    }
    smes = _smes_with_homes(uow, [uscc for uscc in keys if uscc not in answers])
    answers |= {uscc: unknown_sme(uscc) for uscc in keys if uscc not in answers | smes}
    rules = programme_rules(programme)
    within = subtree_ids(session, programme.owner_center_id)
    for uscc, (sme, home) in smes.items():
        try:
            check_eligibility(rules, applicant(sme, home, home.id in within), local_date(now))
        except ClaimRefused as refused:
            answers[uscc] = refused
    face = programme.voucher_face_value_fen
    waiting = [uscc for uscc in smes if uscc not in answers]
    claimed = take_allowances(uow, programme, [smes[uscc][0].id for uscc in waiting])
    for uscc in waiting:
        if (sme_id := smes[uscc][0].id) in claimed:
            answers[uscc] = cap_reached(programme.sme_cap_fen, claimed[sme_id], face)
    waiting = [uscc for uscc in waiting if uscc not in answers]
    plan = budgets.take_many(
        uow, programme, [(smes[uscc][1].code, uscc) for uscc in waiting], actor
    )
    payers = {}
    for uscc, payer in zip(waiting, plan, strict=True):
        if isinstance(payer, int):
            answers[uscc] = budget_exhausted(smes[uscc][1].code, payer, face)
        else:
            payers[uscc] = payer
    over = [uscc for uscc in waiting if uscc in answers]
    release_allowances(uow, programme.id, [smes[uscc][0].id for uscc in over], face)
    if over and _claimed_with_keys(uow, programme, {u: keys[u] for u in over}):
        # A twin run took the budget or cap these needed: a rerun replays its vouchers.
        raise ConcurrentRequest("a concurrent request claimed these vouchers")
    issued = {}
    for uscc in (uscc for uscc in waiting if uscc not in answers):
        sme, home = smes[uscc]
        row = voucher_row(programme, sme, home, now=now, signer=signer, actor=actor)
        issued[uscc] = row | {"claim_key": keys[uscc]}
        answers[uscc] = Issued(row["human_code"], replayed=False)
    posted = uow.journal.post_many(
        EntryKind.ISSUE,
        [
            NewEntry(
                issue_postings(row["public_id"], face, payers[uscc]),
                issue_refs(row["public_id"], programme, smes[uscc][0]),
            )
            for uscc, row in issued.items()
        ],
        actor,
    )
    spend_facts.record_all(
        uow,
        [
            (entry, spend_facts.Attribution(programme.id, smes[uscc][1].id), 1)
            for entry, uscc in zip(posted, issued, strict=True)
        ],
    )
    if issued:
        try:  # a plain multi-parameter insert, which the driver pipelines
            session.execute(insert(_vouchers), list(issued.values()))
        except IntegrityError as exc:  # a twin run's claim keys
            raise ConcurrentRequest("a concurrent request claimed these vouchers") from exc
    return answers


def _claimed_with_keys(
    uow: UnitOfWork, programme: Programme, keys: Mapping[str, str]
) -> dict[str, str]:
    """The human codes of the vouchers already claimed with these keys, by SME code."""
    by_key = {key: uscc for uscc, key in keys.items()}
    found = {}
    rows = uow.session.execute(
        select(Voucher.claim_key, Voucher.human_code, Voucher.programme_id, Sme.uscc)
        .join(Sme, Sme.id == Voucher.sme_id)
        .where(Voucher.claim_key.in_(by_key))
    )
    for key, code, programme_row_id, uscc in rows:
        if (programme_row_id, uscc) != (programme.id, by_key.get(key or "")):
            raise IdempotencyKeyReused("this idempotency key was used for another claim", key=key)
        found[uscc] = code
    return found


def _claimed_programme(uow: UnitOfWork, programme_id: uuid.UUID) -> Programme:
    """The programme claimed from, read as a transient object: claims only read it."""
    row = _PROGRAMME.run(uow.session.connection(), {"public_id": programme_id}).mapping()
    if row is None:
        raise PROGRAMMES.missing(programme_id)
    return loaded(Programme, row)


def _smes_with_homes(uow: UnitOfWork, usccs: list[str]) -> dict[str, tuple[Sme, Center]]:
    """The registered SMEs among these codes, each with its home center, in the given order."""
    rows = uow.session.execute(_SMES_WITH_HOMES, {"codes": usccs}).all()
    found = {sme.uscc: (sme, home) for sme, home in rows}
    return {uscc: found[uscc] for uscc in usccs if uscc in found}


_SMES_WITH_HOMES = (  # built once: every bulk claim runs it
    select(Sme, Center)
    .join(Center, Center.id == Sme.home_center_id)
    .where(Sme.uscc.in_(bindparam("codes", expanding=True)))
)
# A single claim's reads, at the driver (`persistence.prepared`), as transient objects.
_smes, _centers = table_of(Sme), table_of(Center)
_SME_WITH_HOME = Prepared(
    select(*labelled(Sme), *labelled(Center))
    .join_from(_smes, _centers, _centers.c.id == _smes.c.home_center_id)
    .where(_smes.c.uscc == bindparam("code"))
)
_PROGRAMME = Prepared(
    select(*labelled(Programme)).where(table_of(Programme).c.public_id == bindparam("public_id"))
)


def _issue(
    uow: UnitOfWork,
    programme: Programme,
    sme: Sme,
    home: Center,
    *,
    actor: Actor,
    signer: VoucherSigner,
) -> VoucherView:
    session = uow.session
    now = uow.clock.now()
    check_eligibility(
        programme_rules(programme),
        applicant(sme, home, is_within(session, home.id, programme.owner_center_id)),
        local_date(now),
    )
    face = programme.voucher_face_value_fen
    claimed = take_allowances(uow, programme, [sme.id])
    if claimed:
        raise cap_reached(programme.sme_cap_fen, claimed[sme.id], face)
    row = voucher_row(programme, sme, home, now=now, signer=signer, actor=actor)
    voucher = Voucher(**row)  # transient: read by the answer, written by the Core insert below

    def post_issue(budget: accounts.Account) -> PostedEntry:
        return uow.journal.post(
            EntryKind.ISSUE,
            issue_postings(voucher.public_id, face, budget),
            issue_refs(voucher.public_id, programme, sme),
            actor,
        )

    posted = budgets.issue_from(
        uow, programme, home.code, sme.uscc, actor=actor, post_issue=post_issue
    )
    spend_facts.record(uow, posted, spend_facts.Attribution(programme.id, home.id))
    try:
        _INSERT_VOUCHER.run(session.connection(), row)  # less than the ORM's flush costs
    except IntegrityError as exc:  # once in 2**50, a human code taken: a rerun draws another
        raise ConcurrentRequest("a concurrent request claimed this voucher") from exc
    return _voucher_view(
        uow,
        voucher,
        now,
        programme_id=programme.public_id,
        sme_uscc=sme.uscc,
        center=home.code,
        remaining=face,  # a new voucher is whole
    )


def programme_rules(programme: Programme) -> ProgrammeRules:
    return ProgrammeRules(
        programme.period_start,
        programme.period_end,
        {SizeClass(s) for s in programme.accepted_sizes},
        set(programme.accepted_industries),
    )


def applicant(sme: Sme, home: Center, in_programme_centers: bool) -> Applicant:
    return Applicant(size_of(sme), sme.industry, home.code, in_programme_centers)


def voucher_row(
    programme: Programme,
    sme: Sme,
    home: Center,
    *,
    now: datetime,
    signer: VoucherSigner,
    actor: Actor,
) -> dict[str, Any]:
    """The columns of a new voucher of the programme's face value for the SME, with its signed
    token (no claim key)."""
    voucher_id = uuid.uuid4()
    expires = now + timedelta(days=programme.voucher_validity_days)
    code = random_human_code()
    payload = VoucherPayload(
        human_code=code,
        sme_uscc=sme.uscc,
        face_value_fen=programme.voucher_face_value_fen,
        exp=int(expires.timestamp()),
    )
    return {
        "public_id": voucher_id,
        "human_code": code,
        "programme_id": programme.id,
        "sme_id": sme.id,
        "issuing_center_id": home.id,
        "face_value_fen": programme.voucher_face_value_fen,
        "subsidy_rate_bp": programme.subsidy_rate_bp,
        "service_categories": list(programme.service_categories),
        "issued_at": now,
        "expires_at": expires,
        "status": "active",
        "kid": signer.kid,
        "token": sign_voucher(payload, signer.kid, signer.private_key),
        "issued_by": actor.id,
    }


def issue_postings(voucher_id: uuid.UUID, face_fen: int, budget: accounts.Account) -> list[Posting]:
    """The `issue` entry's postings: the face value from the center's budget to the voucher."""
    return [
        Posting(budget.name, -face_fen),
        Posting(accounts.voucher(str(voucher_id)).name, face_fen),
    ]


def issue_refs(voucher_id: uuid.UUID, programme: Programme, sme: Sme) -> dict[str, str]:
    return {
        "programme": str(programme.public_id),
        "voucher": str(voucher_id),
        "sme": str(sme.public_id),
    }


def take_allowances(uow: UnitOfWork, programme: Programme, sme_ids: list[int]) -> dict[int, int]:
    """Count one voucher against each SME's cap for the programme, in one conditional update;
    return what the SMEs it did not fit had claimed already (empty when every one fitted)."""
    if not sme_ids:
        return {}
    if len(sme_ids) == 1:
        return _take_allowance(uow, programme, sme_ids[0])
    session = uow.session
    insert_ignoring_duplicates(
        session,
        _allowances,
        [
            {
                "sme_id": sme_id,
                "programme_id": programme.id,
                "claimed_fen": 0,
                "cap_fen": programme.sme_cap_fen,
            }
            for sme_id in sme_ids
        ],
        key=["sme_id", "programme_id"],
    )
    face = programme.voucher_face_value_fen
    taken = set(
        session.scalars(
            _TAKE_ALLOWANCES, {"programme": programme.id, "smes": sme_ids, "face": face}
        )
    )
    if len(taken) == len(sme_ids):
        return {}
    return dict(
        session.execute(
            select(ClaimAllowance.sme_id, ClaimAllowance.claimed_fen).where(
                ClaimAllowance.programme_id == programme.id,
                ClaimAllowance.sme_id.in_(set(sme_ids) - taken),
            )
        ).all()
    )


_allowances = table_of(ClaimAllowance)
_vouchers = table_of(Voucher)
_INSERT_VOUCHER = Prepared(insert(_vouchers))


def _taking_allowances(smes: ColumnElement[bool]) -> ReturningUpdate[tuple[int]]:
    """The update that counts a voucher against the allowance of each SME `smes` selects, where
    it fits, returning the SMEs it counted for: a bulk run's and a single claim's."""
    return (
        update(_allowances)
        .where(
            _allowances.c.programme_id == bindparam("programme"),
            smes,
            _allowances.c.claimed_fen + bindparam("face") <= _allowances.c.cap_fen,
        )
        .values(claimed_fen=_allowances.c.claimed_fen + bindparam("face"))
        .returning(_allowances.c.sme_id)
    )


_ONE_SME = _allowances.c.sme_id == bindparam("sme")
_TAKE_ALLOWANCES = _taking_allowances(_allowances.c.sme_id.in_(bindparam("smes", expanding=True)))
_TAKE_ALLOWANCE = Prepared(_taking_allowances(_ONE_SME))
_CLAIMED = Prepared(
    select(_allowances.c.claimed_fen).where(
        _allowances.c.programme_id == bindparam("programme"), _ONE_SME
    )
)


def _take_allowance(uow: UnitOfWork, programme: Programme, sme_id: int) -> dict[int, int]:
    """`take_allowances` for one SME (a single claim): the same statements, one SME's, run at
    the driver."""
    connection = uow.session.connection()
    _open_allowance(connection.dialect.name).run(
        connection,
        {"sme_id": sme_id, "programme_id": programme.id, "claimed_fen": 0,
         "cap_fen": programme.sme_cap_fen},
    )  # fmt: skip
    allowance = {"sme": sme_id, "programme": programme.id}
    face = programme.voucher_face_value_fen
    if _TAKE_ALLOWANCE.run(connection, {**allowance, "face": face}).first() is None:
        return {sme_id: _CLAIMED.run(connection, allowance).scalar_one()}  # it did not fit
    return {}


@lru_cache(maxsize=2)
def _open_allowance(dialect: str) -> Prepared:
    return Prepared(insert_or_ignore(dialect, _allowances, ("sme_id", "programme_id")))


def release_allowances(
    uow: UnitOfWork, programme_row_id: int, sme_ids: list[int], amount_fen: int
) -> None:
    """Give `amount_fen` back to each SME's allowance for the programme."""
    if sme_ids:
        uow.session.execute(
            update(ClaimAllowance)
            .where(
                ClaimAllowance.programme_id == programme_row_id,
                ClaimAllowance.sme_id.in_(sme_ids),
            )
            .values(claimed_fen=ClaimAllowance.claimed_fen - amount_fen)
            .execution_options(synchronize_session=False)
        )


# --- reading and verifying --------------------------------------------------------------------


@read_only
def get_voucher(uow: UnitOfWork, voucher_id: uuid.UUID) -> VoucherView:
    return _voucher_view(uow, uow.vouchers.by_public_id(voucher_id), uow.clock.now())


@read_only
def find_by_code(uow: UnitOfWork, human_code: str) -> VoucherView:
    code = normalise_human_code(human_code)
    voucher = uow.vouchers.find_by_code(code)
    if voucher is None:
        raise UnknownVoucher(f"no voucher with code {code}", code=code)
    return _voucher_view(uow, voucher, uow.clock.now())


@read_only
def list_vouchers(uow: UnitOfWork, sme_uscc: str | None = None) -> list[VoucherView]:
    """Every voucher (or one SME's), oldest first: one query for the vouchers, one for their
    balances."""
    now = uow.clock.now()
    query = (
        select(Voucher, Programme.public_id, Sme.uscc, Center.code)
        .join(Programme, Programme.id == Voucher.programme_id)
        .join(Sme, Sme.id == Voucher.sme_id)
        .join(Center, Center.id == Voucher.issuing_center_id)
        .order_by(Voucher.id)
    )
    if sme_uscc is not None:
        query = query.where(Sme.uscc == parse_uscc(sme_uscc))
    rows = uow.session.execute(query).all()
    holdings = [accounts.voucher(str(voucher.public_id)) for voucher, *_ in rows]
    balances = uow.journal.balances(holdings)
    return [
        _voucher_view(
            uow,
            voucher,
            now,
            programme_id=programme,
            sme_uscc=uscc,
            center=center,
            remaining=balances[holding.name],
        )
        for (voucher, programme, uscc, center), holding in zip(rows, holdings, strict=True)
    ]


@read_only
def verify_token(
    uow: UnitOfWork, token: str, public_keys: dict[str, Ed25519PublicKey]
) -> TokenCheck:
    """Check a token's signature and report the voucher's standing in the ledger.

    A signature proves a voucher was issued; only the ledger knows whether it is still worth
    anything. An expired token is refused (reason "expired") but its voucher is still shown.
    """
    now = uow.clock.now()
    try:
        payload = verify_voucher(token.strip(), public_keys, now, allow_expired=True)
    except InvalidVoucherToken as exc:
        return TokenCheck(False, str(exc.details["reason"]), None)
    voucher = uow.vouchers.find_by_code(payload.human_code)
    if voucher is None:
        return TokenCheck(False, "unknown_voucher", None)
    view = _voucher_view(uow, voucher, now)
    expired = payload.exp <= int(now.timestamp())
    return TokenCheck(not expired, "expired" if expired else None, view)


# --- revocation and expiry --------------------------------------------------------------------


def _return_unspent(uow: UnitOfWork, voucher: Voucher, kind: EntryKind, actor: Actor) -> int:
    """Post the voucher's whole balance back to the issuing center's budget; return it."""
    session = uow.session
    programme = session.get_one(Programme, voucher.programme_id)
    center = session.get_one(Center, voucher.issuing_center_id)
    vid, pid = str(voucher.public_id), str(programme.public_id)
    remaining = live_balance(uow, voucher)
    if remaining:
        posted = uow.journal.post(
            kind,
            [
                Posting(accounts.voucher(vid).name, -remaining),
                budgets.returned(center.code, programme, voucher.public_id, remaining),
            ],
            {"programme": pid, "voucher": vid},
            actor,
            f"{kind}:{vid}",  # a voucher is revoked or expired once
        )
        spend_facts.record(uow, posted, spend_facts.Attribution(programme.id, center.id))
    return remaining


@transaction
def revoke_voucher(
    uow: UnitOfWork, voucher_id: uuid.UUID, reason: str, actor: Actor
) -> VoucherView:
    """Revoke an active voucher: its unspent value returns to the issuing center, and to the
    SME's cap. The reason is shown to the SME."""
    text = require_reason(reason)
    voucher = uow.vouchers.by_public_id(voucher_id, lock=True)
    now = uow.clock.now()
    if voucher.status != "active" or voucher.expires_at <= now:
        status = "expired" if voucher.status == "active" else voucher.status
        raise InvalidTransition(
            f"voucher {voucher_id} is {status}; only an active voucher is revoked",
            rule="revoke_only_active",
        )
    # The allowance row before the accounts, in the order a claim locks them: a claim and a
    # revocation for one SME never wait on each other in a circle.
    release_allowances(uow, voucher.programme_id, [voucher.sme_id], live_balance(uow, voucher))
    _return_unspent(uow, voucher, EntryKind.REVOKE, actor)
    voucher.status, voucher.status_reason, voucher.closed_at = "revoked", text, now
    return _voucher_view(uow, voucher, now)


def expire_all(uow: UnitOfWork, actor: Actor) -> int:
    """Expire every voucher past its date, a batch per transaction; return how many."""
    total = 0
    while count := expire_due(uow, actor):
        total += count
    return total


@transaction
def expire_due(uow: UnitOfWork, actor: Actor, batch: int = 500) -> int:
    """Expire up to `batch` active vouchers past their expiry; return how many.

    Rows are claimed FOR UPDATE SKIP LOCKED, so expiry jobs in several processes share the work
    instead of doing it twice; each voucher's `expire` entry also carries a per-voucher key.
    """
    now = uow.clock.now()
    due = list(
        uow.session.scalars(
            select(Voucher)
            .where(Voucher.status == "active", Voucher.expires_at <= now)
            .order_by(Voucher.expires_at)
            .limit(batch)
            .with_for_update(skip_locked=True)
        )
    )
    for voucher in due:
        _return_unspent(uow, voucher, EntryKind.EXPIRE, actor)
        voucher.status, voucher.closed_at = "expired", now
    return len(due)


# --- tokens of an older contract --------------------------------------------------------------


def resign_tokens(uow: UnitOfWork, signer: VoucherSigner) -> int:
    """Sign again, under today's contract, the token of every active voucher signed under an
    older one (RFC 8037's ``EdDSA`` and a payload too long for a QR code a phone shows), a
    batch per transaction; return how many. The code, SME, face value and expiry stay; the old
    token keeps verifying until it expires (its key is still published), so a printed copy
    still redeems."""
    total, after = 0, 0
    while True:
        after, count = _resign_batch(uow, signer, after)
        total += count
        if after == 0:
            return total


@transaction
def _resign_batch(
    uow: UnitOfWork, signer: VoucherSigner, after: int, batch: int = 500
) -> tuple[int, int]:
    """`resign_tokens` for the next `batch` active vouchers by row id after `after`: the last
    id seen (0 when none is left) and how many were signed again."""
    rows = list(
        uow.session.execute(
            select(Voucher, Sme.uscc)
            .join(Sme, Sme.id == Voucher.sme_id)
            .where(Voucher.status == "active", Voucher.id > after)
            .order_by(Voucher.id)
            .limit(batch)
            .with_for_update(of=Voucher, skip_locked=True)
        )
    )
    signed = 0
    for voucher, uscc in rows:
        if is_current(voucher.token):
            continue
        payload = VoucherPayload(
            human_code=voucher.human_code,
            sme_uscc=uscc,
            face_value_fen=voucher.face_value_fen,
            exp=int(voucher.expires_at.timestamp()),
        )
        voucher.token, voucher.kid = (
            sign_voucher(payload, signer.kid, signer.private_key),
            signer.kid,
        )
        signed += 1
    return (rows[-1][0].id if rows else 0), signed
