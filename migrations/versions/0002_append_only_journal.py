"""Make the journal, its log and its checkpoints append-only in the database itself.

UPDATE and DELETE raise on every journal table, on both databases; on PostgreSQL TRUNCATE raises
too, and the triggers are ENABLE ALWAYS so that session_replication_role cannot switch them off.
Corrections are new `reverse` entries (DESIGN §4, invariant 2).

Revision ID: 0002_append_only_journal
Revises: 0001_foundation
Create Date: 2026-11-27
"""

from __future__ import annotations

from alembic import op

from voucher_app.persistence.append_only import allow_changes, refuse_changes

revision = "0002_append_only_journal"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None

APPEND_ONLY = (
    "journal_entries",
    "journal_postings",
    "ledger_log_leaves",
    "ledger_log_nodes",
    "ledger_checkpoints",
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'ledger table % is append-only: % refused', TG_TABLE_NAME, TG_OP
                    USING ERRCODE = 'integrity_constraint_violation';
            END
            $$
            """
        )
    for table in APPEND_ONLY:
        refuse_changes(table)


def downgrade() -> None:
    for table in APPEND_ONLY:
        allow_changes(table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION ledger_refuse_change()")
