"""Related parties (关联交易): what is needed to refuse a redemption between an SME and a
provider that are one family splitting a subsidy.

- SMEs record their registered address, contact phone and settlement bank account, as
  providers already do (`smes`, and each registration's copy in `sme_history`); SMEs registered
  before have none until they register again.
- SMEs and providers record their legal representative as one keyed digest of the name and the
  ID number (`legal_rep_digest`, HMAC-SHA256 under the deployment's `PARTY_MATCHING_KEY`): two
  parties with one representative match, and nobody reads the person back.
- `party_relations` keeps the relations parties declare, or a center records: "the related
  party is a shareholder of (or otherwise related to) the party", by credit code, so the other
  party need not be registered yet; once per recorder's role, so what a party declared and
  what its center found stay two facts, each with who recorded it and why.
- `programmes.related_parties_allowed`: a programme that allows redemptions between related
  parties (none does unless its owner says so).

Revision ID: 0019_related_parties
Revises: 0018_budget_shards
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019_related_parties"
down_revision = "0018_budget_shards"
branch_labels = None
depends_on = None

_SME_COLUMNS = (
    ("address", sa.String(300)),
    ("contact_phone", sa.String(40)),
    ("bank_account_number", sa.String(64)),
    ("legal_rep_digest", sa.LargeBinary(32)),
)


def upgrade() -> None:
    for table in ("smes", "sme_history"):
        with op.batch_alter_table(table) as batch:
            for name, type_ in _SME_COLUMNS:
                batch.add_column(sa.Column(name, type_, nullable=True))
    with op.batch_alter_table("providers") as batch:
        batch.add_column(sa.Column("legal_rep_digest", sa.LargeBinary(32), nullable=True))
    with op.batch_alter_table("programmes") as batch:
        batch.add_column(
            sa.Column(
                "related_parties_allowed",
                sa.Boolean,
                nullable=False,
                server_default=sa.false(),
            )
        )
    op.create_table(
        "party_relations",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("party_uscc", sa.String(18), nullable=False),
        sa.Column("related_uscc", sa.String(18), nullable=False),
        sa.Column("relation", sa.String(24), nullable=False),
        sa.Column("reason", sa.String(500), nullable=True),
        sa.Column("actor_id", sa.String(64), nullable=False),
        sa.Column("actor_role", sa.String(32), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_party_relations")),
        sa.UniqueConstraint(
            "party_uscc",
            "related_uscc",
            "relation",
            "actor_role",
            name=op.f("uq_party_relations_party_uscc"),
        ),
        sa.CheckConstraint(
            "party_uscc <> related_uscc", name=op.f("ck_party_relations_two_parties")
        ),
        sa.CheckConstraint(
            "relation IN ('shareholder', 'common_control', 'family', 'other')",
            name=op.f("ck_party_relations_relation"),
        ),
    )
    op.create_index(op.f("ix_party_relations_related_uscc"), "party_relations", ["related_uscc"])


def downgrade() -> None:
    op.drop_index(op.f("ix_party_relations_related_uscc"), table_name="party_relations")
    op.drop_table("party_relations")
    with op.batch_alter_table("programmes") as batch:
        batch.drop_column("related_parties_allowed")
    with op.batch_alter_table("providers") as batch:
        batch.drop_column("legal_rep_digest")
    for table in ("sme_history", "smes"):
        with op.batch_alter_table(table) as batch:
            for name, _type in reversed(_SME_COLUMNS):
                batch.drop_column(name)
