"""Idempotency-Key for every state-changing API request, kept per owner and key.

The key, the work and the stored answer commit in one transaction (DESIGN §4 invariant 5): the
request's unit of work is held open for the whole request (`HeldUnitOfWork`); it `take`s the key
before anything else, and `record` writes the answer just before everything commits together.
So a request that dies leaves no trace of its key; a retry after an outcome the client never
heard either finds the committed answer (`take` answers with it) or runs once. Two requests with
one key at once queue on the reservation: the second gets the first's answer. A key is kept
`hours` (24 by default); `purge` forgets older ones, and an expired key may be used again: the
reservation takes it over in the same statement. `reserve` takes the key again when a request's
transaction was lost and begun anew.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, null, select, update

from voucher_app.domain.errors import (
    ConcurrentRequest,
    IdempotencyKeyAnswered,
    IdempotencyKeyReused,
    InvalidInput,
)
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.database import dialect_insert, table_of
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
    return _stored(uow, owner, key, digest, hours)


def take(
    uow: UnitOfWork, owner: str, key: str, digest: bytes, *, hours: int
) -> StoredAnswer | None:
    """Take the key inside the request's transaction, before its work, in one statement (a new
    key is inserted, an expired one taken over), and answer None; or, if a request with the key
    committed first, answer with its answer, read in this transaction. Another request holding
    the key makes this one wait until that one commits or rolls back."""
    connection = uow.session.connection()
    taken = _RESERVE[connection.dialect.name].run(
        connection,
        {
            "owner": owner,
            "key": key,
            "request_digest": digest,
            "created_at": uow.clock.now(),
            "cutoff": _cutoff(uow, hours),
        },
    )
    if taken.first() is not None:
        return None
    stored = _stored(uow, owner, key, digest, hours)
    if stored is None:  # expired between the two statements: the client may send it again
        raise ConcurrentRequest("a request with this Idempotency-Key just ended")
    return stored


def reserve(uow: UnitOfWork, owner: str, key: str, digest: bytes, *, hours: int) -> None:
    """`take` the key, or be refused (`IdempotencyKeyAnswered`) if a request with it committed
    first: the caller answers with that request's answer."""
    if take(uow, owner, key, digest, hours=hours) is not None:
        raise IdempotencyKeyAnswered("a request with this key committed first")


def _stored(
    uow: UnitOfWork, owner: str, key: str, digest: bytes, hours: int
) -> StoredAnswer | None:
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


def _reservation(dialect: str) -> Prepared:
    """INSERT the key; where it is held already, take it over only if it has expired (its
    answer forgotten), and return a row only when the key was taken."""
    new = dialect_insert(dialect, _requests)
    return Prepared(
        new.on_conflict_do_update(
            index_elements=[_requests.c.owner, _requests.c.key],
            set_={
                "request_digest": new.excluded.request_digest,
                "created_at": new.excluded.created_at,
                "status": null(),
                "content_type": null(),
                "body": null(),
            },
            where=_requests.c.created_at < bindparam("cutoff"),
        ).returning(_requests.c.id)
    )


_RESERVE = {dialect: _reservation(dialect) for dialect in ("postgresql", "sqlite")}
_RECORD = Prepared(update(_requests).where(*_THIS_KEY))  # sets the columns it is given
