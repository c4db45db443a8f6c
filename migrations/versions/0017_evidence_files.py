"""Evidence files of redemptions (invoices, contracts), kept in the database and named by the
SHA-256 of their bytes: every app instance sharing one PostgreSQL reads what any of them
stored, and the same file attached twice is one row (`evidence_files`).

Revision ID: 0017_evidence_files
Revises: 0016_provider_address
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_evidence_files"
down_revision = "0016_provider_address"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "evidence_files",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("media_type", sa.String(40), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("size > 0", name="size_positive"),
    )


def downgrade() -> None:
    op.drop_table("evidence_files")
