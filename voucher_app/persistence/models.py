"""The database schema as SQLAlchemy 2 typed models.

Alembic migrations (`migrations/versions`) are the schema's source of truth in every database;
these models describe the same tables for queries, and a test checks the two agree. Integer keys
stay inside the database; anything shown outside uses the `public_id` UUIDs or a center's code.
The ledger's own tables (accounts, journal, Merkle log, checkpoints) are declared in
`voucher_app.ledger.tables`, on this module's `Base`: its metadata holds every table once that
module is imported.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    Uuid,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on the way in and out, also on SQLite, which stores naive text."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("refusing a naive datetime: times are stored in UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        int: BigInteger(),
        datetime: UtcDateTime(),
        uuid.UUID: Uuid(),
        dict[str, Any]: JSON(),
        list[str]: JSON(),
        bytes: LargeBinary(),
    }


class Center(Base):
    """A service center in the province → city → county hierarchy."""

    __tablename__ = "centers"
    __table_args__ = (CheckConstraint("level IN ('province', 'city', 'county')", name="level"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("centers.id"), index=True)


class Programme(Base):
    """A funded voucher programme and the rules its vouchers follow."""

    __tablename__ = "programmes"
    __table_args__ = (
        CheckConstraint("total_budget_fen > 0", name="budget_positive"),
        CheckConstraint("subsidy_rate_bp > 0 AND subsidy_rate_bp <= 10000", name="rate_range"),
        CheckConstraint("voucher_face_value_fen > 0", name="face_value_positive"),
        CheckConstraint("sme_cap_fen >= voucher_face_value_fen", name="cap_covers_a_voucher"),
        CheckConstraint("voucher_validity_days > 0", name="validity_positive"),
        CheckConstraint("period_end >= period_start", name="period_order"),
        CheckConstraint("budget_shards BETWEEN 1 AND 64", name="shards_range"),
        CheckConstraint("notice_working_days BETWEEN 0 AND 30", name="notice_range"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    public_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    name: Mapped[str] = mapped_column(String(200))
    owner_center_id: Mapped[int] = mapped_column(ForeignKey("centers.id"), index=True)
    period_start: Mapped[date]
    period_end: Mapped[date]
    total_budget_fen: Mapped[int]
    subsidy_rate_bp: Mapped[int] = mapped_column(Integer)
    sme_cap_fen: Mapped[int]
    voucher_face_value_fen: Mapped[int]
    voucher_validity_days: Mapped[int] = mapped_column(Integer)
    partial_spending: Mapped[bool]
    service_categories: Mapped[list[str]]
    accepted_sizes: Mapped[list[str]]
    #: Empty: every industry.
    accepted_industries: Mapped[list[str]] = mapped_column(server_default="[]")
    created_at: Mapped[datetime]
    #: Days an SME has to confirm or dispute a redemption before it counts as confirmed.
    confirmation_days: Mapped[int] = mapped_column(Integer, server_default="7")
    #: The account the programme pays providers from: the debtor of its payment files.
    funding_bank_name: Mapped[str | None] = mapped_column(String(200))
    funding_bank_bic: Mapped[str | None] = mapped_column(String(11))
    funding_account_name: Mapped[str | None] = mapped_column(String(200))
    funding_account_number: Mapped[str | None] = mapped_column(String(64))
    funding_bank_cnaps: Mapped[str | None] = mapped_column(String(12))
    #: Whether a provider may redeem a voucher of an SME it is related to (`domain.parties`).
    related_parties_allowed: Mapped[bool] = mapped_column(server_default=false())
    #: The public notice period (公示期) of its approved redemptions, in working days; 0: none.
    notice_working_days: Mapped[int] = mapped_column(Integer, server_default="0")
    #: How many shards each center's budget for the programme is held in (`domain.shards`).
    budget_shards: Mapped[int] = mapped_column(Integer, server_default="1")


class JobLease(Base):
    """Who runs a scheduled job right now, so several scheduler processes run it once."""

    __tablename__ = "job_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime]


class Registered:
    """What every registered organisation has: its row, its public id and its unified social
    credit code, one registration per code."""

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    public_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    uscc: Mapped[str] = mapped_column(String(18), unique=True)


class SmeDeclaration:
    """What an SME declares when it registers: the figures its size class is decided from.
    The SME holds the latest; its history keeps each one."""

    name: Mapped[str] = mapped_column(String(200))
    industry: Mapped[str] = mapped_column(String(40))
    employees: Mapped[int] = mapped_column(Integer)
    revenue_fen: Mapped[int]
    assets_fen: Mapped[int]
    home_center_id: Mapped[int] = mapped_column(ForeignKey("centers.id"))
    #: What a related provider would share with it (`domain.parties`); SMEs registered before
    #: they were asked for have none until they register again.
    address: Mapped[str | None] = mapped_column(String(300))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    bank_account_number: Mapped[str | None] = mapped_column(String(64))
    #: The legal representative's keyed digest (`domain.parties.legal_rep_digest`): matched,
    #: never shown.
    legal_rep_digest: Mapped[bytes | None] = mapped_column(LargeBinary(32))


class Sme(Registered, SmeDeclaration, Base):
    """A small, micro or medium enterprise, known by its unified social credit code."""

    __tablename__ = "smes"
    __table_args__ = (
        CheckConstraint(
            "employees >= 0 AND revenue_fen >= 0 AND assets_fen >= 0", name="non_negative"
        ),
    )

    registered_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    #: The phone, address and account in their normal forms (`domain.parties.contact_keys`):
    #: SMEs that share one are found by index (`domain.signals`).
    phone_key: Mapped[str | None] = mapped_column(String(40), index=True)
    address_key: Mapped[str | None] = mapped_column(String(300), index=True)
    account_key: Mapped[str | None] = mapped_column(String(64), index=True)


class SmeHistory(SmeDeclaration, Base):
    """What an SME declared at each registration: re-registration updates, history stays."""

    __tablename__ = "sme_history"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    sme_id: Mapped[int] = mapped_column(ForeignKey("smes.id"), index=True)
    recorded_at: Mapped[datetime]
    actor_id: Mapped[str] = mapped_column(String(64))
    actor_role: Mapped[str] = mapped_column(String(32))


class Provider(Registered, Base):
    """A service provider, approved (or not) by the center it applied to."""

    __tablename__ = "providers"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'approved', 'rejected', 'suspended')", name="status"
        ),
    )

    name: Mapped[str] = mapped_column(String(200))
    service_categories: Mapped[list[str]]
    contact_name: Mapped[str] = mapped_column(String(100))
    contact_phone: Mapped[str] = mapped_column(String(40))
    contact_email: Mapped[str] = mapped_column(String(200))
    #: Where the provider serves, shown in the catalogue; providers registered before it was
    #: asked for have none until they add it.
    address: Mapped[str | None] = mapped_column(String(300))
    bank_name: Mapped[str] = mapped_column(String(200))
    bank_bic: Mapped[str | None] = mapped_column(String(11))
    bank_account_name: Mapped[str] = mapped_column(String(200))
    bank_account_number: Mapped[str] = mapped_column(String(64))
    #: The 12-digit CNAPS code (联行号) of the branch holding the account; CNY payments are
    #: routed by it. Providers registered before it was asked for have none until they add it.
    bank_cnaps: Mapped[str | None] = mapped_column(String(12))
    #: The legal representative's keyed digest (`domain.parties.legal_rep_digest`): matched,
    #: never shown; None for providers that registered before it was asked for.
    legal_rep_digest: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    center_id: Mapped[int] = mapped_column(ForeignKey("centers.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    status_reason: Mapped[str | None] = mapped_column(String(500))
    applied_at: Mapped[datetime]


class PartyRelation(Base):
    """A relation between two parties, by credit code: `related_uscc` is a shareholder of (or
    under common control with, family of, otherwise related to) `party_uscc`. Declared by a
    party when it registers, or recorded by a center; it works in both directions."""

    __tablename__ = "party_relations"
    __table_args__ = (
        UniqueConstraint("party_uscc", "related_uscc", "relation", "actor_role"),
        CheckConstraint("party_uscc <> related_uscc", name="two_parties"),
        CheckConstraint(
            "relation IN ('shareholder', 'common_control', 'family', 'other')", name="relation"
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    party_uscc: Mapped[str] = mapped_column(String(18))
    related_uscc: Mapped[str] = mapped_column(String(18), index=True)
    relation: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str | None] = mapped_column(String(500))
    actor_id: Mapped[str] = mapped_column(String(64))
    actor_role: Mapped[str] = mapped_column(String(32))
    recorded_at: Mapped[datetime]


class ProviderEvent(Base):
    """Every change of a provider's standing, with who made it and why."""

    __tablename__ = "provider_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(500))
    actor_id: Mapped[str] = mapped_column(String(64))
    actor_role: Mapped[str] = mapped_column(String(32))
    recorded_at: Mapped[datetime]


