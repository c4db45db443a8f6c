"""The one writer of the journal: `post` an entry, `reverse` one, `open_account` with a floor.

`post` checks the postings (`domain.entries.check_postings`), applies each to its account's
cached balance with a conditional update — `balance + amount >= floor`, in account-name order so
concurrent writers never deadlock — then inserts the entry, its postings and a queue row for the
sequencer. The entry row is inserted after the balance row locks are held, so its id orders any
two entries that touch the same account the way they committed; the sequencer relies on that.

Posting is the hot path of every use case, so it runs prebuilt Core statements with bound
parameters (SQLAlchemy compiles each once) on the session's connection: one UPDATE … RETURNING
per posting, one INSERT each for the entry, all its postings (multi-row) and the queue row.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from sqlalchemy import Connection, Table, TextClause, bindparam, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from voucher_app.clock import Clock
from voucher_app.domain.accounts import Account, AccountKind, parse_account
from voucher_app.domain.actors import Actor
from voucher_app.domain.entries import (
    EntryKind,
    Posting,
    check_postings,
)
from voucher_app.domain.errors import (
    AlreadyReversed,
    CannotReverseReversal,
    ConcurrentRequest,
    IdempotencyKeyReused,
    InsufficientFunds,
    InvalidEntry,
    InvalidInput,
    UnknownEntry,
)
from voucher_app.domain.money import format_yuan
from voucher_app.ledger.document import MalformedEntry, check_refs
from voucher_app.persistence.database import insert_ignoring_duplicates
from voucher_app.persistence.models import (
    JournalEntry,
    JournalPosting,
    LedgerAccount,
    LogQueue,
)

MAX_IDEMPOTENCY_KEY = 200
IN_LIST_CHUNK = 1000  # names per IN (…) list: well under SQLite's and PostgreSQL's limits


@dataclass(frozen=True, slots=True)
class PostedEntry:
    """What a caller learns about an entry it posted (or an earlier post of the same request)."""

    id: uuid.UUID
    kind: EntryKind
    created_at: datetime
    postings: tuple[Posting, ...]
    refs: Mapping[str, str]
    reverses: uuid.UUID | None
    replayed: bool = False


class Journal:
    def __init__(self, session: Session, clock: Clock) -> None:
        self.session = session
        self.clock = clock
        self.posted = False  # the unit of work sequences the log after committing entries

    def open_account(self, account: Account, *, floor_fen: int = 0) -> None:
        """Create an account that may go down to `floor_fen` (negative only for funding)."""
        if floor_fen and account.kind is not AccountKind.FUNDING:
            raise InvalidInput("only a funding account has a floor below zero")
        insert_ignoring_duplicates(
            self.session,
            LedgerAccount.__table__,  # type: ignore[arg-type]
            [
                {
                    "name": account.name,
                    "kind": account.kind.value,
                    "balance_fen": 0,
                    "floor_fen": floor_fen,
                }
            ],
            key=["name"],
        )

    def balance(self, account: Account) -> int:
        balance = self.session.scalar(
            select(LedgerAccount.balance_fen).where(LedgerAccount.name == account.name)
        )
        return balance or 0

    def balances(self, accounts: Sequence[Account]) -> dict[str, int]:
        """The balance of each account by name (0 for one never posted to), in few queries."""
        names = [a.name for a in accounts]
        found: dict[str, int] = dict.fromkeys(names, 0)
        for start in range(0, len(names), IN_LIST_CHUNK):
            chunk = names[start : start + IN_LIST_CHUNK]
            rows = self.session.execute(
                select(LedgerAccount.name, LedgerAccount.balance_fen).where(
                    LedgerAccount.name.in_(chunk)
                )
            )
            found.update((name, balance) for name, balance in rows)
        return found

    def post(
        self,
        kind: EntryKind,
        postings: Iterable[Posting],
        refs: Mapping[str, str],
        actor: Actor,
        idempotency_key: str | None = None,
        *,
        reverses: JournalEntry | None = None,
    ) -> PostedEntry:
        try:
            refs = check_refs(refs)
        except MalformedEntry as exc:
            raise InvalidEntry(str(exc)) from exc
        ordered = check_postings(kind, postings, programme=refs.get("programme"))
        digest = None
        if idempotency_key is not None:
            digest = _request_digest(kind, ordered, refs, reverses)
            replay = self._replay(idempotency_key, digest)
            if replay is not None:
                return replay
        connection = self.session.connection()
        try:
            account_ids = {
                posting.account: self._apply(connection, posting.account, posting.amount_fen)
                for posting in ordered  # account-name order: every writer locks in the same order
            }
        except InsufficientFunds:
            # A twin request with the same key may have taken the money while this one waited
            # for its locks: then the answer is the twin's entry, which a rerun replays.
            if idempotency_key is not None and self._key_taken(idempotency_key):
                raise ConcurrentRequest("a concurrent request posted this entry") from None
            raise
        now = self.clock.now()
        entry_id = uuid.uuid4()
        try:
            row_id = connection.execute(
                _INSERT_ENTRY,
                {
                    "public_id": entry_id,
                    "kind": kind.value,
                    "created_at": now,
                    "actor_id": actor.id,
                    "actor_role": actor.role.value,
                    "refs": refs,
                    "reverses_id": reverses.id if reverses else None,
                    "idempotency_key": idempotency_key,
                    "request_digest": digest,
                },
            ).scalar_one()
        except IntegrityError as exc:
            # A concurrent twin committed the same idempotency key or reversal first; running
            # the use case again finds its result.
            raise ConcurrentRequest("a concurrent request posted this entry") from exc
        params: dict[str, int] = {"entry_id": row_id}
        for number, posting in enumerate(ordered):
            params[f"account_{number}"] = account_ids[posting.account]
            params[f"amount_{number}"] = posting.amount_fen
        connection.execute(_insert_postings(len(ordered)), params)
        connection.execute(_INSERT_QUEUE, {"entry_id": row_id})
        self.posted = True
        return PostedEntry(
            entry_id, kind, now, ordered, refs, reverses.public_id if reverses else None
        )

    def reverse(
        self, entry_id: uuid.UUID, actor: Actor, idempotency_key: str | None = None
    ) -> PostedEntry:
        """Post the exact negation of entry `entry_id`, naming it. An entry is reversed once."""
        # Locking the original serialises concurrent reversals of it, so the losers see the
        # winner's reversal below (rather than the balance it already moved).
        original = self.session.scalar(
            select(JournalEntry).where(JournalEntry.public_id == entry_id).with_for_update()
        )
        if original is None:
            raise UnknownEntry(f"no journal entry {entry_id}", entry=str(entry_id))
        postings = self.postings_of(original.id)
        negated = tuple(Posting(p.account, -p.amount_fen) for p in postings)
        if original.kind == EntryKind.REVERSE:
            raise CannotReverseReversal("a reversal cannot be reversed; post a new entry instead")
        if idempotency_key is not None:
            replay = self._replay(
                idempotency_key,
                _request_digest(EntryKind.REVERSE, tuple(sorted(negated)), original.refs, original),
            )
            if replay is not None:
                return replay
        already = self.session.scalar(
            select(JournalEntry.public_id).where(JournalEntry.reverses_id == original.id)
        )
        if already is not None:
            raise AlreadyReversed(
                f"entry {entry_id} was already reversed by {already}", reversed_by=str(already)
            )
        return self.post(
            EntryKind.REVERSE, negated, original.refs, actor, idempotency_key, reverses=original
        )

    def postings_of(self, entry_row_id: int) -> tuple[Posting, ...]:
        rows = self.session.execute(
            select(LedgerAccount.name, JournalPosting.amount_fen)
            .join(LedgerAccount, LedgerAccount.id == JournalPosting.account_id)
            .where(JournalPosting.entry_id == entry_row_id)
        )
        return tuple(sorted(Posting(name, amount) for name, amount in rows))

    def _replay(self, idempotency_key: str, digest: bytes) -> PostedEntry | None:
        if not 0 < len(idempotency_key) <= MAX_IDEMPOTENCY_KEY:
            raise InvalidInput("an idempotency key has 1 to 200 characters")
        entry = self.session.scalar(
            select(JournalEntry).where(JournalEntry.idempotency_key == idempotency_key)
        )
        if entry is None:
            return None
        if entry.request_digest != digest:
            raise IdempotencyKeyReused(
                "this idempotency key was used for a different request", key=idempotency_key
            )
        reversed_id = None
        if entry.reverses_id is not None:
            reversed_id = self.session.scalar(
                select(JournalEntry.public_id).where(JournalEntry.id == entry.reverses_id)
            )
        return PostedEntry(
            entry.public_id,
            EntryKind(entry.kind),
            entry.created_at,
            self.postings_of(entry.id),
            entry.refs,
            reversed_id,
            replayed=True,
        )

    def _key_taken(self, idempotency_key: str) -> bool:
        return (
            self.session.scalar(
                select(JournalEntry.id).where(JournalEntry.idempotency_key == idempotency_key)
            )
            is not None
        )

    def _apply(self, connection: Connection, account: str, amount_fen: int) -> int:
        """Add `amount_fen` to `account` unless it would fall below its floor; return its id.

        An account that does not exist yet is opened (funding accounts excepted: a programme
        opens its own, with its floor) and the update tried again.
        """
        params = {"account": account, "amount": amount_fen}
        account_id = connection.execute(_APPLY, params).scalar()
        if account_id is not None:
            return int(account_id)
        balance = connection.execute(_BALANCE, {"account": account}).scalar()
        if balance is None:
            parsed = parse_account(account)
            if parsed.kind is AccountKind.FUNDING:
                raise InvalidEntry(f"funding account {account} is not open", account=account)
            self.open_account(parsed)
            account_id = connection.execute(_APPLY, params).scalar()
            if account_id is not None:
                return int(account_id)
            balance = connection.execute(_BALANCE, {"account": account}).scalar()
        raise InsufficientFunds(
            f"{account} holds {format_yuan(balance or 0)}, cannot take {format_yuan(-amount_fen)}",
            account=account,
            balance_fen=balance,
            requested_fen=-amount_fen,
        )


def _table(model: type) -> Table:
    table: Table = model.__table__  # type: ignore[attr-defined]
    return table


_accounts = _table(LedgerAccount)
_APPLY = (
    update(_accounts)
    .where(
        _accounts.c.name == bindparam("account"),
        _accounts.c.balance_fen + bindparam("amount") >= _accounts.c.floor_fen,
    )
    .values(balance_fen=_accounts.c.balance_fen + bindparam("amount"))
    .returning(_accounts.c.id)
)
_BALANCE = select(_accounts.c.balance_fen).where(_accounts.c.name == bindparam("account"))
_INSERT_ENTRY = insert(_table(JournalEntry)).returning(_table(JournalEntry).c.id)
_INSERT_QUEUE = insert(_table(LogQueue))


@lru_cache(maxsize=16)
def _insert_postings(count: int) -> TextClause:
    """One multi-row INSERT for an entry's `count` postings: one round trip, compiled once.

    Plain SQL: the values are integers, and SQLAlchemy does not cache the compiled form of a
    multi-row `insert().values([...])`.
    """
    rows = ", ".join(f"(:entry_id, :account_{n}, :amount_{n})" for n in range(count))
    return text(f"INSERT INTO journal_postings (entry_id, account_id, amount_fen) VALUES {rows}")


def _request_digest(
    kind: EntryKind,
    postings: tuple[Posting, ...],
    refs: Mapping[str, str],
    reverses: JournalEntry | None,
) -> bytes:
    material = {
        "kind": kind.value,
        "postings": [[p.account, p.amount_fen] for p in postings],
        "refs": dict(sorted(refs.items())),
        "reverses": str(reverses.public_id) if reverses else None,
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).digest()
