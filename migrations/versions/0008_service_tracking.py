"""Service tracking: SMEs' ratings of the services they received, and their complaints.

Revision ID: 0008_service_tracking
Revises: 0007_spend_facts
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_service_tracking"
down_revision = "0007_spend_facts"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
MOMENT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "service_ratings",
        sa.Column("id", ID, primary_key=True),
        sa.Column("redemption_id", ID, sa.ForeignKey("redemptions.id"), nullable=False),
        sa.Column("provider_id", ID, sa.ForeignKey("providers.id"), nullable=False),
        sa.Column("product_id", ID, sa.ForeignKey("products.id"), nullable=True),
        sa.Column("score", sa.SmallInteger(), nullable=False),
        sa.Column("comment", sa.String(1000), nullable=True),
        sa.Column("rated_at", MOMENT, nullable=False),
        sa.Column("actor_id", sa.String(64), nullable=False),
        sa.CheckConstraint("score BETWEEN 1 AND 5", name="score_range"),
        sa.UniqueConstraint("redemption_id"),
    )
    for column in ("provider_id", "product_id"):
        op.create_index(f"ix_service_ratings_{column}", "service_ratings", [column])
    op.create_table(
        "complaints",
        sa.Column("id", ID, primary_key=True),
        sa.Column("public_id", sa.Uuid(), nullable=False),
        sa.Column("redemption_id", ID, sa.ForeignKey("redemptions.id"), nullable=False),
        sa.Column("provider_id", ID, sa.ForeignKey("providers.id"), nullable=False),
        sa.Column("center_id", ID, sa.ForeignKey("centers.id"), nullable=False),
        sa.Column("text", sa.String(2000), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("filed_at", MOMENT, nullable=False),
        sa.Column("filed_by", sa.String(64), nullable=False),
        sa.Column("resolution", sa.String(500), nullable=True),
        sa.Column("resolved_at", MOMENT, nullable=True),
        sa.Column("resolved_by", sa.String(64), nullable=True),
        sa.CheckConstraint("status IN ('open', 'resolved')", name="status"),
        sa.UniqueConstraint("public_id"),
    )
    for column in ("redemption_id", "provider_id", "center_id"):
        op.create_index(f"ix_complaints_{column}", "complaints", [column])


def downgrade() -> None:
    op.drop_table("complaints")
    op.drop_table("service_ratings")
