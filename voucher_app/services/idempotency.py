"""Idempotency-Key for every state-changing API request, kept per owner and key.

`begin` claims the key before the request runs, in a transaction of its own: a retry with
the same body then finds the stored answer (or that the first attempt is still running), and
a different body under the same key is refused. `finish` stores the answer; `abandon` frees
the key when the request failed on the server's side, so a retry runs again. Money-moving
services also keep their own keys in the journal; this layer gives every route the same
contract.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from voucher_app.domain.errors import ConcurrentRequest, IdempotencyKeyReused, InvalidInput
from voucher_app.persistence.models import IdempotentRequest
from voucher_app.persistence.uow import UnitOfWork, transaction

MAX_KEY = 200


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    status: int
    content_type: str | None
    body: bytes


@transaction
def begin(uow: UnitOfWork, owner: str, key: str, digest: bytes) -> StoredAnswer | None:
    """None when this request may run (the key is now taken by it); the stored answer when
    the same request ran before. Refused: the key with another body, or while its first
    request still runs."""
    if not 0 < len(key) <= MAX_KEY:
        raise InvalidInput(f"an Idempotency-Key has 1 to {MAX_KEY} characters", field="key")
    session = uow.session
    found = session.scalar(
        select(IdempotentRequest).where(
            IdempotentRequest.owner == owner, IdempotentRequest.key == key
        )
    )
    if found is None:
        try:
            with session.begin_nested():
                session.add(
                    IdempotentRequest(
                        owner=owner, key=key, request_digest=digest, created_at=uow.clock.now()
                    )
                )
        except IntegrityError as exc:  # a twin took the key first: answer as for a found one
            raise ConcurrentRequest("a request with this Idempotency-Key is running") from exc
        return None
    if found.request_digest != digest:
        raise IdempotencyKeyReused("this Idempotency-Key was used for a different request")
    if found.status is None:
        raise ConcurrentRequest("a request with this Idempotency-Key is still running")
    return StoredAnswer(found.status, found.content_type, found.body or b"")


@transaction
def finish(uow: UnitOfWork, owner: str, key: str, answer: StoredAnswer) -> None:
    uow.session.execute(
        update(IdempotentRequest)
        .where(IdempotentRequest.owner == owner, IdempotentRequest.key == key)
        .values(status=answer.status, content_type=answer.content_type, body=answer.body)
    )


@transaction
def abandon(uow: UnitOfWork, owner: str, key: str) -> None:
    uow.session.execute(
        delete(IdempotentRequest).where(
            IdempotentRequest.owner == owner, IdempotentRequest.key == key
        )
    )
