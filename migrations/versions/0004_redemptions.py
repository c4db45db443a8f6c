"""Redemptions (providers' claims on vouchers), their events, one-time passcodes, and each
programme's confirmation window.

Revision ID: 0004_redemptions
Revises: 0003_smes_providers_vouchers
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_redemptions"
down_revision = "0003_smes_providers_vouchers"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
MOMENT = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("programmes") as programmes:
        programmes.add_column(
            sa.Column("confirmation_days", sa.Integer(), nullable=False, server_default="7")
        )

    op.create_table(
        "voucher_passcodes",
        sa.Column("id", ID, primary_key=True),
        sa.Column("voucher_id", ID, sa.ForeignKey("vouchers.id"), nullable=False),
        sa.Column("code_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("created_at", MOMENT, nullable=False),
        sa.Column("expires_at", MOMENT, nullable=False),
        sa.Column("used_at", MOMENT, nullable=True),
    )
    op.create_index("ix_voucher_passcodes_voucher_id", "voucher_passcodes", ["voucher_id"])

    op.create_table(
        "redemptions",
        sa.Column("id", ID, primary_key=True),
        sa.Column("public_id", sa.Uuid(), nullable=False),
        sa.Column("voucher_id", ID, sa.ForeignKey("vouchers.id"), nullable=False),
        sa.Column("provider_id", ID, sa.ForeignKey("providers.id"), nullable=False),
        sa.Column("product_id", ID, sa.ForeignKey("products.id"), nullable=True),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("description", sa.String(500), nullable=False),
        sa.Column("invoice_number", sa.String(64), nullable=False),
        sa.Column("invoiced_fen", sa.BigInteger(), nullable=False),
        sa.Column("subsidy_fen", sa.BigInteger(), nullable=False),
        sa.Column("delivered_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_reason", sa.String(500), nullable=True),
        sa.Column("submitted_at", MOMENT, nullable=False),
        sa.Column("confirm_by", MOMENT, nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=True),
        sa.Column("request_digest", sa.LargeBinary(32), nullable=True),
        sa.CheckConstraint(
            "status IN ('submitted', 'confirmed', 'disputed', 'approved', 'rejected', 'settled')",
            name="status",
        ),
        sa.CheckConstraint("invoiced_fen > 0", name="invoiced_positive"),
        sa.CheckConstraint("subsidy_fen > 0 AND subsidy_fen <= invoiced_fen", name="subsidy_range"),
        sa.UniqueConstraint("provider_id", "invoice_number", name="invoice_once"),
        sa.UniqueConstraint("public_id"),
        sa.UniqueConstraint("idempotency_key"),
    )
    for column in ("voucher_id", "provider_id", "status"):
        op.create_index(f"ix_redemptions_{column}", "redemptions", [column])

    op.create_table(
        "redemption_events",
        sa.Column("id", ID, primary_key=True),
        sa.Column("redemption_id", ID, sa.ForeignKey("redemptions.id"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(500), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("actor_id", sa.String(64), nullable=False),
        sa.Column("actor_role", sa.String(32), nullable=False),
        sa.Column("recorded_at", MOMENT, nullable=False),
    )
    op.create_index("ix_redemption_events_redemption_id", "redemption_events", ["redemption_id"])


def downgrade() -> None:
    for table in ("redemption_events", "redemptions", "voucher_passcodes"):
        op.drop_table(table)
    with op.batch_alter_table("programmes") as programmes:
        programmes.drop_column("confirmation_days")
