"""The catalogue's search (`providers.catalogue` with a `CatalogueSearch`): by words in Chinese
or Latin letters, category, center (the provider's own or any above it) and price, each alone
and together, a page at a time; a wrong search is refused with its field and a stable code."""

from __future__ import annotations

import dataclasses

import pytest

from tests import factories
from voucher_app.domain.errors import VoucherError
from voucher_app.domain.providers import ProviderDecision
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.services import providers
from voucher_app.services.providers import CatalogueSearch

ADMIN = factories.ADMIN


@pytest.fixture
def shelves(uow: UnitOfWork) -> UnitOfWork:
    """Shenzhen's provider (440300): 年度汇算清缴 ¥3,000 (accounting) and 合同审查 ¥800 (legal);
    Tianhe's in Guangzhou (440106): ISO 9001 认证辅导 ¥5,000 (accounting), whose standard says
    企业所得税, and 100%合规 体检 ¥3,000.01 (legal)."""
    factories.guangdong(uow)
    shenzhen = factories.provider(uow, 1)
    factories.product(uow, shenzhen.id)
    factories.product(
        uow,
        shenzhen.id,
        name="合同审查",
        category="legal",
        price_fen=80_000,
        standard="三日内出具意见",
    )
    application = dataclasses.replace(
        factories.application(2), name="广州天河财税咨询有限公司", center="440106"
    )
    tianhe = providers.apply_provider(uow, application, ADMIN)
    providers.decide_provider(uow, tianhe.id, ProviderDecision.APPROVE, ADMIN)
    factories.product(
        uow, tianhe.id, name="ISO 9001 认证辅导", price_fen=500_000, standard="依企业所得税法办理"
    )
    factories.product(uow, tianhe.id, name="100%合规 体检", category="legal", price_fen=300_001)
    return uow


def names(uow: UnitOfWork, **search: object) -> list[str]:
    found = providers.catalogue(uow, search=CatalogueSearch(**search))  # type: ignore[arg-type]
    return sorted(product.name for product in found)


ALL = ["100%合规 体检", "ISO 9001 认证辅导", "合同审查", "小微企业年度汇算清缴代理"]


#: Each filter alone, then together (one set of shelves for all: building it is the slow part).
SEARCHES: list[tuple[dict[str, object], list[str]]] = [
    ({}, ALL),
    ({"keyword": "汇算"}, ["小微企业年度汇算清缴代理"]),  # in a product's name
    ({"keyword": "所得税"}, ["ISO 9001 认证辅导"]),  # in its description (the standard)
    ({"keyword": "天河财税"}, ["100%合规 体检", "ISO 9001 认证辅导"]),  # the provider's name
    ({"keyword": "iso 9001"}, ["ISO 9001 认证辅导"]),  # Latin letters in either case
    ({"keyword": "100%"}, ["100%合规 体检"]),  # "%" is a character, not a wildcard
    ({"keyword": "  审查 "}, ["合同审查"]),  # the spaces around are not searched for
    ({"keyword": "没有这个词"}, []),
    ({"category": "legal"}, ["100%合规 体检", "合同审查"]),
    ({"center": "440106"}, ["100%合规 体检", "ISO 9001 认证辅导"]),  # its own center
    ({"center": "440100"}, ["100%合规 体检", "ISO 9001 认证辅导"]),  # the city above it
    ({"center": "440000"}, ALL),  # the province above all
    ({"center": "440300"}, ["合同审查", "小微企业年度汇算清缴代理"]),
    ({"center": "440305"}, []),  # a district below Shenzhen's provider: not its center
    (
        {"min_price_fen": 300_000},
        ["100%合规 体检", "ISO 9001 认证辅导", "小微企业年度汇算清缴代理"],
    ),
    ({"max_price_fen": 300_000}, ["合同审查", "小微企业年度汇算清缴代理"]),
    ({"min_price_fen": 300_000, "max_price_fen": 300_000}, ["小微企业年度汇算清缴代理"]),
    ({"min_price_fen": 300_001, "max_price_fen": 499_999}, ["100%合规 体检"]),
    ({"min_price_fen": 0, "max_price_fen": 0}, []),
    ({"keyword": "合", "category": "legal"}, ["100%合规 体检", "合同审查"]),
    ({"keyword": "合", "category": "legal", "center": "440100"}, ["100%合规 体检"]),
    (
        {"category": "accounting_tax", "center": "440000", "min_price_fen": 400_000},
        ["ISO 9001 认证辅导"],
    ),
    ({"keyword": "汇算", "max_price_fen": 299_999}, []),
]


def test_each_filter_alone_and_together(shelves: UnitOfWork) -> None:
    for search, expected in SEARCHES:
        assert names(shelves, **search) == expected, search


def test_a_search_comes_a_page_at_a_time(shelves: UnitOfWork) -> None:
    search = CatalogueSearch(keyword="合")  # 合同审查, 100%合规 体检
    first = providers.catalogue(shelves, search=search, limit=1)
    second = providers.catalogue(shelves, search=search, after=first[-1].id, limit=1)
    rest = providers.catalogue(shelves, search=search, after=second[-1].id, limit=1)
    assert {first[0].name, second[0].name} == {"合同审查", "100%合规 体检"}
    assert rest == []


def test_a_result_carries_its_providers_address_and_phone(shelves: UnitOfWork) -> None:
    (found,) = providers.catalogue(shelves, search=CatalogueSearch(keyword="合同审查"))
    assert found.provider_phone == "+86 755 8888 0000"
    assert found.provider_address is None  # the factory's application gives none
    assert found.provider_rating.count == 0  # nobody has rated it: no rating is made up
    with_address = dataclasses.replace(
        factories.application(3), address="深圳市福田区深南大道 1 号"
    )
    third = providers.apply_provider(shelves, with_address, ADMIN)
    providers.decide_provider(shelves, third.id, ProviderDecision.APPROVE, ADMIN)
    factories.product(shelves, third.id, name="股权激励方案设计")
    (designed,) = providers.catalogue(shelves, search=CatalogueSearch(keyword="股权激励"))
    assert designed.provider_address == "深圳市福田区深南大道 1 号"


@pytest.mark.parametrize(
    ("search", "code", "field"),
    [
        ({"min_price_fen": 300_001, "max_price_fen": 300_000}, "invalid_input", "max_price"),
        ({"min_price_fen": -1}, "invalid_amount", "min_price"),
        ({"max_price_fen": 1.5}, "invalid_amount", "max_price"),
        ({"keyword": "字" * 201}, "invalid_input", "keyword"),
    ],
)
def test_a_wrong_search_is_refused_with_its_field(
    shelves: UnitOfWork, search: dict[str, object], code: str, field: str
) -> None:
    with pytest.raises(VoucherError) as refused:
        names(shelves, **search)
    assert (refused.value.code, refused.value.details["field"]) == (code, field)


def test_an_unknown_center_is_refused(shelves: UnitOfWork) -> None:
    with pytest.raises(VoucherError) as refused:
        names(shelves, center="449999")
    assert refused.value.code == "unknown_center"


def test_an_address_is_checked_like_the_other_fields(shelves: UnitOfWork) -> None:
    for wrong in ("   ", "址" * 301):
        with pytest.raises(VoucherError) as refused:
            providers.apply_provider(
                shelves, dataclasses.replace(factories.application(4), address=wrong), ADMIN
            )
        assert (refused.value.code, refused.value.details["field"]) == ("invalid_input", "address")