class Product(Base):
    """A published service product ("五公开": content, standard, price, time limit, fees)."""

    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("price_fen > 0", name="price_positive"),
        CheckConstraint("time_limit_days > 0", name="time_limit_positive"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    public_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(40), index=True)
    price_fen: Mapped[int]
    standard: Mapped[str] = mapped_column(Text)
    time_limit_days: Mapped[int] = mapped_column(Integer)
    fee_rules: Mapped[str] = mapped_column(Text)
    active: Mapped[bool]
    created_at: Mapped[datetime]


class Voucher(Base):
    """An issued voucher. Its value lives in the ledger (`voucher:<public id>`); this row holds
    its identity, terms, signed token and life-cycle status."""

    __tablename__ = "vouchers"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'exhausted', 'expired', 'revoked')", name="status"),
        CheckConstraint("face_value_fen > 0", name="face_value_positive"),
        Index("ix_vouchers_status_expires_at", "status", "expires_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    public_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    human_code: Mapped[str] = mapped_column(String(16), unique=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"))
    sme_id: Mapped[int] = mapped_column(ForeignKey("smes.id"), index=True)
    issuing_center_id: Mapped[int] = mapped_column(ForeignKey("centers.id"))
    face_value_fen: Mapped[int]
    subsidy_rate_bp: Mapped[int] = mapped_column(Integer)
    service_categories: Mapped[list[str]]
    issued_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))
    status_reason: Mapped[str | None] = mapped_column(String(500))
    closed_at: Mapped[datetime | None]
    kid: Mapped[str] = mapped_column(String(64))
    token: Mapped[str] = mapped_column(Text)
    issued_by: Mapped[str] = mapped_column(String(64))
    #: The key of the bulk issuance row that issued it (programme, batch, SME): a rerun of the
    #: list finds this voucher instead of issuing another. None for a single claim.
    claim_key: Mapped[str | None] = mapped_column(String(200), unique=True)


