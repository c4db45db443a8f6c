"""Ledger use case: have the latest checkpoint cosigned by the configured witnesses, and say
how it stands against the quorum.

The requests go out between transactions (a witness may take seconds, or not answer), each
from what one read saw: the latest checkpoint, who cosigned it already, and the size each
witness holds for this log. A witness that answers 409 with another size is asked once more
from that size; one that holds a larger tree than this log has (a log restored from an older
state, DESIGN §7) cannot be caught up, and that is what is recorded and reported: the log's
checkpoint and the size the witness cosigned.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from voucher_app.domain.errors import NoCheckpoint
from voucher_app.ledger import checkpoints, store
from voucher_app.ledger.tables import LedgerCheckpoint, LedgerCosignature, WitnessContact
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.ledger.witnesses import Answer, Post, Witness, WitnessPolicy, http_post
from voucher_app.persistence.uow import read_only, transaction
from voucher_app.signing.cosignature import Cosignature, cosigned_by, with_cosignatures
from voucher_app.signing.note import NoteError
from voucher_app.witness.protocol import request_body


@dataclass(frozen=True)
class Latest:
    checkpoint_id: int
    size: int
    note: str  # the log's own signed note, without cosignatures
    cosigned: frozenset[str]  # the witnesses whose cosignatures it carries
    held: dict[str, int]  # witness → the tree size it holds for this log


@dataclass(frozen=True)
class Outcome:
    """What one witness answered about the latest checkpoint."""

    witness: str
    cosigned: bool
    status: int  # the last HTTP status (0: unreachable; 200 also when cosigned before)
    message: str


@dataclass(frozen=True)
class Standing:
    """The latest checkpoint against the witness policy: who cosigned it, who did not and why."""

    tree_size: int
    quorum: int
    cosigners: list[tuple[str, datetime]]  # (witness, the time its cosignature states)
    contacts: dict[str, tuple[int, int, str]]  # witness → (size it holds, status, message)

    @property
    def met(self) -> bool:
        return len(self.cosigners) >= self.quorum


@read_only
def _latest(uow: UnitOfWork) -> Latest:
    row = checkpoints.latest(uow.session)
    cosigned = uow.session.scalars(
        select(LedgerCosignature.witness).where(LedgerCosignature.checkpoint_id == row.id)
    ).all()
    contacts = uow.session.execute(select(WitnessContact.witness, WitnessContact.tree_size))
    held = {str(name): int(size) for name, size in contacts}
    return Latest(row.id, row.tree_size, row.note, frozenset(cosigned), held)


@read_only
def _consistency(uow: UnitOfWork, first: int, second: int) -> list[bytes]:
    if not 0 < first < second:
        return []
    return store.consistency_proof(uow.session, first, second)


@transaction
def _record(
    uow: UnitOfWork,
    witness: str,
    answer: Answer,
    *,
    held: int,
    message: str,
    cosignature: tuple[int, Cosignature] | None = None,
) -> None:
    session = uow.session
    if cosignature is not None:
        checkpoint_id, found = cosignature
        session.execute(
            insert(LedgerCosignature).values(
                checkpoint_id=checkpoint_id,
                witness=found.witness,
                signed_at=datetime.fromtimestamp(found.timestamp, UTC),
                line=found.line,
            )
        )
    contact = session.get(WitnessContact, witness)
    if contact is None:
        contact = WitnessContact(witness=witness)
        session.add(contact)
    contact.tree_size = held
    contact.status = answer.status
    contact.message = message
    contact.contacted_at = uow.clock.now()


def cosign_checkpoint(
    uow: UnitOfWork, policy: WitnessPolicy, post: Post = http_post
) -> list[Outcome]:
    """Ask every configured witness that has not cosigned the latest checkpoint to cosign it."""
    if not policy.witnesses:
        return []
    try:
        latest = _latest(uow)
    except NoCheckpoint:
        return []  # nothing signed yet
    return [
        Outcome(w.name, True, 200, "cosigned before")
        if w.name in latest.cosigned
        else _ask(uow, w, latest, post)
        for w in policy.witnesses
    ]


def _ask(uow: UnitOfWork, witness: Witness, latest: Latest, post: Post) -> Outcome:
    old = latest.held.get(witness.name, 0)
    for _attempt in range(2):
        if old > latest.size:
            if _latest(uow).checkpoint_id != latest.checkpoint_id:
                return Outcome(witness.name, False, 409, "a newer checkpoint is being cosigned")
            message = (
                f"the witness cosigned this log at tree size {old}, more than its checkpoint of "
                f"{latest.size}: the log lost entries it had published (a restore from an older "
                "state?) and cannot be cosigned"
            )
            _record(uow, witness.name, Answer(409, "", ""), held=old, message=message)
            return Outcome(witness.name, False, 409, message)
        body = request_body(old, _consistency(uow, old, latest.size), latest.note)
        answer = post(witness.add_checkpoint_url, body)
        held = answer.held_size
        if held is None or held == old:
            break
        old = held
    if answer.status != 200:
        message = answer.body.strip() or f"HTTP {answer.status}"
        _record(uow, witness.name, answer, held=held if held is not None else old, message=message)
        return Outcome(witness.name, False, answer.status, message)
    lines = [line + "\n" for line in answer.body.splitlines() if line]
    try:
        found = cosigned_by(with_cosignatures(latest.note, lines), [witness.verifier])
    except NoteError as exc:
        found, problem = [], str(exc)
    else:
        problem = "the answer carries no cosignature by the witness's key"
    if not found:
        _record(uow, witness.name, answer, held=latest.size, message=problem)
        return Outcome(witness.name, False, 200, problem)
    try:
        _record(
            uow,
            witness.name,
            answer,
            held=latest.size,
            message="cosigned",
            cosignature=(latest.checkpoint_id, found[0]),
        )
    except IntegrityError:  # another run (the job, `ledger cosign`) stored its cosignature first
        return Outcome(witness.name, True, 200, "cosigned before")
    return Outcome(witness.name, True, 200, "cosigned")


@read_only
def cosigned_note(uow: UnitOfWork) -> str:
    """The latest checkpoint as published: the log's note and the cosignatures it got."""
    return checkpoints.cosigned_note(uow.session, checkpoints.latest(uow.session))


