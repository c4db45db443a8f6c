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
from voucher_app.persistence.models import Product, Programme, Provider
from voucher_app.services import redemptions, vouchers
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
