"""The demo data, loaded for an end-to-end test as `make run` loads it (the CLI)."""

from __future__ import annotations

import uuid

from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from voucher_app.persistence.models import Programme
from voucher_app.wiring import current


def load_demo(app: Flask, runner: FlaskCliRunner) -> uuid.UUID:
    """Load the demo data; answer the id of its one programme (the province's)."""
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    with app.app_context(), current().database.engine.connect() as connection:
        programme: uuid.UUID = connection.execute(select(Programme.public_id)).scalar_one()
    return programme
