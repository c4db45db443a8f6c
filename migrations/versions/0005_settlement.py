"""Settlement batches and their items, the programme's paying account, bank statements and
their lines, and saved statement column mappings.

Revision ID: 0005_settlement
Revises: 0004_redemptions
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_settlement"
down_revision = "0004_redemptions"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
MOMENT = sa.DateTime(timezone=True)
FUNDING_ACCOUNT = (
    ("funding_bank_name", 200),
    ("funding_bank_bic", 11),
    ("funding_account_name", 200),
    ("funding_account_number", 64),
)


def upgrade() -> None:
    with op.batch_alter_table("programmes") as programmes:
        for name, length in FUNDING_ACCOUNT:
            programmes.add_column(sa.Column(name, sa.String(length), nullable=True))

    op.create_table(
        "settlement_batches",
        sa.Column("id", ID, primary_key=True),
        sa.Column("public_id", sa.Uuid(), nullable=False),
        sa.Column("reference", sa.String(16), nullable=False),
        sa.Column("programme_id", ID, sa.ForeignKey("programmes.id"), nullable=False),
        sa.Column("center_id", ID, sa.ForeignKey("centers.id"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("total_fen", sa.BigInteger(), nullable=False),
        sa.Column("created_at", MOMENT, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("exported_at", MOMENT, nullable=True),
        sa.Column("cancelled_at", MOMENT, nullable=True),
        sa.Column("cancel_reason", sa.String(500), nullable=True),
        sa.CheckConstraint("status IN ('draft', 'exported', 'paid', 'cancelled')", name="status"),
        sa.UniqueConstraint("public_id"),
        sa.UniqueConstraint("reference"),
    )
    for column in ("programme_id", "center_id"):
        op.create_index(f"ix_settlement_batches_{column}", "settlement_batches", [column])

    op.create_table(
        "settlement_items",
        sa.Column("id", ID, primary_key=True),
        sa.Column("batch_id", ID, sa.ForeignKey("settlement_batches.id"), nullable=False),
        sa.Column("provider_id", ID, sa.ForeignKey("providers.id"), nullable=False),
        sa.Column("reference", sa.String(35), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("paid_fen", sa.BigInteger(), nullable=False),
        sa.Column("returned_fen", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("amount_fen > 0", name="amount_positive"),
        sa.CheckConstraint("paid_fen >= 0", name="paid_not_negative"),
        sa.UniqueConstraint("reference"),
    )
    for column in ("batch_id", "provider_id"):
        op.create_index(f"ix_settlement_items_{column}", "settlement_items", [column])

    with op.batch_alter_table("redemptions") as redemptions:
        redemptions.add_column(sa.Column("settlement_item_id", ID, nullable=True))
        redemptions.create_foreign_key(
            "fk_redemptions_settlement_item_id_settlement_items",
            "settlement_items",
            ["settlement_item_id"],
            ["id"],
        )
        redemptions.create_index("ix_redemptions_settlement_item_id", ["settlement_item_id"])

    op.create_table(
        "bank_statements",
        sa.Column("id", ID, primary_key=True),
        sa.Column("public_id", sa.Uuid(), nullable=False),
        sa.Column("digest", sa.LargeBinary(32), nullable=False),
        sa.Column("bank_statement_id", sa.String(100), nullable=False),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("imported_at", MOMENT, nullable=False),
        sa.Column("imported_by", sa.String(64), nullable=False),
        sa.UniqueConstraint("public_id"),
        sa.UniqueConstraint("digest"),
    )

    op.create_table(
        "statement_lines",
        sa.Column("id", ID, primary_key=True),
        sa.Column("statement_id", ID, sa.ForeignKey("bank_statements.id"), nullable=False),
        sa.Column("position", sa.String(200), nullable=False),
        sa.Column("end_to_end_id", sa.String(35), nullable=True),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("debit", sa.Boolean(), nullable=False),
        sa.Column("booked_on", sa.Date(), nullable=False),
        sa.Column("returned", sa.Boolean(), nullable=False),
        sa.Column("return_reason", sa.String(35), nullable=True),
        sa.Column("bank_reference", sa.String(100), nullable=True),
        sa.Column("item_id", ID, sa.ForeignKey("settlement_items.id"), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("line_key", sa.LargeBinary(32), nullable=False),
        sa.CheckConstraint(
            "outcome IN ('paid', 'partial', 'overpaid', 'returned', 'unmatched', 'duplicate')",
            name="outcome",
        ),
    )
    for column in ("statement_id", "end_to_end_id", "item_id", "line_key"):
        op.create_index(f"ix_statement_lines_{column}", "statement_lines", [column])

    op.create_table(
        "statement_mappings",
        sa.Column("id", ID, primary_key=True),
        sa.Column("center_id", ID, sa.ForeignKey("centers.id"), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("columns", sa.JSON(), nullable=False),
        sa.UniqueConstraint("center_id", "name", name="name_once"),
    )


def downgrade() -> None:
    op.drop_table("statement_mappings")
    op.drop_table("statement_lines")
    op.drop_table("bank_statements")
    with op.batch_alter_table("redemptions") as redemptions:
        redemptions.drop_index("ix_redemptions_settlement_item_id")
        redemptions.drop_constraint(
            "fk_redemptions_settlement_item_id_settlement_items", type_="foreignkey"
        )
        redemptions.drop_column("settlement_item_id")
    op.drop_table("settlement_items")
    op.drop_table("settlement_batches")
    with op.batch_alter_table("programmes") as programmes:
        for name, _length in reversed(FUNDING_ACCOUNT):
            programmes.drop_column(name)
