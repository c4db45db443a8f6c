"""The center a bank statement was imported for: its report shows that center's lines.

Revision ID: 0011_statement_center
Revises: 0010_idempotent_requests
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_statement_center"
down_revision = "0010_idempotent_requests"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # Batch mode: SQLite adds a constrained column by rebuilding the table.
    with op.batch_alter_table("bank_statements") as table:
        table.add_column(sa.Column("center_id", ID, nullable=True))
        table.create_foreign_key(
            "fk_bank_statements_center_id_centers", "centers", ["center_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("bank_statements") as table:
        table.drop_constraint("fk_bank_statements_center_id_centers", type_="foreignkey")
        table.drop_column("center_id")
