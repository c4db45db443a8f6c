"""Operations: background tasks carry a heartbeat (a task whose process died is found and
failed) and keep what they were started with (so their owner can start them again); old
Idempotency-Keys are found by age, to be forgotten after their hours.

Revision ID: 0014_operations
Revises: 0013_bank_files
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_operations"
down_revision = "0013_bank_files"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tasks") as tasks:
        tasks.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))
        tasks.add_column(sa.Column("runner", sa.String(120), nullable=True))
        tasks.add_column(sa.Column("params", sa.JSON(), nullable=True))
        tasks.add_column(sa.Column("upload", sa.LargeBinary(), nullable=True))
    op.execute("UPDATE tasks SET heartbeat_at = updated_at")
    with op.batch_alter_table("tasks") as tasks:
        tasks.alter_column("heartbeat_at", existing_type=sa.DateTime(timezone=True), nullable=False)
        tasks.create_index("ix_tasks_status_heartbeat_at", ["status", "heartbeat_at"])
    op.create_index("ix_idempotent_requests_created_at", "idempotent_requests", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_idempotent_requests_created_at", "idempotent_requests")
    with op.batch_alter_table("tasks") as tasks:
        tasks.drop_index("ix_tasks_status_heartbeat_at")
        tasks.drop_column("upload")
        tasks.drop_column("params")
        tasks.drop_column("runner")
        tasks.drop_column("heartbeat_at")
