"""Bank files as banks write them: accounts a center registers, CNAPS codes, amount-exact
settlement of each batch item, a second approval, and the identity of statement lines across
files (a fingerprint, and the bank's reference within one kind of file).

Existing rows are brought along: funding accounts become registered accounts of their
programme's owner, exported batches pay from their programme's funding account, each item's
paid, returned and settled amounts are read again from its statement lines, and each line gets
its fingerprint.

Revision ID: 0013_bank_files
Revises: 0012_tasks
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from voucher_app.settlement.overlap import fingerprint, reference_key

revision = "0013_bank_files"
down_revision = "0012_tasks"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
MOMENT = sa.DateTime(timezone=True)
OUTCOMES = (
    "paid",
    "partial",
    "overpaid",
    "returned",
    "refunded",
    "unmatched",
    "duplicate",
    "batch",
    "review",
)
OLD_OUTCOMES = ("paid", "partial", "overpaid", "returned", "unmatched", "duplicate")


def _in(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{value}'" for value in values)


def upgrade() -> None:
    op.create_table(
        "bank_accounts",
        sa.Column("id", ID, primary_key=True),
        sa.Column("center_id", ID, sa.ForeignKey("centers.id"), nullable=False),
        sa.Column("account_number", sa.String(34), nullable=False),
        sa.Column("account_name", sa.String(140), nullable=False),
        sa.Column("bank_name", sa.String(140), nullable=False),
        sa.Column("cnaps", sa.String(12), nullable=True),
        sa.Column("bic", sa.String(11), nullable=True),
        sa.Column("registered_at", MOMENT, nullable=False),
        sa.Column("registered_by", sa.String(64), nullable=False),
        sa.UniqueConstraint("account_number"),
    )
    op.create_index("ix_bank_accounts_center_id", "bank_accounts", ["center_id"])

    with op.batch_alter_table("providers") as providers:
        providers.add_column(sa.Column("bank_cnaps", sa.String(12), nullable=True))
    with op.batch_alter_table("programmes") as programmes:
        programmes.add_column(sa.Column("funding_bank_cnaps", sa.String(12), nullable=True))

    with op.batch_alter_table("settlement_batches") as batches:
        batches.drop_constraint(op.f("ck_settlement_batches_status"), type_="check")
        batches.create_check_constraint(
            "status", "status IN ('draft', 'exported', 'partly_paid', 'paid', 'cancelled')"
        )
        batches.add_column(sa.Column("debtor_account", sa.String(34), nullable=True))
        batches.add_column(sa.Column("approved_by", sa.String(64), nullable=True))
        batches.add_column(sa.Column("approved_at", MOMENT, nullable=True))

    with op.batch_alter_table("settlement_items") as items:
        items.add_column(
            sa.Column("settled_fen", sa.BigInteger(), nullable=False, server_default="0")
        )
        items.add_column(sa.Column("released_at", MOMENT, nullable=True))
        items.create_check_constraint(
            "settled_range", "settled_fen >= 0 AND settled_fen <= amount_fen"
        )
        items.create_check_constraint("returned_not_negative", "returned_fen >= 0")

    with op.batch_alter_table("bank_statements") as statements:
        statements.add_column(
            sa.Column("source", sa.String(16), nullable=False, server_default="camt053")
        )
        statements.create_index("ix_bank_statements_account", ["account"])

    with op.batch_alter_table("statement_lines") as lines:
        lines.drop_constraint(op.f("ck_statement_lines_outcome"), type_="check")
        lines.create_check_constraint("outcome", f"outcome IN ({_in(OUTCOMES)})")
        lines.add_column(sa.Column("fingerprint", sa.LargeBinary(32), nullable=True))
        lines.add_column(sa.Column("reference_key", sa.LargeBinary(32), nullable=True))
        lines.add_column(sa.Column("counterparty_account", sa.String(34), nullable=True))
        lines.add_column(sa.Column("batch_reference", sa.String(16), nullable=True))
        lines.add_column(sa.Column("parent_id", ID, nullable=True))
        lines.create_foreign_key(
            "fk_statement_lines_parent_id_statement_lines", "statement_lines", ["parent_id"], ["id"]
        )
        lines.drop_index("ix_statement_lines_line_key")
        lines.drop_column("line_key")
        lines.create_index("ix_statement_lines_fingerprint", ["fingerprint"])
        lines.create_index("ix_statement_lines_reference_key", ["reference_key"])
        lines.create_index("ix_statement_lines_parent_id", ["parent_id"])

    _bring_rows_along()


def _bring_rows_along() -> None:
    connection = op.get_bind()
    now = sa.func.current_timestamp()
    connection.execute(
        sa.text(
            "UPDATE bank_statements SET source = 'table' "
            "WHERE lower(filename) LIKE '%.csv' OR lower(filename) LIKE '%.xlsx'"
        )
    )
    programmes = connection.execute(
        sa.text(
            "SELECT owner_center_id, funding_account_number, funding_account_name, "
            "funding_bank_name, funding_bank_bic FROM programmes "
            "WHERE funding_account_number IS NOT NULL ORDER BY id"
        )
    ).all()
    registered: set[str] = set()
    for center, number, name, bank, bic in programmes:
        if number in registered:
            continue
        registered.add(number)
        connection.execute(
            sa.text(
                "INSERT INTO bank_accounts (center_id, account_number, account_name, bank_name, "
                "bic, registered_at, registered_by) VALUES "
                "(:center, :number, :name, :bank, :bic, :now, 'migration')"
            ),
            {"center": center, "number": number, "name": name, "bank": bank or "", "bic": bic,
             "now": connection.execute(sa.select(now)).scalar_one()},
        )  # fmt: skip
    connection.execute(
        sa.text(
            "UPDATE settlement_batches SET debtor_account = (SELECT funding_account_number "
            "FROM programmes WHERE programmes.id = settlement_batches.programme_id) "
            "WHERE status IN ('exported', 'paid')"
        )
    )
    # Before, paid_fen was the net of payments and returns and any return released the item.
    connection.execute(
        sa.text(
            "UPDATE settlement_items SET "
            "paid_fen = COALESCE((SELECT SUM(amount_fen) FROM statement_lines l WHERE "
            "l.item_id = settlement_items.id AND l.debit AND l.outcome <> 'duplicate'), 0), "
            "returned_fen = COALESCE((SELECT SUM(amount_fen) FROM statement_lines l WHERE "
            "l.item_id = settlement_items.id AND NOT l.debit AND l.outcome <> 'duplicate'), 0)"
        )
    )
    connection.execute(
        sa.text(
            "UPDATE settlement_items SET released_at = :now WHERE returned_fen > 0 AND NOT EXISTS "
            "(SELECT 1 FROM redemptions r WHERE r.settlement_item_id = settlement_items.id)"
        ),
        {"now": connection.execute(sa.select(now)).scalar_one()},
    )
    connection.execute(
        sa.text(
            "UPDATE settlement_items SET settled_fen = CASE "
            "WHEN released_at IS NOT NULL OR paid_fen <= returned_fen THEN 0 "
            "WHEN paid_fen - returned_fen > amount_fen THEN amount_fen "
            "ELSE paid_fen - returned_fen END"
        )
    )
    lines = connection.execute(
        sa.text(
            "SELECT l.id, s.account, s.source, l.booked_on, l.debit, l.amount_fen, "
            "l.end_to_end_id, l.bank_reference FROM statement_lines l "
            "JOIN bank_statements s ON s.id = l.statement_id"
        )
    ).all()
    for line_id, account, source, booked_on, debit, amount, reference, bank_reference in lines:
        day = booked_on if isinstance(booked_on, str) else booked_on.isoformat()
        connection.execute(
            sa.text(
                "UPDATE statement_lines SET fingerprint = :fingerprint, reference_key = :key "
                "WHERE id = :id"
            ),
            {
                "id": line_id,
                "fingerprint": fingerprint(account, day, bool(debit), amount, reference),
                "key": None
                if bank_reference is None
                else reference_key(account, source, bank_reference),
            },
        )


def downgrade() -> None:
    with op.batch_alter_table("statement_lines") as lines:
        lines.drop_index("ix_statement_lines_parent_id")
        lines.drop_index("ix_statement_lines_reference_key")
        lines.drop_index("ix_statement_lines_fingerprint")
        lines.add_column(
            sa.Column("line_key", sa.LargeBinary(32), nullable=False, server_default=sa.text("''"))
        )
        lines.create_index("ix_statement_lines_line_key", ["line_key"])
        lines.drop_constraint("fk_statement_lines_parent_id_statement_lines", type_="foreignkey")
        for column in (
            "parent_id",
            "batch_reference",
            "counterparty_account",
            "reference_key",
            "fingerprint",
        ):
            lines.drop_column(column)
        lines.drop_constraint(op.f("ck_statement_lines_outcome"), type_="check")
        lines.create_check_constraint("outcome", f"outcome IN ({_in(OLD_OUTCOMES)})")
    with op.batch_alter_table("bank_statements") as statements:
        statements.drop_index("ix_bank_statements_account")
        statements.drop_column("source")
    with op.batch_alter_table("settlement_items") as items:
        items.drop_constraint(op.f("ck_settlement_items_returned_not_negative"), type_="check")
        items.drop_constraint(op.f("ck_settlement_items_settled_range"), type_="check")
        items.drop_column("released_at")
        items.drop_column("settled_fen")
    with op.batch_alter_table("settlement_batches") as batches:
        for column in ("approved_at", "approved_by", "debtor_account"):
            batches.drop_column(column)
        batches.drop_constraint(op.f("ck_settlement_batches_status"), type_="check")
        batches.create_check_constraint(
            "status", "status IN ('draft', 'exported', 'paid', 'cancelled')"
        )
    with op.batch_alter_table("programmes") as programmes:
        programmes.drop_column("funding_bank_cnaps")
    with op.batch_alter_table("providers") as providers:
        providers.drop_column("bank_cnaps")
    op.drop_index("ix_bank_accounts_center_id", table_name="bank_accounts")
    op.drop_table("bank_accounts")
