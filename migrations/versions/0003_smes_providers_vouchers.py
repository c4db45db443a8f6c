"""SMEs (with history), providers and their catalogue, vouchers, claim allowances, outbox.

Revision ID: 0003_smes_providers_vouchers
Revises: 0002_append_only_journal
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_smes_providers_vouchers"
down_revision = "0002_append_only_journal"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
MOMENT = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("programmes") as programmes:
        programmes.add_column(
            sa.Column("accepted_industries", sa.JSON(), nullable=False, server_default="[]")
        )

    op.create_table(
        "smes",
        sa.Column("id", ID, primary_key=True),
        sa.Column("public_id", sa.Uuid(), nullable=False),
        sa.Column("uscc", sa.String(18), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("industry", sa.String(40), nullable=False),
        sa.Column("employees", sa.Integer(), nullable=False),
        sa.Column("revenue_fen", sa.BigInteger(), nullable=False),
        sa.Column("assets_fen", sa.BigInteger(), nullable=False),
        sa.Column("home_center_id", ID, sa.ForeignKey("centers.id"), nullable=False),
        sa.Column("registered_at", MOMENT, nullable=False),
        sa.Column("updated_at", MOMENT, nullable=False),
        sa.CheckConstraint(
            "employees >= 0 AND revenue_fen >= 0 AND assets_fen >= 0", name="non_negative"
        ),
        sa.UniqueConstraint("public_id"),
        sa.UniqueConstraint("uscc"),
    )
    op.create_table(
        "sme_history",
        sa.Column("id", ID, primary_key=True),
        sa.Column("sme_id", ID, sa.ForeignKey("smes.id"), nullable=False),
        sa.Column("recorded_at", MOMENT, nullable=False),
        sa.Column("actor_id", sa.String(64), nullable=False),
        sa.Column("actor_role", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("industry", sa.String(40), nullable=False),
        sa.Column("employees", sa.Integer(), nullable=False),
        sa.Column("revenue_fen", sa.BigInteger(), nullable=False),
        sa.Column("assets_fen", sa.BigInteger(), nullable=False),
        sa.Column("home_center_id", ID, sa.ForeignKey("centers.id"), nullable=False),
    )
    op.create_index("ix_sme_history_sme_id", "sme_history", ["sme_id"])

    op.create_table(
        "providers",
        sa.Column("id", ID, primary_key=True),
        sa.Column("public_id", sa.Uuid(), nullable=False),
        sa.Column("uscc", sa.String(18), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("service_categories", sa.JSON(), nullable=False),
        sa.Column("contact_name", sa.String(100), nullable=False),
        sa.Column("contact_phone", sa.String(40), nullable=False),
        sa.Column("contact_email", sa.String(200), nullable=False),
        sa.Column("bank_name", sa.String(200), nullable=False),
        sa.Column("bank_bic", sa.String(11), nullable=True),
        sa.Column("bank_account_name", sa.String(200), nullable=False),
        sa.Column("bank_account_number", sa.String(64), nullable=False),
        sa.Column("center_id", ID, sa.ForeignKey("centers.id"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_reason", sa.String(500), nullable=True),
        sa.Column("applied_at", MOMENT, nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'rejected', 'suspended')", name="status"
        ),
        sa.UniqueConstraint("public_id"),
        sa.UniqueConstraint("uscc"),
    )
    op.create_index("ix_providers_center_id", "providers", ["center_id"])
    op.create_table(
        "provider_events",
        sa.Column("id", ID, primary_key=True),
        sa.Column("provider_id", ID, sa.ForeignKey("providers.id"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(500), nullable=True),
        sa.Column("actor_id", sa.String(64), nullable=False),
        sa.Column("actor_role", sa.String(32), nullable=False),
        sa.Column("recorded_at", MOMENT, nullable=False),
    )
    op.create_index("ix_provider_events_provider_id", "provider_events", ["provider_id"])
    op.create_table(
        "products",
        sa.Column("id", ID, primary_key=True),
        sa.Column("public_id", sa.Uuid(), nullable=False),
        sa.Column("provider_id", ID, sa.ForeignKey("providers.id"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("price_fen", sa.BigInteger(), nullable=False),
        sa.Column("standard", sa.Text(), nullable=False),
        sa.Column("time_limit_days", sa.Integer(), nullable=False),
        sa.Column("fee_rules", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", MOMENT, nullable=False),
        sa.CheckConstraint("price_fen > 0", name="price_positive"),
        sa.CheckConstraint("time_limit_days > 0", name="time_limit_positive"),
        sa.UniqueConstraint("public_id"),
    )
    op.create_index("ix_products_provider_id", "products", ["provider_id"])
    op.create_index("ix_products_category", "products", ["category"])

    op.create_table(
        "vouchers",
        sa.Column("id", ID, primary_key=True),
        sa.Column("public_id", sa.Uuid(), nullable=False),
        sa.Column("human_code", sa.String(16), nullable=False),
        sa.Column("programme_id", ID, sa.ForeignKey("programmes.id"), nullable=False),
        sa.Column("sme_id", ID, sa.ForeignKey("smes.id"), nullable=False),
        sa.Column("issuing_center_id", ID, sa.ForeignKey("centers.id"), nullable=False),
        sa.Column("face_value_fen", sa.BigInteger(), nullable=False),
        sa.Column("subsidy_rate_bp", sa.Integer(), nullable=False),
        sa.Column("service_categories", sa.JSON(), nullable=False),
        sa.Column("issued_at", MOMENT, nullable=False),
        sa.Column("expires_at", MOMENT, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_reason", sa.String(500), nullable=True),
        sa.Column("closed_at", MOMENT, nullable=True),
        sa.Column("kid", sa.String(64), nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.Column("issued_by", sa.String(64), nullable=False),
        sa.Column("claim_key", sa.String(200), nullable=True),
        sa.CheckConstraint(
            "status IN ('active', 'exhausted', 'expired', 'revoked')", name="status"
        ),
        sa.CheckConstraint("face_value_fen > 0", name="face_value_positive"),
        sa.UniqueConstraint("public_id"),
        sa.UniqueConstraint("human_code"),
        sa.UniqueConstraint("claim_key"),  # the claim's idempotency key
    )
    op.create_index("ix_vouchers_sme_id", "vouchers", ["sme_id"])
    op.create_index("ix_vouchers_status_expires_at", "vouchers", ["status", "expires_at"])
    op.create_table(
        "claim_allowances",
        sa.Column("sme_id", ID, sa.ForeignKey("smes.id"), primary_key=True),
        sa.Column("programme_id", ID, sa.ForeignKey("programmes.id"), primary_key=True),
        sa.Column("claimed_fen", sa.BigInteger(), nullable=False),
        sa.Column("cap_fen", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("claimed_fen >= 0 AND claimed_fen <= cap_fen", name="within_cap"),
    )
    op.create_table(
        "notifications",
        sa.Column("id", ID, primary_key=True),
        sa.Column("dedupe_key", sa.String(200), nullable=False),
        sa.Column("recipient", sa.String(200), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", MOMENT, nullable=False),
        sa.Column("next_attempt_at", MOMENT, nullable=False),
        sa.Column("sent_at", MOMENT, nullable=True),
        sa.Column("gave_up_at", MOMENT, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.UniqueConstraint("dedupe_key"),
    )
    op.create_index("ix_notifications_next_attempt_at", "notifications", ["next_attempt_at"])


def downgrade() -> None:
    for table in (
        "notifications",
        "claim_allowances",
        "vouchers",
        "products",
        "provider_events",
        "providers",
        "sme_history",
        "smes",
    ):
        op.drop_table(table)
    with op.batch_alter_table("programmes") as programmes:
        programmes.drop_column("accepted_industries")
