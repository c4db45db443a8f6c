"""A claim's history is evidence, like the journal: `redemption_events` refuses UPDATE and
DELETE (and TRUNCATE on PostgreSQL), through the same refusal 0002 installed for the journal.

Revision ID: 0006_redemption_events_locked
Revises: 0005_settlement
Create Date: 2026-11-27
"""

from __future__ import annotations

from voucher_app.persistence.append_only import allow_changes, refuse_changes

revision = "0006_redemption_events_locked"
down_revision = "0005_settlement"
branch_labels = None
depends_on = None


def upgrade() -> None:
    refuse_changes("redemption_events")


def downgrade() -> None:
    allow_changes("redemption_events")
