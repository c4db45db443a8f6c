"""Builders for test data, going through the real services so the ledger stays valid."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

from voucher_app.domain.actors import Actor, Role
from voucher_app.domain.programmes import ProgrammeTerms
from voucher_app.domain.sme import SizeClass
from voucher_app.persistence.uow import UnitOfWork
from voucher_app.services import centers, programmes
from voucher_app.services.programmes import ProgrammeView

ADMIN = Actor("test-admin", Role.CENTER_ADMIN)

TERMS = ProgrammeTerms(
    name="测试服务券 Test vouchers",
    owner_center="440000",
    period_start=date(2026, 1, 1),
    period_end=date(2026, 12, 31),
    total_budget_fen=100_000_000,
    subsidy_rate_bp=5000,
    sme_cap_fen=2_000_000,
    voucher_face_value_fen=500_000,
    voucher_validity_days=90,
    partial_spending=True,
    service_categories=("legal", "accounting_tax"),
    accepted_sizes=(SizeClass.SMALL, SizeClass.MICRO),
)


def guangdong(uow: UnitOfWork) -> None:
    centers.import_centers(uow, centers.guangdong_centers())


def programme(uow: UnitOfWork, *, fund_fen: int = 0, **changes: Any) -> ProgrammeView:
    """A programme owned by the province (import the centers first), optionally funded."""
    view = programmes.create_programme(uow, dataclasses.replace(TERMS, **changes), ADMIN)
    if fund_fen:
        programmes.fund_programme(uow, view.id, amount_fen=fund_fen, actor=ADMIN)
    return view