@read_only
def standing(uow: UnitOfWork, policy: WitnessPolicy) -> Standing | None:
    """How the latest checkpoint stands against the policy; None without witnesses configured
    or before any checkpoint."""
    if not policy.witnesses:
        return None  # nothing to read
    try:
        row = checkpoints.latest(uow.session)
    except NoCheckpoint:
        return None
    return _standing(uow.session, row, policy)


@dataclass(frozen=True)
class PublishedHead:
    """The latest checkpoint as the public ledger page shows it."""

    tree_size: int
    created_at: datetime
    note: str  # the log's note and the cosignatures it got
    standing: Standing | None


@read_only
def published_head(uow: UnitOfWork, policy: WitnessPolicy) -> PublishedHead | None:
    """The latest checkpoint, its cosigned note and how it stands, read in one snapshot (so a
    checkpoint signed meanwhile cannot mix into what is shown); None before any checkpoint."""
    try:
        row = checkpoints.latest(uow.session)
    except NoCheckpoint:
        return None
    note = checkpoints.cosigned_note(uow.session, row)
    return PublishedHead(row.tree_size, row.created_at, note, _standing(uow.session, row, policy))


def _standing(session: Session, row: LedgerCheckpoint, policy: WitnessPolicy) -> Standing | None:
    if not policy.witnesses:
        return None
    cosigners = [
        (str(name), at)
        for name, at in session.execute(
            select(LedgerCosignature.witness, LedgerCosignature.signed_at)
            .where(LedgerCosignature.checkpoint_id == row.id)
            .order_by(LedgerCosignature.id)
        )
    ]
    configured = {w.name for w in policy.witnesses}
    contacts = {
        name: (size, status, message)
        for name, size, status, message in session.execute(
            select(
                WitnessContact.witness,
                WitnessContact.tree_size,
                WitnessContact.status,
                WitnessContact.message,
            )
        )
        if name in configured
    }
    return Standing(
        row.tree_size,
        policy.quorum,
        [(name, at) for name, at in cosigners if name in configured],
        contacts,
    )
