"""Accounts: users with one role each, API tokens (hashes only), and the security events log
(append-only).

Revision ID: 0009_accounts
Revises: 0008_service_tracking
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from voucher_app.persistence.append_only import allow_changes, refuse_changes

revision = "0009_accounts"
down_revision = "0008_service_tracking"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
MOMENT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", ID, primary_key=True),
        sa.Column("public_id", sa.Uuid(), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("center_id", ID, sa.ForeignKey("centers.id"), nullable=True),
        sa.Column("sme_id", ID, sa.ForeignKey("smes.id"), nullable=True),
        sa.Column("provider_id", ID, sa.ForeignKey("providers.id"), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", MOMENT, nullable=True),
        sa.Column("created_at", MOMENT, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.CheckConstraint("status IN ('pending', 'active', 'disabled')", name="status"),
        sa.CheckConstraint("failed_logins >= 0", name="failures_not_negative"),
        sa.UniqueConstraint("public_id"),
        sa.UniqueConstraint("username"),
    )
    for column in ("center_id", "sme_id", "provider_id"):
        op.create_index(f"ix_users_{column}", "users", [column])
    op.create_table(
        "api_tokens",
        sa.Column("id", ID, primary_key=True),
        sa.Column("public_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", ID, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("created_at", MOMENT, nullable=False),
        sa.Column("expires_at", MOMENT, nullable=False),
        sa.Column("revoked_at", MOMENT, nullable=True),
        sa.UniqueConstraint("public_id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_api_tokens_user_id", "api_tokens", ["user_id"])
    op.create_table(
        "security_events",
        sa.Column("id", ID, primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("username", sa.String(64), nullable=True),
        sa.Column("actor_id", sa.String(64), nullable=False),
        sa.Column("remote_addr", sa.String(64), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("recorded_at", MOMENT, nullable=False),
    )
    op.create_index("ix_security_events_kind", "security_events", ["kind"])
    op.create_index("ix_security_events_username", "security_events", ["username"])
    refuse_changes("security_events")


def downgrade() -> None:
    allow_changes("security_events")
    op.drop_table("security_events")
    op.drop_table("api_tokens")
    op.drop_table("users")
