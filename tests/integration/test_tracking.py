"""Service tracking: SMEs rate approved services once, ratings show in the catalogue, complaints
reach the voucher's center and those above it, and each center's KPIs roll up the hierarchy."""

from __future__ import annotations

import dataclasses
import uuid

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import func, select

from tests import factories
from tests.integration.test_redemptions import PROVIDER, SME, STAFF, TODAY, World, build
from tests.integration.test_settlement import FINANCE, FUNDING, camt053, entry
from voucher_app.clock import FrozenClock
from voucher_app.domain.errors import (
    InvalidInput,
    InvalidRating,
    InvalidTransition,
    NotRateable,
    UnknownComplaint,
)
from voucher_app.domain.money import format_amount
from voucher_app.domain.tracking import RatingSummary
from voucher_app.ledger.unit_of_work import UnitOfWork
from voucher_app.persistence.models import Complaint, ServiceRating
from voucher_app.persistence.uow import read_only
from voucher_app.services import (
    providers,
    reconciliation,
    redemptions,
    settlement,
    tracking,
    vouchers,
)
from voucher_app.services.providers import ProductView
from voucher_app.services.redemptions import RedemptionView, Service, VoucherProof
from voucher_app.services.vouchers import VoucherSigner

ADMIN = factories.ADMIN


@dataclasses.dataclass
class Rated:
    world: World
    product: ProductView
    approved: list[RedemptionView]
    waiting: RedemptionView


@pytest.fixture
def rated(
    uow: UnitOfWork, voucher_keys: dict[str, Ed25519PublicKey], voucher_signer: VoucherSigner
) -> Rated:
    """Two approved redemptions on the provider's product and one still waiting for the SME."""
    world = build(uow, voucher_keys, voucher_signer)
    product = factories.product(uow, world.provider.id)
    submitted = [_redeem_product(world, product, f"INV-{n}") for n in range(3)]
    for redemption in submitted[:2]:
        redemptions.confirm_redemption(uow, redemption.id, SME)
        redemptions.approve_redemption(uow, redemption.id, STAFF)
    return Rated(world, product, submitted[:2], submitted[2])


def _redeem_product(world: World, product: ProductView, invoice: str) -> RedemptionView:
    return redemptions.submit_redemption(
        world.uow,
        provider_id=world.provider.id,
        proof=VoucherProof(token=world.voucher.token),
        service=Service(invoice, 100_000, TODAY, product_id=product.id),
        actor=PROVIDER,
        public_keys=world.keys,
    )


@read_only
def _count(uow: UnitOfWork, model: type[ServiceRating] | type[Complaint]) -> int:
    return uow.session.scalar(select(func.count()).select_from(model)) or 0


def test_an_approved_service_is_rated_once_and_shows_in_the_catalogue(rated: Rated) -> None:
    uow = rated.world.uow
    first, second = rated.approved
    assert tracking.rate_service(uow, first.id, 5, "  准时、专业  ", SME) == RatingSummary(1, 5)
    assert tracking.rate_service(uow, second.id, 2, None, SME) == RatingSummary(2, 7)
    (listed,) = providers.catalogue(uow)
    assert listed.id == rated.product.id
    assert listed.rating == RatingSummary(2, 7) and listed.rating.average == 3.5
    assert listed.provider_rating.average == 3.5
    with pytest.raises(NotRateable, match="rated already"):
        tracking.rate_service(uow, first.id, 1, "changed my mind", SME)
    assert _count(uow, ServiceRating) == 2


def test_a_redemption_not_yet_approved_cannot_be_rated(rated: Rated) -> None:
    with pytest.raises(NotRateable) as refused:
        tracking.rate_service(rated.world.uow, rated.waiting.id, 4, None, SME)
    assert refused.value.details["status"] == "submitted"
    assert _count(rated.world.uow, ServiceRating) == 0


@pytest.mark.parametrize(
    ("score", "comment", "field"),
    [(0, None, "score"), (6, None, "score"), (True, None, "score"), (4, "长" * 1001, "comment")],
)
def test_a_bad_rating_is_refused_naming_its_field_and_stores_nothing(
    rated: Rated, score: int, comment: str | None, field: str
) -> None:
    with pytest.raises(InvalidRating) as refused:
        tracking.rate_service(rated.world.uow, rated.approved[0].id, score, comment, SME)
    assert refused.value.code == "invalid_rating"
    assert refused.value.details["field"] == field
    assert _count(rated.world.uow, ServiceRating) == 0


