"""The demo data, loaded for an end-to-end test as `make run` loads it (the CLI)."""

from __future__ import annotations

import uuid

from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from voucher_app.persistence.models import Product, Programme, Provider
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
