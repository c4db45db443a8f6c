"""How many shards each center's budget for a programme is held in (`programmes.budget_shards`,
DESIGN §4, `domain.shards`): the opening-day rush on one district then meets several rows
instead of one.

Programmes created before have one shard: their centers' budgets stay in the accounts they are
in (shard 0 is the account of the plain name), so nothing in the ledger moves.

Revision ID: 0018_budget_shards
Revises: 0017_evidence_files
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018_budget_shards"
down_revision = "0017_evidence_files"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("programmes") as batch:
        batch.add_column(sa.Column("budget_shards", sa.Integer, nullable=False, server_default="1"))
        batch.create_check_constraint(
            op.f("ck_programmes_shards_range"), "budget_shards BETWEEN 1 AND 64"
        )


def downgrade() -> None:
    with op.batch_alter_table("programmes") as batch:
        batch.drop_constraint(op.f("ck_programmes_shards_range"), type_="check")
        batch.drop_column("budget_shards")
