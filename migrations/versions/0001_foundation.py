"""Centers, programmes, the journal, its Merkle log and checkpoints, job leases.

Revision ID: 0001_foundation
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_foundation"
down_revision = None
branch_labels = None
depends_on = None

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
MOMENT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "centers",
        sa.Column("id", ID, primary_key=True),
        sa.Column("code", sa.String(12), nullable=False),
        sa.Column("name_zh", sa.String(100), nullable=False),
        sa.Column("name_en", sa.String(100), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("parent_id", ID, sa.ForeignKey("centers.id"), nullable=True),
        sa.CheckConstraint("level IN ('province', 'city', 'county')", name="level"),
        sa.UniqueConstraint("code"),
    )
    op.create_index("ix_centers_parent_id", "centers", ["parent_id"])

    op.create_table(
        "programmes",
        sa.Column("id", ID, primary_key=True),
        sa.Column("public_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("owner_center_id", ID, sa.ForeignKey("centers.id"), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("total_budget_fen", sa.BigInteger(), nullable=False),
        sa.Column("subsidy_rate_bp", sa.Integer(), nullable=False),
        sa.Column("sme_cap_fen", sa.BigInteger(), nullable=False),
        sa.Column("voucher_face_value_fen", sa.BigInteger(), nullable=False),
        sa.Column("voucher_validity_days", sa.Integer(), nullable=False),
        sa.Column("partial_spending", sa.Boolean(), nullable=False),
        sa.Column("service_categories", sa.JSON(), nullable=False),
        sa.Column("accepted_sizes", sa.JSON(), nullable=False),
        sa.Column("created_at", MOMENT, nullable=False),
        sa.CheckConstraint("total_budget_fen > 0", name="budget_positive"),
        sa.CheckConstraint("subsidy_rate_bp > 0 AND subsidy_rate_bp <= 10000", name="rate_range"),
        sa.CheckConstraint("voucher_face_value_fen > 0", name="face_value_positive"),
        sa.CheckConstraint("sme_cap_fen >= voucher_face_value_fen", name="cap_covers_a_voucher"),
        sa.CheckConstraint("voucher_validity_days > 0", name="validity_positive"),
        sa.CheckConstraint("period_end >= period_start", name="period_order"),
        sa.UniqueConstraint("public_id"),
    )
    op.create_index("ix_programmes_owner_center_id", "programmes", ["owner_center_id"])

    op.create_table(
        "ledger_accounts",
        sa.Column("id", ID, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("balance_fen", sa.BigInteger(), nullable=False),
        sa.Column("floor_fen", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("balance_fen >= floor_fen", name="not_below_floor"),
        sa.CheckConstraint("floor_fen = 0 OR (kind = 'funding' AND floor_fen < 0)", name="floor"),
        sa.UniqueConstraint("name"),
    )

    op.create_table(
        "journal_entries",
        sa.Column("id", ID, primary_key=True),
        sa.Column("public_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("created_at", MOMENT, nullable=False),
        sa.Column("actor_id", sa.String(64), nullable=False),
        sa.Column("actor_role", sa.String(32), nullable=False),
        sa.Column("refs", sa.JSON(), nullable=False),
        sa.Column("reverses_id", ID, sa.ForeignKey("journal_entries.id"), nullable=True),
        sa.Column("idempotency_key", sa.String(200), nullable=True),
        sa.Column("request_digest", sa.LargeBinary(32), nullable=True),
        sa.UniqueConstraint("public_id"),
        sa.UniqueConstraint("reverses_id"),  # an entry is reversed at most once
        sa.UniqueConstraint("idempotency_key"),
    )
    op.create_table(
        "journal_postings",
        sa.Column("id", ID, primary_key=True),
        sa.Column("entry_id", ID, sa.ForeignKey("journal_entries.id"), nullable=False),
        sa.Column("account_id", ID, sa.ForeignKey("ledger_accounts.id"), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("amount_fen <> 0", name="nonzero"),
    )
    op.create_index("ix_journal_postings_entry_id", "journal_postings", ["entry_id"])
    op.create_index("ix_journal_postings_account_id", "journal_postings", ["account_id"])

    op.create_table(
        "ledger_log_queue",
        sa.Column(
            "entry_id",
            sa.BigInteger(),
            sa.ForeignKey("journal_entries.id"),
            primary_key=True,
            autoincrement=False,
        ),
    )
    op.create_table(
        "ledger_log_leaves",
        sa.Column("leaf_index", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("entry_id", ID, sa.ForeignKey("journal_entries.id"), nullable=False),
        sa.UniqueConstraint("entry_id"),
    )
    op.create_table(
        "ledger_log_nodes",
        sa.Column("level", sa.SmallInteger(), primary_key=True, autoincrement=False),
        sa.Column("node_index", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
    )
    op.create_table(
        "ledger_checkpoints",
        sa.Column("id", ID, primary_key=True),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", MOMENT, nullable=False),
        sa.UniqueConstraint("tree_size"),
    )
    locks = op.create_table(
        "ledger_locks",
        sa.Column("name", sa.String(32), primary_key=True),
    )
    op.bulk_insert(locks, [{"name": "sequencer"}])
    op.create_table(
        "job_leases",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("holder", sa.String(128), nullable=False),
        sa.Column("expires_at", MOMENT, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "job_leases",
        "ledger_locks",
        "ledger_checkpoints",
        "ledger_log_nodes",
        "ledger_log_leaves",
        "ledger_log_queue",
        "journal_postings",
        "journal_entries",
        "ledger_accounts",
        "programmes",
        "centers",
    ):
        op.drop_table(table)
