"""Spend facts: how each journal entry moved a center's report figures, append-only.

Revision ID: 0007_spend_facts
Revises: 0006_redemption_events_locked
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from voucher_app.persistence.append_only import allow_changes, refuse_changes

revision = "0007_spend_facts"
down_revision = "0006_redemption_events_locked"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TABLE = "spend_facts"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", ID, primary_key=True),
        sa.Column("entry_id", ID, sa.ForeignKey("journal_entries.id"), nullable=False),
        sa.Column("center_id", ID, sa.ForeignKey("centers.id"), nullable=False),
        sa.Column("programme_id", ID, sa.ForeignKey("programmes.id"), nullable=False),
        sa.Column("provider_id", ID, sa.ForeignKey("providers.id"), nullable=True),
        sa.Column("category", sa.String(40), nullable=True),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("measure", sa.String(16), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "measure IN ('allocated', 'committed', 'redeemed', 'approved', 'paid', 'expired',"
            " 'returned')",
            name="measure",
        ),
        sa.CheckConstraint("amount_fen <> 0", name="nonzero"),
    )
    op.create_index(f"ix_{TABLE}_entry_id", TABLE, ["entry_id"])
    op.create_index(f"ix_{TABLE}_center_id", TABLE, ["center_id"])
    refuse_changes(TABLE)


def downgrade() -> None:
    allow_changes(TABLE)
    op.drop_table(TABLE)
