"""The witness's state: the latest checkpoint it cosigned per log, and the evidence it kept.

Revision ID: w0001_witness_state
Revises:
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "w0001_witness_state"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "witness_heads",
        sa.Column("origin", sa.String(255), primary_key=True),
        sa.Column("tree_size", sa.BigInteger, nullable=False),
        sa.Column("root_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "witness_evidence",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("origin", sa.String(255), nullable=False, index=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("tree_size", sa.BigInteger, nullable=False),
        sa.Column("root_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("held_note", sa.Text, nullable=False),
        sa.Column("offered_note", sa.Text, nullable=False),
        sa.Column("proof", sa.Text, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("origin", "kind", "tree_size", "root_hash"),
    )


def downgrade() -> None:
    op.drop_table("witness_evidence")
    op.drop_table("witness_heads")
