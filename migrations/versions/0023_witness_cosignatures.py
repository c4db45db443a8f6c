"""Witnesses' cosignatures on the log's checkpoints, and what the log last heard from each.

`ledger_cosignatures`: a witness's signature line on a checkpoint (c2sp.org/tlog-cosignature),
append-only like the checkpoints. `ledger_witness_contacts`: per configured witness, the tree
size it holds for this log (the old size of the next `add-checkpoint`) and its last answer.

Revision ID: 0023_witness_cosignatures
Revises: 0022_fraud_signals
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from voucher_app.persistence.append_only import allow_changes, refuse_changes

revision = "0023_witness_cosignatures"
down_revision = "0022_fraud_signals"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "ledger_cosignatures",
        sa.Column("id", _ID, primary_key=True),
        sa.Column("checkpoint_id", _ID, sa.ForeignKey("ledger_checkpoints.id"), nullable=False),
        sa.Column("witness", sa.String(255), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("line", sa.Text, nullable=False),
        sa.UniqueConstraint(
            "checkpoint_id", "witness", name=op.f("uq_ledger_cosignatures_checkpoint_id")
        ),
    )
    op.create_index(
        op.f("ix_ledger_cosignatures_checkpoint_id"), "ledger_cosignatures", ["checkpoint_id"]
    )
    refuse_changes("ledger_cosignatures")
    op.create_table(
        "ledger_witness_contacts",
        sa.Column("witness", sa.String(255), primary_key=True),
        sa.Column("tree_size", sa.BigInteger, nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("contacted_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("ledger_witness_contacts")
    allow_changes("ledger_cosignatures")
    op.drop_index(op.f("ix_ledger_cosignatures_checkpoint_id"), "ledger_cosignatures")
    op.drop_table("ledger_cosignatures")