class ClaimAllowance(Base):
    """How much of its per-programme cap an SME has claimed: a conditional update on this row
    keeps every SME within its cap however many claims race."""

    __tablename__ = "claim_allowances"
    __table_args__ = (
        CheckConstraint("claimed_fen >= 0 AND claimed_fen <= cap_fen", name="within_cap"),
    )

    sme_id: Mapped[int] = mapped_column(ForeignKey("smes.id"), primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), primary_key=True)
    claimed_fen: Mapped[int]
    cap_fen: Mapped[int]


class Notification(Base):
    """The outbox: messages to send (reminders). The sender job marks each sent, or after a
    failed attempt sets the next one later; after the last attempt it gives up."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    recipient: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime] = mapped_column(index=True)
    sent_at: Mapped[datetime | None]
    gave_up_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500))


class VoucherPasscode(Base):
    """A one-time code an SME reads out to a provider who redeems its voucher by human code;
    only its hash is kept, and redeeming uses it up."""

    __tablename__ = "voucher_passcodes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    voucher_id: Mapped[int] = mapped_column(ForeignKey("vouchers.id"), index=True)
    code_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class Redemption(Base):
    """A provider's redemption (兑付) of a voucher for a delivered service. The value it holds lives
    in the ledger (`provider:<id>:<programme>:pending`, then `payable`); this row holds what
    was asked for and where the redemption stands. Corrections update it; `redemption_events` keeps
    every version."""

    __tablename__ = "redemptions"
    __table_args__ = (
        CheckConstraint(
            "status IN ('submitted', 'confirmed', 'disputed', 'approved', 'rejected', 'settled')",
            name="status",
        ),
        CheckConstraint("invoiced_fen > 0", name="invoiced_positive"),
        CheckConstraint("subsidy_fen > 0 AND subsidy_fen <= invoiced_fen", name="subsidy_range"),
        UniqueConstraint("provider_id", "invoice_number", name="invoice_once"),
        Index("ix_redemptions_provider_day", "provider_id", "submitted_on"),
        Index("ix_redemptions_queue", "status", "signal_count", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    public_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    voucher_id: Mapped[int] = mapped_column(ForeignKey("vouchers.id"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    category: Mapped[str] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(String(500))
    invoice_number: Mapped[str] = mapped_column(String(64))
    invoiced_fen: Mapped[int]
    subsidy_fen: Mapped[int]
    delivered_on: Mapped[date]
    status: Mapped[str] = mapped_column(String(16), index=True)
    status_reason: Mapped[str | None] = mapped_column(String(500))
    submitted_at: Mapped[datetime]
    confirm_by: Mapped[datetime]
    #: No longer written (a submission's retry is the API's Idempotency-Key's, issue 13): left
    #: empty on new redemptions, kept until a migration drops them.
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    request_digest: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    #: The settlement batch item paying it, while it is in a batch that is not cancelled.
    settlement_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("settlement_items.id"), index=True
    )
    #: The last working day of its public notice, set at approval where the programme has one:
    #: no batch takes it before the day after.
    notice_ends_on: Mapped[date | None]
    #: Held out of every batch while an objection to its public notice is open.
    held: Mapped[bool] = mapped_column(server_default=false())
    #: What the fraud signals read (`domain.signals`): the local day of submission, the network
    #: address it came from, its invoice number's series (None: too short to have one).
    submitted_on: Mapped[date | None]
    submitted_from: Mapped[str | None] = mapped_column(String(45), index=True)
    invoice_series: Mapped[str | None] = mapped_column(String(64), index=True)
    #: The signals of its last scoring, and how many (the review queue sorts by it).
    signals: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    signal_count: Mapped[int] = mapped_column(SmallInteger, server_default="0")


class PublishedClaim(Base):
    """A claim as its center's public notice list of the day of approval shows it (公示): the
    canonical bytes published, and their digest, which the `approve` entry's refs carry.
    Append-only: what was published stays as it was."""

    __tablename__ = "notice_items"
    __table_args__ = (Index("ix_notice_items_center_day", "center_id", "published_on"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    redemption_id: Mapped[int] = mapped_column(ForeignKey("redemptions.id"), unique=True)
    center_id: Mapped[int] = mapped_column(ForeignKey("centers.id"))
    published_on: Mapped[date]
    document: Mapped[str] = mapped_column(Text)
    digest: Mapped[bytes] = mapped_column(LargeBinary(32))


class RedemptionEvent(Base):
    """Every step of a redemption — submitted, confirmed, disputed, approved, rejected,
    resubmitted — with who took it, when, why, and the redemption's figures at that moment."""

    __tablename__ = "redemption_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    redemption_id: Mapped[int] = mapped_column(ForeignKey("redemptions.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(500))
    details: Mapped[dict[str, Any]]
    actor_id: Mapped[str] = mapped_column(String(64))
    actor_role: Mapped[str] = mapped_column(String(32))
    recorded_at: Mapped[datetime]


