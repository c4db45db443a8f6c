"""Idempotency-Key for every state-changing API request, kept per owner and key.

The key, the work and the stored answer commit in one transaction (DESIGN §4 invariant 5): the
request's unit of work is held open for the whole request (`HeldUnitOfWork`); its first write
`reserve`s the key, and `record` writes the answer just before everything commits together. So a
request that dies leaves no trace of its key; a retry after an outcome the client never heard
either finds the committed answer (`answer_for`) or runs once. Two requests with one key at once
queue on the reservation: the second finds the first's answer (`IdempotencyKeyAnswered`). A key is
kept `hours` (24 by default); `purge` forgets older ones, and an expired key may be used again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from voucher_app.domain.errors import (
    ConcurrentRequest,
    IdempotencyKeyAnswered,
    IdempotencyKeyReused,
    InvalidInput,
)
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.database import table_of
from voucher_app.persistence.models import IdempotentRequest
from voucher_app.persistence.prepared import Prepared
from voucher_app.persistence.uow import read_only, transaction

MAX_KEY = 200


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    status: int
    content_type: str | None
    body: bytes


def check_key(key: str) -> None:
    if not 0 < len(key) <= MAX_KEY:
        raise InvalidInput(f"an Idempotency-Key has 1 to {MAX_KEY} characters", field="key")


@read_only
def answer_for(
    uow: UnitOfWork, owner: str, key: str, digest: bytes, *, hours: int
) -> StoredAnswer | None:
    """The answer a request with this key got, when it committed (and has not expired);
    refused when the key was used for another request."""
    this_key = {"for_owner": owner, "for_key": key, "cutoff": _cutoff(uow, hours)}
    found = _ANSWER.run(uow.session.connection(), this_key).first()
    if found is None:
        return None
    request_digest, status, content_type, body = found
    if request_digest != digest:
        raise IdempotencyKeyReused("this Idempotency-Key was used for a different request")
    if status is None:  # only keys claimed before answers committed with the work
        raise ConcurrentRequest("the outcome of the request with this key is unknown")
    return StoredAnswer(status, content_type, body or b"")


def reserve(uow: UnitOfWork, owner: str, key: str, digest: bytes, *, hours: int) -> None:
    """Take the key inside the request's transaction, before its work. Another request holding
    it makes this one wait until that one commits or rolls back; if it committed, this one is
    refused (`IdempotencyKeyAnswered`), and its caller answers with the stored answer."""
    connection = uow.session.connection()
    this_key = {"for_owner": owner, "for_key": key, "cutoff": _cutoff(uow, hours)}
    _FORGET_EXPIRED.run(connection, this_key)
    try:
        _RESERVE.run(
            connection,
            {"owner": owner, "key": key, "request_digest": digest, "created_at": uow.clock.now()},
        )
    except IntegrityError as exc:
        raise IdempotencyKeyAnswered("a request with this key committed first") from exc


def record(uow: UnitOfWork, owner: str, key: str, answer: StoredAnswer) -> None:
    """Write the answer to the key claimed in this transaction."""
    _RECORD.run(
        uow.session.connection(),
        {
            "for_owner": owner,
            "for_key": key,
            "status": answer.status,
            "content_type": answer.content_type,
            "body": answer.body,
        },
    )


@transaction
def purge(uow: UnitOfWork, hours: int) -> int:
    """Forget the keys older than `hours`; answer how many."""
    purged = uow.session.execute(
        delete(IdempotentRequest).where(IdempotentRequest.created_at < _cutoff(uow, hours))
    )
    return int(purged.rowcount)  # type: ignore[attr-defined]


def _cutoff(uow: UnitOfWork, hours: int) -> datetime:
    return uow.clock.now() - timedelta(hours=hours)


# Every request under a key runs these: at the driver (`persistence.prepared`).
_requests = table_of(IdempotentRequest)
#: Named apart from the columns: an UPDATE keeps the columns' names for the values it sets.
_THIS_KEY = (_requests.c.owner == bindparam("for_owner"), _requests.c.key == bindparam("for_key"))
_ANSWER = Prepared(
    select(
        _requests.c.request_digest, _requests.c.status, _requests.c.content_type, _requests.c.body
    ).where(*_THIS_KEY, _requests.c.created_at >= bindparam("cutoff"))
)
_FORGET_EXPIRED = Prepared(
    delete(_requests).where(*_THIS_KEY, _requests.c.created_at < bindparam("cutoff"))
)
_RESERVE = Prepared(insert(_requests))
_RECORD = Prepared(update(_requests).where(*_THIS_KEY))  # sets the columns it is given
