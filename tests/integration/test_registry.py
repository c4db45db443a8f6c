"""The SME and provider registries, and the public catalogue."""

from __future__ import annotations

import dataclasses

import pytest
from stdnum.cn import uscc as stdnum_uscc

from tests import factories
from voucher_app.domain.errors import (
    InvalidInput,
    InvalidTransition,
    ProviderNotApproved,
    UnknownCenter,
    UnknownSme,
    VoucherError,
)
from voucher_app.domain.providers import ProviderDecision, ProviderStatus
from voucher_app.domain.sme import SizeClass
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.services import providers, smes

ADMIN = factories.ADMIN


def uscc(region: str, serial: str) -> str:
    """A valid code registered in `region` (the check character computed by python-stdnum)."""
    body = f"91{region}{serial}"
    return body + stdnum_uscc.calc_check_digit(body)


MICRO = smes.SmeDeclaration(
    uscc=uscc("440305", "MA5F12345"),
    name="深圳市南山区小微科技有限公司",
    industry="software_it",
    employees=8,
    revenue_fen=30 * 1_000_000,  # 30 万元
    assets_fen=10 * 1_000_000,
    home_center="440305",
)


@pytest.fixture
def centers(uow: UnitOfWork) -> UnitOfWork:
    factories.guangdong(uow)
    return uow


def test_registration_computes_the_size_and_reregistration_keeps_history(
    centers: UnitOfWork,
) -> None:
    first = smes.register_sme(centers, MICRO, ADMIN)
    grown = smes.register_sme(
        centers, dataclasses.replace(MICRO, employees=40, revenue_fen=600 * 1_000_000), ADMIN
    )
    assert first.size is SizeClass.MICRO and grown.size is SizeClass.SMALL
    assert grown.id == first.id
    declared = [(h.employees, h.revenue_fen) for h in smes.history(centers, MICRO.uscc)]
    assert declared == [(8, 30_000_000), (40, 600_000_000)]


def test_the_home_center_is_suggested_from_the_codes_region_digits(centers: UnitOfWork) -> None:
    assert smes.check_code(centers, MICRO.uscc).home_center == "440305"
    assert smes.check_code(centers, uscc("440204", "MA5F12345")).home_center == "440200"  # city
    assert smes.check_code(centers, uscc("110105", "MA5F12345")).home_center is None  # Beijing


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"uscc": "91440300MA5F1234"}, "invalid_uscc"),
        ({"industry": "alchemy"}, "invalid_industry"),
        ({"employees": -1}, "invalid_size_figure"),
        ({"revenue_fen": 1.5}, "invalid_size_figure"),
        ({"name": "  "}, "invalid_input"),
        ({"home_center": "449999"}, "unknown_center"),
    ],
)
def test_a_bad_declaration_is_refused_and_nothing_is_stored(
    centers: UnitOfWork, change: dict[str, object], code: str
) -> None:
    with pytest.raises(VoucherError) as raised:
        smes.register_sme(centers, dataclasses.replace(MICRO, **change), ADMIN)  # type: ignore[arg-type]
    assert raised.value.code == code
    with pytest.raises(UnknownSme):
        smes.get_sme(centers, MICRO.uscc)


PROVIDER = providers.ProviderApplication(
    uscc=uscc("440106", "MA9X00001"),
    name="广州天河财税咨询有限公司",
    service_categories=("accounting_tax", "management_consulting"),
    contact_name="陈会计",
    contact_phone="+86 20 1234 5678",
    contact_email="service@tianhe-tax.example",
    bank_name="中国工商银行广州天河支行",
    bank_account_name="广州天河财税咨询有限公司",
    bank_account_number="3602000109000123456",
    bank_cnaps="102581000013",
    center="440106",
)
PRODUCT = providers.ProductTerms(
    name="小微企业年度汇算清缴代理",
    category="accounting_tax",
    price_fen=300_000,
    standard="按《企业所得税汇算清缴》规程办理，出具鉴证报告",
    time_limit_days=30,
    fee_rules="一次性收费，含两次上门服务",
)


def test_a_provider_publishes_only_once_approved_and_stops_while_suspended(
    centers: UnitOfWork,
) -> None:
    applied = providers.apply_provider(centers, PROVIDER, ADMIN)
    assert applied.status is ProviderStatus.PENDING
    with pytest.raises(ProviderNotApproved):
        providers.add_product(centers, applied.id, PRODUCT, ADMIN)
    providers.decide_provider(centers, applied.id, ProviderDecision.APPROVE, ADMIN)
    product = providers.add_product(centers, applied.id, PRODUCT, ADMIN)
    assert [p.id for p in providers.catalogue(centers, category="accounting_tax")] == [product.id]
    assert [p.id for p in providers.catalogue(centers, center="440100")] == [product.id]
    assert providers.catalogue(centers, center="440300") == []

    suspended = providers.decide_provider(
        centers, applied.id, ProviderDecision.SUSPEND, ADMIN, reason="complaints under review"
    )
    assert (suspended.status, suspended.status_reason) == (
        ProviderStatus.SUSPENDED, "complaints under review",
    )  # fmt: skip
    assert providers.catalogue(centers) == []
    providers.decide_provider(centers, applied.id, ProviderDecision.REINSTATE, ADMIN)
    assert len(providers.catalogue(centers)) == 1


def test_decisions_follow_the_allowed_transitions(centers: UnitOfWork) -> None:
    applied = providers.apply_provider(centers, PROVIDER, ADMIN)
    with pytest.raises(InvalidInput, match="say why"):
        providers.decide_provider(centers, applied.id, ProviderDecision.REJECT, ADMIN)
    with pytest.raises(InvalidTransition):
        providers.decide_provider(centers, applied.id, ProviderDecision.SUSPEND, ADMIN, "x")
    rejected = providers.decide_provider(
        centers, applied.id, ProviderDecision.REJECT, ADMIN, reason="licence expired"
    )
    assert rejected.status is ProviderStatus.REJECTED
    again = providers.apply_provider(centers, PROVIDER, ADMIN)  # a rejected provider re-applies
    assert again.status is ProviderStatus.PENDING and again.id == applied.id


def test_a_provider_applies_to_a_center_that_exists(centers: UnitOfWork) -> None:
    with pytest.raises(UnknownCenter):
        providers.apply_provider(centers, dataclasses.replace(PROVIDER, center="449999"), ADMIN)


def test_a_product_must_be_in_the_providers_categories(centers: UnitOfWork) -> None:
    applied = providers.apply_provider(centers, PROVIDER, ADMIN)
    providers.decide_provider(centers, applied.id, ProviderDecision.APPROVE, ADMIN)
    with pytest.raises(InvalidInput, match="not registered for legal"):
        providers.add_product(
            centers, applied.id, dataclasses.replace(PRODUCT, category="legal"), ADMIN
        )


def test_a_typed_code_is_checked_as_the_form_needs_it(centers: UnitOfWork) -> None:
    typed = smes.check_code(centers, f" {MICRO.uscc.lower()} ")
    assert (typed.code, typed.valid, typed.registered) == (MICRO.uscc, True, False)
    smes.register_sme(centers, MICRO, ADMIN)
    assert smes.check_code(centers, MICRO.uscc).registered
    assert smes.check_code(centers, MICRO.uscc[:-1]).reason == "wrong_length"
    wrong_check = MICRO.uscc[:-1] + ("0" if MICRO.uscc[-1] != "0" else "1")
    assert smes.check_code(centers, wrong_check).reason == "bad_check_character"
    assert not smes.check_code(centers, wrong_check).valid
