"""The ledger's tables: account balances, the journal, the Merkle log and its checkpoints.

Only this package writes them (DESIGN §2). They are declared on persistence's `Base`, so they
share its metadata, naming convention and types with every other table: Alembic and the test
that compares the models with the migrations see them there. The journal tables
(`journal_entries`, `journal_postings`, `ledger_log_*`, `ledger_checkpoints`) are append-only:
triggers refuse UPDATE and DELETE.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from voucher_app.persistence.models import Base, BigId


class LedgerAccount(Base):
    """An account's cached balance; the journal's postings are the truth it must agree with."""

    __tablename__ = "ledger_accounts"
    __table_args__ = (
        CheckConstraint("balance_fen >= floor_fen", name="not_below_floor"),
        CheckConstraint("floor_fen = 0 OR (kind = 'funding' AND floor_fen < 0)", name="floor"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    balance_fen: Mapped[int] = mapped_column(default=0)
    floor_fen: Mapped[int] = mapped_column(default=0)


class JournalEntry(Base):
    __tablename__ = "journal_entries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    public_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    actor_id: Mapped[str] = mapped_column(String(64))
    actor_role: Mapped[str] = mapped_column(String(32))
    refs: Mapped[dict[str, Any]]
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"), unique=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    request_digest: Mapped[bytes | None] = mapped_column(LargeBinary(32))


class JournalPosting(Base):
    __tablename__ = "journal_postings"
    __table_args__ = (CheckConstraint("amount_fen <> 0", name="nonzero"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id"), index=True)
    amount_fen: Mapped[int]


class LogQueue(Base):
    """Entries committed but not yet in the Merkle log; the sequencer empties it."""

    __tablename__ = "ledger_log_queue"

    entry_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("journal_entries.id"), primary_key=True, autoincrement=False
    )


class LogLeaf(Base):
    __tablename__ = "ledger_log_leaves"

    leaf_index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"), unique=True)


class LogNode(Base):
    """Root of a complete subtree: leaves [index·2^level, (index+1)·2^level). Level 0: leaves."""

    __tablename__ = "ledger_log_nodes"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    node_index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LedgerCheckpoint(Base):
    __tablename__ = "ledger_checkpoints"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tree_size: Mapped[int] = mapped_column(unique=True)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class LedgerLock(Base):
    """Rows locked FOR UPDATE to run one sequencer at a time (seeded by the migration)."""

    __tablename__ = "ledger_locks"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)


class LedgerCosignature(Base):
    """A witness's cosignature on one of the log's checkpoints (c2sp.org/tlog-cosignature):
    the signature line as the witness returned it, and the time it states. Append-only."""

    __tablename__ = "ledger_cosignatures"
    __table_args__ = (UniqueConstraint("checkpoint_id", "witness"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    checkpoint_id: Mapped[int] = mapped_column(ForeignKey("ledger_checkpoints.id"), index=True)
    witness: Mapped[str] = mapped_column(String(255))
    signed_at: Mapped[datetime]
    line: Mapped[str] = mapped_column(Text)


class WitnessContact(Base):
    """What the log last heard from each witness it is configured with: the tree size the
    witness holds for it (the old size of the next request) and its last answer."""

    __tablename__ = "ledger_witness_contacts"

    witness: Mapped[str] = mapped_column(String(255), primary_key=True)
    tree_size: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[int]  # the last HTTP status; 0 when the witness could not be reached
    message: Mapped[str] = mapped_column(Text)
    contacted_at: Mapped[datetime]
