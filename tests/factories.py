"""Builders for test data, going through the real services so the ledger stays valid."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import date
from typing import Any

from stdnum.cn import uscc as stdnum_uscc

from voucher_app.domain.actors import Actor, Role
from voucher_app.domain.programmes import BudgetMove, ProgrammeTerms
from voucher_app.domain.providers import ProviderDecision
from voucher_app.domain.sme import SizeClass
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.services import centers, programmes, providers, smes
from voucher_app.services.programmes import ProgrammeView
from voucher_app.services.providers import (
    ProductTerms,
    ProductView,
    ProviderApplication,
    ProviderView,
)
from voucher_app.services.smes import SmeDeclaration, SmeView

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


def uscc(serial: int, region: str = "440305") -> str:
    """A valid unified social credit code registered in `region` (python-stdnum's check)."""
    body = f"91{region}MA{serial:07d}"
    return body + stdnum_uscc.calc_check_digit(body)


def sme(uow: UnitOfWork, serial: int, **changes: Any) -> SmeView:
    """A micro software company in Nanshan (440305), unless `changes` say otherwise."""
    declaration = SmeDeclaration(
        uscc=uscc(serial, changes.pop("region", "440305")),
        name=f"测试企业 {serial}",
        industry="software_it",
        employees=8,
        revenue_fen=30 * 1_000_000,
        assets_fen=10 * 1_000_000,
        home_center="440305",
    )
    return smes.register_sme(uow, dataclasses.replace(declaration, **changes), ADMIN)


def voucher_programme(uow: UnitOfWork, *, vouchers: int, **changes: Any) -> ProgrammeView:
    """A funded provincial programme whose budget reaches Nanshan (440305) for `vouchers`
    vouchers of its face value."""
    view = programme(uow, fund_fen=TERMS.total_budget_fen, **changes)
    amount = vouchers * view.voucher_face_value_fen
    for parent, child in (("440000", "440300"), ("440300", "440305")):
        programmes.allocate(
            uow,
            view.id,
            BudgetMove(from_center=parent, to_center=child, amount_fen=amount),
            actor=ADMIN,
        )
    return view


def application(
    serial: int, categories: tuple[str, ...] = ("legal", "accounting_tax")
) -> ProviderApplication:
    """A provider's application in Shenzhen (440300), with bank details that route."""
    return ProviderApplication(
        uscc=uscc(serial, "440300"),
        name=f"测试服务机构 {serial}",
        service_categories=categories,
        contact_name="王经理",
        contact_phone="+86 755 8888 0000",
        contact_email=f"provider{serial}@example.cn",
        bank_name="中国银行深圳分行",
        bank_account_name=f"测试服务机构 {serial}",
        bank_account_number=f"7440000000{serial:08d}",
        bank_cnaps="104584000003",
        center="440300",
    )


def provider(
    uow: UnitOfWork,
    serial: int,
    *,
    categories: tuple[str, ...] = ("legal", "accounting_tax"),
    approved: bool = True,
) -> ProviderView:
    """A provider in Shenzhen (440300), approved unless told otherwise."""
    view = providers.apply_provider(uow, application(serial, categories), ADMIN)
    if approved:
        view = providers.decide_provider(uow, view.id, ProviderDecision.APPROVE, ADMIN)
    return view


def product(uow: UnitOfWork, provider_id: uuid.UUID, **changes: Any) -> ProductView:
    terms = ProductTerms(
        name="小微企业年度汇算清缴代理",
        category="accounting_tax",
        price_fen=300_000,
        standard="按规程办理，出具鉴证报告",
        time_limit_days=30,
        fee_rules="一次性收费",
    )
    return providers.add_product(uow, provider_id, dataclasses.replace(terms, **changes), ADMIN)
