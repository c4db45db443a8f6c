"""The witness's own database: the head it cosigned per log, and the evidence it kept.

The spec's one hard rule for a witness's state: checking the old size against the held head and
storing the new head must be one atomic step, or two racing requests could roll a log back
(c2sp.org/tlog-witness). `add_checkpoint` stores with a conditional write (an insert that the
primary key refuses, or an update only while the head is still the one judged), so of two
requests from the same head one is cosigned and the other is told the new size (409), on SQLite
and PostgreSQL alike, without holding a lock while the proof is checked.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from voucher_app.persistence.database import Database
from voucher_app.signing.note import (
    Checkpoint,
    Verifier,
    parse_checkpoint,
    signature_line,
    split_note,
)
from voucher_app.witness.protocol import Head, Refused, Request, judge, origin_of

VERSION_TABLE = "witness_alembic_version"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"

metadata = MetaData()
heads = Table(
    "witness_heads",
    metadata,
    Column("origin", String(255), primary_key=True),
    Column("tree_size", BigInteger, nullable=False),
    Column("root_hash", LargeBinary(32), nullable=False),
    Column("note", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
evidence = Table(
    "witness_evidence",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("origin", String(255), nullable=False, index=True),
    Column("kind", String(20), nullable=False),
    Column("tree_size", BigInteger, nullable=False),  # the offered checkpoint's
    Column("root_hash", LargeBinary(32), nullable=False),
    Column("held_note", Text, nullable=False),
    Column("offered_note", Text, nullable=False),
    Column("proof", Text, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("origin", "kind", "tree_size", "root_hash"),
)


def migrate(database_url: str) -> None:
    """Bring the witness's database to its latest schema."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["database_url"] = database_url
    command.upgrade(config, "head")


@dataclass(frozen=True)
class Kept:
    """A conflicting pair: the head the witness held and the checkpoint offered against it."""

    origin: str
    kind: str
    held_note: str
    offered_note: str
    proof: list[str]
    received_at: datetime


def _held(connection: Connection, origin: str) -> tuple[Head, datetime] | None:
    row = connection.execute(
        select(heads.c.tree_size, heads.c.root_hash, heads.c.note, heads.c.updated_at).where(
            heads.c.origin == origin
        )
    ).first()
    if row is None:
        return None
    stored: datetime = row[3]  # SQLite gives it back without its zone: it was stored in UTC
    at = stored if stored.tzinfo is not None else stored.replace(tzinfo=UTC)
    return Head(int(row[0]), bytes(row[1]), str(row[2])), at


def held_head(database: Database, origin: str) -> Head | None:
    """The head the witness holds for the log of `origin` (None: it never cosigned one)."""
    with database.engine.connect() as connection:
        found = _held(connection, origin)
    return None if found is None else found[0]


def add_checkpoint(
    database: Database,
    request: Request,
    logs: Mapping[str, Sequence[Verifier]],
    now: datetime,
) -> tuple[Checkpoint, datetime]:
    """Judge a request against the held head and store its checkpoint as the new head, in one
    atomic step; `Refused` otherwise (after keeping any evidence it carries).

    Returns the checkpoint and the time to cosign it at: `now`, or the held head's time if that
    is later, so that a larger tree is never cosigned at an earlier time than a smaller one.
    A request for the head already held (same size and root) is cosigned again, once the head
    is seen to be still the one held.
    """
    origin = origin_of(request.note)
    with database.engine.connect() as connection:
        found = _held(connection, origin)
    held, held_at = found if found is not None else (None, now)
    try:
        checkpoint = judge(request, logs, held)
    except Refused as refused:
        if refused.evidence is not None and held is not None:
            _keep(database, refused.evidence, held, request, logs[origin], now=now)
        raise
    when = max(now, held_at)
    values: dict[str, Any] = {
        "tree_size": checkpoint.size,
        "root_hash": checkpoint.root,
        "updated_at": when,
    }
    if held is None or checkpoint.size != held.size:
        values["note"] = request.note
    try:
        with database.engine.begin() as connection:
            if held is None:
                connection.execute(insert(heads).values(origin=origin, **values))
                return checkpoint, when
            stored = connection.execute(
                update(heads)
                .where(
                    heads.c.origin == origin,
                    heads.c.tree_size == held.size,
                    heads.c.root_hash == held.root,
                )
                .values(**values)
            )
            if stored.rowcount == 1:
                return checkpoint, when
    except IntegrityError:
        pass  # another request stored the first head of this log first
    now_held = held_head(database, origin)
    size = now_held.size if now_held is not None else 0
    raise Refused.holding(size)


def _log_signed(note: str, keys: Sequence[Verifier]) -> str:
    """The note with only the log's own signature lines: what evidence keeps of it."""
    text, signatures = split_note(note)
    known = {(key.name, key.key_id) for key in keys}
    lines = [signature_line(name, raw) for name, raw in signatures if (name, raw[:4]) in known]
    return text + "\n" + "".join(lines)


def _keep(
    database: Database,
    kind: str,
    held: Head,
    request: Request,
    keys: Sequence[Verifier],
    *,
    now: datetime,
) -> None:
    """Keep a conflicting pair once per offered checkpoint (its size and root), whatever else
    the request carried: a replayed request adds nothing."""
    offered = parse_checkpoint(split_note(request.note)[0])
    row = {
        "origin": offered.origin,
        "kind": kind,
        "tree_size": offered.size,
        "root_hash": offered.root,
        "held_note": _log_signed(held.note, keys),
        "offered_note": _log_signed(request.note, keys),
        "proof": "".join(base64.b64encode(h).decode() + "\n" for h in request.proof),
        "received_at": now,
    }
    try:
        with database.engine.begin() as connection:
            connection.execute(insert(evidence).values(**row))
    except IntegrityError:
        pass  # this checkpoint is kept already


def kept(database: Database, origin: str | None = None) -> list[Kept]:
    """The evidence kept, oldest first (of one log, or all)."""
    query = select(evidence).order_by(evidence.c.id)
    if origin is not None:
        query = query.where(evidence.c.origin == origin)
    with database.engine.connect() as connection:
        rows = connection.execute(query).mappings().all()
    return [
        Kept(
            row["origin"],
            row["kind"],
            row["held_note"],
            row["offered_note"],
            row["proof"].split(),
            row["received_at"],
        )
        for row in rows
    ]


def all_heads(database: Database) -> list[tuple[str, Head, datetime]]:
    with database.engine.connect() as connection:
        rows = connection.execute(select(heads).order_by(heads.c.origin)).mappings().all()
    return [
        (
            row["origin"],
            Head(int(row["tree_size"]), bytes(row["root_hash"]), row["note"]),
            row["updated_at"],
        )
        for row in rows
    ]
