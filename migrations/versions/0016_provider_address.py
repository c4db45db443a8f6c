"""A provider's address (`providers.address`), shown in the public catalogue beside its phone
so an SME knows where the service is delivered and whom to call.

Providers registered before it was asked for have none (the catalogue says so) until they add
it; the column is nullable for them, and the application form asks every new provider.

Revision ID: 0016_provider_address
Revises: 0015_login_failures
Create Date: 2026-12-09
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_provider_address"
down_revision = "0015_login_failures"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("providers") as batch:
        batch.add_column(sa.Column("address", sa.String(300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("providers") as batch:
        batch.drop_column("address")
