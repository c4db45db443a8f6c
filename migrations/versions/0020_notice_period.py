"""A programme's public notice period (公示期), in working days, and when each approved
redemption's notice ends.

`programmes.notice_working_days`: 0 (every programme created before) pays approved redemptions
as soon as finance builds a batch, as it did; N holds each approved redemption out of every
batch until the N-th working day after its approval is over (`domain.workdays`).
`redemptions.notice_ends_on` is that day, set at approval; None where there is no notice.

Revision ID: 0020_notice_period
Revises: 0019_related_parties
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020_notice_period"
down_revision = "0019_related_parties"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("programmes") as batch:
        batch.add_column(
            sa.Column("notice_working_days", sa.Integer, nullable=False, server_default="0")
        )
        batch.create_check_constraint(
            op.f("ck_programmes_notice_range"), "notice_working_days BETWEEN 0 AND 30"
        )
    with op.batch_alter_table("redemptions") as batch:
        batch.add_column(sa.Column("notice_ends_on", sa.Date, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("redemptions") as batch:
        batch.drop_column("notice_ends_on")
    with op.batch_alter_table("programmes") as batch:
        batch.drop_constraint(op.f("ck_programmes_notice_range"), type_="check")
        batch.drop_column("notice_working_days")
