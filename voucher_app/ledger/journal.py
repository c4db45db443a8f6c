"""The one writer of the journal: `post` an entry, `reverse` one, `open_account` with a floor.

`post` checks the postings (`domain.entries.check_postings`), applies each to its account's
cached balance with a conditional update — `balance + amount >= floor`, in account-name order so
concurrent writers never deadlock — then inserts the entry, its postings and a queue row for the
sequencer. The entry row is inserted after the balance row locks are held, so its id orders any
two entries that touch the same account the way they committed; the sequencer relies on that.

Posting is the hot path of every use case, so it runs prebuilt Core statements with bound
parameters (SQLAlchemy compiles each once) on the session's connection: one UPDATE … RETURNING
per posting, one INSERT each for the entry, all its postings (multi-row) and the queue row.
`post_many` posts a whole set of entries of one kind (bulk issuance) in a few statements: one
conditional update per existing account for the sum of its postings, one multi-row INSERT for
the accounts the set opens, and one each for the entries, their postings and the queue rows.
`restore` writes entries of a published log back as they were published (the tail a restore
from an older backup lost), the same way.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from psycopg.errors import UniqueViolation
from sqlalchemy import (
    BigInteger,
    Connection,
    Insert,
    bindparam,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from voucher_app.clock import Clock
from voucher_app.domain.accounts import Account, AccountKind, parse_account
from voucher_app.domain.actors import Actor, Role
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
from voucher_app.ledger.document import EntryRecord, MalformedEntry, check_refs
from voucher_app.ledger.tables import JournalEntry, JournalPosting, LedgerAccount, LogQueue
from voucher_app.persistence.database import (
    insert_ignoring_duplicates,
    insert_or_ignore,
    table_of,
)
from voucher_app.persistence.prepared import Prepared, insert_values

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
        balance = _BALANCE.run(self.session.connection(), {"account": account.name}).scalar()
        return balance or 0

    def balances(self, accounts: Sequence[Account], *, lock: bool = False) -> dict[str, int]:
        """The balance of each account by name (0 for one never posted to), in few queries;
        with `lock`, the rows stay locked (in name order) until the transaction ends."""
        names = sorted({a.name for a in accounts})
        found: dict[str, int] = dict.fromkeys(names, 0)
        for start in range(0, len(names), IN_LIST_CHUNK):
            chunk = names[start : start + IN_LIST_CHUNK]
            query = (
                select(LedgerAccount.name, LedgerAccount.balance_fen)
                .where(LedgerAccount.name.in_(chunk))
                .order_by(LedgerAccount.name)
            )
            rows = self.session.execute(query.with_for_update() if lock else query)
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
        """Post one entry. An `idempotency_key` is the ledger's own, for an entry that is posted
        once whoever tries (a voucher's `expire:` or `revoke:` entry): the same key again returns
        the first entry (`replayed`), and with other postings is refused."""
        ordered, refs = _checked(kind, postings, refs)
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
            row_id = _INSERT_ENTRY.run(
                connection,
                _entry_row(
                    entry_id,
                    kind,
                    now,
                    actor,
                    refs,
                    reverses_id=reverses.id if reverses else None,
                    idempotency_key=idempotency_key,
                    request_digest=digest,
                ),
            ).scalar_one()
        except IntegrityError as exc:
            # A concurrent twin committed the same idempotency key or reversal first; running
            # the use case again finds its result.
            raise ConcurrentRequest("a concurrent request posted this entry") from exc
        insert_values(
            connection,
            _postings,
            ("entry_id", "account_id", "amount_fen"),
            [(row_id, account_ids[p.account], p.amount_fen) for p in ordered],
        )
        _INSERT_QUEUE.run(connection, {"entry_id": row_id})
        self.posted = True
        return PostedEntry(
            entry_id, kind, now, ordered, refs, reverses.public_id if reverses else None
        )

    def post_many(
        self, kind: EntryKind, entries: Sequence[NewEntry], actor: Actor
    ) -> list[PostedEntry]:
        """Post every entry of the set, or none: `InsufficientFunds` if an account cannot take
        the sum of its postings. For bulk work; no idempotency keys (a bulk caller keys its own
        rows, as bulk issuance keys its vouchers).

        The accounts the set puts money into that are not open yet are opened holding it (an
        insert that leaves the open ones alone); the rest take the sum of their postings in
        one round of conditional updates.
        """
        checked = [_checked(kind, entry.postings, entry.refs) for entry in entries]
        if not checked:
            return []
        totals: dict[str, int] = {}
        for postings, _ in checked:
            for account, amount in postings:
                totals[account] = totals.get(account, 0) + amount
        connection = self.session.connection()
        money_in = {  # a funding account is opened with its programme, never by money coming in
            name: total
            for name, total in sorted(totals.items())
            if total > 0 and parse_account(name).kind is not AccountKind.FUNDING
        }
        opened = self._open_holding(connection, money_in) if money_in else {}
        existing = sorted(totals.keys() - opened.keys())  # name order, as in `post`
        self._apply_all(connection, [(account, totals[account]) for account in existing])
        now = self.clock.now()
        entry_ids = [uuid.uuid4() for _ in checked]
        rows = [
            _entry_row(entry_id, kind, now, actor, refs)
            for entry_id, (_, refs) in zip(entry_ids, checked, strict=True)
        ]
        if connection.dialect.name == "postgresql":
            _copy_set(connection, rows, [postings for postings, _ in checked])
        else:
            _insert_set(connection, rows, [postings for postings, _ in checked])
        self.posted = True
        return [
            PostedEntry(entry_id, kind, now, postings, refs, None)
            for entry_id, (postings, refs) in zip(entry_ids, checked, strict=True)
        ]

    def restore(self, entries: Sequence[EntryRecord]) -> list[int]:
        """Write entries exactly as a published log holds them (ids, times, actors, refs,
        reversals) and apply their postings to the balances; return their row ids in order.

        For the tail of a log restored from an older backup (`tail.import_tail`), which checks
        them against the signed root first and puts them in the log itself: they are not queued,
        and they carry no idempotency key. Accounts are opened and moved as in `post_many`; a
        funding account the database does not have yet (its programme came after the backup) is
        opened with the floor its postings reach.
        """
        if not entries:
            return []
        totals: dict[str, int] = {}
        lowest: dict[str, int] = {}
        for entry in entries:
            for account, amount in entry.postings:
                totals[account] = totals.get(account, 0) + amount
                lowest[account] = min(lowest.get(account, 0), totals[account])
        funding = {name for name in totals if parse_account(name).kind is AccountKind.FUNDING}
        for name in sorted(funding):
            self.open_account(parse_account(name), floor_fen=lowest[name])
        connection = self.session.connection()
        money_in = {
            name: total
            for name, total in sorted(totals.items())
            if total >= 0 and name not in funding
        }
        opened = self._open_holding(connection, money_in) if money_in else {}
        self._apply_all(
            connection,
            [
                (name, total)
                for name, total in sorted(totals.items())
                if total and name not in opened
            ],
        )
        row_ids: list[int] = []
        for entry in entries:
            row = _entry_row(
                uuid.UUID(entry.id),
                entry.kind,
                datetime.fromisoformat(entry.created_at),
                _published_actor(entry),
                entry.refs,
                reverses_id=self._row_id(entry.reverses) if entry.reverses else None,
            )
            row_ids.append(_INSERT_ENTRY.run(connection, row).scalar_one())
        connection.execute(
            _INSERT_POSTING_BY_NAME,
            [
                {"entry": uuid.UUID(entry.id), "account": account, "amount": amount}
                for entry in entries
                for account, amount in entry.postings
            ],
        )
        return row_ids

    def _row_id(self, public_id: str) -> int:
        row_id = self.session.scalar(
            select(JournalEntry.id).where(JournalEntry.public_id == uuid.UUID(public_id))
        )
        if row_id is None:
            raise UnknownEntry(f"no journal entry {public_id}", entry=public_id)
        return row_id

    def reverse(self, entry_id: uuid.UUID, actor: Actor) -> PostedEntry:
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
        already = self.session.scalar(
            select(JournalEntry.public_id).where(JournalEntry.reverses_id == original.id)
        )
        if already is not None:
            raise AlreadyReversed(
                f"entry {entry_id} was already reversed by {already}", reversed_by=str(already)
            )
        return self.post(EntryKind.REVERSE, negated, original.refs, actor, reverses=original)

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

        An account that does not exist yet is opened holding the amount, when it is money in
        (funding accounts excepted: a programme opens its own, with its floor).
        """
        params = {"account": account, "amount": amount_fen}
        account_id = _APPLY.run(connection, params).scalar()
        if account_id is not None:
            return int(account_id)
        if amount_fen > 0:
            opened = self._open_holding(connection, {account: amount_fen})
            if opened:
                return opened[account]
            account_id = _APPLY.run(connection, params).scalar()  # opened concurrently
            if account_id is not None:
                return int(account_id)
        balance = _BALANCE.run(connection, {"account": account}).scalar()
        raise InsufficientFunds(
            f"{account} holds {format_yuan(balance or 0)}, cannot take {format_yuan(-amount_fen)}",
            account=account,
            balance_fen=balance,
            requested_fen=-amount_fen,
        )

    def _apply_all(self, connection: Connection, amounts: Sequence[tuple[str, int]]) -> None:
        """`_apply` for many accounts in one round trip; when one would fall below its floor
        (or is not open), undo them all and apply them one by one to find it and say so."""
        if len(amounts) < 2:
            for account, amount in amounts:
                self._apply(connection, account, amount)
            return
        rows = [{"account": account, "amount": amount} for account, amount in amounts]
        savepoint = connection.begin_nested()
        if connection.execute(_APPLY_MANY, rows).rowcount == len(rows):
            savepoint.commit()
            return
        savepoint.rollback()
        for account, amount in amounts:
            self._apply(connection, account, amount)

    def _open_holding(self, connection: Connection, amounts: Mapping[str, int]) -> dict[str, int]:
        """Open those of these accounts that do not exist yet, each holding its (positive)
        amount; return the ids of the accounts opened. No funding account is opened here."""
        rows = _holding_rows(amounts)
        if connection.dialect.name == "postgresql":  # one short statement, whatever the count
            opened: Iterable[Any] = _OPEN_FROM_ARRAYS.run(
                connection,
                {key: [row[key] for row in rows] for key in ("name", "kind", "balance_fen")},
            )
        elif len(rows) == 1:  # a post's new account (a voucher's, a provider's)
            opened = _open_account(connection.dialect.name).run(connection, rows[0])
        else:
            opened = connection.execute(_open_accounts(connection.dialect.name), rows)
        return {name: account_id for account_id, name in opened}


def _holding_rows(amounts: Mapping[str, int]) -> list[dict[str, object]]:
    """Rows of new accounts holding these (positive) amounts; never a funding account."""
    rows: list[dict[str, object]] = []
    for name, amount in amounts.items():
        kind = parse_account(name).kind
        if kind is AccountKind.FUNDING:
            raise InvalidEntry(f"funding account {name} is not open", account=name)
        rows.append({"name": name, "kind": kind.value, "balance_fen": amount, "floor_fen": 0})
    return rows


_accounts = table_of(LedgerAccount)
_APPLY = Prepared(
    update(_accounts)
    .where(
        _accounts.c.name == bindparam("account"),
        _accounts.c.balance_fen + bindparam("amount") >= _accounts.c.floor_fen,
    )
    .values(balance_fen=_accounts.c.balance_fen + bindparam("amount"))
    .returning(_accounts.c.id)
)
_APPLY_MANY = (  # the same without RETURNING, which an executemany UPDATE cannot have
    update(_accounts)
    .where(
        _accounts.c.name == bindparam("account"),
        _accounts.c.balance_fen + bindparam("amount") >= _accounts.c.floor_fen,
    )
    .values(balance_fen=_accounts.c.balance_fen + bindparam("amount"))
)
_BALANCE = Prepared(select(_accounts.c.balance_fen).where(_accounts.c.name == bindparam("account")))
_INSERT_ENTRY = Prepared(insert(table_of(JournalEntry)).returning(table_of(JournalEntry).c.id))
_entries = table_of(JournalEntry)
_INSERT_ENTRY_PLAIN = insert(_entries)
_INSERT_QUEUE = Prepared(insert(table_of(LogQueue)))
_postings = table_of(JournalPosting)
_INSERT_POSTING_BY_NAME = insert(_postings).from_select(
    ["entry_id", "account_id", "amount_fen"],
    select(
        select(_entries.c.id).where(_entries.c.public_id == bindparam("entry")).scalar_subquery(),
        select(_accounts.c.id).where(_accounts.c.name == bindparam("account")).scalar_subquery(),
        bindparam("amount", type_=BigInteger),
    ),
)
_QUEUE_BY_PUBLIC_ID = insert(table_of(LogQueue)).from_select(
    ["entry_id"], select(_entries.c.id).where(_entries.c.public_id == bindparam("entry"))
)


#: The accounts' rows as one array per column, in name order (as every path locks them).
_OPEN_FROM_ARRAYS = Prepared(
    text(
        "INSERT INTO ledger_accounts (name, kind, balance_fen, floor_fen) "
        "SELECT name, kind, balance_fen, 0 FROM unnest("
        "CAST(:name AS VARCHAR[]), CAST(:kind AS VARCHAR[]), CAST(:balance_fen AS BIGINT[])"
        ") WITH ORDINALITY AS opening (name, kind, balance_fen, position) ORDER BY position "
        "ON CONFLICT (name) DO NOTHING RETURNING id, name"
    )
)


@lru_cache(maxsize=2)
def _open_accounts(dialect: str) -> Insert:
    """INSERT … ON CONFLICT (name) DO NOTHING RETURNING id, name: built once per dialect."""
    return insert_or_ignore(dialect, _accounts, ("name",)).returning(
        _accounts.c.id, _accounts.c.name
    )


@lru_cache(maxsize=2)
def _open_account(dialect: str) -> Prepared:
    """`_open_accounts` for one account, run at the driver."""
    return Prepared(_open_accounts(dialect))


def _insert_set(
    connection: Connection, rows: list[dict[str, object]], postings: list[tuple[Posting, ...]]
) -> None:
    """A set's entries, postings and queue rows as plain multi-parameter inserts, no
    RETURNING: the driver pipelines them, and the postings and queue rows find their entry and
    account ids in the database."""
    try:
        connection.execute(_INSERT_ENTRY_PLAIN, rows)
    except IntegrityError as exc:
        raise ConcurrentRequest("a concurrent request posted these entries") from exc
    connection.execute(
        _INSERT_POSTING_BY_NAME,
        [
            {"entry": row["public_id"], "account": account, "amount": amount}
            for row, own in zip(rows, postings, strict=True)
            for account, amount in own
        ],
    )
    connection.execute(_QUEUE_BY_PUBLIC_ID, [{"entry": row["public_id"]} for row in rows])


def _copy_set(
    connection: Connection, rows: list[dict[str, object]], postings: list[tuple[Posting, ...]]
) -> None:
    """The same on PostgreSQL with COPY, which takes thousands of rows for the cost of a few
    statements: the entries' ids are drawn from their sequence first (in order, so the log
    queues them as they were posted), and the accounts' ids looked up at once."""
    ids = sorted(connection.execute(_NEXT_ENTRY_IDS, {"count": len(rows)}).scalars())
    names = sorted({account for own in postings for account, _ in own})
    account_ids: dict[str, int] = {
        name: account_id for name, account_id in connection.execute(_ACCOUNT_IDS, {"names": names})
    }
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        with cursor.copy(_COPY_ENTRIES) as copy:
            for entry_id, row in zip(ids, rows, strict=True):
                copy.write_row(
                    (entry_id, row["public_id"], row["kind"], row["created_at"],
                     row["actor_id"], row["actor_role"], json.dumps(row["refs"]))
                )  # fmt: skip
    except UniqueViolation as exc:
        raise ConcurrentRequest("a concurrent request posted these entries") from exc
    with cursor.copy(_COPY_POSTINGS) as copy:
        for entry_id, own in zip(ids, postings, strict=True):
            for account, amount in own:
                copy.write_row((entry_id, account_ids[account], amount))
    with cursor.copy(_COPY_QUEUE) as copy:
        for entry_id in ids:
            copy.write_row((entry_id,))


_NEXT_ENTRY_IDS = text(
    "SELECT nextval(pg_get_serial_sequence('journal_entries', 'id')) "
    "FROM generate_series(1, :count)"
)
_ACCOUNT_IDS = text("SELECT name, id FROM ledger_accounts WHERE name = ANY(:names)")
_COPY_ENTRIES = (
    "COPY journal_entries (id, public_id, kind, created_at, actor_id, actor_role, refs) FROM STDIN"
)
_COPY_POSTINGS = "COPY journal_postings (entry_id, account_id, amount_fen) FROM STDIN"
_COPY_QUEUE = "COPY ledger_log_queue (entry_id) FROM STDIN"


@dataclass(frozen=True, slots=True)
class NewEntry:
    """One entry of a set for `Journal.post_many`."""

    postings: Sequence[Posting]
    refs: Mapping[str, str]


def _checked(
    kind: EntryKind, postings: Iterable[Posting], refs: Mapping[str, str]
) -> tuple[tuple[Posting, ...], dict[str, str]]:
    """The entry's postings in canonical order and its refs, or `InvalidEntry`."""
    try:
        refs = check_refs(refs)
    except MalformedEntry as exc:
        raise InvalidEntry(str(exc)) from exc
    return check_postings(kind, postings, programme=refs.get("programme")), refs


def _published_actor(entry: EntryRecord) -> Actor:
    try:
        return Actor(entry.actor_id, Role(entry.actor_role))
    except ValueError:
        raise InvalidEntry(f"entry {entry.id} names an unknown role {entry.actor_role!r}") from None


def _entry_row(
    entry_id: uuid.UUID,
    kind: EntryKind,
    now: datetime,
    actor: Actor,
    refs: Mapping[str, str],
    *,
    reverses_id: int | None = None,
    idempotency_key: str | None = None,
    request_digest: bytes | None = None,
) -> dict[str, object]:
    return {
        "public_id": entry_id,
        "kind": kind.value,
        "created_at": now,
        "actor_id": actor.id,
        "actor_role": actor.role.value,
        "refs": refs,
        "reverses_id": reverses_id,
        "idempotency_key": idempotency_key,
        "request_digest": request_digest,
    }


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