class EvidenceFile(Base):
    """A file a provider attached to a redemption (an invoice, a contract), named by the SHA-256
    of its bytes: a file attached twice is kept once. Which redemption it belongs to, under
    which name, is in that redemption's events (`details["evidence"]`)."""

    __tablename__ = "evidence_files"
    __table_args__ = (CheckConstraint("size > 0", name="size_positive"),)

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    media_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes]
    stored_at: Mapped[datetime]


class SettlementBatch(Base):
    """Approved redemptions of one programme, one payment per provider, paid by the programme's
    funding account. Exported, it is frozen; cancelled, its redemptions are free for a new batch;
    `paid` while every item is paid on the bank's statements, `partly_paid` otherwise."""

    __tablename__ = "settlement_batches"
    __table_args__ = (
        CheckConstraint(
            "status IN ('draft', 'exported', 'partly_paid', 'paid', 'cancelled')", name="status"
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    public_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    #: Short and unique: the prefix of its items' end-to-end references and its message id.
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    center_id: Mapped[int] = mapped_column(ForeignKey("centers.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    total_fen: Mapped[int]
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))
    exported_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    #: The account the exported file pays from: only its statements can pay this batch.
    debtor_account: Mapped[str | None] = mapped_column(String(34))
    #: The second finance officer who approved a batch over the limit, before its export.
    approved_by: Mapped[str | None] = mapped_column(String(64))
    approved_at: Mapped[datetime | None]


class SettlementItem(Base):
    """One provider's payment in a batch: the sum of its redemptions, under an end-to-end
    reference the bank statement will carry back."""

    __tablename__ = "settlement_items"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint("paid_fen >= 0", name="paid_not_negative"),
        CheckConstraint("settled_fen >= 0 AND settled_fen <= amount_fen", name="settled_range"),
        CheckConstraint("returned_fen >= 0", name="returned_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("settlement_batches.id"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
    reference: Mapped[str] = mapped_column(String(35), unique=True)
    amount_fen: Mapped[int]
    #: What the bank's statements say left the funding account for it, and came back.
    paid_fen: Mapped[int] = mapped_column(default=0)
    returned_fen: Mapped[int] = mapped_column(default=0)
    #: What the ledger settled of it: the net of the two, within what is owed
    #: (`domain.payments.settled_target`).
    settled_fen: Mapped[int] = mapped_column(default=0, server_default="0")
    #: When everything paid for it came back and its redemptions were freed for a new batch.
    released_at: Mapped[datetime | None]


class BankAccount(Base):
    """An account a center holds at a bank: only statements of a registered account (a
    programme's funding account is registered when it is set) move a center's books."""

    __tablename__ = "bank_accounts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    center_id: Mapped[int] = mapped_column(ForeignKey("centers.id"), index=True)
    account_number: Mapped[str] = mapped_column(String(34), unique=True)
    account_name: Mapped[str] = mapped_column(String(140))
    bank_name: Mapped[str] = mapped_column(String(140))
    cnaps: Mapped[str | None] = mapped_column(String(12))
    bic: Mapped[str | None] = mapped_column(String(11))
    registered_at: Mapped[datetime]
    registered_by: Mapped[str] = mapped_column(String(64))


class BankStatement(Base):
    """An imported bank statement; the digest of its content makes a second import a no-op."""

    __tablename__ = "bank_statements"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    public_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    digest: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    bank_statement_id: Mapped[str] = mapped_column(String(100))
    account: Mapped[str] = mapped_column(String(64), index=True)
    #: The kind of file ("camt053", "table"): bank references compare within one kind.
    source: Mapped[str] = mapped_column(String(16), server_default="camt053")
    filename: Mapped[str] = mapped_column(String(200))
    imported_at: Mapped[datetime]
    imported_by: Mapped[str] = mapped_column(String(64))
    #: The center it was imported for (None: by an operator, for the whole system).
    center_id: Mapped[int | None] = mapped_column(ForeignKey("centers.id"))


class StatementLine(Base):
    """A line of an imported statement and what reconciliation made of it. A batch booked as
    one entry is a `batch` line and, when its amount adds up, one line per item under it
    (`parent_id`); a `duplicate` is a line an earlier statement already carried."""

    __tablename__ = "statement_lines"
    __table_args__ = (
        CheckConstraint(
            "outcome IN ('paid', 'partial', 'overpaid', 'returned', 'refunded', 'unmatched', "
            "'duplicate', 'batch', 'review')",
            name="outcome",
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("bank_statements.id"), index=True)
    position: Mapped[str] = mapped_column(String(200))
    end_to_end_id: Mapped[str | None] = mapped_column(String(35), index=True)
    amount_fen: Mapped[int]
    debit: Mapped[bool]
    booked_on: Mapped[date]
    returned: Mapped[bool]
    return_reason: Mapped[str | None] = mapped_column(String(35))
    bank_reference: Mapped[str | None] = mapped_column(String(100))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("settlement_items.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    #: What identifies the bank's line whichever statement carries it (`settlement.overlap`).
    fingerprint: Mapped[bytes | None] = mapped_column(LargeBinary(32), index=True)
    reference_key: Mapped[bytes | None] = mapped_column(LargeBinary(32), index=True)
    counterparty_account: Mapped[str | None] = mapped_column(String(34))
    batch_reference: Mapped[str | None] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("statement_lines.id"), index=True)


class StatementMapping(Base):
    """A center's saved column mapping for the CSV or XLSX statements of one bank account."""

    __tablename__ = "statement_mappings"
    __table_args__ = (UniqueConstraint("center_id", "name", name="name_once"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    center_id: Mapped[int] = mapped_column(ForeignKey("centers.id"))
    name: Mapped[str] = mapped_column(String(100))
    columns: Mapped[dict[str, Any]]


class SpendFact(Base):
    """How one journal entry moved one center's spend figures (`domain.spend`): the rows the
    spend reports add up. Written with the entry, in the same transaction; append-only like
    the journal, and a test replays the journal to check every report against them."""

    __tablename__ = "spend_facts"
    __table_args__ = (
        CheckConstraint(
            "measure IN ('allocated', 'committed', 'redeemed', 'approved', 'paid', 'expired',"
            " 'returned')",
            name="measure",
        ),
        CheckConstraint("amount_fen <> 0", name="nonzero"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"), index=True)
    center_id: Mapped[int] = mapped_column(ForeignKey("centers.id"), index=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"))
    #: For the redemption figures (redeemed, approved, paid): who delivered which kind of service.
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("providers.id"))
    category: Mapped[str | None] = mapped_column(String(40))
    #: "2026-11": the month in Guangdong when the entry was posted.
    month: Mapped[str] = mapped_column(String(7))
    measure: Mapped[str] = mapped_column(String(16))
    amount_fen: Mapped[int]


class ServiceRating(Base):
    """An SME's score (1-5) and comment on a service it received, once per approved redemption."""

    __tablename__ = "service_ratings"
    __table_args__ = (CheckConstraint("score BETWEEN 1 AND 5", name="score_range"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    redemption_id: Mapped[int] = mapped_column(ForeignKey("redemptions.id"), unique=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"), index=True)
    score: Mapped[int] = mapped_column(SmallInteger)
    comment: Mapped[str | None] = mapped_column(String(1000))
    rated_at: Mapped[datetime]
    actor_id: Mapped[str] = mapped_column(String(64))


class Complaint(Base):
    """An SME's complaint about a service, or anyone's objection to a claim on public notice,
    for the center that issued the voucher (and those above it) to look into and resolve."""

    __tablename__ = "complaints"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'resolved')", name="status"),
        CheckConstraint("kind IN ('service', 'objection')", name="kind"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    public_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    redemption_id: Mapped[int] = mapped_column(ForeignKey("redemptions.id"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
    center_id: Mapped[int] = mapped_column(ForeignKey("centers.id"), index=True)
    text: Mapped[str] = mapped_column(String(2000))
    #: `service`: an SME's complaint about what it got; `objection`: anyone's objection to a
    #: claim on public notice, which holds the claim out of every batch while it is open.
    kind: Mapped[str] = mapped_column(String(16), server_default="service")
    status: Mapped[str] = mapped_column(String(16))
    filed_at: Mapped[datetime]
    filed_by: Mapped[str] = mapped_column(String(64))
    resolution: Mapped[str | None] = mapped_column(String(500))
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(64))


class User(Base):
    """A person who signs in, with one role, bound to an SME, a provider or a center by it."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'active', 'disabled')", name="status"),
        CheckConstraint("failed_logins >= 0", name="failures_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    public_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    center_id: Mapped[int | None] = mapped_column(ForeignKey("centers.id"), index=True)
    sme_id: Mapped[int | None] = mapped_column(ForeignKey("smes.id"), index=True)
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("providers.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))


class ApiToken(Base):
    """A bearer token for the API: only its SHA-256 is kept; it expires and can be revoked."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    public_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    scopes: Mapped[list[str]]
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class SecurityEvent(Base):
    """Who signed in, failed, was locked out, made or revoked a token, or was refused: kept
    for the auditors, append-only."""

    __tablename__ = "security_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    username: Mapped[str | None] = mapped_column(String(64), index=True)
    actor_id: Mapped[str] = mapped_column(String(64))
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]]
    recorded_at: Mapped[datetime]


class LoginFailure(Base):
    """Failed sign-ins under one user name — an account's or not, so that a lockout does not
    tell which names exist — and the lock they led to. A row is forgotten once `expires_at`
    passes (a while after the last failure, or when the lock ends); sign-ins delete the stale
    rows they meet, so what is kept stays bounded."""

    __tablename__ = "login_failures"
    __table_args__ = (CheckConstraint("failures >= 0", name="failures_not_negative"),)

    #: As typed at sign-in: stripped and lower-cased, at most 64 characters.
    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    locked_until: Mapped[datetime | None]
    expires_at: Mapped[datetime] = mapped_column(index=True)


class IdempotentRequest(Base):
    """A state-changing API request made under an `Idempotency-Key`, and the answer it got: a
    retry with the same key and body gets that answer again; with another body, a refusal.
    The row commits with the request's work and its answer (`services.idempotency`); it is
    forgotten after its hours (config `IDEMPOTENCY_KEY_HOURS`)."""

    __tablename__ = "idempotent_requests"
    __table_args__ = (
        UniqueConstraint("owner", "key", name="key_once"),
        Index("ix_idempotent_requests_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: Whose key: the signed-in user's name, or the client address of an anonymous request.
    owner: Mapped[str] = mapped_column(String(80))
    key: Mapped[str] = mapped_column(String(200))
    request_digest: Mapped[bytes] = mapped_column(LargeBinary(32))
    status: Mapped[int | None] = mapped_column(Integer)
    content_type: Mapped[str | None] = mapped_column(String(100))
    body: Mapped[bytes | None]
    created_at: Mapped[datetime]


class Task(Base):
    """A long operation run in the background (a bulk issuance, a verification): how far it
    is, and its result or why it failed, for the page that started it to show."""

    __tablename__ = "tasks"
    __table_args__ = (
        CheckConstraint("status IN ('running', 'done', 'failed')", name="status"),
        Index("ix_tasks_status_heartbeat_at", "status", "heartbeat_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    public_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    #: Who started it: only they (and admins) see it.
    owner: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    done: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(Integer)
    result: Mapped[dict[str, Any] | None]
    error: Mapped[str | None] = mapped_column(Text)
    #: What the task was started with (its form's values, its uploaded file): kept until it
    #: ends well, so that its owner can start it again if it fails.
    params: Mapped[dict[str, Any] | None]
    upload: Mapped[bytes | None]
    #: The process running it (host:pid), and when it last said it was alive: a running task
    #: whose heartbeat stopped lost its process (`services.tasks.fail_stale`).
    runner: Mapped[str | None] = mapped_column(String(120))
    heartbeat_at: Mapped[datetime]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
