"""The demo data, loaded for an end-to-end test as `make run` loads it (the CLI)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from tests import factories
from voucher_app.domain.actors import Actor, Role
from voucher_app.domain.calendar import local_date
from voucher_app.domain.categories import CATEGORIES
from voucher_app.domain.sme import INDUSTRY_NAMES
from voucher_app.persistence.models import Product, Programme, Provider
from voucher_app.services import bulk, centers, demo, programmes, providers, redemptions, vouchers
from voucher_app.services.redemptions import RedemptionView, Service, VoucherProof
from voucher_app.services.vouchers import VoucherView
from voucher_app.wiring import current


def load_demo(app: Flask, runner: FlaskCliRunner) -> uuid.UUID:
    """Load the demo data; answer the id of its one programme (the province's)."""
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    with app.app_context(), current().database.engine.connect() as connection:
        programme: uuid.UUID = connection.execute(select(Programme.public_id)).scalar_one()
    return programme


def tax_adviser(app: Flask) -> tuple[uuid.UUID, uuid.UUID]:
    """The demo's Guangzhou tax adviser and its annual-filing product (¥3,000)."""
    with app.app_context(), current().database.engine.connect() as connection:
        provider, product = connection.execute(
            select(Provider.public_id, Product.public_id)
            .join(Product, Product.provider_id == Provider.id)
            .where(Product.category == "accounting_tax")
        ).one()
    return provider, product


def new_voucher(app: Flask, programme: uuid.UUID) -> VoucherView:
    """A voucher of the programme for a new micro firm in Nanshan (serial 7)."""
    with app.app_context():
        parts = current()
        uscc = factories.sme(parts.uow(), 7).uscc
        return vouchers.claim_voucher(
            parts.uow(),
            programme_id=programme,
            sme_uscc=uscc,
            actor=factories.ADMIN,
            signer=parts.voucher_signer(),
        )


def submitted_redemption(
    app: Flask, voucher: VoucherView, invoice: str, invoiced_fen: int
) -> RedemptionView:
    """A redemption by the demo's tax adviser on the voucher, shown by its QR code's token, for its
    annual filing delivered today."""
    provider, product = tax_adviser(app)
    with app.app_context():
        parts = current()
        return redemptions.submit_redemption(
            parts.uow(),
            provider_id=provider,
            proof=VoucherProof(token=voucher.token),
            service=Service(invoice, invoiced_fen, local_date(datetime.now(UTC)), product),
            actor=Actor("desk", Role.PROVIDER),
            public_keys=parts.voucher_keys(),
        )


def demo_names(app: Flask) -> list[str]:
    """Names the demo data gives, in either language, and the column names a list may use:
    shown as they are on every page."""
    with app.app_context():
        uow = current().uow()
        names = [p.name for p in programmes.list_programmes(uow)]
        funding = [p.funding_account for p in programmes.list_programmes(uow)]
        names += [a.account_name for a in funding if a] + [a.bank_name for a in funding if a]
        names += [p.name for p in providers.catalogue(uow)]
        names += [p.provider_name for p in providers.catalogue(uow)]
        names += [c.name_zh for c in centers.list_subtree(uow, "440000")]
        names += [c.name_en for c in centers.list_subtree(uow, "440000")]
    names += [sme.name for sme in demo.SMES]
    names += [name for category in CATEGORIES for name in (category.name_zh, category.name_en)]
    names += [name for pair in INDUSTRY_NAMES.values() for name in pair]
    names += list(bulk.CODE_COLUMNS)  # a list's column may be named in Chinese
    names += [account.username for account in demo.DEMO_ACCOUNTS]
    return sorted(names, key=len, reverse=True)
