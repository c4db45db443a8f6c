"""What the fraud signals (`domain.signals`) read and what they found.

`redemptions`: the local day of submission (`submitted_on`), the network address it came from
(`submitted_from`, None before), its invoice number's series (`invoice_series`), and the
signals of its last scoring with their count (`signals`, `signal_count`: the review queue sorts
by it). `smes`: the normal forms of the phone, address and account (`*_key`, `domain.parties`),
so that SMEs sharing one are found by index. Existing rows are filled in here.

Revision ID: 0022_fraud_signals
Revises: 0021_notice_objections
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from voucher_app.domain.calendar import local_date
from voucher_app.domain.parties import contact_keys
from voucher_app.domain.signals import invoice_series
from voucher_app.persistence.models import UtcDateTime

revision = "0022_fraud_signals"
down_revision = "0021_notice_objections"
branch_labels = None
depends_on = None

KEYS = {"phone_key": 40, "address_key": 300, "account_key": 64}


def upgrade() -> None:
    with op.batch_alter_table("redemptions") as batch:
        batch.add_column(sa.Column("submitted_on", sa.Date, nullable=True))
        batch.add_column(sa.Column("submitted_from", sa.String(45), nullable=True))
        batch.add_column(sa.Column("invoice_series", sa.String(64), nullable=True))
        batch.add_column(sa.Column("signals", sa.JSON, nullable=True))
        batch.add_column(
            sa.Column("signal_count", sa.SmallInteger, nullable=False, server_default="0")
        )
    op.create_index("ix_redemptions_provider_day", "redemptions", ["provider_id", "submitted_on"])
    op.create_index("ix_redemptions_submitted_from", "redemptions", ["submitted_from"])
    op.create_index("ix_redemptions_invoice_series", "redemptions", ["invoice_series"])
    op.create_index(
        "ix_redemptions_queue", "redemptions", ["status", "signal_count", "submitted_at"]
    )
    with op.batch_alter_table("smes") as batch:
        for name, length in KEYS.items():
            batch.add_column(sa.Column(name, sa.String(length), nullable=True))
    for name in KEYS:
        op.create_index(f"ix_smes_{name}", "smes", [name])
    _fill()


def _fill() -> None:
    bind = op.get_bind()
    redemptions = sa.table(
        "redemptions",
        sa.column("id", sa.BigInteger),
        sa.column("submitted_at", UtcDateTime()),
        sa.column("invoice_number", sa.String),
        sa.column("submitted_on", sa.Date),
        sa.column("invoice_series", sa.String),
    )
    rows = bind.execute(
        sa.select(redemptions.c.id, redemptions.c.submitted_at, redemptions.c.invoice_number)
    ).all()
    for row_id, submitted_at, invoice in rows:
        bind.execute(
            redemptions.update()
            .where(redemptions.c.id == row_id)
            .values(submitted_on=local_date(submitted_at), invoice_series=invoice_series(invoice))
        )
    smes = sa.table(
        "smes",
        sa.column("id", sa.BigInteger),
        sa.column("contact_phone", sa.String),
        sa.column("address", sa.String),
        sa.column("bank_account_number", sa.String),
        *(sa.column(name, sa.String) for name in KEYS),
    )
    for row_id, phone, address, account in bind.execute(
        sa.select(smes.c.id, smes.c.contact_phone, smes.c.address, smes.c.bank_account_number)
    ).all():
        keys = contact_keys(phone, address, account)
        bind.execute(
            smes.update()
            .where(smes.c.id == row_id)
            .values(phone_key=keys.phone, address_key=keys.address, account_key=keys.account)
        )


def downgrade() -> None:
    for name in KEYS:
        op.drop_index(f"ix_smes_{name}", "smes")
    with op.batch_alter_table("smes") as batch:
        for name in KEYS:
            batch.drop_column(name)
    for index in ("queue", "invoice_series", "submitted_from", "provider_day"):
        op.drop_index(f"ix_redemptions_{index}", "redemptions")
    with op.batch_alter_table("redemptions") as batch:
        for name in ("signal_count", "signals", "invoice_series", "submitted_from", "submitted_on"):
            batch.drop_column(name)