def test_a_complaint_reaches_the_vouchers_center_and_those_above_only(rated: Rated) -> None:
    uow = rated.world.uow
    filed = tracking.file_complaint(uow, rated.approved[0].id, "报告迟交两周", SME)
    assert (filed.status, filed.center, filed.provider_id) == (
        "open",
        "440305",
        rated.world.provider.id,
    )
    for center in ("440305", "440300", "440000"):
        assert [c.id for c in tracking.complaints_for(uow, center)] == [filed.id]
    assert tracking.complaints_for(uow, "440100") == []  # Guangzhou: not its voucher
    with pytest.raises(InvalidInput, match="reason"):
        tracking.resolve_complaint(uow, filed.id, "  ", STAFF)
    resolved = tracking.resolve_complaint(uow, filed.id, "机构已补交并致歉", STAFF)
    assert (resolved.status, resolved.resolution) == ("resolved", "机构已补交并致歉")
    assert tracking.complaints_for(uow, "440000", open_only=True) == []
    with pytest.raises(InvalidTransition):
        tracking.resolve_complaint(uow, filed.id, "again", STAFF)
    with pytest.raises(UnknownComplaint):
        tracking.resolve_complaint(uow, uuid.uuid4(), "who?", STAFF)


@pytest.mark.parametrize("text", ["", "   ", "诉" * 2001])
def test_an_empty_or_overlong_complaint_is_refused(rated: Rated, text: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        tracking.file_complaint(rated.world.uow, rated.approved[0].id, text, SME)
    assert refused.value.details["field"] == "text"
    assert _count(rated.world.uow, Complaint) == 0


def test_the_kpis_count_each_center_and_roll_up(
    rated: Rated, clock: FrozenClock, voucher_signer: VoucherSigner
) -> None:
    uow = rated.world.uow
    # A second SME gets a voucher it does not use; the first pays one redemption, rates both.
    other = factories.sme(uow, 2)
    vouchers.claim_voucher(
        uow,
        programme_id=rated.world.programme,
        sme_uscc=other.uscc,
        actor=ADMIN,
        signer=voucher_signer,
    )
    for redemption, score in zip(rated.approved, (5, 4), strict=True):
        tracking.rate_service(uow, redemption.id, score, None, SME)
    tracking.file_complaint(uow, rated.approved[1].id, "发票抬头有误", SME)
    settlement.set_funding_account(uow, rated.world.programme, FUNDING, ADMIN)
    batch = settlement.build_batch(uow, rated.world.programme, "440305", FINANCE)
    settlement.export_batch(uow, batch.id, FINANCE)
    (item,) = batch.items
    reconciliation.import_statement(
        uow,
        filename="s.xml",
        content=camt053("S", [entry(item.reference, format_amount(item.amount_fen))]),
        actor=FINANCE,
    )
    expected = tracking.Kpis(
        smes_served=1,
        vouchers_issued=2,
        vouchers_redeemed=1,
        paid_fen=100_000,  # two redemptions of half of ¥1,000
        ratings=RatingSummary(2, 9),
        active_providers=1,
        open_complaints=1,
    )
    province = tracking.center_kpis(uow, "440000")
    assert province.total == expected
    assert province.total.redemption_rate == 0.5
    assert province.total.ratings.average == 4.5
    lines = {line.center: line.kpis for line in province.children}
    assert lines["440300"] == expected
    assert lines["440100"] == tracking.Kpis(0, 0, 0, 0, RatingSummary(), 0, 0)
    assert lines["440100"].redemption_rate is None
    assert tracking.center_kpis(uow, "440305").total == expected
    this_year = clock.now().year
    assert tracking.center_kpis(uow, "440000", year=this_year).total == expected
    assert tracking.center_kpis(uow, "440000", year=this_year - 1).total == tracking.Kpis(
        0, 0, 0, 0, RatingSummary(), 0, 0
    )
