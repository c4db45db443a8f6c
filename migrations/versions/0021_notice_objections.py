"""The public notice list (公示) and objections that hold a claim.

`notice_items`: each claim a notice programme approves, as its center's list of the day shows
it, with the digest its `approve` entry carries; append-only like the journal. `complaints.kind`:
`service` (every complaint so far) or `objection`. `redemptions.held`: set while an objection to
the claim is open, so that no batch takes it.

Revision ID: 0021_notice_objections
Revises: 0020_notice_period
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from voucher_app.persistence.append_only import allow_changes, refuse_changes

revision = "0021_notice_objections"
down_revision = "0020_notice_period"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "notice_items",
        sa.Column("id", _ID, primary_key=True),
        sa.Column("redemption_id", _ID, sa.ForeignKey("redemptions.id"), nullable=False),
        sa.Column("center_id", _ID, sa.ForeignKey("centers.id"), nullable=False),
        sa.Column("published_on", sa.Date, nullable=False),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("digest", sa.LargeBinary(32), nullable=False),
        sa.UniqueConstraint("redemption_id", name=op.f("uq_notice_items_redemption_id")),
    )
    op.create_index("ix_notice_items_center_day", "notice_items", ["center_id", "published_on"])
    refuse_changes("notice_items")
    with op.batch_alter_table("complaints") as batch:
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="service"))
        batch.create_check_constraint(
            op.f("ck_complaints_kind"), "kind IN ('service', 'objection')"
        )
    with op.batch_alter_table("redemptions") as batch:
        batch.add_column(sa.Column("held", sa.Boolean, nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("redemptions") as batch:
        batch.drop_column("held")
    with op.batch_alter_table("complaints") as batch:
        batch.drop_constraint(op.f("ck_complaints_kind"), type_="check")
        batch.drop_column("kind")
    allow_changes("notice_items")
    op.drop_index("ix_notice_items_center_day", "notice_items")
    op.drop_table("notice_items")
